//! `ssam local start-s3`: a local S3 on LocalStack's port, until Ctrl-C.

use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// Port to listen on (0 picks a free one; the chosen address is printed).
    #[arg(long, default_value_t = 4566, env = "SSAM_S3_PORT")]
    pub port: u16,

    /// Address to listen on (an IP address or a host name such as localhost).
    #[arg(long, default_value = "127.0.0.1", value_parser = super::common::parse_host)]
    pub host: IpAddr,

    #[command(flatten)]
    pub s3: super::common::S3Args,

    #[command(flatten)]
    pub dashboard: super::dashboard::DashboardArgs,

    /// Create the template's `AWS::S3::Bucket`s (with their versioning and CORS rules) at start.
    #[command(flatten)]
    pub template: super::common::TemplateArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = args.s3.config()?;
    config.host = args.host;
    config.port = args.port;
    config.region = args
        .template
        .region
        .clone()
        .unwrap_or_else(|| ssam_lambda::DEFAULT_REGION.to_owned());
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
    let runtime = super::common::runtime()?;
    runtime.block_on(async move {
        let data_dir = config.data_dir.clone();
        let ephemeral = config.ephemeral;
        let stop = super::common::shutdown_signal()?;
        let running = ssam_s3::S3Server::start(config)
            .await
            .context("cannot start the local S3")?;
        let dashboard = match args.dashboard.bind(args.host).await? {
            Some(bound) => {
                let d = ssam_dashboard::Dashboard::new(args.dashboard.dashboard_history).with_s3(
                    running.store(),
                    running.endpoint_url(),
                    ssam_notify::Bindings(Vec::new()),
                    running.subscribe(),
                );
                d.add_address("S3", &running.endpoint_url());
                let url = bound.url.clone();
                Some((url, super::dashboard::serve(d, bound)))
            }
            None => None,
        };
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
        if let Some((url, _)) = &dashboard {
            eprintln!("Dashboard {url}");
        }
        stop.await;
        eprintln!("stopping S3");
        running.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}
