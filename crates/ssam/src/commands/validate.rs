//! `ssam validate`: load the template, print every problem, exit 1 when there is an error.

use std::process::ExitCode;

use super::common::{load_template, print_diagnostics, TemplateArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub template: TemplateArgs,

    /// Print the problems as JSON (for editors and CI).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let path = args.template.template_path()?;
    let loaded = load_template(&args.template, "validate")?;
    let diags = &loaded.diagnostics;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    if args.json {
        println!("{}", serde_json::to_string_pretty(diags)?);
    } else {
        print_diagnostics(diags);
    }
    if diags.has_errors() {
        let n = diags.errors().count();
        if !args.json {
            eprintln!(
                "{name} is not a valid SAM template: {n} error{}",
                if n == 1 { "" } else { "s" }
            );
        }
        return Ok(ExitCode::FAILURE);
    }
    if !args.json {
        println!("{name} is a valid SAM template");
    }
    Ok(ExitCode::SUCCESS)
}
