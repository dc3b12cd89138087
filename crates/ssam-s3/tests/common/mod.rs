//! Shared setup for the S3 end-to-end tests: a real server in-process on port 0, and the
//! environment the venv's boto3 / aws cli need to reach it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ssam_s3::{RunningS3, S3Config, S3Server};

/// A server running on its own runtime, stopped on drop.
pub struct Server {
    pub rt: tokio::runtime::Runtime,
    pub running: Option<RunningS3>,
    pub endpoint: String,
    pub data_dir: PathBuf,
}

impl Server {
    pub fn start(config: S3Config) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let data_dir = config.data_dir.clone();
        let running = rt
            .block_on(S3Server::start(S3Config { port: 0, ..config }))
            .expect("start s3");
        let endpoint = running.endpoint_url();
        Self {
            rt,
            running: Some(running),
            endpoint,
            data_dir,
        }
    }

    /// A lenient server on a fresh data directory inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self::start(S3Config {
            data_dir: dir.join("data"),
            ..Default::default()
        })
    }

    pub fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            self.rt.block_on(r.shutdown());
        }
    }

    /// Environment for boto3 / the aws cli: any access key works in the default mode.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ENDPOINT", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".into()),
            ("AWS_SECRET_ACCESS_KEY", "whatever-secret".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("PYTHONUNBUFFERED", "1".into()),
            (
                "TMP",
                self.data_dir
                    .parent()
                    .unwrap_or(&self.data_dir)
                    .display()
                    .to_string(),
            ),
        ]
    }

    /// Runs a Python snippet (boto3 available; `s3` is a client bound to this server).
    pub fn python(&self, body: &str) -> String {
        self.python_with(body, &[])
    }

    pub fn python_with(&self, body: &str, extra: &[(&str, &str)]) -> String {
        let script = format!("{PRELUDE}\n{body}");
        let env = self.env();
        let mut envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        envs.extend_from_slice(extra);
        let out = ssam_testkit::run_python(&script, &envs);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs the venv's `aws` with `--endpoint-url` set.
    pub fn aws(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(ssam_testkit::aws_cli());
        cmd.arg("--endpoint-url").arg(&self.endpoint).args(args);
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd.output().expect("run aws")
    }

    /// Like [`Server::aws`] but fails the test on a non-zero exit.
    pub fn aws_ok(&self, args: &[&str]) -> String {
        let out = self.aws(args);
        assert!(
            out.status.success(),
            "aws {args:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

pub const PRELUDE: &str = r#"
import os, sys, hashlib, json, time
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], config=Config(retries={"max_attempts": 1}))
def err_code(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("expected an error")
"#;

/// curl, for what browsers and shell scripts send.
pub fn curl(args: &[&str]) -> Output {
    Command::new("curl").args(args).output().expect("run curl")
}
