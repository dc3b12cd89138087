//! `ssam local start`: API Gateway, the Lambda Invoke API, S3 and S3 event wiring in one
//! process, one console. Functions get `AWS_ENDPOINT_URL*` pointing at the local services and test
//! credentials, so unmodified handler code (`boto3.client("s3")`) talks to ssam.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use anyhow::Context;
use ssam_lambda::{LambdaService, ServiceOptions};
use ssam_notify::{Bindings, Dispatcher};

use super::common::{
    load_runnable, parse_host, s3_bucket_spec, shutdown_signal, ApiArgs, FunctionArgs, S3Args,
    TemplateArgs,
};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub template: TemplateArgs,

    /// Address every service listens on (an IP address or a host name such as localhost).
    #[arg(long, default_value = "127.0.0.1", value_parser = parse_host)]
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

    #[command(flatten)]
    pub functions: FunctionArgs,

    #[command(flatten)]
    pub api: ApiArgs,

    #[command(flatten)]
    pub s3: S3Args,

    #[command(flatten)]
    pub dashboard: super::dashboard::DashboardArgs,

    /// Delay before the first retry of a failed asynchronous invocation (Lambda waits about
    /// a minute; locally a second is enough to see it happen).
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub async_retry_delay: f64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let app = load_runnable(&args.template, "local_start", args.functions.strict)?;
    let env_vars = args.functions.env_vars_file()?;
    let mut s3_config = args.s3.config()?;
    s3_config.host = args.host;
    s3_config.port = args.s3_port;
    s3_config.region = app.region.clone();
    s3_config.buckets = app.buckets.iter().map(s3_bucket_spec).collect();
    let runtime = super::common::runtime()?;
    runtime.block_on(async move {
        let stop = shutdown_signal()?;
        // S3 first: functions need its address in their environment.
        let s3 = ssam_s3::S3Server::start(s3_config)
            .await
            .context("cannot start the local S3")?;
        let s3_url = s3.endpoint_url();

        let lambda_addr = SocketAddr::new(args.host, args.lambda_port);
        let listener = tokio::net::TcpListener::bind(lambda_addr)
            .await
            .with_context(|| format!("cannot listen on {lambda_addr} for the Lambda Invoke API"))?;
        let lambda_url = format!("http://{}", listener.local_addr()?);

        let mapped = args.functions.specs(&app, env_vars.as_ref())?;
        super::common::warn_unservable(&app, &mapped.skipped, env_vars.as_ref(), " and is not served");
        let mut options = ServiceOptions {
            async_retry_delay: std::time::Duration::from_secs_f64(args.async_retry_delay.max(0.0)),
            ..args.functions.service_options(&app.template_path)
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
        // Bound before anything is invoked, so the dashboard sees every invocation.
        let dashboard_bound = args.dashboard.bind(args.host).await?;
        let dashboard = dashboard_bound.as_ref().map(|_| {
            ssam_dashboard::Dashboard::new(args.dashboard.dashboard_history)
                .with_lambda(lambda.clone())
                .with_template_positions(super::dashboard::template_positions(&app))
        });
        super::common::prepare_functions(&lambda).await;
        if args.functions.eager() {
            for e in lambda.prewarm_all().await {
                tracing::warn!("{e}");
            }
        }

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
                args.api.gateway_options(&app)?,
                &mut warnings,
            );
            for w in &warnings {
                tracing::warn!("{w}");
            }
            Some((gateway, api_listener, api_local))
        };

        // Code edits recycle the function's warm instances (API, Invoke API and S3 events all
        // see the new code on their next invocation); no rebuild needed from source templates.
        let _watcher = super::common::code_watcher(&lambda, args.functions.no_watch);

        let bindings = Bindings::from_app(&app);
        let dashboard = dashboard.map(|d| d.with_s3(s3.store(), s3_url.clone(), bindings.clone(), s3.subscribe()));
        let dispatcher = Dispatcher::new(bindings.clone(), lambda.clone(), app.region.clone());
        tokio::spawn(dispatcher.run(s3.subscribe()));

        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(super::common::serve_invoke_api(listener, lambda.clone(), async move {
            let _ = stop_rx.await;
        }));

        let (api_stop_tx, api_stop_rx) = tokio::sync::oneshot::channel::<()>();
        let api_url = api.as_ref().map(|(_, _, local)| format!("http://{local}"));
        if let (Some(d), Some((gateway, _, local))) = (&dashboard, &api) {
            d.set_gateway(gateway.clone(), format!("http://{local}"));
        }
        let dashboard_url = dashboard_bound.as_ref().map(|b| b.url.clone());
        let dashboard_server = match (dashboard, dashboard_bound) {
            (Some(d), Some(bound)) => {
                if let Some(u) = &api_url {
                    d.add_address("API", u);
                }
                d.add_address("Lambda", &lambda_url);
                d.add_address("S3", &s3_url);
                Some(super::dashboard::serve(d, bound))
            }
            _ => None,
        };
        let api_server = api.map(|(gateway, listener, local)| {
            for m in gateway.mounts() {
                eprintln!("Mounting {} at http://{local}{} [{}]", m.function, m.path, m.methods.join(", "));
            }
            eprintln!("API http://{local}");
            tokio::spawn(ssam_apigw::serve(gateway, listener, async move {
                let _ = api_stop_rx.await;
            }))
        });
        let url_servers = args.api.serve_function_urls(&app, args.host, &lambda).await?;
        print_console(&app, &s3_url, &lambda_url, &bindings, &lambda, dashboard_url.as_deref());
        stop.await;
        for s in &url_servers {
            s.abort();
        }
        eprintln!("stopping: functions, API, Lambda Invoke API, S3");
        // Sandboxes first, so in-flight invocations end now rather than at their timeout.
        lambda.shutdown().await;
        if let Some(server) = api_server {
            let _ = api_stop_tx.send(());
            let _ = server.await;
        }
        let _ = stop_tx.send(());
        let _ = server.await;
        if let Some((task, stop)) = dashboard_server {
            let _ = stop.send(());
            let _ = task.await;
        }
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
    dashboard_url: Option<&str>,
) {
    use owo_colors::OwoColorize;
    for f in lambda.functions() {
        anstream::eprintln!("{} {} ({})", "function".green().bold(), f.name, f.runs_in());
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
        let served = lambda.function(&b.function).is_some();
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
    if let Some(url) = dashboard_url {
        anstream::eprintln!("{} {url}", "Dashboard".cyan().bold());
    }
    super::common::print_concurrency(lambda);
    anstream::eprintln!("Press CTRL+C to quit");
}
