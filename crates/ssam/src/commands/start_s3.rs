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
        config.buckets = loaded
            .app
            .buckets
            .iter()
            .map(super::common::s3_bucket_spec)
            .collect();
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
        let stop = super::common::shutdown_signal()?;
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
