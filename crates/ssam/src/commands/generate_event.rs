//! `ssam local generate-event SERVICE EVENT [--flags]`: prints a sample event, shaped like
//! AWS's, for a function to be invoked with.
//!
//! The catalogue (services, events, flags, defaults) lives in `ssam_events::registry`; this
//! command only resolves the arguments, prints listings and help, and writes the JSON.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use ssam_events::registry::{self, EventSpec, Service};

/// Print a sample event: `ssam local generate-event s3 put --bucket my-bucket --key a.jpg`.
///
/// Without arguments, lists the services; with only a service, lists its events; with
/// `--help` after an event, lists its flags and their defaults.
#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub struct Args {
    /// The service, e.g. `s3` (omit to list services).
    service: Option<String>,
    /// The event, e.g. `put` (omit to list the service's events).
    event: Option<String>,
    /// The event's flags, e.g. `--bucket my-bucket --key photo.jpg`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    flags: Vec<String>,
    /// List the services, a service's events, or an event's flags and defaults.
    #[arg(short = 'h', long = "help")]
    help: bool,
}

fn is_help(arg: &str) -> bool {
    arg == "--help" || arg == "-h" || arg == "help"
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut out = String::new();
    match (args.service.as_deref(), args.event.as_deref()) {
        (None, _) => list_services(&mut out),
        (Some(s), _) if is_help(s) => list_services(&mut out),
        (Some(s), None) => list_events(registry::service(s)?, &mut out),
        (Some(s), Some(e)) if is_help(e) => list_events(registry::service(s)?, &mut out),
        (Some(s), Some(e)) => {
            let spec = registry::event(s, e)?;
            if args.help || args.flags.iter().any(|f| f == "--help" || f == "-h") {
                event_help(s, spec, &mut out);
            } else {
                let event = registry::generate(s, e, &args.flags)?;
                out = serde_json::to_string_pretty(&event).context("could not print the event")?;
                out.push('\n');
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .context("could not write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

fn list_services(out: &mut String) {
    let mut services: Vec<&Service> = registry::SERVICES.iter().collect();
    services.sort_by_key(|s| s.name);
    let width = services.iter().map(|s| s.name.len()).max().unwrap_or(0);
    out.push_str(
        "Usage: ssam local generate-event SERVICE EVENT [--flag value ...]\n\nServices:\n",
    );
    for s in services {
        out.push_str(&format!("  {:width$}  {}\n", s.name, s.help));
    }
    out.push_str("\nRun `ssam local generate-event SERVICE` to list a service's events.\n");
}

fn list_events(service: &Service, out: &mut String) {
    let mut events: Vec<&EventSpec> = service.events.iter().collect();
    events.sort_by_key(|e| e.name);
    let width = events.iter().map(|e| e.name.len()).max().unwrap_or(0);
    out.push_str(&format!(
        "Usage: ssam local generate-event {} EVENT [--flag value ...]\n\n{}\n\nEvents:\n",
        service.name, service.help
    ));
    for e in events {
        out.push_str(&format!("  {:width$}  {}\n", e.name, e.help));
    }
    out.push_str(&format!(
        "\nRun `ssam local generate-event {} EVENT --help` to list an event's flags.\n",
        service.name
    ));
}

fn event_help(service: &str, spec: &EventSpec, out: &mut String) {
    out.push_str(&format!(
        "{}\n\nUsage: ssam local generate-event {service} {} [--flag value ...]\n",
        spec.help, spec.name
    ));
    if spec.flags.is_empty() {
        out.push_str("\nThis event takes no flags.\n");
        return;
    }
    out.push_str("\nFlags:\n");
    let width = spec.flags.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in spec.flags {
        out.push_str(&format!(
            "  --{:width$}  {} [default: {}]\n",
            f.name,
            f.help,
            if f.default.is_empty() {
                "none"
            } else {
                f.default
            }
        ));
    }
}
