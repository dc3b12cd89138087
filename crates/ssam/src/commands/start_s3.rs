//! `ssam local start-s3`: a local S3 on LocalStack's port, until Ctrl-C.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// Port to listen on (0 picks a free one; the chosen address is printed).
    #[arg(long, default_value_t = 4566, env = "SSAM_S3_PORT")]
    pub port: u16,

    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Where buckets and objects are kept between runs.
    #[arg(long, default_value = ".ssam/s3", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// Keep everything in a temporary directory, deleted on exit.
    #[arg(long)]
    pub ephemeral: bool,

    /// Verify every request signature against the configured credentials.
    #[arg(long)]
    pub strict_auth: bool,

    /// An `ACCESS_KEY:SECRET` pair accepted under --strict-auth (repeatable; default test:test).
    #[arg(long = "credential", value_name = "KEY:SECRET")]
    pub credentials: Vec<String>,

    /// Create the template's `AWS::S3::Bucket`s (with their versioning and CORS rules) at start.
    #[command(flatten)]
    pub template: super::common::TemplateArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = ssam_s3::S3Config {
        host: args.host,
        port: args.port,
        data_dir: args.data_dir,
        ephemeral: args.ephemeral,
        strict_auth: args.strict_auth,
        region: args
            .template
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_owned()),
        ..Default::default()
    };
    // Only with an explicit -t: a plain start-s3 is an S3, not an application.
    if args.template.template.is_some() {
        let loaded = super::common::load_template(&args.template, "local_start_s3")?;
        config.buckets = loaded.app.buckets.iter().map(bucket_spec).collect();
    }
    if !args.credentials.is_empty() {
        config.credentials = args
            .credentials
            .iter()
            .map(|c| {
                c.split_once(':')
                    .map(|(k, s)| (k.to_owned(), s.to_owned()))
                    .with_context(|| format!("--credential {c:?} is not ACCESS_KEY:SECRET"))
            })
            .collect::<anyhow::Result<_>>()?;
    }
    // In the default mode signatures are not checked, except on browser POST uploads whose
    // policy s3s verifies: knowing the shell's own keys lets a POST policy signed with them
    // (by a script or a function run from this shell) work as it does against S3.
    if !args.strict_auth {
        if let (Ok(key), Ok(secret)) = (
            std::env::var("AWS_ACCESS_KEY_ID"),
            std::env::var("AWS_SECRET_ACCESS_KEY"),
        ) {
            if !key.is_empty() && !config.credentials.iter().any(|(k, _)| *k == key) {
                config.credentials.push((key, secret));
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let data_dir = config.data_dir.clone();
        let ephemeral = config.ephemeral;
        let stop = shutdown_signal()?;
        let running = ssam_s3::S3Server::start(config)
            .await
            .context("cannot start the local S3")?;
        let store = if ephemeral {
            "ephemeral store".to_owned()
        } else {
            format!("data in {}", data_dir.display())
        };
        // A closed stdout (a supervisor that stopped reading) must not stop the server.
        let banner = format!(
            "S3 listening on {url} ({store})\n  aws --endpoint-url {url} s3 ls\n",
            url = running.endpoint_url()
        );
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
        drop(out);
        stop.await;
        eprintln!("stopping S3");
        running.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Ctrl-C, or SIGTERM (docker stop, process managers). The handlers are installed when
/// this is called, not when it is awaited: a signal right after the banner must not find
/// the default action (death by signal) still in place.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
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
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// A template bucket as the S3 service creates it.
fn bucket_spec(b: &ssam_template::Bucket) -> ssam_s3::BucketSpec {
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
