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
