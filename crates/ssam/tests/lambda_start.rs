//! `ssam local start-lambda` driven by boto3 and the aws cli, as users drive it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lambda")
}

/// A running `ssam local start-lambda` on a free port; killed on drop.
struct Server {
    child: Child,
    url: String,
    log: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Server {
    start_with(&fixture().join("template.yaml"), extra)
}

fn start_with(template: &std::path::Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ssam"))
        .args(["local", "start-lambda", "-t"])
        .arg(template)
        .args(["--port", "0", "--env-vars"])
        .arg(fixture().join("env.json"))
        .args(extra)
        .env("PATH", path_with_venv())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ssam");
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = log.clone();
    // Keep draining stderr: function logs go there, and a full pipe would stall the server.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("Running on ").nth(1) {
                let _ = tx.send(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or("")
                        .trim_end_matches('/')
                        .to_string(),
                );
            }
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("start-lambda did not start:\n{}", log.lock().unwrap()));
    Server { child, url, log }
}

/// The venv's bin first, so functions and clients agree on the interpreter.
fn path_with_venv() -> String {
    let py = ssam_testkit::python();
    let bin = py.parent().unwrap().to_string_lossy().into_owned();
    format!("{bin}:{}", std::env::var("PATH").unwrap_or_default())
}

fn boto3(server: &Server, script: &str) -> serde_json::Value {
    let prelude = format!(
        r#"
import base64, json, sys, boto3, botocore
from botocore.config import Config
lam = boto3.client("lambda", endpoint_url="{url}", region_name="us-east-1",
    aws_access_key_id="x", aws_secret_access_key="x",
    config=Config(retries={{"max_attempts": 0}}, read_timeout=30))
"#,
        url = server.url
    );
    let out = ssam_testkit::run_python(&format!("{prelude}\n{script}"), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn boto3_invoke_request_response_tail_and_errors() {
    let server = start(&[]);
    let v = boto3(
        &server,
        r#"
r = lam.invoke(FunctionName="HelloFunction", Payload=json.dumps({"a": 1}), LogType="Tail",
               ClientContext=base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode())
out = {"status": r["StatusCode"], "payload": json.loads(r["Payload"].read()),
       "version": r.get("ExecutedVersion"), "error": r.get("FunctionError"),
       "log": base64.b64decode(r["LogResult"]).decode()}
f = lam.invoke(FunctionName="FailFunction", Payload=b"{}")
out["fail"] = {"status": f["StatusCode"], "error": f.get("FunctionError"), "payload": json.loads(f["Payload"].read())}
arn = lam.invoke(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:NodeFunction", Payload=b'{"n": 2}')
out["node"] = json.loads(arn["Payload"].read())
try:
    lam.invoke(FunctionName="NoSuchFunction", Payload=b"{}")
except lam.exceptions.ResourceNotFoundException as e:
    out["missing"] = str(e)
try:
    lam.invoke(FunctionName="HelloFunction", Payload=b"not json")
except lam.exceptions.InvalidRequestContentException as e:
    out["invalid"] = e.response["Error"]["Code"]
print(json.dumps(out))
"#,
    );
    assert_eq!(v["status"], 200);
    assert_eq!(v["version"], "$LATEST");
    assert!(v["error"].is_null(), "{v}");
    assert_eq!(v["payload"]["event"]["a"], 1);
    assert_eq!(
        v["payload"]["greeting"], "overridden",
        "--env-vars overrides the template"
    );
    assert_eq!(
        v["payload"]["extra"], "added",
        "--env-vars may add variables"
    );
    assert_eq!(v["payload"]["stage"], "from-env-vars");
    assert_eq!(v["payload"]["memory"], "256");
    assert_eq!(v["payload"]["client_context"]["k"], "v");
    let log = v["log"].as_str().unwrap();
    assert!(log.contains("START RequestId: "), "{log}");
    assert!(log.contains("handling "), "{log}");
    assert!(log.contains("REPORT RequestId: "), "{log}");
    assert_eq!(v["fail"]["status"], 200);
    assert_eq!(v["fail"]["error"], "Unhandled");
    assert_eq!(v["fail"]["payload"]["errorType"], "KeyError");
    assert_eq!(v["node"]["from"], "node");
    assert_eq!(v["node"]["event"]["n"], 2);
    assert!(
        v["missing"].as_str().unwrap().contains(
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:NoSuchFunction"
        ),
        "{v}"
    );
    assert_eq!(v["invalid"], "InvalidRequestContentException");
}

#[test]
fn boto3_event_dryrun_oversize_timeout_and_throttle() {
    let server = start(&[]);
    let v = boto3(
        &server,
        r#"
import threading
out = {}
e = lam.invoke(FunctionName="HelloFunction", InvocationType="Event", Payload=b'{"async": true}')
out["event"] = e["StatusCode"]
d = lam.invoke(FunctionName="HelloFunction", InvocationType="DryRun")
out["dryrun"] = d["StatusCode"]
try:
    lam.invoke(FunctionName="HelloFunction", Payload=b'"' + b"a" * 6291456 + b'"')
except botocore.exceptions.ClientError as err:
    out["oversize"] = [err.response["Error"]["Code"], err.response["Error"]["Message"], err.response["ResponseMetadata"]["HTTPStatusCode"]]
t = lam.invoke(FunctionName="slow-function", Payload=b'{"seconds": 3}')
out["timeout"] = [t.get("FunctionError"), json.loads(t["Payload"].read())]
# ReservedConcurrentExecutions: 1, so a second concurrent call is throttled.
results = []
def call():
    try:
        r = lam.invoke(FunctionName="slow-function", Payload=b'{"seconds": 0.8}')
        results.append(r["StatusCode"])
    except lam.exceptions.TooManyRequestsException as err:
        results.append(429)
th = threading.Thread(target=call); th.start()
import time; time.sleep(0.3)
call(); th.join()
out["throttle"] = sorted(results)
print(json.dumps(out))
"#,
    );
    assert_eq!(v["event"], 202);
    assert_eq!(v["dryrun"], 204);
    assert_eq!(v["oversize"][0], "RequestEntityTooLargeException");
    assert_eq!(
        v["oversize"][1],
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    );
    assert_eq!(v["oversize"][2], 413);
    assert_eq!(v["timeout"][0], "Unhandled");
    assert_eq!(v["timeout"][1]["errorType"], "Sandbox.Timedout");
    assert!(v["timeout"][1]["errorMessage"]
        .as_str()
        .unwrap()
        .ends_with("Task timed out after 1.00 seconds"));
    assert_eq!(v["throttle"], serde_json::json!([200, 429]));
    // The Event invocation ran in the background: its log line shows up.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.log.lock().unwrap().contains(r#"{"async": true}"#) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.contains(r#"{"async": true}"#),
        "the Event invocation never ran:\n{log}"
    );
}

#[test]
fn aws_cli_invoke() {
    let server = start(&["--warm-containers", "EAGER"]);
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.json");
    let out = Command::new(ssam_testkit::aws_cli())
        .args([
            "lambda",
            "invoke",
            "--function-name",
            "HelloFunction",
            "--endpoint-url",
            &server.url,
        ])
        .args(["--payload", r#"{"cli": true}"#])
        .arg(&out_file)
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("aws cli");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(meta["StatusCode"], 200);
    assert_eq!(meta["ExecutedVersion"], "$LATEST");
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(result["event"]["cli"], true);
    // EAGER started every function before the first request.
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("Mounting HelloFunction"), "{log}");
}

#[test]
fn boto3_invoke_with_response_stream() {
    let server = start(&[]);
    let v = boto3(
        &server,
        r#"
out = {}
r = lam.invoke_with_response_stream(FunctionName="StreamFunction", Payload=b"{}", LogType="Tail")
chunks, complete = [], None
for ev in r["EventStream"]:
    if "PayloadChunk" in ev:
        chunks.append(ev["PayloadChunk"]["Payload"].decode())
    if "InvokeComplete" in ev:
        complete = ev["InvokeComplete"]
out["chunks"] = chunks
out["complete"] = {k: v for k, v in complete.items() if k != "LogResult"}
out["log"] = base64.b64decode(complete.get("LogResult", "")).decode()
out["status"] = r["StatusCode"]
f = lam.invoke_with_response_stream(FunctionName="StreamFailFunction", Payload=b"{}")
fail = [ev for ev in f["EventStream"]]
out["fail_chunks"] = [e["PayloadChunk"]["Payload"].decode() for e in fail if "PayloadChunk" in e]
out["fail_complete"] = [e["InvokeComplete"] for e in fail if "InvokeComplete" in e][0]
# A function that does not stream still answers through the stream API, in one chunk.
b = lam.invoke_with_response_stream(FunctionName="HelloFunction", Payload=b'{"x": 1}')
out["buffered"] = "".join(e["PayloadChunk"]["Payload"].decode() for e in b["EventStream"] if "PayloadChunk" in e)
print(json.dumps(out))
"#,
    );
    assert_eq!(v["status"], 200);
    assert_eq!(
        v["chunks"].as_array().unwrap().concat_strings(),
        "part0;part1;part2;"
    );
    assert!(
        v["chunks"].as_array().unwrap().len() >= 2,
        "streamed in pieces: {v}"
    );
    assert_eq!(v["complete"], serde_json::json!({}));
    assert!(
        v["log"].as_str().unwrap().contains("REPORT RequestId"),
        "{v}"
    );
    assert_eq!(
        v["fail_chunks"].as_array().unwrap().concat_strings(),
        "before;"
    );
    assert_eq!(v["fail_complete"]["ErrorCode"], "Error");
    assert!(
        v["fail_complete"]["ErrorDetails"]
            .as_str()
            .unwrap()
            .contains("stream failed"),
        "{v}"
    );
    let buffered: serde_json::Value =
        serde_json::from_str(v["buffered"].as_str().unwrap()).unwrap();
    assert_eq!(buffered["event"]["x"], 1);
}

trait ConcatStrings {
    fn concat_strings(&self) -> String;
}

impl ConcatStrings for Vec<serde_json::Value> {
    fn concat_strings(&self) -> String {
        self.iter().filter_map(|v| v.as_str()).collect()
    }
}

#[test]
fn boto3_16_parallel_invocations_take_about_one_handler_duration() {
    let server = start(&[]);
    let v = boto3(
        &server,
        r#"
import time
from concurrent.futures import ThreadPoolExecutor
def call(i):
    r = lam.invoke(FunctionName="ParallelFunction", Payload=json.dumps({"seconds": 1}).encode())
    return r["StatusCode"], r.get("FunctionError")
# Warm-up is not part of the claim: cold starts of 16 interpreters on 2 cores take a while.
with ThreadPoolExecutor(16) as pool:
    list(pool.map(call, range(16)))
t = time.time()
with ThreadPoolExecutor(16) as pool:
    results = list(pool.map(call, range(16)))
print(json.dumps({"elapsed": time.time() - t, "results": results}))
"#,
    );
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 16);
    assert!(results.iter().all(|r| r[0] == 200 && r[1].is_null()), "{v}");
    let elapsed = v["elapsed"].as_f64().unwrap();
    assert!(
        elapsed < 2.5,
        "16 x 1 s handlers took {elapsed:.2} s: they ran one after another"
    );
}

#[test]
fn code_changes_are_picked_up_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    ssam_testkit::copy_dir(&fixture(), dir.path());
    let server = start_with(&dir.path().join("template.yaml"), &[]);
    let script = r#"
r = lam.invoke(FunctionName="NodeFunction", Payload=b"{}")
print(json.dumps(json.loads(r["Payload"].read())))
"#;
    assert_eq!(boto3(&server, script)["from"], "node");
    let app = dir.path().join("node/app.js");
    let code = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, code.replace(r#"from: "node""#, r#"from: "edited""#)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = boto3(&server, script);
        if v["from"] == "edited" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the edit was never picked up: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(server
        .log
        .lock()
        .unwrap()
        .contains("Reloading NodeFunction: app.js changed"));
}
