//! `ssam local invoke`: result on stdout, logs on stderr, events from a file or stdin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lambda")
}

fn ssam() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ssam"));
    c.arg("local")
        .arg("invoke")
        .arg("-t")
        .arg(fixture().join("template.yaml"));
    c
}

#[test]
fn result_on_stdout_logs_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"from": "file"}"#).unwrap();
    let out = ssam()
        .arg("HelloFunction")
        .arg("-e")
        .arg(&event)
        .arg("--env-vars")
        .arg(fixture().join("env.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["event"]["from"], "file");
    assert_eq!(v["greeting"], "overridden");
    assert_eq!(v["extra"], "added");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("START RequestId: "), "{err}");
    assert!(err.contains("handling "), "{err}");
    assert!(err.contains("Memory Size: 256 MB"), "{err}");
    assert!(err.contains("Init Duration: "), "{err}");
}

#[test]
fn event_from_stdin() {
    let mut child = ssam()
        .args(["NodeFunction", "-e", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"from": "stdin"}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["event"]["from"], "stdin");
    assert_eq!(v["from"], "node");
}

#[test]
fn function_errors_print_the_error_document() {
    let out = ssam().arg("FailFunction").output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errorType"], "KeyError");
}

#[test]
fn which_function_must_be_said_when_there_are_several() {
    let out = ssam().output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("defines 8 functions"), "{err}");
    let out = ssam().arg("Nope").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no function Nope"), "{err}");
    assert!(err.contains("HelloFunction"), "{err}");
}

#[test]
fn oversize_event_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("big.json");
    std::fs::write(&event, format!("\"{}\"", "a".repeat(6_291_456))).unwrap();
    let out = ssam()
        .arg("HelloFunction")
        .arg("-e")
        .arg(&event)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Request must be smaller than 6291456 bytes"),
        "{err}"
    );
    assert!(err.contains("presigned URL"), "{err}");
}

#[test]
fn template_layers_are_importable() {
    let mut child = ssam()
        .args(["LayeredFunction", "-e", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"name": "ssam"}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["greeting"], "layer says hi to ssam", "{v}");
}

#[test]
fn sigterm_stops_the_function_too() {
    // Outside /tmp: the function has its own /tmp, as on Lambda.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let pidfile = dir.path().join("pid");
    let mut child = ssam()
        .args(["ParallelFunction", "-e", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let event = serde_json::json!({"seconds": 2.5, "pidfile": pidfile});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(event.to_string().as_bytes())
        .unwrap();
    // Wait for the handler to run, then stop ssam the way a terminal or supervisor would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !pidfile.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    let function_pid = std::fs::read_to_string(&pidfile).expect("the handler started");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The function's process (in its own process group) did not outlive ssam.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let status = loop {
        let status = std::fs::read_to_string(format!("/proc/{}/status", function_pid.trim()))
            .unwrap_or_default();
        if status.is_empty() || status.contains("zombie") || std::time::Instant::now() > deadline {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(
        status.is_empty() || status.contains("zombie"),
        "still running: {status}"
    );
}

/// A `CodeUri` and a layer `ContentUri` that are local `.zip` files (made by Python's
/// zipfile, with a `0755` script inside): unpacked once into ssam's cache
/// (`$XDG_CACHE_HOME/ssam/zip-code/<content hash>`), the function runs from there with its
/// layer, in `local invoke` and `local start-api`; the executable bit is kept; a corrupt
/// zip is a diagnostic naming the file; `ssam build` leaves the zip unbuilt (as SAM does) and
/// the built template still runs.
#[test]
fn a_zip_code_uri_runs_from_its_unpacked_copy() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let script = format!(
        r##"
import zipfile
def add(z, name, text, mode):
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, text)
with zipfile.ZipFile("{root}/fn.zip", "w") as z:
    add(z, "app.py", "import os, helper\ndef handler(event, context):\n    here = os.path.dirname(os.path.abspath(__file__))\n    return {{'helper': helper.NAME, 'here': here, 'exec': os.access(os.path.join(here, 'bin/run.sh'), os.X_OK)}}\n", 0o644)
    add(z, "bin/run.sh", "#!/bin/sh\necho hi\n", 0o755)
with zipfile.ZipFile("{root}/layer.zip", "w") as z:
    add(z, "python/helper.py", "NAME = 'from the layer zip'\n", 0o644)
"##,
        root = root.display()
    );
    ssam_testkit::run_python(&script, &[]);
    std::fs::write(root.join("broken.zip"), b"PK\x03\x04 this is not a zip").unwrap();
    std::fs::write(
        root.join("template.yaml"),
        r#"Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn.zip
      Handler: app.handler
      Runtime: python3.11
      Layers: [!Ref Layer]
      Events:
        Get: {Type: HttpApi, Properties: {Path: /zip, Method: GET}}
  Layer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layer.zip}
  Broken:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: broken.zip, Handler: app.handler, Runtime: python3.11}
"#,
    )
    .unwrap();
    let cache = root.join("cache");
    let invoke = |template: &std::path::Path, function: &str| {
        Command::new(env!("CARGO_BIN_EXE_ssam"))
            .args(["local", "invoke", "--no-event", "-t"])
            .arg(template)
            .arg(function)
            .env("XDG_CACHE_HOME", &cache)
            .env("PATH", ssam_testkit::path_with_venv())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = invoke(&root.join("template.yaml"), "Fn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["helper"], "from the layer zip");
    assert_eq!(v["exec"], true, "the 0755 entry stays executable");
    let zip_code = cache.join("ssam/zip-code");
    assert!(
        v["here"]
            .as_str()
            .unwrap()
            .starts_with(zip_code.to_str().unwrap()),
        "{v}"
    );
    let unpacked = || std::fs::read_dir(&zip_code).unwrap().count();
    assert_eq!(unpacked(), 2, "the function's zip and the layer's");

    // The corrupt zip: a diagnostic naming the file; the other function is unaffected.
    let out = invoke(&root.join("template.yaml"), "Broken");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.zip cannot be unpacked"), "{err}");

    // start-api serves it from the same unpacked copy.
    let template = root.join("template.yaml");
    let server = ssam_testkit::Server::start_env(
        &[
            "local".as_ref(),
            "start-api".as_ref(),
            "--port".as_ref(),
            "0".as_ref(),
            "-t".as_ref(),
            template.as_os_str(),
        ],
        " * Running on ",
        std::time::Duration::from_secs(30),
        &[("XDG_CACHE_HOME", cache.to_str().unwrap())],
    );
    let base = server.word_after(" * Running on ").unwrap();
    let body = Command::new("curl")
        .args(["-s", "--max-time", "60"])
        .arg(format!("{}/zip", base.trim_end_matches('/')))
        .output()
        .unwrap()
        .stdout;
    let v: serde_json::Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| panic!("{}\n{:?}", String::from_utf8_lossy(&body), server.lines()));
    assert_eq!(v["helper"], "from the layer zip");
    drop(server);
    assert_eq!(unpacked(), 2, "unpacked once, not per command");

    // `ssam build`: the zip is not built; the built template points at it and runs.
    let out = Command::new(env!("CARGO_BIN_EXE_ssam"))
        .arg("build")
        .current_dir(root)
        .env("XDG_CACHE_HOME", &cache)
        .env("PATH", ssam_testkit::path_with_venv())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("zip file fn.zip, used as it is"), "{err}");
    let built = std::fs::read_to_string(root.join(".aws-sam/build/template.yaml")).unwrap();
    assert!(built.contains("../../fn.zip"), "{built}");
    let out = invoke(&root.join(".aws-sam/build/template.yaml"), "Fn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
