//! Coverage-guided fuzzing of the template loader: any text yields a model or diagnostics.
//! Run: `cargo fuzz run load` (see docs/fuzzing.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let opts = ssam_template::LoadOptions {
            template: std::env::temp_dir().join("ssam-fuzz/template.yaml"),
            ..Default::default()
        };
        let _ = ssam_template::load_from_str(text, &opts);
    }
});
