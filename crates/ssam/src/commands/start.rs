//! `ssam local start`: API Gateway, the Lambda Invoke API, S3 and S3 event wiring in one
//! process, one console. Functions get `AWS_ENDPOINT_URL*` pointing at the local services and test
//! credentials, so unmodified handler code (`boto3.client("s3")`) talks to ssam.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ssam_lambda::env_vars::EnvVarsFile;
use ssam_lambda::from_template::specs_from_app;
use ssam_lambda::{LambdaService, ServiceOptions};
use ssam_notify::{Bindings, Dispatcher};

use super::common::{
    load_template, print_diagnostics, s3_bucket_spec, shutdown_signal, TemplateArgs,
};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub template: TemplateArgs,

    /// Address every service listens on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port of the API Gateway emulator.
    #[arg(short = 'p', long, default_value_t = 3000)]
    pub port: u16,

    /// Port of the Lambda Invoke API.
    #[arg(long, default_value_t = 3001)]
    pub lambda_port: u16,

    /// Port of the local S3 (LocalStack's, so existing habits keep working).
    #[arg(long, default_value_t = 4566)]
    pub s3_port: u16,

    /// Where S3 keeps buckets and objects between runs.
    #[arg(long, default_value = ".ssam/s3", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// Keep S3 data in a temporary directory, deleted on exit.
    #[arg(long)]
    pub ephemeral: bool,

    /// Environment variables as SAM's JSON: `{"Parameters": {...}, "FunctionId": {...}}`.
    #[arg(short = 'n', long = "env-vars", value_name = "PATH")]
    pub env_vars: Option<PathBuf>,

    /// Do not recycle a function's warm instances when files under its CodeUri change.
    #[arg(long)]
    pub no_watch: bool,

    /// Delay before the first retry of a failed asynchronous invocation (Lambda waits about
    /// a minute; locally a second is enough to see it happen).
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub async_retry_delay: f64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let loaded = load_template(&args.template, "local_start")?;
    if loaded.diagnostics.has_errors() {
        print_diagnostics(&loaded.diagnostics);
        anyhow::bail!("the template has errors; `ssam validate` lists them");
    }
    print_diagnostics(&loaded.diagnostics);
    let app = loaded.app;
    let env_vars = match &args.env_vars {
        Some(p) => Some(EnvVarsFile::read(p).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let stop = shutdown_signal()?;
        // S3 first: functions need its address in their environment.
        let s3_config = ssam_s3::S3Config {
            host: args.host,
            port: args.s3_port,
            data_dir: args.data_dir.clone(),
            ephemeral: args.ephemeral,
            region: app.region.clone(),
            buckets: app.buckets.iter().map(s3_bucket_spec).collect(),
            ..Default::default()
        };
        let s3 = ssam_s3::S3Server::start(s3_config)
            .await
            .context("cannot start the local S3")?;
        let s3_url = s3.endpoint_url();

        let lambda_addr = SocketAddr::new(args.host, args.lambda_port);
        let listener = tokio::net::TcpListener::bind(lambda_addr)
            .await
            .with_context(|| format!("cannot listen on {lambda_addr} for the Lambda Invoke API"))?;
        let lambda_url = format!("http://{}", listener.local_addr()?);

        let mapped = specs_from_app(&app, env_vars.as_ref(), &ssam_lambda::default_cache_dir());
        for (name, why) in &mapped.skipped {
            eprintln!("warning: {name} cannot run locally and is not served: {why}");
        }
        let mut options = ServiceOptions {
            async_retry_delay: std::time::Duration::from_secs_f64(args.async_retry_delay.max(0.0)),
            ..ServiceOptions::default()
        };
        for (k, v) in [
            ("AWS_ENDPOINT_URL", s3_url.as_str()),
            ("AWS_ENDPOINT_URL_S3", s3_url.as_str()),
            ("AWS_ENDPOINT_URL_LAMBDA", lambda_url.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ] {
            options.extra_env.insert(k.to_string(), v.to_string());
        }
        let lambda = LambdaService::new(mapped.specs, options);

        // The API Gateway emulator, when the template has routes.
        let api = if app.routes.is_empty() {
            None
        } else {
            let api_addr = SocketAddr::new(args.host, args.port);
            let api_listener = tokio::net::TcpListener::bind(api_addr)
                .await
                .with_context(|| format!("cannot listen on {api_addr} for the API\n  hint: pick another port with --port"))?;
            let api_local = api_listener.local_addr()?;
            let mut warnings = Vec::new();
            // One Lambda service behind every front door: API requests, Invoke API calls
            // and S3 events share warm instances and the concurrency limit, as on AWS.
            let gateway = ssam_apigw::Gateway::on_service(
                &app,
                lambda.clone(),
                mapped.skipped.clone(),
                ssam_apigw::GatewayOptions {
                    log_requests: true,
                    ..Default::default()
                },
                &mut warnings,
            );
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            Some((gateway, api_listener, api_local))
        };

        // Code edits recycle the function's warm instances (API, Invoke API and S3 events all
        // see the new code on their next invocation); no rebuild needed from source templates.
        let _watcher = if args.no_watch {
            None
        } else {
            match ssam_lambda::watch::watch_code(lambda.clone()) {
                Ok(w) => Some(w),
                Err(e) => {
                    eprintln!("warning: {e}; code changes need a restart");
                    None
                }
            }
        };

        let bindings = Bindings::from_app(&app);
        let dispatcher = Dispatcher::new(bindings.clone(), lambda.clone(), app.region.clone());
        tokio::spawn(dispatcher.run(s3.subscribe()));

        let invoke_api = ssam_lambda::invoke_api::router(lambda.clone());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            use axum::serve::ListenerExt as _;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, invoke_api)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await;
        });

        let (api_stop_tx, api_stop_rx) = tokio::sync::oneshot::channel::<()>();
        let api_server = api.map(|(gateway, listener, local)| {
            for m in gateway.mounts() {
                eprintln!("Mounting {} at http://{local}{} [{}]", m.function, m.path, m.methods.join(", "));
            }
            eprintln!("API http://{local}");
            tokio::spawn(ssam_apigw::serve(gateway, listener, async move {
                let _ = api_stop_rx.await;
            }))
        });
        print_console(&app, &s3_url, &lambda_url, &bindings, &lambda);
        stop.await;
        eprintln!("stopping: functions, API, Lambda Invoke API, S3");
        // Sandboxes first, so in-flight invocations end now rather than at their timeout.
        lambda.shutdown().await;
        if let Some(server) = api_server {
            let _ = api_stop_tx.send(());
            let _ = server.await;
        }
        let _ = stop_tx.send(());
        let _ = server.await;
        s3.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

fn print_console(
    app: &ssam_template::App,
    s3_url: &str,
    lambda_url: &str,
    bindings: &Bindings,
    lambda: &LambdaService,
) {
    use owo_colors::OwoColorize;
    for f in lambda.functions() {
        anstream::eprintln!("{} {} ({})", "function".green().bold(), f.name, f.runtime);
    }
    for b in &app.buckets {
        anstream::eprintln!(
            "{} s3://{} ({})",
            "bucket".green().bold(),
            b.name,
            b.logical_id
        );
    }
    for b in &bindings.0 {
        let mut filter = String::new();
        if let Some(p) = &b.prefix {
            filter.push_str(&format!(" prefix {p}"));
        }
        if let Some(s) = &b.suffix {
            filter.push_str(&format!(" suffix {s}"));
        }
        let served = lambda.functions().any(|f| f.name == b.function);
        anstream::eprintln!(
            "{} s3://{} {}{filter} -> {}{}",
            "event".green().bold(),
            b.bucket,
            b.events.join(","),
            b.function,
            if served {
                ""
            } else {
                " (not served: events to it are dropped)"
            }
        );
    }
    anstream::eprintln!(
        "{} {s3_url}  (aws --endpoint-url {s3_url} s3 ls)",
        "S3".cyan().bold()
    );
    anstream::eprintln!(
        "{} {lambda_url}  (aws lambda invoke --endpoint-url {lambda_url} ...)",
        "Lambda".cyan().bold()
    );
    anstream::eprintln!("Press CTRL+C to quit");
}
