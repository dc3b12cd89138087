//! `ssam local start-api`: serves the template's HTTP and REST APIs like API Gateway, on top
//! of the Lambda service, with hot reload of code and template.

use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::Arc;

use ssam_apigw::reload::{Loader, Reloaded};
use ssam_apigw::Gateway;
use ssam_lambda::env_vars::EnvVarsFile;

use super::common::{parse_host, ApiArgs, FunctionArgs, TemplateArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub template: TemplateArgs,

    /// Address to listen on (an IP address or a host name such as localhost).
    #[arg(long = "host", default_value = "127.0.0.1", value_parser = parse_host)]
    pub host: IpAddr,

    /// Port to listen on; 0 picks a free one and prints it.
    #[arg(short = 'p', long = "port", default_value_t = 3000)]
    pub port: u16,

    #[command(flatten)]
    pub functions: FunctionArgs,

    #[command(flatten)]
    pub api: ApiArgs,

    #[command(flatten)]
    pub dashboard: super::dashboard::DashboardArgs,
}

/// Loads the template and maps its functions.
fn load(
    args: &TemplateArgs,
    functions: &FunctionArgs,
    env_vars: Option<&EnvVarsFile>,
) -> anyhow::Result<Reloaded> {
    let app = super::common::load_runnable(args, "local_start_api", functions.strict)?;
    let mapped = functions.specs(&app, env_vars)?;
    Ok(Reloaded {
        app,
        specs: mapped.specs,
        skipped: mapped.skipped,
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let env_vars = args.functions.env_vars_file()?;
    let first = load(&args.template, &args.functions, env_vars.as_ref())?;
    super::common::warn_unservable(
        &first.app,
        &first.skipped,
        env_vars.as_ref(),
        " (its routes answer 502)",
    );
    let has_urls = first.app.functions.iter().any(|f| f.function_url.is_some());
    if first.app.routes.is_empty() && !has_urls {
        anyhow::bail!(
            "{} has no API routes (Api or HttpApi events, or OpenAPI definitions with Lambda proxy integrations) and no function URLs",
            first.app.template_path.display()
        );
    }
    let options = args.api.gateway_options(&first.app)?;
    let service_options = args.functions.service_options(&first.app.template_path);
    let addr = std::net::SocketAddr::new(args.host, args.port);
    let rt = super::common::runtime()?;
    rt.block_on(async move {
        let stop = super::common::shutdown_signal()?;
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            anyhow::anyhow!("cannot listen on {addr}: {e}\n  hint: pick another port with --port")
        })?;
        let local = listener.local_addr()?;
        let template_files = ssam_apigw::reload::template_files(&first.app);
        let mut warnings = Vec::new();
        let gateway = Gateway::new(
            &first.app,
            first.specs,
            first.skipped,
            service_options,
            options,
            &mut warnings,
        );
        for w in &warnings {
            tracing::warn!("{w}");
        }
        let dashboard = match args.dashboard.bind(args.host).await? {
            Some(bound) => {
                let d = ssam_dashboard::Dashboard::new(args.dashboard.dashboard_history)
                    .with_lambda(gateway.functions.service().clone())
                    .with_template_positions(super::dashboard::template_positions(&first.app));
                d.set_gateway(gateway.clone(), format!("http://{local}"));
                d.add_address("API", &format!("http://{local}"));
                let url = bound.url.clone();
                Some((url, super::dashboard::serve(d, bound)))
            }
            None => None,
        };
        super::common::prepare_functions(gateway.functions.service()).await;
        if args.functions.eager() {
            for e in gateway.functions.prewarm_all().await {
                tracing::warn!("{e}");
            }
        }
        for m in gateway.mounts() {
            eprintln!(
                "Mounting {} at http://{local}{} [{}]",
                m.function,
                m.path,
                m.methods.join(", ")
            );
        }
        let config = gateway.config();
        for api in &config.table.apis {
            if api.stage != "$default" {
                eprintln!(
                    "Routes of {} are also served under /{}, as its deployed URL has them.",
                    api.logical_id, api.stage
                );
            }
        }
        let url_servers = args
            .api
            .serve_function_urls(&first.app, args.host, gateway.functions.service())
            .await?;
        super::common::print_concurrency(gateway.functions.service());
        let _reloader = if args.functions.no_watch {
            None
        } else {
            let template_args = args.template.clone();
            let env_vars = env_vars.clone();
            let functions = args.functions.clone();
            let loader: Loader = Arc::new(move || {
                load(&template_args, &functions, env_vars.as_ref()).map_err(|e| format!("{e:#}"))
            });
            match ssam_apigw::reload::watch(Arc::clone(&gateway), template_files, loader) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::warn!("{e}; code changes need a restart");
                    None
                }
            }
        };
        eprintln!(
            "You can now browse to the above endpoints to invoke your functions.{}",
            if _reloader.is_some() {
                " Code and template changes are picked up without a restart."
            } else {
                ""
            }
        );
        if let Some((url, _)) = &dashboard {
            eprintln!("Dashboard {url}");
        }
        eprintln!(" * Running on http://{local}/ (Press CTRL+C to quit)");
        let on_signal = Arc::clone(&gateway);
        ssam_apigw::serve(Arc::clone(&gateway), listener, async move {
            stop.await;
            on_signal.functions.shutdown().await;
        })
        .await;
        for s in &url_servers {
            s.abort();
        }
        Ok(ExitCode::SUCCESS)
    })
}
