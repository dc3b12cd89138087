//! The one console: every notice a library crate reports through `tracing` (warnings,
//! errors, request and reload lines, ssam-s3's journal failures) reaches stderr here, in
//! one format. Library crates never print themselves; a function's own log lines are the
//! exception (ssam-lambda writes them, coloured per function, as the function's output).
//!
//! Text (the default): `warning: ...`, `error: ...`, and plain lines for information, as
//! ssam always printed them. `--log-format json`: one JSON object per line, for tools.
//! `SSAM_LOG` takes an `EnvFilter` directive (`SSAM_LOG=debug`, `SSAM_LOG=ssam_s3=debug`).

use std::fmt;

use owo_colors::OwoColorize as _;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// How notices are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (`warning: ...`).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// ssam's own crates speak at `info`; dependencies (s3s, hyper) only when something is wrong.
const DEFAULT_FILTER: &str = "warn,ssam=info,ssam_lambda=info,ssam_apigw=info,ssam_s3=info,\
                              ssam_notify=info,ssam_template=info,ssam_build=info";

/// Installs the console for this process.
pub fn install(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("SSAM_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Installing twice is impossible here (once, from main); ignore it rather than fail.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(colours()).event_format(Plain).try_init(),
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
    };
}

/// Colours when stderr is a terminal and NO_COLOR is unset (<https://no-color.org>).
fn colours() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// `warning: message key=value`, the way ssam's notices always read.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let ansi = w.has_ansi_escapes();
        match *event.metadata().level() {
            Level::ERROR if ansi => write!(w, "{} ", "error:".red().bold())?,
            Level::ERROR => write!(w, "error: ")?,
            Level::WARN if ansi => write!(w, "{} ", "warning:".yellow().bold())?,
            Level::WARN => write!(w, "warning: ")?,
            Level::INFO => {}
            _ => write!(w, "debug: {}: ", event.metadata().target())?,
        }
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}
