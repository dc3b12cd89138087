//! Command options from samconfig.toml, end to end: `ssam local start-s3` configured by the
//! file alone (port, ephemeral store, strict auth and its credentials), checked with boto3;
//! a flag on the command line beats the file; a bad value in the file is reported with
//! where it came from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ssam_testkit::{free_port, run_python, ssam_bin};

const TEMPLATE: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: cfg-bucket
"#;

/// The project directory: template.yaml and samconfig.toml side by side.
fn project(samconfig: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("template.yaml"), TEMPLATE).unwrap();
    std::fs::write(dir.path().join("samconfig.toml"), samconfig).unwrap();
    dir
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `ssam local start-s3 -t DIR/template.yaml EXTRA...`, run from DIR/elsewhere, once
/// `port` accepts connections.
fn start_s3(dir: &Path, extra: &[&str], port: u16) -> Running {
    let cwd = dir.join("elsewhere");
    std::fs::create_dir_all(&cwd).unwrap();
    let mut child = Command::new(ssam_bin())
        .args(["local", "start-s3", "-t"])
        .arg(dir.join("template.yaml"))
        .args(extra)
        .current_dir(&cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ssam");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("ssam exited early: {status}");
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    Running(child)
}

const CLIENTS: &str = r#"
import os, boto3, botocore
def client(secret):
    return boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
                        aws_access_key_id="AKIDCONFIG", aws_secret_access_key=secret)
good = client("config-secret")
good.put_object(Bucket="cfg-bucket", Key="k", Body=b"from config")
assert good.get_object(Bucket="cfg-bucket", Key="k")["Body"].read() == b"from config"
try:
    client("wrong-secret").get_object(Bucket="cfg-bucket", Key="k")
    raise AssertionError("a wrong secret was accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
print("ok")
"#;

#[test]
fn start_s3_takes_port_store_and_strict_auth_from_samconfig() {
    let port = free_port();
    let dir = project(&format!(
        r#"version = 0.1
[default.global.parameters]
parameter_overrides = "Unused=1"
[default.local_start_s3.parameters]
port = {port}
ephemeral = true
strict_auth = true
credential = ["AKIDCONFIG:config-secret"]
"#
    ));
    let _s3 = start_s3(dir.path(), &[], port);
    let endpoint = format!("http://127.0.0.1:{port}");
    let out = run_python(CLIENTS, &[("ENDPOINT", &endpoint)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
    assert!(
        !dir.path().join("elsewhere/.ssam").exists(),
        "ephemeral = true: no data dir"
    );
}

#[test]
fn the_command_line_beats_samconfig() {
    let (config_port, cli_port) = (free_port(), free_port());
    let dir = project(&format!(
        "[default.local_start_s3.parameters]\nport = {config_port}\nephemeral = true\n"
    ));
    let _s3 = start_s3(dir.path(), &["--port", &cli_port.to_string()], cli_port);
    assert!(
        TcpStream::connect(("127.0.0.1", config_port)).is_err(),
        "--port on the command line wins over samconfig's port"
    );
}

#[test]
fn a_bad_value_in_samconfig_says_where_it_came_from() {
    let dir =
        project("[default.local_start_s3.parameters]\nport = \"not-a-port\"\nnot_an_option = 1\n");
    let out = Command::new(ssam_bin())
        .args(["local", "start-s3", "-t"])
        .arg(dir.path().join("template.yaml"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not-a-port"), "{err}");
    assert!(
        err.contains("samconfig.toml added: --port=not-a-port"),
        "{err}"
    );
    assert!(
        err.contains("not_an_option is not an option of `ssam local start-s3`; ignored"),
        "{err}"
    );
}
