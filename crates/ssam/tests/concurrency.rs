//! Who decides how many invocations of a function run at once: the Lambda service, for every
//! front door together. Driven through `ssam local start` with boto3 (Invoke API) and HTTP
//! requests (API Gateway) against the same functions.
//!
//! Lambda's documented behaviour (<https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html>):
//! reserved concurrency is a maximum; a synchronous invocation over it is throttled with 429
//! `TooManyRequestsException`. A Lambda proxy integration answers a throttle with 500.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/concurrency/template.yaml")
}

fn start(extra: &[&str]) -> (ssam_testkit::Server, String, String) {
    let mut flags = vec!["--ephemeral"];
    flags.extend(extra);
    let server = ssam_testkit::Server::local_start(&fixture(), &flags);
    let lambda = server.word_after("Lambda ").expect("the Lambda line");
    let api = server.word_after("API ").expect("the API line");
    (server, lambda, api)
}

fn python(lambda: &str, api: &str, script: &str) -> serde_json::Value {
    let prelude = r#"
import json, os, threading, time, urllib.request, urllib.error
import boto3, botocore
from botocore.config import Config
lam = boto3.client("lambda", endpoint_url=os.environ["LAMBDA_URL"], region_name="us-east-1",
    aws_access_key_id="test", aws_secret_access_key="test",
    config=Config(retries={"max_attempts": 0}, read_timeout=60, max_pool_connections=32))
API = os.environ["API_URL"]

def get(path):
    try:
        with urllib.request.urlopen(API + path, timeout=60) as r:
            return [r.status, json.loads(r.read())]
    except urllib.error.HTTPError as e:
        return [e.code, json.loads(e.read())]

def parallel(n, f):
    out = [None] * n
    def run(i):
        try:
            out[i] = f()
        except Exception as e:
            out[i] = repr(e)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads: t.start()
    for t in threads: t.join()
    return out
"#;
    let out = ssam_testkit::run_python(
        &format!("{prelude}\n{script}"),
        &[("LAMBDA_URL", lambda), ("API_URL", api)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)))
}

/// Without ReservedConcurrentExecutions, 16 parallel requests over a local cap of 4 all
/// succeed: they wait for an instance instead of failing (before, start-lambda answered
/// about 40% of such a burst with 429), and no more than 4 instances ever start.
#[test]
fn sixteen_parallel_invokes_over_the_instance_cap_all_succeed() {
    let (server, lambda, api) = start(&["--max-instances", "4"]);
    let v = python(
        &lambda,
        &api,
        r#"
def invoke():
    r = lam.invoke(FunctionName="Unlimited", Payload=b'{"seconds": 0.3}')
    return [r["StatusCode"], r.get("FunctionError"), json.loads(r["Payload"].read())["statusCode"]]
out = {"invoke": parallel(16, invoke), "api": parallel(16, lambda: get("/sleep?seconds=0.3")[0])}
print(json.dumps(out))
"#,
    );
    for r in v["invoke"].as_array().unwrap() {
        assert_eq!(r, &serde_json::json!([200, null, 200]), "{v}");
    }
    assert_eq!(v["api"], serde_json::json!(vec![200; 16]), "{v}");
    let lines = server.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("up to 4 instances per function (--max-instances)")),
        "the cap is printed at start:\n{}",
        lines.join("\n")
    );
    let cold_starts = lines
        .iter()
        .filter(|l| l.contains("Unlimited") && l.contains("REPORT") && l.contains("Init Duration"))
        .count();
    assert!(
        (1..=4).contains(&cold_starts),
        "{cold_starts} cold starts for a cap of 4:\n{}",
        lines.join("\n")
    );
    server.stop();
}

/// With ReservedConcurrentExecutions: 2, two invocations held through the Invoke API use the
/// whole reservation: a third synchronous invoke is throttled (429 TooManyRequestsException),
/// and API Gateway, which shares the same instances, answers its request with the 500 a proxy
/// integration gives for a throttled function.
#[test]
fn reserved_concurrency_throttles_every_front_door() {
    let (server, lambda, api) = start(&[]);
    let v = python(
        &lambda,
        &api,
        r#"
held = []
def hold():
    r = lam.invoke(FunctionName="ReservedTwo", Payload=b'{"seconds": 3}')
    held.append(r["StatusCode"])
holders = [threading.Thread(target=hold) for _ in range(2)]
for t in holders: t.start()
time.sleep(1.0)
out = {}
try:
    lam.invoke(FunctionName="ReservedTwo", Payload=b'{"seconds": 0}')
    out["third"] = "ran"
except botocore.exceptions.ClientError as e:
    out["third"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"],
                    e.response.get("Reason")]
out["api"] = get("/reserved?seconds=0")
for t in holders: t.join()
out["held"] = held
out["after"] = get("/reserved?seconds=0")
print(json.dumps(out))
"#,
    );
    assert_eq!(
        v["third"],
        serde_json::json!([
            "TooManyRequestsException",
            429,
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        ]),
        "{v}"
    );
    assert_eq!(
        v["api"],
        serde_json::json!([500, {"message": "Internal Server Error"}]),
        "{v}"
    );
    assert_eq!(v["held"], serde_json::json!([200, 200]), "{v}");
    assert_eq!(v["after"][0], 200, "{v}");
    server.stop();
}

/// The cap is a flag like any other: samconfig.toml sets it as SAM CLI reads options
/// (`[default.local_start_lambda.parameters] max_instances = 3`), and it is printed at start.
#[test]
fn max_instances_comes_from_samconfig_and_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture().parent().unwrap().join("src");
    let template = std::fs::read_to_string(fixture())
        .unwrap()
        .replace("CodeUri: src/", &format!("CodeUri: {}", src.display()));
    std::fs::write(dir.path().join("template.yaml"), template).unwrap();
    std::fs::write(
        dir.path().join("samconfig.toml"),
        "version = 0.1\n[default.local_start_lambda.parameters]\nmax_instances = 3\n",
    )
    .unwrap();
    let template = dir.path().join("template.yaml");
    let args: Vec<&std::ffi::OsStr> = ["local", "start-lambda", "--port", "0", "-t"]
        .iter()
        .map(std::ffi::OsStr::new)
        .chain([template.as_os_str()])
        .collect();
    let server = ssam_testkit::Server::start(&args, "Running on");
    let lines = server.stop();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("up to 3 instances per function (--max-instances)")),
        "{}",
        lines.join("\n")
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Reserved concurrency") && l.contains("ReservedTwo 2")),
        "{}",
        lines.join("\n")
    );
}

/// `ssam local start` runs API Gateway, Lambda and S3, so it takes every flag those
/// commands take; all three function-serving commands share the function flags.
#[test]
fn start_has_every_flag_of_its_parts() {
    let help = |cmd: &str| {
        let out = std::process::Command::new(ssam_testkit::ssam_bin())
            .args(["local", cmd, "--help"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let function_flags = [
        "--env-vars",
        "--warm-containers",
        "--idle-timeout",
        "--no-watch",
        "--max-instances",
        "--host",
    ];
    for cmd in ["start", "start-api", "start-lambda"] {
        let text = help(cmd);
        for flag in function_flags {
            assert!(
                text.contains(flag),
                "`ssam local {cmd}` lacks {flag}:\n{text}"
            );
        }
    }
    let start = help("start");
    for flag in [
        "--static-dir",
        "--disable-authorizer",
        "--data-dir",
        "--ephemeral",
        "--strict-auth",
        "--credential",
        "--log-format",
    ] {
        assert!(
            start.contains(flag),
            "`ssam local start` lacks {flag}:\n{start}"
        );
    }
}
