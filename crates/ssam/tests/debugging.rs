//! `--debug-port`: a real debug client attaches to the function ssam runs, stops at a
//! breakpoint in the handler with the event in scope, continues, and the invocation answers.
//! Python through debugpy's Debug Adapter Protocol over its socket; Node through the V8
//! inspector protocol over its WebSocket (websocket-client, pinned in
//! scripts/requirements-test.txt).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A Debug Adapter Protocol client (what VS Code speaks to debugpy): initialize, attach,
/// a breakpoint at `SRC:LINE`, configurationDone; then, at each of `COUNT` `stopped`
/// events, the top frame's locals are printed as a JSON line; `HOLD` seconds later,
/// continue; then disconnect.
const DAP_CLIENT: &str = r#"
import json, os, socket, sys, time
port, src, line = int(os.environ["PORT"]), os.environ["SRC"], int(os.environ["LINE"])
hold = float(os.environ.get("HOLD", "0"))
count = int(os.environ.get("COUNT", "1"))
deadline = time.time() + 120
while True:
    try:
        sock = socket.create_connection(("127.0.0.1", port))
        break
    except OSError:
        if time.time() > deadline:
            raise
        time.sleep(0.1)
reader = sock.makefile("rb")
seq = 0
pending = []

def send(command, arguments=None):
    global seq
    seq += 1
    body = json.dumps({"seq": seq, "type": "request", "command": command,
                       "arguments": arguments or {}}).encode()
    sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return seq

def read():
    headers = {}
    while True:
        raw = reader.readline()
        if not raw:
            raise EOFError("debugpy closed the connection")
        raw = raw.strip()
        if not raw:
            break
        k, v = raw.decode().split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return json.loads(reader.read(int(headers["content-length"])))

def wait(pred):
    for i, m in enumerate(pending):
        if pred(m):
            return pending.pop(i)
    while True:
        m = read()
        if pred(m):
            return m
        pending.append(m)

def response(req):
    m = wait(lambda m: m.get("type") == "response" and m.get("request_seq") == req)
    assert m["success"], m
    return m.get("body", {})

def event(name):
    return wait(lambda m: m.get("type") == "event" and m.get("event") == name)

response(send("initialize", {"clientID": "ssam-test", "adapterID": "debugpy",
                             "pathFormat": "path", "linesStartAt1": True,
                             "columnsStartAt1": True}))
attach = send("attach", {"justMyCode": True})
event("initialized")
bps = response(send("setBreakpoints", {"source": {"path": src}, "breakpoints": [{"line": line}]}))
response(send("configurationDone"))
response(attach)
for n in range(count):
    stopped = event("stopped")["body"]
    thread = stopped["threadId"]
    top = response(send("stackTrace", {"threadId": thread}))["stackFrames"][0]
    scopes = response(send("scopes", {"frameId": top["id"]}))["scopes"]
    local = [s for s in scopes if s["name"] == "Locals"][0]
    variables = response(send("variables", {"variablesReference": local["variablesReference"]}))["variables"]
    print(json.dumps({"reason": stopped["reason"], "line": top["line"], "at": time.time(),
                      "file": top["source"]["path"], "verified": bps["breakpoints"][0]["verified"],
                      "locals": {v["name"]: v["value"] for v in variables}}), flush=True)
    time.sleep(hold)
    send("continue", {"threadId": thread})
    # After the last stop the invocation ends at once: ssam may stop the runtime before
    # debugpy answers.
    try:
        response(seq)
    except (EOFError, OSError):
        break
try:
    send("disconnect", {"terminateDebuggee": False})
    time.sleep(0.2)
except OSError:
    pass
"#;

/// A V8 inspector client (what VS Code's and Chrome's Node debuggers speak): finds the
/// target in `/json/list`, enables the debugger, sets a breakpoint by URL, lets the paused
/// process run (`--inspect-brk` stops before the first line), then at the breakpoint
/// evaluates the event in the handler's frame, prints it and resumes.
const INSPECTOR_CLIENT: &str = r#"
import json, os, re, time, urllib.request
import websocket
port, src, line = int(os.environ["PORT"]), os.environ["SRC"], int(os.environ["LINE"])
deadline = time.time() + 120
while True:
    try:
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=2))
        break
    except OSError:
        if time.time() > deadline:
            raise
        time.sleep(0.1)
ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=60)
ids = iter(range(1, 1_000_000))
pending = []

def call(method, params=None):
    i = next(ids)
    ws.send(json.dumps({"id": i, "method": method, "params": params or {}}))
    m = wait(lambda m: m.get("id") == i)
    assert "error" not in m, m
    return m["result"]

def wait(pred):
    for k, m in enumerate(pending):
        if pred(m):
            return pending.pop(k)
    while True:
        m = json.loads(ws.recv())
        if pred(m):
            return m
        pending.append(m)

call("Runtime.enable")
call("Debugger.enable")
bp = call("Debugger.setBreakpointByUrl",
          {"lineNumber": line - 1, "urlRegex": re.escape(os.path.basename(src)) + "$"})
call("Runtime.runIfWaitingForDebugger")
while True:
    paused = wait(lambda m: m.get("method") == "Debugger.paused")["params"]
    if paused.get("hitBreakpoints"):
        break
    call("Debugger.resume")  # --inspect-brk's stop before the bootstrap's first line
frame = paused["callFrames"][0]
value = call("Debugger.evaluateOnCallFrame",
             {"callFrameId": frame["callFrameId"], "expression": "JSON.stringify(event)"})
script = frame["location"]["scriptId"]
url = [m["params"]["url"] for m in pending
       if m.get("method") == "Debugger.scriptParsed" and m["params"]["scriptId"] == script]
print(json.dumps({"line": frame["location"]["lineNumber"] + 1, "url": url[0] if url else "",
                  "event": value["result"]["value"]}), flush=True)
# No wait for the answer: the invocation ends at once and ssam stops the runtime.
ws.send(json.dumps({"id": next(ids), "method": "Debugger.resume"}))
time.sleep(0.2)
"#;

const PY_HANDLER: &str = "\
import time

def handler(event, context):
    greeting = event[\"greeting\"]
    return {\"greeting\": greeting, \"remaining_ms\": context.get_remaining_time_in_millis()}
";
/// The line of `greeting = ...` in [`PY_HANDLER`].
const PY_LINE: u32 = 4;

const NODE_HANDLER: &str = "\
exports.handler = async (event) => {
  const greeting = event.greeting;
  return { greeting, from: 'node' };
};
";
const NODE_LINE: u32 = 2;

/// A template with one function of `runtime` (Timeout 1 s) whose code is `source` in
/// `file`.
fn project(runtime: &str, handler: &str, file: &str, source: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("src");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(code.join(file), source).unwrap();
    std::fs::write(
        dir.path().join("template.yaml"),
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: {runtime}\n      Handler: {handler}\n      CodeUri: src\n      Timeout: 1\n"
        ),
    )
    .unwrap();
    let src = code.join(file).canonicalize().unwrap();
    (dir, src)
}

fn invoke_debugged(template: &Path, port: u16, extra: &[&str]) -> Child {
    Command::new(ssam_testkit::ssam_bin())
        .args(["local", "invoke", "-t"])
        .arg(template)
        .args(["-d", &port.to_string()])
        .args(extra)
        .env("PATH", ssam_testkit::path_with_venv())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// [`invoke_debugged`] with the event file, in a container of `image` (`--docker
/// --invoke-image`) on `network`, plus `extra`.
fn invoke_debugged_in_docker(
    template: &Path,
    port: u16,
    (event, image, network): (&Path, &str, &str),
    extra: &[&str],
) -> Child {
    let mut args = vec![
        "-e",
        event.to_str().unwrap(),
        "--docker",
        "--invoke-image",
        image,
        "--docker-network",
        network,
    ];
    args.extend(extra);
    invoke_debugged(template, port, &args)
}

fn client(script: &str, port: u16, src: &Path, line: u32, hold: &str) -> serde_json::Value {
    stops(script, port, src, line, hold, 1).remove(0)
}

/// What the client printed at each of `count` stops.
fn stops(
    script: &str,
    port: u16,
    src: &Path,
    line: u32,
    hold: &str,
    count: u32,
) -> Vec<serde_json::Value> {
    let out = ssam_testkit::run_python(
        script,
        &[
            ("PORT", &port.to_string()),
            ("SRC", src.to_str().unwrap()),
            ("LINE", &line.to_string()),
            ("HOLD", hold),
            ("COUNT", &count.to_string()),
        ],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn finished(child: Child) -> (serde_json::Value, String) {
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{err}", String::from_utf8_lossy(&out.stdout)));
    (v, err)
}

/// debugpy's DAP: the breakpoint in the handler is hit with the event in scope, and the
/// invocation answers once the client continues.
#[test]
fn python_debugpy_client_stops_in_the_handler_with_the_event() {
    let (dir, src) = project("python3.12", "app.handler", "app.py", PY_HANDLER);
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"greeting": "hi"}"#).unwrap();
    let port = ssam_testkit::free_port();
    let child = invoke_debugged(
        &dir.path().join("template.yaml"),
        port,
        &["-e", event.to_str().unwrap()],
    );
    let stop = client(DAP_CLIENT, port, &src, PY_LINE, "0");
    assert_eq!(stop["reason"], "breakpoint", "{stop}");
    assert_eq!(stop["line"], PY_LINE, "{stop}");
    assert_eq!(stop["file"], src.to_str().unwrap(), "{stop}");
    assert_eq!(stop["locals"]["event"], "{'greeting': 'hi'}", "{stop}");
    let (resp, err) = finished(child);
    assert_eq!(resp["greeting"], "hi", "{err}");
    assert!(
        err.contains(&format!("127.0.0.1:{port}")),
        "where to attach: {err}"
    );
}

/// AWS/SAM: timeouts are extended while debugging (SAM CLI's MAX_DEBUG_TIMEOUT): a
/// breakpoint held longer than the function's 1 s Timeout does not end the invocation.
#[test]
fn debugged_invoke_outlives_the_functions_timeout() {
    let (dir, src) = project("python3.12", "app.handler", "app.py", PY_HANDLER);
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"greeting": "slow"}"#).unwrap();
    let port = ssam_testkit::free_port();
    let child = invoke_debugged(
        &dir.path().join("template.yaml"),
        port,
        &["-e", event.to_str().unwrap()],
    );
    let stop = client(DAP_CLIENT, port, &src, PY_LINE, "2.5");
    assert_eq!(stop["reason"], "breakpoint", "{stop}");
    let (resp, err) = finished(child);
    assert_eq!(resp["greeting"], "slow", "{err}");
    assert!(!err.contains("Task timed out"), "{err}");
    // The deadline the runtime sees is the debugging one, not 1 s.
    assert!(resp["remaining_ms"].as_i64().unwrap() > 60_000, "{resp}");
}

/// Node's inspector over its WebSocket: `--inspect-brk` holds the runtime until the
/// client lets it run, the breakpoint set by URL is hit with the event in scope.
#[test]
fn node_inspector_client_stops_in_the_handler_with_the_event() {
    let (dir, src) = project("nodejs20.x", "app.handler", "app.js", NODE_HANDLER);
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"greeting": "hello"}"#).unwrap();
    let port = ssam_testkit::free_port();
    let child = invoke_debugged(
        &dir.path().join("template.yaml"),
        port,
        &["-e", event.to_str().unwrap()],
    );
    let stop = client(INSPECTOR_CLIENT, port, &src, NODE_LINE, "0");
    assert_eq!(stop["line"], NODE_LINE, "{stop}");
    assert!(stop["url"].as_str().unwrap().ends_with("/app.js"), "{stop}");
    assert_eq!(stop["event"], r#"{"greeting":"hello"}"#, "{stop}");
    let (resp, err) = finished(child);
    assert_eq!(resp["greeting"], "hello", "{err}");
    assert_eq!(resp["from"], "node", "{err}");
}

/// SAM CLI refuses to guess which function a debug port is for: with several functions,
/// `--debug-function` names it, and the error says so.
#[test]
fn a_debug_port_with_several_functions_needs_debug_function() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/app.py"), PY_HANDLER).unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Runtime: python3.12\n    Handler: app.handler\n    CodeUri: src\nResources:\n  One:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        A:\n          Type: HttpApi\n          Properties: {Path: /one, Method: get}\n  Two:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        B:\n          Type: HttpApi\n          Properties: {Path: /two, Method: get}\n",
    )
    .unwrap();
    let out = Command::new(ssam_testkit::ssam_bin())
        .args(["local", "start-api", "-p", "0", "-d", "5890", "-t"])
        .arg(&template)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--debug-port with 2 functions")
            && err.contains("hint: add --debug-function NAME, one of: One, Two"),
        "{err}"
    );
}

/// A Zip function in its runtime image (`--docker`, the stand-in for AWS's Python image):
/// debugpy from ssam's cache is mounted into the container and started before the image's
/// runtime client imports the handler; the client attaches through the port on the host's
/// loopback, on the host network and on a bridge network (where ssam publishes it).
#[test]
fn python_in_docker_is_debugged_through_the_published_port() {
    use ssam_testkit::lambda_image;
    if let Err(e) = lambda_image::docker_engine() {
        eprintln!("skipped: {e}");
        return;
    }
    let base = lambda_image::python_base_image("ssam-test/python:3.11").unwrap();
    let (dir, _) = project("python3.11", "app.handler", "app.py", PY_HANDLER);
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"greeting": "container"}"#).unwrap();
    for network in ["host", "bridge"] {
        let port = ssam_testkit::free_port();
        let child = invoke_debugged_in_docker(
            &dir.path().join("template.yaml"),
            port,
            (&event, &base, network),
            &[],
        );
        let in_container = Path::new("/var/task/app.py");
        let stop = client(DAP_CLIENT, port, in_container, PY_LINE, "1.5");
        assert_eq!(stop["reason"], "breakpoint", "{network}: {stop}");
        assert_eq!(stop["file"], "/var/task/app.py", "{network}: {stop}");
        assert_eq!(
            stop["locals"]["event"], "{'greeting': 'container'}",
            "{stop}"
        );
        let (resp, err) = finished(child);
        assert_eq!(resp["greeting"], "container", "{network}: {err}");
        assert!(!err.contains("Task timed out"), "{err}");
    }
}

/// A Node.js Zip function in its runtime image (`--docker`, the testkit's stand-in for AWS's
/// Node.js image, whose runtime client is not ssam's): `NODE_OPTIONS=--inspect-brk` holds
/// the runtime until the inspector client lets it run; the client reaches the inspector on
/// the host's loopback, on the host network and on a bridge network (where ssam publishes
/// the port), and the breakpoint set in `/var/task/app.js` is hit with the event in scope.
#[test]
fn node_in_docker_is_debugged_through_the_published_port() {
    use ssam_testkit::lambda_image;
    if let Err(e) = lambda_image::docker_engine() {
        eprintln!("skipped: {e}");
        return;
    }
    let base = lambda_image::node_base_image("ssam-test/nodejs:20").unwrap();
    let (dir, _) = project("nodejs20.x", "app.handler", "app.js", NODE_HANDLER);
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"greeting": "container"}"#).unwrap();
    for network in ["host", "bridge"] {
        let port = ssam_testkit::free_port();
        let child = invoke_debugged_in_docker(
            &dir.path().join("template.yaml"),
            port,
            (&event, &base, network),
            &[],
        );
        let in_container = Path::new("/var/task/app.js");
        let stop = client(INSPECTOR_CLIENT, port, in_container, NODE_LINE, "0");
        assert_eq!(stop["line"], NODE_LINE, "{network}: {stop}");
        assert_eq!(stop["url"], "file:///var/task/app.js", "{network}: {stop}");
        assert_eq!(stop["event"], r#"{"greeting":"container"}"#, "{stop}");
        let (resp, err) = finished(child);
        assert_eq!(resp["greeting"], "container", "{network}: {err}");
        assert_eq!(resp["from"], "node", "{network}: {err}");
        assert!(!err.contains("Task timed out"), "{err}");
    }
}

/// `start-lambda` with two functions and `--debug-function`: the debugged one runs one
/// instance (its port is one), so of two parallel invocations the second waits for the
/// first to leave the breakpoint, then stops there on the same instance; both answer.
#[test]
fn start_lambda_debugs_one_instance_and_parallel_requests_wait() {
    let (dir, src) = project("python3.12", "app.handler", "app.py", PY_HANDLER);
    let template = dir.path().join("template.yaml");
    let mut text = std::fs::read_to_string(&template).unwrap();
    text.push_str(
        "  Other:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n      Handler: app.handler\n      CodeUri: src\n",
    );
    std::fs::write(&template, text).unwrap();
    let port = ssam_testkit::free_port();
    let port_s = port.to_string();
    let words = [
        "local",
        "start-lambda",
        "--port",
        "0",
        "-d",
        &port_s,
        "--debug-function",
        "Fn",
        "-t",
    ];
    let args: Vec<&std::ffi::OsStr> = words
        .iter()
        .map(std::ffi::OsStr::new)
        .chain([template.as_os_str()])
        .collect();
    let server = ssam_testkit::Server::start(&args, "Running on");
    let endpoint = server.word_after(" * Running on ").unwrap();
    assert!(
        server.lines().iter().any(|l| l.contains(&format!(
            "Debugging Fn: debugpy waits for a client on 127.0.0.1:{port}"
        ))),
        "{:?}",
        server.lines()
    );
    let script = format!(
        r#"
import json, threading, time, boto3, botocore.config
c = boto3.client("lambda", endpoint_url="{endpoint}", region_name="us-east-1",
                 aws_access_key_id="k", aws_secret_access_key="s",
                 config=botocore.config.Config(read_timeout=120, retries={{"max_attempts": 0}}))
out = {{}}
def call(name, greeting):
    r = c.invoke(FunctionName=name, Payload=json.dumps({{"greeting": greeting}}).encode())
    out[greeting] = [r.get("FunctionError"), json.loads(r["Payload"].read()), time.time()]
threads = [threading.Thread(target=call, args=("Fn", g)) for g in ("one", "two")]
for t in threads:
    t.start()
    time.sleep(0.3)
call("Other", "not debugged")
for t in threads:
    t.join()
print(json.dumps(out))
"#
    );
    let invoker = std::thread::spawn(move || ssam_testkit::run_python(&script, &[]));
    let seen = stops(DAP_CLIENT, port, &src, PY_LINE, "1", 2);
    let out: serde_json::Value = serde_json::from_slice(&invoker.join().unwrap().stdout).unwrap();
    let events: Vec<&str> = seen
        .iter()
        .map(|s| s["locals"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["{'greeting': 'one'}", "{'greeting': 'two'}"],
        "{seen:?}"
    );
    // The second stop came after the first was held and continued.
    let gap = seen[1]["at"].as_f64().unwrap() - seen[0]["at"].as_f64().unwrap();
    assert!(gap >= 1.0, "{seen:?}");
    for g in ["one", "two"] {
        assert_eq!(out[g][0], serde_json::Value::Null, "{out}");
        assert_eq!(out[g][1]["greeting"], g, "{out}");
    }
    // The other function is not held by the debugger: it answered before the debugged ones.
    assert_eq!(out["not debugged"][1]["greeting"], "not debugged", "{out}");
    assert!(
        out["not debugged"][2].as_f64() < out["one"][2].as_f64(),
        "{out}"
    );
    let lines = server.stop();
    let cold = lines
        .iter()
        .filter(|l| l.contains("Fn: starting an instance"))
        .count();
    assert_eq!(cold, 1, "one instance of the debugged function: {lines:?}");
}

/// `provided` runtimes: `--debugger-path` + `--debug-args` wrap the bootstrap in
/// gdbserver; the runtime waits under it until gdb (a real client, over gdb's remote
/// protocol) attaches and lets it go, then the invocation answers.
#[test]
fn provided_bootstrap_runs_under_gdbserver() {
    let (Some(gdbserver), Some(_)) = (which("gdbserver"), which("gdb")) else {
        panic!("gdb and gdbserver are needed (scripts/test installs them: apt-get install gdb gdbserver)");
    };
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    // A Runtime API client in Python, as a custom runtime's bootstrap.
    let bootstrap = code.join("bootstrap");
    std::fs::write(
        &bootstrap,
        "#!/usr/bin/env python3\nimport json, os, urllib.request\napi = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime/invocation/'\nwhile True:\n    r = urllib.request.urlopen(api + 'next')\n    rid = r.headers['Lambda-Runtime-Aws-Request-Id']\n    event = json.loads(r.read())\n    body = json.dumps({'echo': event, 'handler': os.environ['_HANDLER']}).encode()\n    urllib.request.urlopen(urllib.request.Request(api + rid + '/response', data=body, method='POST')).read()\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Custom:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: provided.al2023\n      Handler: my.handler\n      CodeUri: code\n      Timeout: 1\n",
    )
    .unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"n": 7}"#).unwrap();
    let port = ssam_testkit::free_port();
    let debugger_dir = gdbserver.parent().unwrap().to_str().unwrap().to_string();
    let mut child = invoke_debugged(
        &template,
        port,
        &[
            "-e",
            event.to_str().unwrap(),
            "--debugger-path",
            &debugger_dir,
            "--debug-args",
            &format!("gdbserver 127.0.0.1:{port}"),
        ],
    );
    // Held by gdbserver longer than the 1 s Timeout: still running.
    std::thread::sleep(std::time::Duration::from_millis(2000));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the runtime waits for gdb"
    );
    let gdb = Command::new("gdb")
        .args(["-batch", "-nx", "-ex"])
        .arg(format!("target remote 127.0.0.1:{port}"))
        .args(["-ex", "info inferiors", "-ex", "detach"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&gdb.stdout);
    assert!(
        gdb.status.success() && said.contains("process"),
        "{said}{}",
        String::from_utf8_lossy(&gdb.stderr)
    );
    let (resp, err) = finished(child);
    assert_eq!(resp["echo"]["n"], 7, "{err}");
    assert_eq!(resp["handler"], "my.handler", "{err}");
}

/// A `provided` runtime in a container (`--docker`): the debugger comes from
/// `--debugger-path`, mounted into the container as SAM CLI mounts it, and wraps the
/// bootstrap; gdb on the host attaches through the published port (host and bridge
/// networks) and lets the runtime go, then the invocation answers. The directory holds what
/// a user brings for an image without gdbserver: the binary, the libraries it needs, and a
/// wrapper pointing the loader at them.
#[test]
fn provided_in_docker_runs_under_gdbserver_from_the_debugger_path() {
    use ssam_testkit::lambda_image;
    if let Err(e) = lambda_image::docker_engine() {
        eprintln!("skipped: {e}");
        return;
    }
    let (Some(gdbserver), Some(_)) = (which("gdbserver"), which("gdb")) else {
        panic!("gdb and gdbserver are needed (scripts/test installs them: apt-get install gdb gdbserver)");
    };
    let base = lambda_image::python_base_image("ssam-test/python:3.11").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    std::fs::create_dir_all(&code).unwrap();
    let bootstrap = code.join("bootstrap");
    std::fs::write(
        &bootstrap,
        "#!/usr/bin/env python3\nimport json, os, urllib.request\napi = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime/invocation/'\nwhile True:\n    r = urllib.request.urlopen(api + 'next')\n    rid = r.headers['Lambda-Runtime-Aws-Request-Id']\n    event = json.loads(r.read())\n    body = json.dumps({'echo': event, 'handler': os.environ['_HANDLER'], 'root': os.environ.get('LAMBDA_TASK_ROOT')}).encode()\n    urllib.request.urlopen(urllib.request.Request(api + rid + '/response', data=body, method='POST')).read()\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The debugger directory: gdbserver, the shared libraries ldd names that the image may
    // lack, and a wrapper that runs it with them.
    let tools = dir.path().join("debugger");
    std::fs::create_dir_all(&tools).unwrap();
    std::fs::copy(&gdbserver, tools.join("gdbserver.bin")).unwrap();
    let ldd = Command::new("ldd").arg(&gdbserver).output().unwrap();
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        if let Some(lib) = line
            .split("=>")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
        {
            let lib = Path::new(lib);
            if lib.is_absolute() {
                std::fs::copy(lib, tools.join(lib.file_name().unwrap())).unwrap();
            }
        }
    }
    std::fs::write(
        tools.join("gdbserver"),
        "#!/bin/sh\nd=${0%/*}\nLD_LIBRARY_PATH=\"$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\" exec \"$d/gdbserver.bin\" \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        tools.join("gdbserver"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Custom:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: provided.al2023\n      Handler: my.handler\n      CodeUri: code\n      Timeout: 1\n",
    )
    .unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"n": 8}"#).unwrap();
    for network in ["host", "bridge"] {
        let port = ssam_testkit::free_port();
        let mut child = invoke_debugged_in_docker(
            &template,
            port,
            (&event, &base, network),
            &[
                "--debugger-path",
                tools.to_str().unwrap(),
                "--debug-args",
                &format!("gdbserver 0.0.0.0:{port}"),
            ],
        );
        // Held by gdbserver longer than the 1 s Timeout: still running.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{network}: the runtime waits for gdb"
        );
        // gdb retries until gdbserver listens (the container may still be starting).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let said = loop {
            let gdb = Command::new("gdb")
                .args(["-batch", "-nx", "-ex"])
                .arg(format!("target remote 127.0.0.1:{port}"))
                .args(["-ex", "info inferiors", "-ex", "detach"])
                .output()
                .unwrap();
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&gdb.stdout),
                String::from_utf8_lossy(&gdb.stderr)
            );
            if gdb.status.success() && said.contains("process") {
                break said;
            }
            assert!(
                std::time::Instant::now() < deadline && child.try_wait().unwrap().is_none(),
                "{network}: gdb never attached: {said}"
            );
            std::thread::sleep(std::time::Duration::from_millis(500));
        };
        // The inferior is the container's bootstrap (its `#!/usr/bin/env python3` line).
        assert!(
            said.contains(&format!("remote 127.0.0.1:{port}")) && said.contains("/usr/bin/env"),
            "{network}: {said}"
        );
        let (resp, err) = finished(child);
        assert_eq!(resp["echo"]["n"], 8, "{network}: {err}");
        assert_eq!(resp["handler"], "my.handler", "{network}: {err}");
        assert_eq!(resp["root"], "/var/task", "{network}: {err}");
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// `start-api` with `--debug-function`: the request through API Gateway reaches the
/// breakpoint, waits while the debugger holds it, and gets the function's answer.
#[test]
fn start_api_request_stops_at_the_breakpoint_of_the_debugged_function() {
    request_stops_at_the_breakpoint(&["local", "start-api", "--port", "0"]);
}

/// The same through `ssam local start` (API, Lambda, S3 and the dashboard in one process).
#[test]
fn local_start_request_stops_at_the_breakpoint_of_the_debugged_function() {
    request_stops_at_the_breakpoint(&[
        "local",
        "start",
        "--port",
        "0",
        "--lambda-port",
        "0",
        "--s3-port",
        "0",
        "--dashboard-port",
        "0",
        "--ephemeral",
    ]);
}

fn request_stops_at_the_breakpoint(command: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/app.py"),
        "import json\n\ndef handler(event, context):\n    path = event[\"rawPath\"]\n    return {\"statusCode\": 200, \"body\": json.dumps({\"path\": path})}\n",
    )
    .unwrap();
    let src = dir.path().join("src/app.py").canonicalize().unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Runtime: python3.12\n    Handler: app.handler\n    CodeUri: src\n    Timeout: 1\nResources:\n  One:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        A:\n          Type: HttpApi\n          Properties: {Path: /one, Method: get}\n  Two:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        B:\n          Type: HttpApi\n          Properties: {Path: /two, Method: get}\n",
    )
    .unwrap();
    let port = ssam_testkit::free_port();
    let port_s = port.to_string();
    let words = ["-d", &port_s, "--debug-function", "One", "-t"];
    let args: Vec<&std::ffi::OsStr> = command
        .iter()
        .chain(&words)
        .map(std::ffi::OsStr::new)
        .chain([template.as_os_str()])
        .collect();
    let server = ssam_testkit::Server::start(&args, "Press CTRL+C");
    let base = server
        .word_after(" * Running on ")
        .or_else(|| server.word_after("API "))
        .unwrap();
    let url = format!("{}/one", base.trim_end_matches('/'));
    let curl = std::thread::spawn(move || {
        Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}", &url])
            .output()
            .unwrap()
    });
    let stop = client(DAP_CLIENT, port, &src, 4, "1.5");
    assert_eq!(stop["reason"], "breakpoint", "{stop}");
    assert!(
        stop["locals"]["event"]
            .as_str()
            .unwrap()
            .contains("'rawPath': '/one'"),
        "{stop}"
    );
    let out = curl.join().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with("\n200"), "{text}");
    assert!(text.contains(r#""path": "/one""#), "{text}");
    drop(server);
}
