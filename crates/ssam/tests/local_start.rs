//! `ssam local start` end to end: the real binary, real clients (aws cli, boto3, curl),
//! real functions. S3 uploads run the bound functions with AWS's S3 event; Ctrl-C leaves
//! no process behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Ssam {
    server: ssam_testkit::Server,
    s3_url: String,
    lambda_url: String,
    /// The API Gateway emulator, when the template has routes.
    api_url: Option<String>,
}

impl Ssam {
    /// Starts `ssam local start` on free ports with an ephemeral S3 and waits until it is ready.
    fn start(template: &Path) -> Ssam {
        let server = ssam_testkit::Server::local_start(template, &["--ephemeral"]);
        let s3_url = server.word_after("S3 ").expect("the S3 line");
        let lambda_url = server.word_after("Lambda ").expect("the Lambda line");
        let api_url = server.word_after("API ");
        Ssam {
            server,
            s3_url,
            lambda_url,
            api_url,
        }
    }

    fn python(&self, script: &str) -> String {
        let out = ssam_testkit::run_python(
            script,
            &[
                ("S3_URL", &self.s3_url),
                ("LAMBDA_URL", &self.lambda_url),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
                ("AWS_DEFAULT_REGION", "us-east-1"),
            ],
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Process ids of every descendant of ssam (the function sandboxes).
    fn descendants(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let mut frontier = vec![self.server.child.id()];
        while let Some(pid) = frontier.pop() {
            let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
                continue;
            };
            for t in tasks.flatten() {
                let children =
                    std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
                for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                    out.push(c);
                    frontier.push(c);
                }
            }
        }
        out
    }

    fn stop(self) -> Vec<String> {
        self.server.stop()
    }

    fn log_has(&self, needle: &str) -> bool {
        self.server.lines().iter().any(|l| l.contains(needle))
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Waits (up to 90 s: the first run on a machine installs the function's dependencies) for
/// the thumbnail at `key` in help-me-sam and returns its bytes.
fn wait_thumbnail(ssam: &Ssam, key: &str) -> Vec<u8> {
    let out = ssam.python(&format!(
        r#"
import os, time, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"])
deadline = time.time() + 90
while time.time() < deadline:
    try:
        print(s3.get_object(Bucket="help-me-sam", Key="{key}")["Body"].read().hex())
        break
    except s3.exceptions.NoSuchKey:
        time.sleep(0.05)
else:
    raise SystemExit("no thumbnail {key}")
"#
    ));
    let hex = out.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The thumbnail is a real frame of the video: a PNG 160 pixels wide (THUMBNAIL_WIDTH's
/// default) whose centre has the video's colour.
fn assert_frame_of(png: &[u8], rgb: [u8; 3]) {
    assert!(
        png.starts_with(b"\x89PNG"),
        "a PNG: {:?}",
        &png[..png.len().min(8)]
    );
    let (w, h, centre) = ssam_testkit::video::png_probe(png);
    assert_eq!((w, h), (160, 120), "scaled to 160 wide, aspect kept");
    for (got, want) in centre.iter().zip(rgb) {
        assert!(
            got.abs_diff(want) < 40,
            "centre {centre:?}, want about {rgb:?}"
        );
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2).is_none_or(|state| state != "Z"))
        .unwrap_or(false)
}

/// The seed's flow: a 7 MB video lands in help-me-sam with the aws cli; the S3 event runs
/// ThumbnailGenerator, which writes a frame of it back to the bucket as a PNG, with ffmpeg
/// from its requirements.txt (installed by ssam, no build step).
#[test]
fn seed_thumbnail_flow_runs_on_upload() {
    let ssam = Ssam::start(&examples().join("thumbnail/template-native.yaml"));
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("test.mp4");
    ssam_testkit::video::solid_color_mp4(&video, "red", 1, Some(7 * 1024 * 1024));
    let status = Command::new(ssam_testkit::aws_cli())
        .args(["s3", "cp"])
        .arg(&video)
        .args(["s3://help-me-sam/test.mp4", "--endpoint-url", &ssam.s3_url])
        .envs([
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    assert_frame_of(&wait_thumbnail(&ssam, "thumbnails/test.png"), [255, 0, 0]);
    // Above 8 MB the aws cli uploads in parts: the CompleteMultipartUpload event runs it too.
    let big = dir.path().join("big.mp4");
    ssam_testkit::video::solid_color_mp4(&big, "blue", 1, Some(9 * 1024 * 1024));
    let status = Command::new(ssam_testkit::aws_cli())
        .args(["s3", "cp"])
        .arg(&big)
        .args(["s3://help-me-sam/big.mp4", "--endpoint-url", &ssam.s3_url])
        .envs([
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    ssam.python(
        r#"
import os, time, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"])
assert s3.head_object(Bucket="help-me-sam", Key="big.mp4")["ETag"].endswith('-2"'), "uploaded in parts"
"#,
    );
    assert_frame_of(&wait_thumbnail(&ssam, "thumbnails/big.png"), [0, 0, 255]);
    let pids = ssam.descendants();
    assert!(!pids.is_empty(), "the function runs as a child process");
    let log = ssam.stop();
    assert!(
        log.iter().any(|l| l.contains("ThumbnailGenerator")),
        "{log:?}"
    );
    for pid in pids {
        assert!(!alive(pid), "process {pid} outlived ssam");
    }
}

/// The seed's whole story with real clients: `GET /upload/url` hands out a presigned URL,
/// `curl --upload-file` sends a 7 MB video straight to S3 (too big for a Lambda payload),
/// and the S3 event runs ThumbnailGenerator, whose thumbnail appears in the bucket.
#[test]
fn seed_flow_presigned_upload_runs_the_thumbnail_function() {
    let ssam = Ssam::start(&examples().join("thumbnail/template-native.yaml"));
    let api = ssam.api_url.clone().expect("the template has an HTTP API");
    let out = Command::new("curl")
        .args(["-s", "-f", &format!("{api}/upload/url?key=clip.mp4")])
        .output()
        .unwrap();
    assert!(out.status.success(), "GET /upload/url failed: {out:?}");
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let url = body["uploadUrl"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&ssam.s3_url),
        "the presigned URL points at the local S3: {url}"
    );
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("clip.mp4");
    ssam_testkit::video::solid_color_mp4(&video, "lime", 2, Some(7 * 1024 * 1024));
    let put = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--upload-file",
        ])
        .arg(&video)
        .arg(&url)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&put.stdout), "200");
    ssam.python(
        r#"
import os, time, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"])
assert s3.head_object(Bucket="help-me-sam", Key="clip.mp4")["ContentLength"] == 7 * 1024 * 1024
"#,
    );
    assert_frame_of(&wait_thumbnail(&ssam, "thumbnails/clip.png"), [0, 255, 0]);
    let log = ssam.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("Mounting VideoUploader at http://")
                && l.ends_with("/upload/url [GET, OPTIONS]")),
        "{log:?}"
    );
}

/// The S3 event a function receives has AWS's shape, field by field, with filters and event
/// wildcards applied as S3 applies them, for single-part, multipart and deletes.
#[test]
fn s3_events_have_aws_shape_and_respect_filters() {
    let ssam = Ssam::start(&fixture("s3-events/template.yaml"));
    let out = ssam.python(
        r#"
import json, os, time, boto3
from boto3.s3.transfer import TransferConfig
s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"])
out = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"] not in ("uploads-test", "versioned-test")][0]

def wait(key):
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            return json.loads(s3.get_object(Bucket=out, Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            time.sleep(0.05)
    raise SystemExit(f"no {key}")

put = s3.put_object(Bucket="uploads-test", Key="videos/my clip.mp4", Body=b"x" * 1234)
s3.put_object(Bucket="uploads-test", Key="images/a.mp4", Body=b"no")      # prefix filtered
s3.put_object(Bucket="uploads-test", Key="videos/a.mov", Body=b"no")      # suffix filtered
ev = wait("ObjectCreated-Put/videos/my clip.mp4.json")
r = ev["Records"][0]
assert len(ev["Records"]) == 1
assert r["eventVersion"] == "2.1", r
assert r["eventSource"] == "aws:s3"
assert r["awsRegion"] == "us-east-1"
assert r["eventName"] == "ObjectCreated:Put"
assert r["eventTime"].endswith("Z") and "T" in r["eventTime"]
assert r["userIdentity"]["principalId"]
assert r["requestParameters"]["sourceIPAddress"] == "127.0.0.1"
assert r["responseElements"]["x-amz-request-id"]
assert r["responseElements"]["x-amz-id-2"]
o = r["s3"]["object"]
assert r["s3"]["s3SchemaVersion"] == "1.0"
assert r["s3"]["configurationId"]
assert r["s3"]["bucket"]["name"] == "uploads-test"
assert r["s3"]["bucket"]["arn"] == "arn:aws:s3:::uploads-test"
assert o["key"] == "videos/my+clip.mp4", o
assert o["size"] == 1234
assert o["eTag"] == put["ETag"].strip('"')
assert len(o["sequencer"]) >= 16

big = b"y" * (6 * 1024 * 1024)
s3.upload_fileobj(__import__("io").BytesIO(big), "uploads-test", "videos/big.mp4",
                  Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
ev = wait("ObjectCreated-CompleteMultipartUpload/videos/big.mp4.json")
assert ev["Records"][0]["s3"]["object"]["eTag"].endswith("-2"), ev
assert ev["Records"][0]["s3"]["object"]["size"] == len(big)

s3.copy_object(Bucket="uploads-test", Key="videos/copy.mp4", CopySource={"Bucket": "uploads-test", "Key": "videos/big.mp4"})
wait("ObjectCreated-Copy/videos/copy.mp4.json")

v = s3.put_object(Bucket="versioned-test", Key="v.txt", Body=b"v1")
ev = wait("ObjectCreated-Put/v.txt.json")
assert v["VersionId"] and ev["Records"][0]["s3"]["object"]["versionId"] == v["VersionId"], (v, ev)
assert ev["Records"][0]["s3"]["bucket"]["name"] == "versioned-test"

s3.delete_object(Bucket="uploads-test", Key="images/a.mp4")
ev = wait("ObjectRemoved-Delete/images/a.mp4.json")
assert "size" not in ev["Records"][0]["s3"]["object"]

time.sleep(0.5)
keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=out).get("Contents", []))
print("\n".join(keys))
"#,
    );
    let keys: Vec<&str> = out.lines().collect();
    assert_eq!(
        keys,
        vec![
            "ObjectCreated-CompleteMultipartUpload/videos/big.mp4.json",
            "ObjectCreated-Copy/videos/copy.mp4.json",
            "ObjectCreated-Put/v.txt.json",
            "ObjectCreated-Put/videos/my clip.mp4.json",
            "ObjectRemoved-Delete/images/a.mp4.json",
        ],
        "filtered keys never reach the function"
    );
    ssam.stop();
}

/// A function writing into the bucket that triggers it loops; ssam stops the chain after 16
/// invocations and says so, as Lambda's recursive loop detection does
/// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html).
#[test]
fn recursive_loops_through_s3_are_stopped_after_16_invocations() {
    let ssam = Ssam::start(&fixture("recursive/template.yaml"));
    let out = ssam.python(
        r#"
import os, time, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"])
s3.put_object(Bucket="loop-test", Key="k", Body=b"start")
deadline = time.time() + 120
count = 0
while time.time() < deadline:
    count = s3.list_objects_v2(Bucket="loop-test").get("KeyCount", 0)
    if count >= 17:
        break
    time.sleep(0.1)
time.sleep(3)  # would the loop go on?
print(s3.list_objects_v2(Bucket="loop-test").get("KeyCount", 0))
"#,
    );
    // The upload plus one object per invocation: 16 invocations, then the loop is cut.
    assert_eq!(out.trim(), "17", "objects in the bucket");
    let log = ssam.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("recursive loop detected: Copier writes to s3://loop-test")),
        "{log:?}"
    );
}

/// A failing asynchronous invocation is retried as EventInvokeConfig says (1 retry here,
/// Lambda's default is 2), then dropped with its event printed: nothing is lost silently.
#[test]
fn failed_async_invocations_are_retried_then_logged_with_their_event() {
    let ssam = Ssam::start(&fixture("failing/template.yaml"));
    ssam.python(
        r#"
import os, boto3
boto3.client("s3", endpoint_url=os.environ["S3_URL"]).put_object(Bucket="failing-inbox", Key="bad file.txt", Body=b"x")
"#,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = ssam.log_has("asynchronous invocation dropped");
        if done || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = ssam.stop();
    let text = log.join("\n");
    assert!(
        text.contains("Broken: asynchronous invocation failed; retry 1 of 1"),
        "{text}"
    );
    assert!(
        text.contains("Broken: asynchronous invocation dropped after 2 attempt(s)"),
        "{text}"
    );
    assert!(
        text.contains("cannot handle bad+file.txt"),
        "the error is shown: {text}"
    );
    assert!(
        text.contains("\"key\":\"bad+file.txt\""),
        "the event is shown: {text}"
    );
    assert_eq!(text.matches("START RequestId").count(), 2, "{text}");
}

/// Editing a function's code while `ssam local start` runs: the next invocation, whichever
/// front door it comes through (here an S3 event), runs the new code without a restart.
#[test]
fn code_edits_are_picked_up_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::copy(
        fixture("s3-events/template.yaml"),
        dir.path().join("template.yaml"),
    )
    .unwrap();
    let code = |tag: &str| {
        format!(
            "import os, boto3\n\ndef handler(event, context):\n    boto3.client('s3').put_object(Bucket=os.environ['OUT_BUCKET'], Key='{tag}', Body=b'x')\n"
        )
    };
    std::fs::write(app.join("app.py"), code("first")).unwrap();
    let ssam = Ssam::start(&dir.path().join("template.yaml"));
    let wait_for = |key: &str| {
        ssam.python(&format!(
            r#"
import os, time, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"])
out = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"] not in ("uploads-test", "versioned-test")][0]
s3.put_object(Bucket="uploads-test", Key="videos/{key}.mp4", Body=b"v")
deadline = time.time() + 90
while time.time() < deadline:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=out).get("Contents", [])]
    if "{key}" in keys:
        break
    time.sleep(0.05)
else:
    raise SystemExit("no {key} in " + str(keys))
"#
        ))
    };
    wait_for("first");
    // A different length, so Python cannot mistake the file for its cached bytecode.
    std::fs::write(app.join("app.py"), code("second-version")).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    wait_for("second-version");
    ssam.stop();
}
