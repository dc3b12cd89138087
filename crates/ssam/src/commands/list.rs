//! `ssam list functions|endpoints|resources [--json]`: what the template defines.

use std::process::ExitCode;

use ssam_template::list::{code_uri, list_document};
use ssam_template::{ApiType, App, PackageType};

use super::common::{load_template, print_diagnostics, TemplateArgs};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum What {
    Functions,
    Endpoints,
    Resources,
}

#[derive(clap::Args)]
pub struct Args {
    /// What to list (everything, as JSON, when omitted with --json).
    pub what: Option<What>,

    #[command(flatten)]
    pub template: TemplateArgs,

    /// Print the machine-readable document (functions, routes, s3Bindings, apis, buckets).
    #[arg(long)]
    pub json: bool,

    /// Local port the API would be served on, for endpoint URLs.
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let loaded = load_template(&args.template, "list")?;
    print_diagnostics(&loaded.diagnostics);
    let app = &loaded.app;
    if args.json {
        let doc = list_document(app);
        let value = match args.what {
            None => serde_json::to_value(&doc)?,
            Some(What::Functions) => serde_json::to_value(&doc.functions)?,
            Some(What::Endpoints) => serde_json::to_value(&doc.routes)?,
            Some(What::Resources) => serde_json::to_value(&app.resources)?,
        };
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    match args.what.unwrap_or(What::Functions) {
        What::Functions => print_functions(app),
        What::Endpoints => print_endpoints(app, args.port),
        What::Resources => {
            for r in &app.resources {
                println!("{:<40} {}", r.logical_id, r.resource_type);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_functions(app: &App) {
    for f in &app.functions {
        let what = match f.package_type {
            PackageType::Zip => format!(
                "{} {}",
                f.runtime.as_deref().unwrap_or("?"),
                f.handler.as_deref().unwrap_or("?")
            ),
            PackageType::Image => "Image".to_string(),
        };
        let code = code_uri(&f.code).unwrap_or_else(|| "-".into());
        println!(
            "{:<32} {:<40} {:>5} MB {:>4} s  {}",
            f.logical_id, what, f.memory_size, f.timeout, code
        );
    }
}

fn print_endpoints(app: &App, port: u16) {
    let width = app
        .routes
        .iter()
        .map(|r| r.function.len())
        .max()
        .unwrap_or(8)
        .max(8);
    for r in &app.routes {
        let kind = match r.api_type {
            ApiType::Rest => "REST",
            ApiType::Http => "HTTP",
        };
        let path = if r.path == "$default" {
            "/{proxy+} ($default)"
        } else {
            &r.path
        };
        let stage = app
            .apis
            .iter()
            .find(|a| a.logical_id == r.api)
            .map(|a| a.stage_name.as_str())
            .filter(|s| *s != "$default");
        let staged = stage.map(|s| {
            format!(
                "  (also /{s}{})",
                if r.path == "$default" {
                    "/..."
                } else {
                    &r.path
                }
            )
        });
        println!(
            "{:<width$}  {:<7} http://127.0.0.1:{port}{path}  [{kind} {}]{}",
            r.function,
            r.method,
            r.api,
            staged.unwrap_or_default()
        );
    }
}
