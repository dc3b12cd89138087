//! `ssam local start-api`: serves the template's HTTP and REST APIs like API Gateway, on top
//! of the Lambda service, with hot reload of code and template.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use ssam_apigw::reload::{Loader, Reloaded};
use ssam_apigw::{Gateway, GatewayOptions};
use ssam_lambda::env_vars::EnvVarsFile;
use ssam_lambda::from_template::specs_from_app;
use ssam_lambda::ServiceOptions;

use super::common::WarmContainers;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub template: super::common::TemplateArgs,

    /// Address to listen on [default: 127.0.0.1].
    #[arg(long = "host")]
    pub host: Option<String>,

    /// Port to listen on; 0 picks a free one and prints it [default: 3000].
    #[arg(short = 'p', long = "port")]
    pub port: Option<u16>,

    /// Environment variables as SAM's JSON: `{"Parameters": {...}, "FunctionId": {...}}`.
    #[arg(short = 'n', long = "env-vars", value_name = "PATH")]
    pub env_vars: Option<PathBuf>,

    /// Directory of static files served at the root, relative to the template's directory
    /// [default: public].
    #[arg(short = 's', long = "static-dir", value_name = "DIR")]
    pub static_dir: Option<PathBuf>,

    /// When to start function instances (instances always stay warm between requests).
    #[arg(long = "warm-containers", value_enum, ignore_case = true)]
    pub warm_containers: Option<WarmContainers>,

    /// Let every request through without running Lambda authorizers.
    #[arg(long = "disable-authorizer")]
    pub disable_authorizer: bool,

    /// Do not watch code and template for changes.
    #[arg(long = "no-watch")]
    pub no_watch: bool,

    /// Stop instances idle for this many seconds (0 keeps them until ssam stops).
    #[arg(long = "idle-timeout", default_value_t = 600, value_name = "SECONDS")]
    pub idle_timeout: u64,
}

/// The flags SAM users keep in samconfig.toml (`[<env>.global.parameters]`, then
/// `[<env>.local_start_api.parameters]`); a flag on the command line wins.
#[derive(Default, serde::Deserialize)]
struct Samconfig {
    port: Option<u16>,
    host: Option<String>,
    warm_containers: Option<String>,
    env_vars: Option<PathBuf>,
    static_dir: Option<PathBuf>,
    disable_authorizer: Option<bool>,
}

impl Samconfig {
    fn read(args: &super::common::TemplateArgs) -> anyhow::Result<Self> {
        let template = args.template_path()?;
        let path = match &args.config_file {
            Some(c) => c.clone(),
            None => template
                .parent()
                .map(|d| d.join("samconfig.toml"))
                .unwrap_or_else(|| PathBuf::from("samconfig.toml")),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        };
        let doc: toml::Table = text
            .parse()
            .map_err(|e| anyhow::anyhow!("invalid TOML in {}: {e}", path.display()))?;
        let mut out = Self::default();
        let Some(env) = doc.get(&args.config_env).and_then(|v| v.as_table()) else {
            return Ok(out);
        };
        for section in ["global", "local_start_api"] {
            let Some(params) = env.get(section).and_then(|s| s.get("parameters")) else {
                continue;
            };
            let s: Samconfig = params.clone().try_into().map_err(|e| {
                anyhow::anyhow!(
                    "{}: [{}.{section}.parameters]: {e}",
                    path.display(),
                    args.config_env
                )
            })?;
            out.port = s.port.or(out.port);
            out.host = s.host.or(out.host);
            out.warm_containers = s.warm_containers.or(out.warm_containers);
            out.env_vars = s.env_vars.or(out.env_vars);
            out.static_dir = s.static_dir.or(out.static_dir);
            out.disable_authorizer = s.disable_authorizer.or(out.disable_authorizer);
        }
        Ok(out)
    }
}

/// Loads the template and maps its functions, printing what cannot run.
fn load(
    args: &super::common::TemplateArgs,
    env_vars: Option<&EnvVarsFile>,
) -> anyhow::Result<Reloaded> {
    let loaded = super::common::load_template(args, "local_start_api")?;
    if loaded.diagnostics.has_errors() {
        super::common::print_diagnostics(&loaded.diagnostics);
        anyhow::bail!("the template has errors; `ssam validate` lists them");
    }
    let app = loaded.app;
    let mapped = specs_from_app(&app, env_vars, &ssam_lambda::default_cache_dir());
    Ok(Reloaded {
        app,
        specs: mapped.specs,
        skipped: mapped.skipped,
    })
}

pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    let samconfig = Samconfig::read(&args.template)?;
    let port = args.port.or(samconfig.port).unwrap_or(3000);
    let host = args
        .host
        .clone()
        .or(samconfig.host)
        .unwrap_or_else(|| "127.0.0.1".to_string());
    args.env_vars = args.env_vars.or(samconfig.env_vars);
    if args.warm_containers.is_none() {
        args.warm_containers = match samconfig.warm_containers.as_deref() {
            Some(w) if w.eq_ignore_ascii_case("EAGER") => Some(WarmContainers::Eager),
            Some(w) if w.eq_ignore_ascii_case("LAZY") => Some(WarmContainers::Lazy),
            Some(w) => {
                anyhow::bail!("samconfig.toml: warm_containers = {w:?}: expected EAGER or LAZY")
            }
            None => None,
        };
    }
    let disable_authorizer = args.disable_authorizer || samconfig.disable_authorizer == Some(true);
    let static_dir_arg = args
        .static_dir
        .clone()
        .or(samconfig.static_dir)
        .unwrap_or_else(|| PathBuf::from("public"));
    let env_vars = match &args.env_vars {
        Some(p) => Some(EnvVarsFile::read(p).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let first = load(&args.template, env_vars.as_ref())?;
    for (name, why) in &first.skipped {
        eprintln!("warning: {name} cannot run locally: {why}; its routes answer 502");
    }
    if let Some(ev) = &env_vars {
        let known: Vec<(&str, &str)> = first
            .app
            .functions
            .iter()
            .map(|f| (f.logical_id.as_str(), f.name()))
            .collect();
        for s in ev.unknown_sections(&known) {
            eprintln!("warning: --env-vars has a section {s} that names no function");
        }
    }
    if first.app.routes.is_empty() {
        anyhow::bail!(
            "{} has no API routes (Api or HttpApi events, or OpenAPI definitions with Lambda proxy integrations)",
            first.app.template_path.display()
        );
    }
    let static_dir = if static_dir_arg.is_absolute() {
        static_dir_arg
    } else {
        first.app.base_dir.join(&static_dir_arg)
    };
    let options = GatewayOptions {
        integration_timeout: None,
        static_dir: static_dir.is_dir().then_some(static_dir),
        disable_authorizer,
        log_requests: true,
        ..GatewayOptions::default()
    };
    let service_options = ServiceOptions {
        idle_timeout: (args.idle_timeout > 0)
            .then(|| std::time::Duration::from_secs(args.idle_timeout)),
        ..ServiceOptions::default()
    };
    let addr = super::common::listen_addr(&host, port)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let stop = super::common::shutdown_signal()?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}\n  hint: pick another port with --port"))?;
        let local = listener.local_addr()?;
        let template_path = first.app.template_path.clone();
        let mut warnings = Vec::new();
        let gateway = Gateway::new(&first.app, first.specs, first.skipped, service_options, options, &mut warnings);
        for w in &warnings {
            eprintln!("warning: {w}");
        }
        if args.warm_containers == Some(WarmContainers::Eager) {
            for e in gateway.functions.prewarm_all().await {
                eprintln!("warning: {e}");
            }
        }
        for m in gateway.mounts() {
            eprintln!("Mounting {} at http://{local}{} [{}]", m.function, m.path, m.methods.join(", "));
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
        let _reloader = if args.no_watch {
            None
        } else {
            let template_args = args.template.clone();
            let env_vars = env_vars.clone();
            let loader: Loader =
                Arc::new(move || load(&template_args, env_vars.as_ref()).map_err(|e| format!("{e:#}")));
            match ssam_apigw::reload::watch(Arc::clone(&gateway), template_path, loader) {
                Ok(r) => Some(r),
                Err(e) => {
                    eprintln!("warning: {e}; code changes need a restart");
                    None
                }
            }
        };
        eprintln!(
            "You can now browse to the above endpoints to invoke your functions. Code and template changes are picked up without a restart."
        );
        eprintln!(" * Running on http://{local}/ (Press CTRL+C to quit)");
        let on_signal = Arc::clone(&gateway);
        ssam_apigw::serve(Arc::clone(&gateway), listener, async move {
            stop.await;
            on_signal.functions.shutdown().await;
        })
        .await;
        Ok(ExitCode::SUCCESS)
    })
}
