//! `ssam local invoke`: runs one function once, prints its result on stdout and its logs
//! (with START/END/REPORT) on stderr.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use ssam_lambda::env_vars::EnvVarsFile;
use ssam_lambda::from_template::specs_with_sandboxes;
use ssam_lambda::{InvokeRequest, LambdaService, ServiceOptions};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub template: super::common::TemplateArgs,

    /// The function's logical id or FunctionName (optional when the template has one function).
    #[arg(value_name = "FUNCTION")]
    pub function: Option<String>,

    /// The event: a JSON file, or `-` to read it from stdin (default: `{}`).
    #[arg(short = 'e', long = "event", value_name = "PATH")]
    pub event: Option<PathBuf>,

    /// Invoke with an empty event (`{}`), as SAM CLI's flag of that name.
    #[arg(long = "no-event", conflicts_with = "event")]
    pub no_event: bool,

    /// Environment variables as SAM's JSON: `{"Parameters": {...}, "FunctionId": {...}}`.
    #[arg(short = 'n', long = "env-vars", value_name = "PATH")]
    pub env_vars: Option<PathBuf>,

    /// Refuse to run when the template has errors (by default they are printed and the
    /// function runs unless an error is about it).
    #[arg(long = "strict")]
    pub strict: bool,

    #[command(flatten)]
    pub docker: super::common::DockerArgs,

    #[command(flatten)]
    pub debug: super::common::DebugArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let app = super::common::load_runnable(&args.template, "local_invoke", args.strict)?;
    let env_vars = match &args.env_vars {
        Some(p) => Some(EnvVarsFile::read(p).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let options = ServiceOptions {
        idle_timeout: None,
        log_prefix: false,
        docker: args.docker.options(&app.template_path),
        ..ServiceOptions::default()
    };
    let cache_dir = ssam_lambda::default_cache_dir();
    let mapped = specs_with_sandboxes(
        &app,
        env_vars.as_ref(),
        &cache_dir,
        &args.docker.sandboxes()?,
    );

    let target = match &args.function {
        Some(name) => app
            .function(name)
            .ok_or_else(|| {
                let names: Vec<&str> = app
                    .functions
                    .iter()
                    .map(|f| f.logical_id.as_str())
                    .collect();
                anyhow::anyhow!(
                    "no function {name} in {}\n  hint: the template defines: {}",
                    app.template_path.display(),
                    if names.is_empty() {
                        "no functions".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            })?
            .name()
            .to_string(),
        None => match app.functions.as_slice() {
            [only] => only.name().to_string(),
            [] => anyhow::bail!("{} defines no function", app.template_path.display()),
            many => {
                let names: Vec<&str> = many.iter().map(|f| f.logical_id.as_str()).collect();
                anyhow::bail!(
                    "the template defines {} functions; say which to invoke\n  hint: ssam local invoke {}",
                    many.len(),
                    names.join(" | ")
                )
            }
        },
    };
    if let Some(skipped) = mapped.skipped.iter().find(|s| s.is(&target)) {
        anyhow::bail!("{target} cannot run locally: {}", skipped.reason);
    }
    let mut spec = mapped
        .specs
        .into_iter()
        .find(|s| s.name == target)
        .ok_or_else(|| anyhow::anyhow!("{target} cannot run locally"))?;
    args.debug.apply(std::slice::from_mut(&mut spec))?;
    if let Some(w) = ssam_lambda::filesystem::unavailable_warning(std::slice::from_ref(&spec)) {
        tracing::warn!("{w}");
    }
    if let Some(hint) = ssam_lambda::attach_hint(&spec) {
        tracing::info!("{hint}");
    }

    let in_container = spec.sandbox != ssam_lambda::SandboxKind::Native;
    let payload = read_event(&args)?;
    // A single-threaded runtime starts faster, and one invocation needs no more.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let stop = super::common::shutdown_signal()?;
        let service = LambdaService::new(vec![spec], options);
        let invoked = service.invoke(InvokeRequest::new(target, payload));
        // The sandbox has its own process group, so Ctrl-C reaches only ssam: pass it on.
        let result = tokio::select! {
            r = invoked => r,
            _ = stop => {
                service.shutdown().await;
                eprintln!("interrupted: the function was stopped");
                return Ok(ExitCode::from(130));
            }
        };
        if in_container {
            // The engine removes the container: wait for it, or it would outlive ssam.
            service.shutdown().await;
        } else {
            // Extensions get their SHUTDOWN event (nothing to wait for without any); then
            // ssam exits right after: kill without waiting for the sandbox to be reaped.
            service.spin_down().await;
            service.kill_all();
        }
        match result {
            Ok(resp) => {
                let mut out = std::io::stdout().lock();
                out.write_all(&resp.payload)?;
                out.write_all(b"\n")?;
                out.flush()?;
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                let mut err = anyhow::anyhow!("{} ({})", e, e.error_type());
                if let Some(h) = e.hint() {
                    err = err.context(format!("the invocation was refused\n  hint: {h}"));
                }
                Err(err)
            }
        }
    })
}

fn read_event(args: &Args) -> anyhow::Result<Vec<u8>> {
    match &args.event {
        None => Ok(b"{}".to_vec()),
        Some(p) if p.as_os_str() == "-" => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading the event from stdin")?;
            Ok(buf)
        }
        Some(p) => {
            std::fs::read(p).with_context(|| format!("reading the event file {}", p.display()))
        }
    }
}
