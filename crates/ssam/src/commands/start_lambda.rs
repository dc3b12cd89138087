//! `ssam local start-lambda`: serves Lambda's Invoke API for SDKs and the aws cli
//! (`aws lambda invoke --endpoint-url http://127.0.0.1:3001`).

use std::path::PathBuf;
use std::process::ExitCode;

use ssam_lambda::env_vars::EnvVarsFile;
use ssam_lambda::from_template::specs_from_app;
use ssam_lambda::{LambdaService, ServiceOptions};

use super::common::WarmContainers;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub template: super::common::TemplateArgs,

    /// Address to listen on.
    #[arg(long = "host", default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (0 picks a free one and prints it).
    #[arg(short = 'p', long = "port", default_value_t = 3001)]
    pub port: u16,

    /// Environment variables as SAM's JSON: `{"Parameters": {...}, "FunctionId": {...}}`.
    #[arg(short = 'n', long = "env-vars", value_name = "PATH")]
    pub env_vars: Option<PathBuf>,

    #[command(flatten)]
    pub sam_docker_flags: super::common::SamDockerFlags,

    /// When to start function instances (instances always stay warm between invocations).
    #[arg(long = "warm-containers", value_enum, ignore_case = true)]
    pub warm_containers: Option<WarmContainers>,

    /// Stop instances idle for this many seconds (0 keeps them until ssam stops).
    #[arg(long = "idle-timeout", default_value_t = 600, value_name = "SECONDS")]
    pub idle_timeout: u64,

    /// Do not restart a function's instances when its code changes.
    #[arg(long = "no-watch")]
    pub no_watch: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let loaded = super::common::load_template(&args.template, "local_start_lambda")?;
    if loaded.diagnostics.has_errors() {
        super::common::print_diagnostics(&loaded.diagnostics);
        anyhow::bail!("the template has errors; `ssam validate` lists them");
    }
    let app = loaded.app;
    let env_vars = match &args.env_vars {
        Some(p) => Some(EnvVarsFile::read(p).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let mapped = specs_from_app(&app, env_vars.as_ref(), &ssam_lambda::default_cache_dir());
    for (name, why) in &mapped.skipped {
        eprintln!("warning: {name} cannot run locally and is not served: {why}");
    }
    if let Some(ev) = &env_vars {
        let known: Vec<(&str, &str)> = app
            .functions
            .iter()
            .map(|f| (f.logical_id.as_str(), f.name()))
            .collect();
        for s in ev.unknown_sections(&known) {
            eprintln!("warning: --env-vars has a section {s} that names no function");
        }
    }
    let options = ServiceOptions {
        idle_timeout: (args.idle_timeout > 0)
            .then(|| std::time::Duration::from_secs(args.idle_timeout)),
        ..ServiceOptions::default()
    };
    let addr = super::common::listen_addr(&args.host, args.port)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let stop = super::common::shutdown_signal()?;
        let service = LambdaService::new(mapped.specs, options);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr()?;
        if args.warm_containers == Some(WarmContainers::Eager) {
            let names: Vec<String> = service.functions().map(|f| f.name.clone()).collect();
            for name in names {
                if let Err(e) = service.prewarm(&name).await {
                    eprintln!("warning: {e}");
                }
            }
        }
        for f in service.functions() {
            eprintln!("Mounting {} ({})", f.name, f.runtime);
        }
        eprintln!(
            "Starting the Local Lambda Service. You can now invoke your Lambda Functions defined in your template through the endpoint."
        );
        eprintln!(" * Running on http://{local}/ (Press CTRL+C to quit)");
        // Kept alive until the server stops; dropping it stops watching.
        let _watcher = if args.no_watch {
            None
        } else {
            match ssam_lambda::watch::watch_code(service.clone()) {
                Ok(w) => Some(w),
                Err(e) => {
                    eprintln!("warning: {e}; code changes will need a restart");
                    None
                }
            }
        };
        let app = ssam_lambda::invoke_api::router(service.clone());
        use axum::serve::ListenerExt as _;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let on_signal = service.clone();
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                stop.await;
                // Kill the sandboxes first so in-flight invocations end now, not at their timeout.
                on_signal.shutdown().await;
            })
            .await?;
        Ok(ExitCode::SUCCESS)
    })
}
