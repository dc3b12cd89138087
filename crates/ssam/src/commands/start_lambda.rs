//! `ssam local start-lambda`: serves Lambda's Invoke API for SDKs and the aws cli
//! (`aws lambda invoke --endpoint-url http://127.0.0.1:3001`).

use std::net::IpAddr;
use std::process::ExitCode;

use ssam_lambda::LambdaService;

use super::common::{parse_host, FunctionArgs, TemplateArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub template: TemplateArgs,

    /// Address to listen on (an IP address or a host name such as localhost).
    #[arg(long = "host", default_value = "127.0.0.1", value_parser = parse_host)]
    pub host: IpAddr,

    /// Port to listen on (0 picks a free one and prints it).
    #[arg(short = 'p', long = "port", default_value_t = 3001)]
    pub port: u16,

    #[command(flatten)]
    pub functions: FunctionArgs,

    #[command(flatten)]
    pub dashboard: super::dashboard::DashboardArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let app =
        super::common::load_runnable(&args.template, "local_start_lambda", args.functions.strict)?;
    let env_vars = args.functions.env_vars_file()?;
    let mapped = args.functions.specs(&app, env_vars.as_ref())?;
    super::common::warn_unservable(
        &app,
        &mapped.skipped,
        env_vars.as_ref(),
        " and is not served",
    );
    let options = args.functions.service_options(&app.template_path);
    let addr = std::net::SocketAddr::new(args.host, args.port);
    let rt = super::common::runtime()?;
    rt.block_on(async move {
        let stop = super::common::shutdown_signal()?;
        let service = LambdaService::new(mapped.specs, options);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr()?;
        let dashboard = match args.dashboard.bind(args.host).await? {
            Some(bound) => {
                let d = ssam_dashboard::Dashboard::new(args.dashboard.dashboard_history)
                    .with_lambda(service.clone())
                    .with_template_positions(super::dashboard::template_positions(&app));
                d.add_address("Lambda", &format!("http://{local}"));
                let url = bound.url.clone();
                Some((url, super::dashboard::serve(d, bound)))
            }
            None => None,
        };
        super::common::prepare_functions(&service).await;
        if args.functions.eager() {
            for e in service.prewarm_all().await {
                tracing::warn!("{e}");
            }
        }
        for f in service.functions() {
            eprintln!("Mounting {} ({})", f.name, f.runs_in());
        }
        super::common::print_concurrency(&service);
        eprintln!(
            "Starting the Local Lambda Service. You can now invoke your Lambda Functions defined in your template through the endpoint."
        );
        if let Some((url, _)) = &dashboard {
            eprintln!("Dashboard {url}");
        }
        eprintln!(" * Running on http://{local}/ (Press CTRL+C to quit)");
        // Kept alive until the server stops; dropping it stops watching.
        let _watcher = super::common::code_watcher(&service, args.functions.no_watch);
        let on_signal = service.clone();
        super::common::serve_invoke_api(listener, service, async move {
            stop.await;
            // Kill the sandboxes first so in-flight invocations end now, not at their timeout.
            on_signal.shutdown().await;
        })
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}
