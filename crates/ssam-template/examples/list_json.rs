//! Prints the `ssam list --json` document for a template using only this crate
//! (`list_json list --json -t TEMPLATE`, the argument shape of `ssam list`), for fast
//! conformance runs while iterating on the template engine.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(i) = args.iter().position(|a| a == "-t") else {
        eprintln!("usage: list_json list --json -t TEMPLATE");
        return ExitCode::FAILURE;
    };
    let Some(path) = args.get(i + 1) else {
        eprintln!("usage: list_json list --json -t TEMPLATE");
        return ExitCode::FAILURE;
    };
    let opts = ssam_template::LoadOptions {
        template: path.into(),
        ..Default::default()
    };
    match ssam_template::load(&opts) {
        Ok(loaded) => {
            for d in &loaded.diagnostics.0 {
                eprintln!("{d}");
            }
            let doc = ssam_template::list::list_document(&loaded.app);
            match serde_json::to_string_pretty(&doc) {
                Ok(s) => {
                    println!("{s}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(d) => {
            eprintln!("{d}");
            ExitCode::FAILURE
        }
    }
}
