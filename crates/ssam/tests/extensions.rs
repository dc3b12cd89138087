//! Lambda extensions and the Telemetry API, end to end: a layer ships `extensions/recorder`
//! (fixtures/extensions), a Python extension that registers, subscribes to telemetry and
//! records every event it gets into `$RECORD_DIR/<function>.jsonl`. Driven through
//! `ssam local invoke` and `start-lambda` + boto3.
//!
//! AWS: "Using the Lambda Extensions API to create extensions" and "Lambda Telemetry API".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extensions")
}

/// `--env-vars` giving every function `RECORD_DIR`.
fn env_vars(dir: &Path) -> PathBuf {
    let file = dir.join("env.json");
    let doc = serde_json::json!({ "Parameters": { "RECORD_DIR": dir } });
    std::fs::write(&file, doc.to_string()).unwrap();
    file
}

/// What the recorder wrote for `function`: `{"kind", "at", "data"}` per line.
fn records(dir: &Path, function: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(format!("{function}.jsonl")))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Every telemetry event the recorder received, in order.
fn telemetry(records: &[Value]) -> Vec<Value> {
    records
        .iter()
        .filter(|r| r["kind"] == "telemetry")
        .flat_map(|r| r["data"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Waits (10 s at most) until the records satisfy `done`; returns them either way.
fn wait_records(dir: &Path, function: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = records(dir, function);
        if done(&r) || Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn events<'a>(records: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["kind"] == "event" && r["data"]["eventType"] == event_type)
        .map(|r| &r["data"])
        .collect()
}

fn platform<'a>(telemetry: &'a [Value], event_type: &str, request_id: &str) -> Option<&'a Value> {
    telemetry
        .iter()
        .find(|e| e["type"] == event_type && e["record"]["requestId"] == request_id)
}

fn local_invoke(function: &str, dir: &Path) -> (Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ssam"))
        .args(["local", "invoke", "-t"])
        .arg(fixture().join("template.yaml"))
        .arg(function)
        .args(["-e", "-", "--env-vars"])
        .arg(env_vars(dir))
        .env("PATH", ssam_testkit::path_with_venv())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let payload = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    (payload, stderr)
}

/// Register answer, INVOKE with the request id, telemetry platform events and the
/// function's and extension's own lines, SHUTDOWN when `local invoke` ends.
#[test]
fn local_invoke_runs_the_layers_extension_with_invoke_shutdown_and_telemetry() {
    let dir = tempfile::tempdir().unwrap();
    let (payload, stderr) = local_invoke("RecordedFunction", dir.path());
    let rid = payload["request_id"].as_str().unwrap().to_string();
    assert!(
        stderr.contains("EXTENSION\tName: recorder\tState: Ready\tEvents: [INVOKE, SHUTDOWN]"),
        "{stderr}"
    );
    assert!(stderr.contains("[recorder] registered as "), "{stderr}");
    let r = wait_records(dir.path(), "RecordedFunction", |r| {
        !events(r, "SHUTDOWN").is_empty()
    });
    let register = r.iter().find(|r| r["kind"] == "register").unwrap();
    assert_eq!(register["data"]["status"], 200);
    assert_eq!(register["data"]["body"]["functionName"], "RecordedFunction");
    assert_eq!(register["data"]["body"]["functionVersion"], "$LATEST");
    assert_eq!(register["data"]["body"]["handler"], "app.handler");
    assert_eq!(register["data"]["body"]["accountId"], "123456789012");
    let subscribe = r.iter().find(|r| r["kind"] == "subscribe").unwrap();
    assert_eq!(subscribe["data"]["status"], 200);

    let invokes = events(&r, "INVOKE");
    assert_eq!(invokes.len(), 1, "{r:?}");
    assert_eq!(invokes[0]["requestId"], rid.as_str());
    assert!(invokes[0]["deadlineMs"].as_u64().unwrap() > 1_700_000_000_000);
    assert_eq!(
        invokes[0]["invokedFunctionArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:RecordedFunction"
    );
    assert_eq!(invokes[0]["tracing"]["type"], "X-Amzn-Trace-Id");
    let shutdown = events(&r, "SHUTDOWN");
    assert_eq!(shutdown.len(), 1, "{r:?}");
    assert_eq!(shutdown[0]["shutdownReason"], "spindown");

    let t = telemetry(&r);
    let types: Vec<&str> = t.iter().filter_map(|e| e["type"].as_str()).collect();
    for init in [
        "platform.initStart",
        "platform.initRuntimeDone",
        "platform.initReport",
        "platform.telemetrySubscription",
    ] {
        assert!(types.contains(&init), "{init} missing: {types:?}");
    }
    assert!(platform(&t, "platform.start", &rid).is_some(), "{types:?}");
    let done = platform(&t, "platform.runtimeDone", &rid).expect("runtimeDone");
    assert_eq!(done["record"]["status"], "success");
    let report = platform(&t, "platform.report", &rid).expect("report");
    let m = &report["record"]["metrics"];
    assert_eq!(m["memorySizeMB"], 128);
    assert!(m["durationMs"].as_f64().unwrap() > 0.0, "{m}");
    assert!(m["billedDurationMs"].as_u64().unwrap() >= 1, "{m}");
    assert!(m["maxMemoryUsedMB"].as_u64().unwrap() > 0, "{m}");
    assert!(m["initDurationMs"].as_f64().unwrap() > 0.0, "{m}");
    let line = format!("handling {rid}");
    assert!(
        t.iter()
            .any(|e| e["type"] == "function" && e["record"] == line.as_str()),
        "function line missing: {t:?}"
    );
    assert!(
        t.iter().any(|e| e["type"] == "extension"
            && e["record"]
                .as_str()
                .is_some_and(|l| l.starts_with("[recorder] registered"))),
        "extension line missing: {t:?}"
    );
    // Events are time-stamped as the schema shows: 2022-10-12T00:00:15.064Z.
    let time = t[0]["time"].as_str().unwrap();
    assert_eq!(time.len(), 24, "{time}");
    assert!(time.ends_with('Z'));
}

/// The older Logs API (`PUT /2020-08-15/logs`, schema 2021-03-18), as extensions written
/// before the Telemetry API use it (AWS's "Lambda Logs API"): the subscription is announced
/// by `platform.logsSubscription`; an invocation gives `platform.start`, the function's
/// lines, `platform.runtimeDone` (status only), `platform.end` and `platform.report`, in
/// the Logs API's shapes and without the Telemetry API's init events; the same extension
/// cannot subscribe through the Telemetry API as well.
#[test]
fn logs_api_subscribers_get_the_logs_api_events() {
    let dir = tempfile::tempdir().unwrap();
    let (payload, stderr) = local_invoke("LogsApiFunction", dir.path());
    let rid = payload["request_id"].as_str().unwrap().to_string();
    let r = wait_records(dir.path(), "LogsApiFunction", |r| {
        !events(r, "SHUTDOWN").is_empty()
            && platform(&telemetry(r), "platform.report", &rid).is_some()
    });
    let subscribe = r.iter().find(|r| r["kind"] == "subscribe").unwrap();
    assert_eq!(subscribe["data"]["status"], 200, "{stderr}");
    let second = r.iter().find(|r| r["kind"] == "second_subscribe").unwrap();
    assert_eq!(second["data"]["status"], 400, "{second}");
    assert!(
        second["data"]["body"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Logs API"),
        "{second}"
    );
    let t = telemetry(&r);
    let types: Vec<&str> = t.iter().filter_map(|e| e["type"].as_str()).collect();
    let subscribed = t
        .iter()
        .find(|e| e["type"] == "platform.logsSubscription")
        .unwrap_or_else(|| panic!("no platform.logsSubscription: {types:?}"));
    assert_eq!(
        subscribed["record"],
        serde_json::json!({"name": "recorder", "state": "Subscribed", "types": ["platform", "function"]})
    );
    for telemetry_only in [
        "platform.initStart",
        "platform.initRuntimeDone",
        "platform.initReport",
        "platform.telemetrySubscription",
        "extension",
    ] {
        assert!(
            !types.contains(&telemetry_only),
            "{telemetry_only}: {types:?}"
        );
    }
    let start = platform(&t, "platform.start", &rid).expect("platform.start");
    assert_eq!(
        start["record"],
        serde_json::json!({"requestId": rid, "version": "$LATEST"})
    );
    let done = platform(&t, "platform.runtimeDone", &rid).expect("platform.runtimeDone");
    assert_eq!(
        done["record"],
        serde_json::json!({"requestId": rid, "status": "success"})
    );
    let end = platform(&t, "platform.end", &rid).expect("platform.end");
    assert_eq!(end["record"], serde_json::json!({"requestId": rid}));
    let report = platform(&t, "platform.report", &rid).expect("platform.report");
    assert!(report["record"].get("status").is_none(), "{report}");
    let m = &report["record"]["metrics"];
    assert_eq!(m["memorySizeMB"], 128);
    assert!(m["initDurationMs"].as_f64().unwrap() > 0.0, "{m}");
    // In order: start, the function's line, runtimeDone, end, report.
    let line = format!("handling {rid}");
    let at = |pred: &dyn Fn(&Value) -> bool| t.iter().position(pred).unwrap();
    let order = [
        at(&|e| e["type"] == "platform.start"),
        at(&|e| e["type"] == "function" && e["record"] == line.as_str()),
        at(&|e| e["type"] == "platform.runtimeDone"),
        at(&|e| e["type"] == "platform.end"),
        at(&|e| e["type"] == "platform.report"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{types:?}");
}

/// An extension that takes 1.5 s before its first next holds the instance's init: the
/// invocation runs only after it is ready, and Init Duration says so.
#[test]
fn slow_extension_init_delays_the_first_invocation() {
    let dir = tempfile::tempdir().unwrap();
    let (payload, stderr) = local_invoke("SlowExtensionFunction", dir.path());
    let rid = payload["request_id"].as_str().unwrap().to_string();
    let r = wait_records(dir.path(), "SlowExtensionFunction", |r| {
        !events(r, "SHUTDOWN").is_empty()
    });
    let ready_at = r.iter().find(|r| r["kind"] == "ready").unwrap()["at"]
        .as_f64()
        .unwrap();
    let invoke = r
        .iter()
        .find(|r| r["kind"] == "event" && r["data"]["requestId"] == rid.as_str())
        .unwrap();
    assert!(invoke["at"].as_f64().unwrap() >= ready_at);
    let init_ms: f64 = stderr
        .split("Init Duration: ")
        .nth(1)
        .and_then(|s| s.split(" ms").next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no Init Duration:\n{stderr}"));
    assert!(init_ms >= 1400.0, "init took {init_ms} ms:\n{stderr}");
}

/// `init/error` from an extension fails the instance's init with Lambda's
/// `Extension.InitError`, and the function's log names the extension's state.
#[test]
fn extension_init_error_fails_init_as_lambda_does() {
    let dir = tempfile::tempdir().unwrap();
    let (payload, stderr) = local_invoke("BrokenExtensionFunction", dir.path());
    assert_eq!(payload["errorType"], "Extension.InitError", "{payload}");
    let msg = payload["errorMessage"].as_str().unwrap();
    assert!(msg.contains("recorder"), "{msg}");
    assert!(msg.contains("Extension.NotConfigured"), "{msg}");
    assert!(
        stderr.contains("EXTENSION\tName: recorder\tState: InitError\tEvents: [INVOKE, SHUTDOWN]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Status: error\tError Type: Extension.InitError"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("handling "),
        "the handler never ran:\n{stderr}"
    );
}

/// An extension that exits during init fails it with `Extension.Crash` and its exit status.
#[test]
fn extension_exiting_during_init_is_an_extension_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (payload, stderr) = local_invoke("CrashingExtensionFunction", dir.path());
    assert_eq!(
        payload["errorType"], "Extension.Crash",
        "{payload}\n{stderr}"
    );
    let msg = payload["errorMessage"].as_str().unwrap();
    assert!(msg.contains("exit status 3"), "{msg}");
    assert!(
        !stderr.contains("handling "),
        "the handler never ran:\n{stderr}"
    );
}

fn boto3(url: &str, script: &str) -> Value {
    let prelude = format!(
        r#"
import json, boto3
from botocore.config import Config
lam = boto3.client("lambda", endpoint_url="{url}", region_name="us-east-1",
    aws_access_key_id="x", aws_secret_access_key="x",
    config=Config(retries={{"max_attempts": 0}}, read_timeout=30))
"#
    );
    let out = ssam_testkit::run_python(&format!("{prelude}\n{script}"), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// `ssam local start-lambda` on the fixture with `RECORD_DIR` set to `dir`, plus `extra`
/// flags; the server and its Invoke API URL.
fn start_lambda(dir: &Path, extra: &[&str]) -> (ssam_testkit::Server, String) {
    let env = env_vars(dir);
    let template = fixture().join("template.yaml");
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("local"),
        OsStr::new("start-lambda"),
        OsStr::new("-t"),
        template.as_os_str(),
        OsStr::new("--port"),
        OsStr::new("0"),
        OsStr::new("--env-vars"),
        env.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    let server = ssam_testkit::Server::start(&args, "Press CTRL+C");
    let url = server
        .word_after(" * Running on ")
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    (server, url)
}

/// `start-lambda` + boto3: each invocation's INVOKE carries its request id, one instance
/// serves both (one registration), the idle reaper's SHUTDOWN reaches the extension, and so
/// does stopping ssam.
#[test]
fn start_lambda_invokes_reaping_and_stopping_reach_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url) = start_lambda(dir.path(), &["--idle-timeout", "2"]);
    let invoke = r#"
ids = []
for i in range(2):
    r = lam.invoke(FunctionName="RecordedFunction", Payload=json.dumps({"i": i}))
    ids.append(json.loads(r["Payload"].read())["request_id"])
print(json.dumps(ids))
"#;
    let ids = boto3(&url, invoke);
    let ids: Vec<String> = serde_json::from_value(ids).unwrap();
    let r = wait_records(dir.path(), "RecordedFunction", |r| {
        !events(r, "SHUTDOWN").is_empty()
    });
    let invokes: Vec<&str> = events(&r, "INVOKE")
        .iter()
        .filter_map(|e| e["requestId"].as_str())
        .collect();
    assert_eq!(invokes, ids, "{r:?}");
    let registrations = r.iter().filter(|r| r["kind"] == "register").count();
    assert_eq!(registrations, 1, "one warm instance served both");
    let t = telemetry(&r);
    for id in &ids {
        assert!(platform(&t, "platform.report", id).is_some(), "{t:?}");
    }
    let shutdown = events(&r, "SHUTDOWN");
    assert_eq!(shutdown.len(), 1, "reaped after --idle-timeout: {r:?}");
    assert_eq!(shutdown[0]["shutdownReason"], "spindown");

    // A new instance, then ssam stops: its extension gets SHUTDOWN too.
    boto3(&url, invoke);
    let _ = server.stop();
    // The extension writes its record once it got SHUTDOWN, maybe after ssam exited.
    let r = wait_records(dir.path(), "RecordedFunction", |r| {
        events(r, "SHUTDOWN").len() >= 2
    });
    assert_eq!(r.iter().filter(|r| r["kind"] == "register").count(), 2);
    assert_eq!(events(&r, "SHUTDOWN").len(), 2, "stopping ssam: {r:?}");
}

/// An extension that crashes while its instance is idle costs the instance: the log says
/// so and the next invocation starts a new one (Lambda resets the execution environment)
/// instead of running beside a dead extension.
#[test]
fn an_extension_crashing_while_idle_resets_the_instance() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url) = start_lambda(dir.path(), &[]);
    let ids = boto3(
        &url,
        r#"
import time
ids = []
for i in range(2):
    r = lam.invoke(FunctionName="IdleCrashFunction", Payload=json.dumps({"i": i}))
    assert "FunctionError" not in r, r["Payload"].read()
    ids.append(json.loads(r["Payload"].read())["request_id"])
    time.sleep(1.5)
print(json.dumps(ids))
"#,
    );
    assert_eq!(ids.as_array().unwrap().len(), 2, "{ids}");
    let r = wait_records(dir.path(), "IdleCrashFunction", |r| {
        r.iter().filter(|r| r["kind"] == "register").count() >= 2
    });
    assert_eq!(
        r.iter().filter(|r| r["kind"] == "register").count(),
        2,
        "a new instance (and extension) for the second invocation: {r:?}"
    );
    let log = server.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("Name: recorder	State: Crashed (exit status 4)")),
        "{log:?}"
    );
    let cold = log.iter().filter(|l| l.contains("Init Duration")).count();
    assert_eq!(cold, 2, "{log:?}");
}

/// The caller gets the runtime's answer as soon as it is posted; the invocation (REPORT,
/// `platform.report`) ends once the extension called next again, 1 s later (Extensions API,
/// "Invoke phase": Lambda waits for the runtime and every extension to call next).
#[test]
fn the_answer_does_not_wait_for_extensions_but_the_report_does() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url) = start_lambda(dir.path(), &[]);
    let v = boto3(
        &url,
        r#"
import time
lam.invoke(FunctionName="LingeringExtensionFunction", Payload=b"{}")  # cold start
time.sleep(1.5)
t = time.time()
r = lam.invoke(FunctionName="LingeringExtensionFunction", Payload=b"{}")
out = json.loads(r["Payload"].read())
print(json.dumps({"seconds": time.time() - t, "request_id": out["request_id"]}))
"#,
    );
    let rid = v["request_id"].as_str().unwrap().to_string();
    let seconds = v["seconds"].as_f64().unwrap();
    assert!(
        seconds < 0.8,
        "the answer waited for the extension: {seconds} s"
    );
    let r = wait_records(dir.path(), "LingeringExtensionFunction", |r| {
        platform(&telemetry(r), "platform.report", &rid).is_some()
    });
    let t = telemetry(&r);
    let done = platform(&t, "platform.runtimeDone", &rid).expect("runtimeDone");
    let report = platform(&t, "platform.report", &rid).expect("report");
    let runtime_ms = done["record"]["metrics"]["durationMs"].as_f64().unwrap();
    let total_ms = report["record"]["metrics"]["durationMs"].as_f64().unwrap();
    assert!(runtime_ms < 800.0, "{done}");
    assert!(
        total_ms >= 1000.0,
        "REPORT covers the extension's work: {report}"
    );
    let lines = server.stop();
    let report_line = lines
        .iter()
        .find(|l| l.contains(&format!("REPORT RequestId: {rid}")))
        .unwrap_or_else(|| panic!("{lines:?}"));
    let ms: f64 = report_line
        .split("Duration: ")
        .nth(1)
        .and_then(|s| s.split(" ms").next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    assert!(ms >= 1000.0, "{report_line}");
}
