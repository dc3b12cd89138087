//! AWS's own runtime clients against ssam's Runtime API: awslambdaric (Python), the
//! `lambda_runtime` crate (Rust), and a strict protocol probe (a `provided` bootstrap).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use ssam_lambda::{FailureKind, FunctionSpec, InvokeRequest};

#[tokio::test]
async fn awslambdaric_success() {
    let svc = service(vec![ric_fn("Ric", "app.handler")]);
    let mut req = InvokeRequest::new("Ric", r#"{"name":"ric"}"#);
    req.trace_id =
        Some("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".into());
    let resp = svc.invoke(req).await.expect("invoke");
    assert_eq!(
        resp.function_error(),
        None,
        "{}",
        String::from_utf8_lossy(&resp.payload)
    );
    let v = json(&resp.payload);
    assert_eq!(v["hello"], "ric");
    assert_eq!(v["request_id"], resp.request_id.as_str());
    assert_eq!(v["function_name"], "Ric");
    assert_eq!(
        v["arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:Ric"
    );
    assert_eq!(v["remaining_ok"], true);
    assert!(v["trace"].as_str().unwrap().starts_with("Root=1-5759e988"));
    // Warm: the same awslambdaric process answers again.
    let again = svc
        .invoke(InvokeRequest::new("Ric", "{}"))
        .await
        .expect("invoke");
    assert!(again.init_duration.is_none());
    assert_eq!(json(&again.payload)["hello"], "world");
    svc.shutdown().await;
}

#[tokio::test]
async fn awslambdaric_errors() {
    let svc = service(vec![
        ric_fn("RicFail", "app.fail"),
        ric_fn("RicMissing", "nomodule.handler"),
    ]);
    let resp = svc
        .invoke(InvokeRequest::new("RicFail", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.failure, Some(FailureKind::Function));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "RuntimeError");
    assert_eq!(v["errorMessage"], "ric boom");
    // The runtime survives a handled error.
    let resp = svc
        .invoke(InvokeRequest::new("RicFail", "{}"))
        .await
        .expect("invoke");
    assert!(resp.init_duration.is_none());
    let resp = svc
        .invoke(InvokeRequest::new("RicMissing", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.failure, Some(FailureKind::Init));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.ImportModuleError");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap()
            .contains("No module named 'nomodule'"),
        "{v}"
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn awslambdaric_timeout_and_oversize_response() {
    let mut slow = ric_fn("RicSlow", "app.sleep");
    slow.timeout = Duration::from_secs(1);
    let svc = service(vec![slow, ric_fn("RicBig", "app.big")]);
    let resp = svc
        .invoke(InvokeRequest::new("RicSlow", r#"{"seconds": 3}"#))
        .await
        .expect("invoke");
    assert_eq!(resp.failure, Some(FailureKind::Timeout));
    let resp = svc
        .invoke(InvokeRequest::new("RicBig", r#"{"n": 7000000}"#))
        .await
        .expect("invoke");
    assert_eq!(resp.failure, Some(FailureKind::ResponseTooLarge));
    assert_eq!(
        json(&resp.payload)["errorType"],
        "Function.ResponseSizeTooLarge"
    );
    // AWS's text: the limit, not the response's size.
    assert_eq!(
        json(&resp.payload)["errorMessage"],
        "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
    );
    // The next invocation gets a fresh runtime and works.
    let resp = svc
        .invoke(InvokeRequest::new("RicBig", r#"{"n": 10}"#))
        .await
        .expect("invoke");
    assert_eq!(&resp.payload[..], b"\"xxxxxxxxxx\"");
    svc.shutdown().await;
}

/// The example `rust_fn` (built with `lambda_runtime`), as a `provided.al2023` bootstrap.
fn rust_fn_dir() -> PathBuf {
    // Integration tests live in target/<profile>/deps; examples in target/<profile>/examples.
    let exe = std::env::current_exe().expect("test exe");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = profile_dir.join("examples").join("rust_fn");
    if !bin.exists() {
        // `cargo test` builds examples, but not when a single test target is selected.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.args(["build", "-q", "-p", "ssam-lambda", "--example", "rust_fn"]);
        if profile_dir.ends_with("release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo");
        assert!(status.success(), "building the rust_fn example failed");
    }
    assert!(bin.exists(), "{} is missing", bin.display());
    let dir = std::env::temp_dir().join(format!("ssam-rust-fn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bootstrap = dir.join("bootstrap");
    let _ = std::fs::remove_file(&bootstrap);
    std::os::unix::fs::symlink(&bin, &bootstrap).unwrap();
    dir
}

#[tokio::test]
async fn lambda_runtime_crate() {
    let spec = FunctionSpec::new("RustFn", "provided.al2023", "bootstrap", rust_fn_dir());
    let svc = service(vec![spec]);
    let resp = svc
        .invoke(InvokeRequest::new("RustFn", r#"{"name":"crab"}"#))
        .await
        .expect("invoke");
    assert_eq!(
        resp.function_error(),
        None,
        "{}",
        String::from_utf8_lossy(&resp.payload)
    );
    let v = json(&resp.payload);
    assert_eq!(v["hello"], "crab");
    assert_eq!(v["request_id"], resp.request_id.as_str());
    assert_eq!(
        v["function_arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:RustFn"
    );
    let remaining = v["remaining_ms"].as_u64().unwrap();
    assert!(
        remaining > 2000 && remaining <= 3000,
        "deadline is epoch ms from Timeout: {remaining}"
    );
    let resp = svc
        .invoke(InvokeRequest::new("RustFn", r#"{"fail": true}"#))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), Some("Unhandled"));
    assert_eq!(json(&resp.payload)["errorMessage"], "rust boom");
    let resp = svc
        .invoke(InvokeRequest::new("RustFn", "{}"))
        .await
        .expect("invoke");
    assert!(resp.init_duration.is_none(), "still warm after an error");
    svc.shutdown().await;
}

#[tokio::test]
async fn runtime_api_protocol_probe() {
    let mut spec = FunctionSpec::new(
        "Probe",
        "provided",
        "probe.handler",
        fixture("provided_probe"),
    );
    spec.env.insert("FROM_ENV_VARS".into(), "yes".into());
    spec.memory_mb = 256;
    let svc = service(vec![spec]);
    let mut req = InvokeRequest::new("Probe", r#"{"mode":"ok"}"#);
    req.client_context = Some("{\"custom\":{}}".into());
    let resp = svc.invoke(req).await.expect("invoke");
    assert_eq!(
        resp.function_error(),
        None,
        "{}",
        String::from_utf8_lossy(&resp.payload)
    );
    let v = json(&resp.payload);
    assert_eq!(v["next_status"], 200);
    let h = &v["headers"];
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(h["lambda-runtime-aws-request-id"], resp.request_id.as_str());
    assert_eq!(
        h["lambda-runtime-invoked-function-arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:Probe"
    );
    assert_eq!(h["lambda-runtime-client-context"], "{\"custom\":{}}");
    assert!(h["lambda-runtime-trace-id"]
        .as_str()
        .unwrap()
        .starts_with("Root=1-"));
    let deadline: u64 = h["lambda-runtime-deadline-ms"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = v["now_ms"].as_u64().unwrap();
    assert!(
        deadline > now + 2500 && deadline <= now + 3000,
        "deadline {deadline} now {now}"
    );
    assert_eq!(v["wrong_id"][0], 400);
    assert_eq!(v["wrong_id"][1]["errorType"], "InvalidRequestID");
    let env = &v["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "Probe");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/Probe");
    assert!(env["AWS_LAMBDA_LOG_STREAM_NAME"]
        .as_str()
        .unwrap()
        .contains("/[$LATEST]"));
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "us-east-1");
    assert_eq!(env["AWS_EXECUTION_ENV"], "AWS_Lambda_provided");
    assert_eq!(env["_HANDLER"], "probe.handler");
    assert_eq!(env["FROM_ENV_VARS"], "yes");
    let api = env["AWS_LAMBDA_RUNTIME_API"].as_str().unwrap();
    assert!(
        api.starts_with("127.0.0.1:") && !api.contains('/'),
        "bare host:port: {api}"
    );

    // The second invocation reports how the first one's repeated post was answered.
    let mut req = InvokeRequest::new("Probe", r#"{"mode":"ok"}"#);
    req.log_tail = true;
    let resp = svc.invoke(req).await.expect("invoke");
    let v = json(&resp.payload);
    assert_eq!(
        v["old_id_status"], 400,
        "a finished invocation's id is no longer valid"
    );

    // Header-only error: Lambda builds the error from Lambda-Runtime-Function-Error-Type.
    let resp = svc
        .invoke(InvokeRequest::new(
            "Probe",
            r#"{"mode":"error-header-only"}"#,
        ))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), Some("Unhandled"));
    assert_eq!(json(&resp.payload)["errorType"], "Custom.Thing");

    // Over 6291556 bytes: 413 to the runtime, Function.ResponseSizeTooLarge to the caller.
    let mut req = InvokeRequest::new("Probe", r#"{"mode":"big"}"#);
    req.log_tail = true;
    let resp = svc.invoke(req).await.expect("invoke");
    assert_eq!(resp.failure, Some(FailureKind::ResponseTooLarge));
    assert_eq!(
        json(&resp.payload)["errorType"],
        "Function.ResponseSizeTooLarge"
    );
    // (What the runtime itself is answered, 413 then 403, is pinned in runtime_api's unit tests:
    // the instance is killed right after an oversize response, before a probe could report.)
    svc.shutdown().await;
}

#[tokio::test]
async fn probe_sees_403_on_a_second_answer() {
    let svc = service(vec![FunctionSpec::new(
        "Probe2",
        "provided",
        "h",
        fixture("provided_probe"),
    )]);
    let _ = svc
        .invoke(InvokeRequest::new("Probe2", r#"{"mode":"ok"}"#))
        .await
        .expect("invoke");
    // The probe's findings about its second post on the same id come with the next call.
    let resp = svc
        .invoke(InvokeRequest::new("Probe2", r#"{"mode":"ok"}"#))
        .await
        .expect("invoke");
    let v = json(&resp.payload);
    assert_eq!(v["second_post"][0], 403, "{v}");
    assert_eq!(v["second_post"][1]["errorType"], "InvalidStateTransition");
    assert_eq!(v["response_status"][0], 202);
    assert_eq!(v["response_status"][1]["status"], "OK");
    svc.shutdown().await;
}
