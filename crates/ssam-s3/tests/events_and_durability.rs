//! End-to-end: object events for notifications, and durability across SIGKILL of the
//! real `ssam` binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;

#[test]
fn put_copy_complete_multipart_and_delete_emit_object_events() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let mut rx = s.running.as_ref().unwrap().subscribe();
    s.python(
        r#"
s3.create_bucket(Bucket="events")
s3.put_object(Bucket="events", Key="put.txt", Body=b"hello")
s3.copy_object(Bucket="events", Key="copy.txt", CopySource="events/put.txt")
up = s3.create_multipart_upload(Bucket="events", Key="mpu.bin")["UploadId"]
e = s3.upload_part(Bucket="events", Key="mpu.bin", UploadId=up, PartNumber=1, Body=b"z" * 10)["ETag"]
s3.complete_multipart_upload(Bucket="events", Key="mpu.bin", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
s3.delete_object(Bucket="events", Key="put.txt")
s3.put_bucket_versioning(Bucket="events", VersioningConfiguration={"Status": "Enabled"})
s3.delete_object(Bucket="events", Key="copy.txt")
"#,
    );
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    let names: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.event_name.as_str(), e.key.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("ObjectCreated:Put", "put.txt"),
            ("ObjectCreated:Copy", "copy.txt"),
            ("ObjectCreated:CompleteMultipartUpload", "mpu.bin"),
            ("ObjectRemoved:Delete", "put.txt"),
            ("ObjectRemoved:DeleteMarkerCreated", "copy.txt"),
        ]
    );
    let put = &events[0];
    assert_eq!(
        (put.bucket.as_str(), put.size, put.etag.as_str()),
        ("events", 5, "5d41402abc4b2a76b9719d911017c592")
    );
    assert_eq!(put.source_ip, Some("127.0.0.1".parse().unwrap()));
    assert!(events[2].etag.ends_with("-1") && events[2].size == 10);
    assert!(
        events[4].version_id.is_some(),
        "a delete marker in a versioned bucket has a version id"
    );
    // Sequencers increase, so a consumer can order events for one key.
    assert!(events.windows(2).all(|w| w[0].sequencer < w[1].sequencer));
}

/// Regression: an object event named a request id of its own, not the `x-amz-request-id`
/// the client got for the request that caused it.
#[test]
fn object_events_carry_the_request_id_the_client_got() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let mut rx = s.running.as_ref().unwrap().subscribe();
    let out = s.python(
        r#"
s3.create_bucket(Bucket="ids")
for r in [
    s3.put_object(Bucket="ids", Key="k", Body=b"x"),
    s3.delete_object(Bucket="ids", Key="k"),
]:
    print(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"])
"#,
    );
    let answered: Vec<&str> = out.lines().collect();
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    let carried: Vec<&str> = events.iter().map(|e| e.request_id.as_str()).collect();
    assert_eq!(carried, answered);
    assert_ne!(answered[0], answered[1], "each request has its own id");
    assert!(answered[0].len() == 16 && answered[0].bytes().all(|b| b.is_ascii_hexdigit()));
}

/// A child `ssam`, killed when dropped (so a failing test leaves no server behind).
struct Ssam(Child);

impl Drop for Ssam {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `ssam local start-s3` as a child; returns it and its endpoint (read from its first line).
fn spawn_ssam(data_dir: &std::path::Path, port: u16) -> (Ssam, String) {
    spawn_ssam_with(data_dir, port, &[])
}

fn spawn_ssam_with(data_dir: &std::path::Path, port: u16, extra: &[&str]) -> (Ssam, String) {
    let mut child = Command::new(ssam_testkit::ssam_bin())
        .args([
            "local",
            "start-s3",
            "--port",
            &port.to_string(),
            "--data-dir",
        ])
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn ssam");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoint = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("endpoint in first line")
        .to_owned();
    (Ssam(child), endpoint)
}

#[test]
fn acknowledged_writes_survive_sigkill_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = ssam_testkit::free_port();
    let (mut child, endpoint) = spawn_ssam(&data, port);
    let acked = dir.path().join("acked.jsonl");
    // The writer records a key only after S3 acknowledged it; it stops at the first failure.
    let writer = format!(
        r#"
import os, hashlib, json, base64, boto3, zlib
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url="{endpoint}", config=Config(retries={{"max_attempts": 0}}, connect_timeout=2, read_timeout=5))
s3.create_bucket(Bucket="durable")
log = open("{acked}", "a")
i = 0
while True:
    body = os.urandom(1024 + (i * 7919) % 200000)
    try:
        s3.put_object(Bucket="durable", Key=f"obj/{{i:06}}", Body=body, ChecksumAlgorithm="CRC32")
    except Exception as e:
        break
    log.write(json.dumps({{"key": f"obj/{{i:06}}", "md5": hashlib.md5(body).hexdigest()}}) + "\n")
    log.flush()
    i += 1
"#,
        acked = acked.display()
    );
    let mut w = Command::new(ssam_testkit::python())
        .arg("-c")
        .arg(&writer)
        .env("AWS_ACCESS_KEY_ID", "k")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .spawn()
        .unwrap();
    // Let it write at least 50 objects (however busy the machine), then kill -9 mid-stream.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(50));
        let acked_so_far = std::fs::read_to_string(&acked)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if acked_so_far >= 50 {
            break;
        }
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.0.id()).unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.0.wait().unwrap();
    w.wait().unwrap();
    let lines = std::fs::read_to_string(&acked).unwrap();
    let count = lines.lines().count();
    assert!(count > 20, "the writer acknowledged only {count} objects");

    let (mut child, endpoint) = spawn_ssam(&data, port);
    let check = format!(
        r#"
import json, hashlib, boto3
s3 = boto3.client("s3", endpoint_url="{endpoint}")
n = 0
for line in open("{acked}"):
    rec = json.loads(line)
    got = s3.get_object(Bucket="durable", Key=rec["key"])["Body"].read()
    assert hashlib.md5(got).hexdigest() == rec["md5"], rec["key"]
    n += 1
print(n)
"#,
        acked = acked.display()
    );
    let out = ssam_testkit::run_python(
        &check,
        &[
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        count.to_string()
    );
    child.0.kill().unwrap();
    child.0.wait().unwrap();
}

#[test]
fn template_buckets_exist_when_started_with_t() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Uploads:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: help-me-sam\n      VersioningConfiguration:\n        Status: Enabled\n  Generated:\n    Type: AWS::S3::Bucket\n",
    )
    .unwrap();
    let (mut child, endpoint) = spawn_ssam_with(
        &dir.path().join("data"),
        0,
        &["-t", template.to_str().unwrap()],
    );
    let out = ssam_testkit::run_python(
        &format!(
            r#"
import boto3
s3 = boto3.client("s3", endpoint_url="{endpoint}")
names = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
assert len(names) == 2 and "help-me-sam" in names, names
assert s3.get_bucket_versioning(Bucket="help-me-sam")["Status"] == "Enabled"
print("ok")
"#
        ),
        &[
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
    child.0.kill().unwrap();
    child.0.wait().unwrap();
}

#[test]
fn ctrl_c_stops_start_s3_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, endpoint) = spawn_ssam_with(&dir.path().join("data"), 0, &[]);
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.0.id()).unwrap()),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "start-s3 did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn browser_post_signed_with_the_shells_own_keys_works_in_the_default_mode() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(ssam_testkit::ssam_bin())
        .args(["local", "start-s3", "--port", "0", "--ephemeral"])
        .env("AWS_ACCESS_KEY_ID", "AKIAMYOWNKEY")
        .env("AWS_SECRET_ACCESS_KEY", "my-own-secret")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn ssam");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let child = Ssam(child);
    let endpoint = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let file = dir.path().join("photo.txt");
    std::fs::write(&file, "from the browser").unwrap();
    let script = format!(
        r#"
import boto3, subprocess
s3 = boto3.client("s3", endpoint_url="{endpoint}")
s3.create_bucket(Bucket="posts")
p = s3.generate_presigned_post("posts", "up/photo.txt", ExpiresIn=300)
args = ["curl", "-s", "-w", "%{{http_code}}"]
for k, v in p["fields"].items():
    args += ["-F", f"{{k}}={{v}}"]
args += ["-F", "file=@{file}", p["url"]]
code = subprocess.run(args, capture_output=True, text=True).stdout
assert code.endswith("204"), code
assert s3.get_object(Bucket="posts", Key="up/photo.txt")["Body"].read() == b"from the browser"
print("ok")
"#,
        file = file.display()
    );
    let out = ssam_testkit::run_python(
        &script,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAMYOWNKEY"),
            ("AWS_SECRET_ACCESS_KEY", "my-own-secret"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
    drop(child);
}
