//! Flags shared by every command that reads a template (`-t`, `--parameter-overrides`).

use std::path::PathBuf;

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

/// SAM CLI's Docker flags, accepted (and ignored) so existing scripts keep working.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SamDockerFlags {
    /// Accepted for SAM CLI compatibility; ssam runs functions as native processes.
    #[arg(long = "docker-network", hide = true, value_name = "NETWORK")]
    pub docker_network: Option<String>,

    /// Accepted for SAM CLI compatibility (no images are pulled).
    #[arg(long = "skip-pull-image", hide = true)]
    pub skip_pull_image: bool,

    /// Accepted for SAM CLI compatibility (no images are built for Zip functions).
    #[arg(long = "force-image-build", hide = true)]
    pub force_image_build: bool,
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
    pub fn samconfig_path(&self) -> Option<PathBuf> {
        if let Some(c) = &self.config_file {
            return Some(c.clone());
        }
        let dir = match self.template_path() {
            Ok(t) => t.parent().map(PathBuf::from).unwrap_or_default(),
            Err(_) => PathBuf::new(),
        };
        Some(dir.join("samconfig.toml"))
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
    let config = args
        .samconfig_path()
        .unwrap_or_else(|| PathBuf::from("samconfig.toml"));
    let mut overrides =
        ssam_template::params::samconfig_overrides(&config, &args.config_env, sam_command)
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

/// A template bucket as the S3 service creates it (name, versioning, CORS rules).
pub fn s3_bucket_spec(b: &ssam_template::Bucket) -> ssam_s3::BucketSpec {
    let strings = |rule: &serde_json::Value, key: &str| -> Vec<String> {
        rule.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let cors = b
        .cors_rules
        .as_ref()
        .and_then(|r| r.as_array())
        .map(|rules| {
            rules
                .iter()
                .map(|r| ssam_s3::CorsRule {
                    allowed_origins: strings(r, "AllowedOrigins"),
                    allowed_methods: strings(r, "AllowedMethods"),
                    allowed_headers: strings(r, "AllowedHeaders"),
                    expose_headers: strings(r, "ExposedHeaders"),
                    max_age_seconds: r
                        .get("MaxAge")
                        .and_then(|m| m.as_i64())
                        .and_then(|m| i32::try_from(m).ok()),
                })
                .collect()
        });
    ssam_s3::BucketSpec {
        name: b.name.clone(),
        versioning: b.versioning,
        cors,
    }
}
