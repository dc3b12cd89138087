//! Flags shared by the commands: the template (`-t`, `--parameter-overrides`), the listen
//! address, and the groups each kind of service adds (functions, API, S3), flattened into
//! every command that runs that service so that `start` has every flag its parts have.

use std::path::PathBuf;

use ssam_lambda::env_vars::EnvVarsFile;
use ssam_lambda::from_template::Skipped;
use ssam_lambda::{LambdaService, ServiceOptions};

#[derive(clap::Args, Clone, Debug, Default)]
pub struct TemplateArgs {
    /// The SAM template (default: template.yaml, then template.yml, in the current directory).
    #[arg(
        short = 't',
        long = "template",
        alias = "template-file",
        value_name = "PATH"
    )]
    pub template: Option<PathBuf>,

    /// Parameter values: `Key=Value Key2=Value2` or `ParameterKey=K,ParameterValue=V`.
    #[arg(long = "parameter-overrides", num_args = 1.., value_name = "OVERRIDES")]
    pub parameter_overrides: Vec<String>,

    /// samconfig.toml to read options and parameter overrides from (default: next to the
    /// template).
    #[arg(long = "config-file", value_name = "PATH")]
    pub config_file: Option<PathBuf>,

    /// The samconfig.toml environment to use.
    #[arg(long = "config-env", default_value = "default", value_name = "ENV")]
    pub config_env: String,

    /// AWS region the template is resolved for (AWS::Region).
    #[arg(long = "region", env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,

    /// Accepted for compatibility: the AWS::LanguageExtensions transform (`Fn::ForEach`,
    /// `Fn::Length`, `Fn::ToJsonString`, ...) is always applied when the template names it.
    #[arg(long = "language-extensions", hide = true)]
    pub language_extensions: bool,

    /// Always the source template, never `.aws-sam/build/template.yaml` (`ssam build`).
    #[arg(skip)]
    pub source_only: bool,
}

/// The address `--host` and `--port` name: an IP address, or a host name such as `localhost`.
pub fn listen_addr(host: &str, port: u16) -> anyhow::Result<std::net::SocketAddr> {
    use std::net::ToSocketAddrs as _;
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(std::net::SocketAddr::new(ip, port));
    }
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| anyhow::anyhow!("cannot listen on {host}:{port}: unknown host"))
}

/// `--host`: an IP address, or a host name such as `localhost` resolved once.
pub fn parse_host(host: &str) -> Result<std::net::IpAddr, String> {
    listen_addr(host, 0)
        .map(|a| a.ip())
        .map_err(|_| format!("{host:?} is neither an IP address nor a known host name"))
}

/// Flags of every command that runs functions as a service (`start`, `start-api`,
/// `start-lambda`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct FunctionArgs {
    /// Environment variables as SAM's JSON: `{"Parameters": {...}, "FunctionId": {...}}`.
    #[arg(short = 'n', long = "env-vars", value_name = "PATH")]
    pub env_vars: Option<PathBuf>,

    /// When to start function instances (instances always stay warm between invocations).
    #[arg(long = "warm-containers", value_enum, ignore_case = true)]
    pub warm_containers: Option<WarmContainers>,

    /// Stop instances idle for this many seconds (0 keeps them until ssam stops).
    #[arg(long = "idle-timeout", default_value_t = 600, value_name = "SECONDS")]
    pub idle_timeout: u64,

    /// Do not recycle a function's warm instances when files under its CodeUri change.
    #[arg(long = "no-watch")]
    pub no_watch: bool,

    /// Instances a function without ReservedConcurrentExecutions may run at once; more
    /// requests wait for one to free up [default: 4 per CPU core, from 8 to 64].
    #[arg(long = "max-instances", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_instances: Option<u32>,

    /// Refuse to start when the template has errors (by default they are printed and every
    /// resource they do not affect is served).
    #[arg(long = "strict")]
    pub strict: bool,

    #[command(flatten)]
    pub docker: DockerArgs,

    #[command(flatten)]
    pub debug: DebugArgs,
}

/// SAM CLI's debugging flags (`sam local invoke|start-api|start-lambda --debug-port`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct DebugArgs {
    /// Run the function under a debugger listening on this port (Python: debugpy, waiting
    /// for the client; Node: --inspect-brk; provided: --debug-args). Its Timeout is
    /// suspended and it runs one instance at a time.
    #[arg(
        short = 'd',
        long = "debug-port",
        value_name = "PORT",
        env = "SAM_DEBUG_PORT"
    )]
    pub debug_port: Option<u16>,

    /// The function to debug when several run (its logical id or FunctionName).
    #[arg(long = "debug-function", value_name = "NAME", requires = "debug_port")]
    pub debug_function: Option<String>,

    /// A directory holding the debugger: on PYTHONPATH for Python, where the first word of
    /// --debug-args is found for provided runtimes; mounted at /tmp/lambci_debug_files in
    /// containers.
    #[arg(long = "debugger-path", value_name = "DIR", requires = "debug_port")]
    pub debugger_path: Option<PathBuf>,

    /// The debugger's arguments: Python's in place of ssam's debugpy ones (e.g. "-m debugpy
    /// --listen 0.0.0.0:5890"), Node's before the bootstrap, a provided runtime's command
    /// wrapping the bootstrap (e.g. "gdbserver :5890").
    #[arg(
        long = "debug-args",
        value_name = "ARGS",
        env = "DEBUGGER_ARGS",
        allow_hyphen_values = true,
        requires = "debug_port"
    )]
    pub debug_args: Option<String>,
}

impl DebugArgs {
    /// Marks the function to debug among `specs` (`--debug-function`, else the only one):
    /// as SAM CLI, a debug port with several functions needs `--debug-function`.
    pub fn apply(&self, specs: &mut [ssam_lambda::FunctionSpec]) -> anyhow::Result<()> {
        let Some(port) = self.debug_port else {
            return Ok(());
        };
        let debug_args = match &self.debug_args {
            Some(a) => split_args(a).map_err(|e| anyhow::anyhow!("--debug-args: {e}"))?,
            None => Vec::new(),
        };
        if let Some(dir) = &self.debugger_path {
            if !dir.is_dir() {
                anyhow::bail!(
                    "--debugger-path {} is not a directory\n  hint: give the directory holding the debugger",
                    dir.display()
                );
            }
        }
        let names = || {
            specs
                .iter()
                .map(|s| s.logical_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let index = match &self.debug_function {
            Some(name) => specs
                .iter()
                .position(|s| s.logical_id == *name || s.name == *name)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--debug-function {name}: no such function runs here\n  hint: the functions are: {}",
                        names()
                    )
                })?,
            None if specs.len() == 1 => 0,
            None => anyhow::bail!(
                "--debug-port with {} functions: say which one to debug\n  hint: add --debug-function NAME, one of: {}",
                specs.len(),
                names()
            ),
        };
        if let Some(spec) = specs.get_mut(index) {
            let debugger_path = match &self.debugger_path {
                Some(d) => Some(std::path::absolute(d)?),
                None => None,
            };
            spec.debug = Some(ssam_lambda::DebugSpec {
                port,
                debugger_path,
                debug_args,
            });
        }
        Ok(())
    }
}

/// Splits `--debug-args` as a POSIX shell would (quotes and backslashes), as SAM CLI does
/// with `shlex.split`.
pub fn split_args(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    cur.push(c);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

impl FunctionArgs {
    /// The `--env-vars` file, read.
    pub fn env_vars_file(&self) -> anyhow::Result<Option<EnvVarsFile>> {
        self.env_vars
            .as_deref()
            .map(|p| EnvVarsFile::read(p).map_err(anyhow::Error::msg))
            .transpose()
    }

    /// The Lambda service's options these flags set, for functions of `template`.
    pub fn service_options(&self, template: &std::path::Path) -> ServiceOptions {
        let defaults = ServiceOptions::default();
        ServiceOptions {
            idle_timeout: (self.idle_timeout > 0)
                .then(|| std::time::Duration::from_secs(self.idle_timeout)),
            max_instances: self.max_instances.unwrap_or(defaults.max_instances),
            docker: self.docker.options(template),
            ..defaults
        }
    }

    /// The template's functions as the Lambda service runs them (native or in containers,
    /// `--env-vars` applied), and those that cannot run.
    pub fn specs(
        &self,
        app: &ssam_template::App,
        env_vars: Option<&EnvVarsFile>,
    ) -> anyhow::Result<ssam_lambda::from_template::FromTemplate> {
        let mut mapped = ssam_lambda::from_template::specs_with_sandboxes(
            app,
            env_vars,
            &ssam_lambda::default_cache_dir(),
            &self.docker.sandboxes()?,
        );
        self.debug.apply(&mut mapped.specs)?;
        Ok(mapped)
    }

    pub fn eager(&self) -> bool {
        self.warm_containers == Some(WarmContainers::Eager)
    }
}

/// What cannot run locally, and `--env-vars` sections that name no function, as warnings.
pub fn warn_unservable(
    app: &ssam_template::App,
    skipped: &[Skipped],
    env_vars: Option<&EnvVarsFile>,
    consequence: &str,
) {
    for s in skipped {
        tracing::warn!("{} cannot run locally{consequence}: {}", s.name, s.reason);
    }
    if let Some(ev) = env_vars {
        let known: Vec<(&str, &str)> = app
            .functions
            .iter()
            .map(|f| (f.logical_id.as_str(), f.name()))
            .collect();
        for s in ev.unknown_sections(&known) {
            tracing::warn!("--env-vars has a section {s} that names no function");
        }
    }
}

/// The concurrency line every function-serving command prints at start, and where to
/// attach a debugger.
pub fn print_concurrency(service: &LambdaService) {
    let mut reserved = Vec::new();
    let mut cap = None;
    let functions = service.functions();
    if let Some(w) = ssam_lambda::filesystem::unavailable_warning(&functions) {
        tracing::warn!("{w}");
    }
    for f in functions {
        if let Some(hint) = ssam_lambda::attach_hint(&f) {
            tracing::info!("{hint}");
        }
        match f.reserved_concurrency {
            Some(n) => reserved.push(format!("{} {n}", f.name)),
            None => cap = service.concurrency_cap(&f.name),
        }
    }
    if let Some(cap) = cap {
        tracing::info!(
            "Concurrency: up to {cap} instances per function (--max-instances); requests beyond wait for a free one"
        );
    }
    if !reserved.is_empty() {
        tracing::info!(
            "Reserved concurrency (invocations beyond it are throttled, as on Lambda): {}",
            reserved.join(", ")
        );
    }
}

/// Flags of the commands that serve API Gateway (`start`, `start-api`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ApiArgs {
    /// Directory of static files served at the root, relative to the template's directory.
    #[arg(
        short = 's',
        long = "static-dir",
        default_value = "public",
        value_name = "DIR"
    )]
    pub static_dir: PathBuf,

    /// Let every request through without running authorizers.
    #[arg(long = "disable-authorizer")]
    pub disable_authorizer: bool,

    /// Port of the first function URL (functions with `FunctionUrlConfig`, in template
    /// order, take this port and the ones after it; 0: any free port).
    #[arg(
        long = "function-url-port",
        default_value_t = 3010,
        value_name = "PORT"
    )]
    pub function_url_port: u16,

    /// Check the RS256 signatures of an issuer's JWTs with its key set: a JWKS file or an
    /// http URL on this machine (repeatable). Without it, claims are checked, not signatures.
    #[arg(long = "jwks", value_name = "ISSUER=FILE_OR_URL")]
    pub jwks: Vec<String>,

    /// Access keys AWS_IAM routes and function URLs accept (repeatable; `KEY` or
    /// `KEY:SECRET`). With a secret, the SigV4 signatures made with that key are checked;
    /// without this flag, any SigV4-signed request is accepted unchecked.
    #[arg(long = "iam-credentials", value_name = "ACCESS_KEY[:SECRET]")]
    pub iam_credentials: Vec<String>,
}

impl ApiArgs {
    /// Serves every function URL of `app` on `host`, printing each address; the servers run
    /// until their handles are aborted.
    pub async fn serve_function_urls(
        &self,
        app: &ssam_template::App,
        host: std::net::IpAddr,
        service: &std::sync::Arc<ssam_lambda::LambdaService>,
    ) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
        use ssam_apigw::function_url::{serve, FunctionUrl};
        let mut servers = Vec::new();
        let with_url = app
            .functions
            .iter()
            .filter_map(|f| Some((f, f.function_url.as_ref()?)));
        for (i, (f, config)) in with_url.enumerate() {
            let port = match self.function_url_port {
                0 => 0,
                base => u16::try_from(usize::from(base) + i).unwrap_or(0),
            };
            let addr = std::net::SocketAddr::new(host, port);
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                anyhow::anyhow!(
                    "cannot listen on {addr} for the function URL of {}: {e}\n  hint: pick other ports with --function-url-port",
                    f.logical_id
                )
            })?;
            let url = FunctionUrl {
                function: f.logical_id.clone(),
                url_id: FunctionUrl::url_id_for(&f.logical_id),
                region: app.region.clone(),
                account_id: app.account_id.clone(),
                iam: config.auth_type == "AWS_IAM",
                credentials: ssam_apigw::iam::IamOptions::from_flags(&self.iam_credentials),
                streaming: config.invoke_mode == "RESPONSE_STREAM",
                cors: config.cors.clone(),
            };
            if service.name_of(&f.logical_id).is_none() {
                tracing::warn!(
                    "the function URL of {} answers 404: the function is not served",
                    f.logical_id
                );
            }
            eprintln!(
                "Function URL {} at http://{}/ ({}, {}{})",
                f.logical_id,
                listener.local_addr()?,
                config.auth_type,
                config.invoke_mode,
                if config.cors.is_some() { ", CORS" } else { "" }
            );
            if url.iam && !url.credentials.checks_signatures() {
                tracing::warn!(
                    "the function URL of {} accepts any SigV4-signed request: signatures are not checked\n  hint: give the signing key's secret: --iam-credentials ACCESS_KEY:SECRET",
                    f.logical_id
                );
            }
            let url = std::sync::Arc::new(url);
            servers.push(tokio::spawn(serve(
                url,
                std::sync::Arc::clone(service),
                listener,
                std::future::pending::<()>(),
            )));
        }
        Ok(servers)
    }

    /// The gateway's options for an app (the static directory is served when it exists).
    pub fn gateway_options(
        &self,
        app: &ssam_template::App,
    ) -> anyhow::Result<ssam_apigw::GatewayOptions> {
        let static_dir = if self.static_dir.is_absolute() {
            self.static_dir.clone()
        } else {
            app.base_dir.join(&self.static_dir)
        };
        let jwks = ssam_apigw::jwt::Jwks::load(&self.jwks, &app.base_dir)
            .map_err(|e| anyhow::anyhow!(e))?;
        Ok(ssam_apigw::GatewayOptions {
            static_dir: static_dir.is_dir().then_some(static_dir),
            disable_authorizer: self.disable_authorizer,
            jwks: std::sync::Arc::new(jwks),
            iam: ssam_apigw::iam::IamOptions::from_flags(&self.iam_credentials),
            log_requests: true,
            ..Default::default()
        })
    }
}

/// Flags of the commands that serve S3 (`start`, `start-s3`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct S3Args {
    /// Where buckets and objects are kept between runs.
    #[arg(long, default_value = ".ssam/s3", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// Keep S3 data in a temporary directory, deleted on exit.
    #[arg(long)]
    pub ephemeral: bool,

    /// Verify every request signature against the configured credentials.
    #[arg(long)]
    pub strict_auth: bool,

    /// An `ACCESS_KEY:SECRET` pair accepted under --strict-auth (repeatable; default test:test).
    #[arg(long = "credential", value_name = "KEY:SECRET")]
    pub credentials: Vec<String>,
}

impl S3Args {
    /// The S3 server's configuration these flags set (address, region and buckets are the
    /// caller's).
    pub fn config(&self) -> anyhow::Result<ssam_s3::S3Config> {
        let mut config = ssam_s3::S3Config {
            data_dir: self.data_dir.clone(),
            ephemeral: self.ephemeral,
            strict_auth: self.strict_auth,
            ..Default::default()
        };
        if !self.credentials.is_empty() {
            config.credentials = self
                .credentials
                .iter()
                .map(|c| {
                    c.split_once(':')
                        .map(|(k, s)| (k.to_owned(), s.to_owned()))
                        .ok_or_else(|| {
                            anyhow::anyhow!("--credential {c:?} is not ACCESS_KEY:SECRET")
                        })
                })
                .collect::<anyhow::Result<_>>()?;
        }
        // In the default mode signatures are not checked, except on browser POST uploads
        // whose policy s3s verifies: knowing the shell's own keys lets a POST policy signed
        // with them (by a script or a function run from this shell) work as it does on S3.
        if !self.strict_auth {
            if let (Ok(key), Ok(secret)) = (
                std::env::var("AWS_ACCESS_KEY_ID"),
                std::env::var("AWS_SECRET_ACCESS_KEY"),
            ) {
                if !key.is_empty() && !config.credentials.iter().any(|(k, _)| *k == key) {
                    config.credentials.push((key, secret));
                }
            }
        }
        Ok(config)
    }
}

/// `--warm-containers`, as SAM CLI spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WarmContainers {
    /// Start one instance of every function at start-up.
    #[value(name = "EAGER")]
    Eager,
    /// Start instances on first use (the default).
    #[value(name = "LAZY")]
    Lazy,
}

/// How functions run in containers: SAM CLI's Docker flags, plus `--docker` for Zip functions.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct DockerArgs {
    /// Run Zip functions in their runtime's Lambda image (public.ecr.aws/lambda/<runtime>)
    /// instead of as native processes: code mounted read-only at /var/task, layers at /opt.
    #[arg(long = "docker")]
    pub docker: bool,

    /// The image to run a function in: `Function=image` for one (a Zip function named here
    /// runs in a container), or `image` for every container function. Repeatable.
    #[arg(long = "invoke-image", value_name = "[FUNCTION=]IMAGE")]
    pub invoke_image: Vec<String>,

    /// The docker network containers join (default: the host's network, where 127.0.0.1 is
    /// this machine; on another network they reach ssam as host.docker.internal).
    #[arg(long = "docker-network", value_name = "NETWORK")]
    pub docker_network: Option<String>,

    /// An /etc/hosts entry for containers, `host:ip` (repeatable), as `docker run --add-host`.
    #[arg(long = "add-host", value_name = "HOST:IP")]
    pub add_host: Vec<String>,

    /// Environment variables for functions in containers only, in the --env-vars format.
    #[arg(long = "container-env-vars", value_name = "PATH")]
    pub container_env_vars: Option<PathBuf>,

    /// Rebuild every Image function's image once at start, even when its inputs did not
    /// change (ssam rebuilds changed ones by itself).
    #[arg(long = "force-image-build")]
    pub force_image_build: bool,

    /// Pull an image that is not present locally instead of failing.
    #[arg(long = "pull")]
    pub pull: bool,

    /// Accepted for SAM CLI compatibility: ssam never pulls unless asked with --pull.
    #[arg(long = "skip-pull-image")]
    pub skip_pull_image: bool,

    /// Let functions write into their code and layer directories. By default they are
    /// read-only and only /tmp is writable, as on Lambda (in containers the whole image is
    /// read-only and /tmp is a tmpfs of the function's EphemeralStorage size).
    #[arg(long = "writable-code")]
    pub writable_code: bool,
}

impl DockerArgs {
    /// Which functions run in containers, and in which image.
    pub fn sandboxes(&self) -> anyhow::Result<ssam_lambda::from_template::Sandboxes> {
        let container_env = self
            .container_env_vars
            .as_deref()
            .map(|p| EnvVarsFile::read(p).map_err(anyhow::Error::msg))
            .transpose()?;
        let invoke_images = self
            .invoke_image
            .iter()
            .map(|v| match v.split_once('=') {
                Some((f, image)) if !f.is_empty() && !image.is_empty() => {
                    Ok((Some(f.to_string()), image.to_string()))
                }
                Some(_) => anyhow::bail!("--invoke-image {v:?}: expected IMAGE or FUNCTION=IMAGE"),
                None => Ok((None, v.clone())),
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(ssam_lambda::from_template::Sandboxes {
            docker_all: self.docker,
            invoke_images,
            container_env,
            lambda_filesystem: !self.writable_code,
        })
    }

    /// The Lambda service's container settings.
    pub fn options(&self, template: &std::path::Path) -> ssam_lambda::DockerOptions {
        ssam_lambda::DockerOptions {
            network: self.docker_network.clone(),
            add_hosts: self.add_host.clone(),
            force_image_build: self.force_image_build,
            pull: self.pull,
            template: Some(template.display().to_string()),
        }
    }
}

impl TemplateArgs {
    /// The template path: `-t`, else `template.yaml` / `template.yml` in the current directory.
    pub fn template_path(&self) -> anyhow::Result<PathBuf> {
        if let Some(t) = &self.template {
            if t.is_dir() {
                return ssam_template::find_template(t).ok_or_else(|| {
                    anyhow::anyhow!("no template.yaml or template.yml in {}", t.display())
                });
            }
            return Ok(t.clone());
        }
        let cwd = std::env::current_dir()?;
        // As SAM CLI: without -t, a built template in the current directory is what runs.
        // SAM switches silently; ssam says which template and why.
        let built = cwd.join(".aws-sam/build/template.yaml");
        if !self.source_only && built.is_file() {
            return Ok(built);
        }
        ssam_template::find_template(&cwd).ok_or_else(|| {
            anyhow::anyhow!(
                "no template.yaml or template.yml in {}\n  hint: pass the template with -t PATH",
                cwd.display()
            )
        })
    }
}

impl TemplateArgs {
    /// Where samconfig.toml is read from: `--config-file`, else next to the template, else
    /// in the current directory.
    pub fn samconfig_path(&self) -> PathBuf {
        if let Some(c) = &self.config_file {
            return c.clone();
        }
        let dir = match self.template_path() {
            Ok(t) => t.parent().map(PathBuf::from).unwrap_or_default(),
            Err(_) => PathBuf::new(),
        };
        dir.join("samconfig.toml")
    }
}

/// Loads the template with overrides from samconfig.toml (next to the template, or
/// `--config-file`) and then `--parameter-overrides`. `sam_command` is SAM's samconfig
/// section name for the running command (`local_invoke`, `local_start_api`, ...).
pub fn load_template(
    args: &TemplateArgs,
    sam_command: &str,
) -> anyhow::Result<ssam_template::Loaded> {
    let path = args.template_path()?;
    if args.template.is_none() && path.ends_with(".aws-sam/build/template.yaml") {
        let stale = std::env::current_dir()
            .ok()
            .and_then(|cwd| ssam_template::find_template(&cwd))
            .and_then(|src| {
                let source = src.metadata().ok()?.modified().ok()?;
                let built = path.metadata().ok()?.modified().ok()?;
                Some(source > built)
            })
            .unwrap_or(false);
        tracing::info!(
            "using .aws-sam/build/template.yaml, written by `ssam build` or `sam build` (as SAM CLI does without -t); pass -t template.yaml to run the source template{}",
            if stale {
                " (note: template.yaml changed after that build: run `ssam build` again)"
            } else {
                ""
            }
        );
    }
    let config = args.samconfig_path();
    let mut overrides =
        super::samconfig::samconfig_overrides(&config, &args.config_env, sam_command)
            .map_err(anyhow::Error::msg)?;
    let cli = ssam_template::params::parse_overrides(&args.parameter_overrides)
        .map_err(anyhow::Error::msg)?;
    overrides.extend(cli);
    let opts = ssam_template::LoadOptions {
        template: path.clone(),
        parameter_overrides: overrides,
        region: args.region.clone(),
        stack_name: None,
    };
    match ssam_template::load(&opts) {
        Ok(loaded) => Ok(loaded),
        Err(diags) => {
            print_diagnostics(&diags);
            anyhow::bail!("{} cannot be read as a SAM template", path.display())
        }
    }
}

/// Prints diagnostics to stderr with the source line and a caret under the column.
pub fn print_diagnostics(diags: &ssam_template::Diagnostics) {
    use owo_colors::OwoColorize;
    let mut cache: std::collections::HashMap<PathBuf, Vec<String>> =
        std::collections::HashMap::new();
    for d in &diags.0 {
        let file = d.location.file.as_ref().clone();
        let lines = cache.entry(file.clone()).or_insert_with(|| {
            std::fs::read_to_string(&file)
                .map(|t| t.lines().map(str::to_string).collect())
                .unwrap_or_default()
        });
        let sev = match d.severity {
            ssam_template::Severity::Error => "error".red().bold().to_string(),
            ssam_template::Severity::Warning => "warning".yellow().bold().to_string(),
        };
        anstream::eprintln!("{}: {sev}: {}", d.location, d.message.bold());
        if let Some(line) = lines.get(d.location.line.saturating_sub(1)) {
            let n = d.location.line.to_string();
            let pad = " ".repeat(n.len());
            let caret_pad: String = line
                .chars()
                .take(d.location.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            anstream::eprintln!("{pad} {}", "|".blue());
            anstream::eprintln!("{} {} {line}", n.blue(), "|".blue());
            anstream::eprintln!("{pad} {} {caret_pad}{}", "|".blue(), "^".red().bold());
        }
        if let Some(h) = &d.hint {
            anstream::eprintln!("  {} {h}", "hint:".cyan().bold());
        }
    }
}

/// Ctrl-C or SIGTERM (docker stop, process managers): how every server and `local invoke`
/// stop. The handlers are installed when this is called, not when the future is awaited: a
/// signal right after the banner must not find the default action (death by signal, which
/// would leave function processes behind) still in place.
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}

/// Loads the template; its warnings are printed, its errors end the command.
pub fn load_app(args: &TemplateArgs, sam_command: &str) -> anyhow::Result<ssam_template::App> {
    let loaded = load_template(args, sam_command)?;
    print_diagnostics(&loaded.diagnostics);
    if loaded.diagnostics.has_errors() {
        anyhow::bail!("the template has errors; `ssam validate` lists them");
    }
    Ok(loaded.app)
}

/// Loads the template for a `local` command: its problems are printed, and unless `strict`
/// the command goes on with every resource they do not affect, saying what is left out and
/// why (SAM CLI starts on templates CloudFormation would reject; `validate` stays strict).
pub fn load_runnable(
    args: &TemplateArgs,
    sam_command: &str,
    strict: bool,
) -> anyhow::Result<ssam_template::App> {
    let loaded = load_template(args, sam_command)?;
    print_diagnostics(&loaded.diagnostics);
    let errors = loaded.diagnostics.errors().count();
    if errors == 0 {
        return Ok(loaded.app);
    }
    if strict {
        anyhow::bail!("the template has errors; `ssam validate` lists them (--strict)");
    }
    let mut app = loaded.app;
    let left_out = ssam_template::runnable::leave_out_broken(&mut app, &loaded.diagnostics);
    for l in &left_out {
        tracing::warn!(
            "left out {} ({}): {}: {}",
            l.logical_id,
            l.resource_type,
            l.reason.location,
            l.reason.message
        );
    }
    tracing::warn!(
        "the template has {errors} error{}; serving what {} not affect{}\n  hint: fix them (`ssam validate` lists them), or pass --strict to refuse to start",
        if errors == 1 { "" } else { "s" },
        if errors == 1 { "it does" } else { "they do" },
        if left_out.is_empty() {
            String::new()
        } else {
            format!(
                " ({} resource{} left out)",
                left_out.len(),
                if left_out.len() == 1 { "" } else { "s" }
            )
        }
    );
    Ok(app)
}

/// The runtime every serving command runs on.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Watches the functions' code directories (unless `--no-watch`): an edit recycles the
/// function's warm instances. Keep the returned value alive; dropping it stops watching.
pub fn code_watcher(
    service: &std::sync::Arc<LambdaService>,
    no_watch: bool,
) -> Option<ssam_lambda::watch::Watcher> {
    if no_watch {
        return None;
    }
    match ssam_lambda::watch::watch_code(service.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("{e}; code changes need a restart");
            None
        }
    }
}

/// Gets every function ready before serving (images built when missing or stale, Python
/// dependencies installed); what cannot be made ready is said once, and retried at its
/// first invocation.
pub async fn prepare_functions(service: &LambdaService) {
    for e in service.prepare_functions().await {
        tracing::warn!("{e}");
    }
}

/// Serves Lambda's Invoke API on `listener` until `shutdown` resolves. `TCP_NODELAY` on
/// every connection: a small answer must not wait for Nagle's algorithm.
pub async fn serve_invoke_api(
    listener: tokio::net::TcpListener,
    service: std::sync::Arc<LambdaService>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, ssam_lambda::invoke_api::router(service))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A template bucket as the S3 service creates it (name, versioning, CORS rules).
pub fn s3_bucket_spec(b: &ssam_template::Bucket) -> ssam_s3::BucketSpec {
    let cors = b.cors.as_ref().map(|rules| {
        rules
            .iter()
            .map(|r| ssam_s3::CorsRule {
                allowed_origins: r.allowed_origins.clone(),
                allowed_methods: r.allowed_methods.clone(),
                allowed_headers: r.allowed_headers.clone(),
                expose_headers: r.exposed_headers.clone(),
                // The template checked MaxAge fits S3's 32-bit field.
                max_age_seconds: r.max_age.and_then(|m| i32::try_from(m).ok()),
            })
            .collect()
    });
    ssam_s3::BucketSpec {
        name: b.name.clone(),
        versioning: b.versioning,
        cors,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debug_args_split_as_a_shell_does() {
        assert_eq!(
            split_args(r#"-m debugpy --listen "0.0.0.0:5890" --x 'a b' c\ d"#).unwrap(),
            [
                "-m",
                "debugpy",
                "--listen",
                "0.0.0.0:5890",
                "--x",
                "a b",
                "c d"
            ]
        );
        assert!(split_args("'open").is_err());
        assert_eq!(split_args("  ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_debug_port_with_several_functions_needs_debug_function() {
        let mut specs = vec![
            ssam_lambda::FunctionSpec::new("A", "python3.12", "app.h", "/tmp"),
            ssam_lambda::FunctionSpec::new("B", "nodejs20.x", "app.h", "/tmp"),
        ];
        let mut args = DebugArgs {
            debug_port: Some(5890),
            ..Default::default()
        };
        let err = args.apply(&mut specs).unwrap_err().to_string();
        assert!(
            err.contains("hint: add --debug-function NAME, one of: A, B"),
            "{err}"
        );
        args.debug_function = Some("B".into());
        args.apply(&mut specs).unwrap();
        assert!(specs[0].debug.is_none());
        assert_eq!(specs[1].debug.as_ref().map(|d| d.port), Some(5890));
        args.debug_function = Some("C".into());
        assert!(args.apply(&mut specs).is_err());
    }
}
