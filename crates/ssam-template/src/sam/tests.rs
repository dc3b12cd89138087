//! Data-driven tests of the SAM layer: small inline templates → App / diagnostics.
#![allow(clippy::unwrap_used)]

use std::io::Write;

use crate::{load, LoadOptions, Loaded};

pub(crate) fn load_str(yaml: &str) -> Result<Loaded, crate::Diagnostics> {
    load_with(yaml, &[])
}

pub(crate) fn load_with(yaml: &str, overrides: &[(&str, &str)]) -> Result<Loaded, crate::Diagnostics> {
    let dir = tempfile_dir();
    let path = dir.join("template.yaml");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(yaml.as_bytes()).unwrap();
    let opts = LoadOptions {
        template: path,
        parameter_overrides: overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..LoadOptions::default()
    };
    load(&opts)
}

fn tempfile_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "ssam-template-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}
