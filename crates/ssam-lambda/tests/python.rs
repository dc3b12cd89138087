//! The embedded Python bootstrap through the service: results, errors, limits, lifecycle.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;
use ssam_lambda::{FailureKind, FunctionSpec, InvokeError, InvokeRequest};

#[tokio::test]
async fn success_with_context_and_env() {
    let mut spec = python_fn("Hello", "app.handler");
    spec.env.insert("MY_VAR".into(), "from-template".into());
    let svc = service(vec![spec]);
    let resp = svc
        .invoke(InvokeRequest::new("Hello", r#"{"name":"ssam"}"#))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), None, "{:?}", resp.payload);
    let v = json(&resp.payload);
    assert_eq!(v["hello"], "ssam");
    assert_eq!(v["function_name"], "Hello");
    assert_eq!(v["memory"], "128");
    assert_eq!(v["request_id"], resp.request_id.as_str());
    assert_eq!(
        v["arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:Hello"
    );
    assert_eq!(v["remaining_ok"], true);
    assert_eq!(v["log_group"], "/aws/lambda/Hello");
    assert_eq!(v["my_var"], "from-template");
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(v["cwd"], fixture("python").to_str().unwrap());
    assert_eq!(v["tz"], ":UTC");
    assert!(resp.init_duration.is_some(), "first invoke is a cold start");
    let again = svc
        .invoke(InvokeRequest::new(
            "arn:aws:lambda:us-east-1:123456789012:function:Hello",
            "{}",
        ))
        .await
        .expect("invoke by ARN");
    assert!(again.init_duration.is_none(), "second invoke is warm");
    svc.shutdown().await;
}

#[tokio::test]
async fn unhandled_error_has_lambdas_shape() {
    let svc = service(vec![python_fn("Fail", "app.fail")]);
    let resp = svc
        .invoke(InvokeRequest::new("Fail", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), Some("Unhandled"));
    assert_eq!(resp.failure, Some(FailureKind::Function));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "ValueError");
    assert_eq!(v["errorMessage"], "boom");
    assert_eq!(v["requestId"], resp.request_id.as_str());
    let trace = v["stackTrace"].as_array().expect("stackTrace");
    assert!(
        trace.iter().any(|l| l.as_str().unwrap().contains("app.py")),
        "{trace:?}"
    );
    assert!(!trace
        .iter()
        .any(|l| l.as_str().unwrap().contains("bootstrap.py")));
    // The instance survives a reported error.
    let again = svc
        .invoke(InvokeRequest::new("Fail", "{}"))
        .await
        .expect("invoke");
    assert!(again.init_duration.is_none());
    svc.shutdown().await;
}

#[tokio::test]
async fn import_error_is_reported_as_init_error() {
    let svc = service(vec![ssam_lambda::FunctionSpec::new(
        "Broken",
        "python3.11",
        "app.handler",
        fixture("python_broken"),
    )]);
    let resp = svc
        .invoke(InvokeRequest::new("Broken", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.failure, Some(FailureKind::Init));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.ImportModuleError");
    assert_eq!(
        v["errorMessage"],
        "Unable to import module 'app': No module named 'module_that_does_not_exist'"
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn handler_not_found() {
    let svc = service(vec![python_fn("Missing", "app.nope")]);
    let resp = svc
        .invoke(InvokeRequest::new("Missing", "{}"))
        .await
        .expect("invoke");
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.HandlerNotFound");
    assert_eq!(v["errorMessage"], "Handler 'nope' missing on module 'app'");
}

#[tokio::test]
async fn timeout_kills_and_next_invoke_is_cold() {
    let mut spec = python_fn("Slow", "app.sleep");
    spec.timeout = Duration::from_secs(1);
    let svc = service(vec![spec]);
    let t = Instant::now();
    let resp = svc
        .invoke(InvokeRequest::new("Slow", r#"{"seconds": 5}"#))
        .await
        .expect("invoke");
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(resp.failure, Some(FailureKind::Timeout));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Sandbox.Timedout");
    assert_eq!(
        v["errorMessage"],
        format!(
            "RequestId: {} Error: Task timed out after 1.00 seconds",
            resp.request_id
        )
    );
    let next = svc
        .invoke(InvokeRequest::new("Slow", r#"{"seconds": 0}"#))
        .await
        .expect("invoke");
    assert_eq!(next.function_error(), None);
    assert!(
        next.init_duration.is_some(),
        "after a timeout the next invoke cold-starts"
    );
    svc.shutdown().await;
}

/// Lambda stops a function that goes over its MemorySize: `Runtime.OutOfMemory`, "signal:
/// killed", Max Memory Used at the limit, and the next invocation starts a new sandbox.
/// <https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html>
#[tokio::test]
async fn going_over_memory_size_is_out_of_memory_and_the_sandbox_is_replaced() {
    let mut small = python_fn("Hog", "app.hog");
    small.memory_mb = 128;
    let mut big = python_fn("BigHog", "app.hog");
    big.memory_mb = 512;
    let svc = service(vec![small, big]);
    let mut req = InvokeRequest::new("Hog", r#"{"mb": 300}"#);
    req.log_tail = true;
    let resp = svc.invoke(req).await.expect("invoke");
    assert_eq!(resp.failure, Some(FailureKind::Crash));
    assert_eq!(resp.function_error(), Some("Unhandled"));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.OutOfMemory");
    assert_eq!(
        v["errorMessage"],
        format!(
            "RequestId: {} Error: Runtime exited with error: signal: killed",
            resp.request_id
        )
    );
    let tail = base64::engine::general_purpose::STANDARD
        .decode(resp.log_tail.expect("tail"))
        .expect("base64");
    let tail = String::from_utf8(tail).expect("utf8");
    assert!(
        tail.contains("Memory Size: 128 MB\tMax Memory Used: 128 MB"),
        "{tail}"
    );
    let next = svc
        .invoke(InvokeRequest::new("Hog", r#"{"mb": 1}"#))
        .await
        .expect("invoke");
    assert_eq!(next.function_error(), None, "{:?}", json(&next.payload));
    assert!(next.init_duration.is_some(), "a new sandbox after the kill");
    // The same work within a MemorySize that holds it.
    let ok = svc
        .invoke(InvokeRequest::new("BigHog", r#"{"mb": 300}"#))
        .await
        .expect("invoke");
    assert_eq!(ok.function_error(), None, "{:?}", json(&ok.payload));
    assert_eq!(json(&ok.payload), 300);
    svc.shutdown().await;
}

/// Going over MemorySize during init (a module that allocates at import) fails the same way.
#[tokio::test]
async fn going_over_memory_size_during_init_is_out_of_memory() {
    let mut small = FunctionSpec::new(
        "InitHog",
        "python3.11",
        "app.handler",
        fixture("python_hog"),
    );
    small.memory_mb = 128;
    let mut big = FunctionSpec::new(
        "InitHogBig",
        "python3.11",
        "app.handler",
        fixture("python_hog"),
    );
    big.memory_mb = 512;
    let svc = service(vec![small, big]);
    let resp = svc
        .invoke(InvokeRequest::new("InitHog", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), Some("Unhandled"));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.OutOfMemory", "{v}");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .ends_with("Error: Runtime exited with error: signal: killed"),
        "{v}"
    );
    let ok = svc
        .invoke(InvokeRequest::new("InitHogBig", "{}"))
        .await
        .expect("invoke");
    assert_eq!(ok.function_error(), None, "{:?}", json(&ok.payload));
    assert_eq!(json(&ok.payload), 300);
    svc.shutdown().await;
}

#[tokio::test]
async fn crash_is_exit_error_and_instance_is_replaced() {
    let svc = service(vec![
        python_fn("Crash", "app.crash"),
        python_fn("Pid", "app.pid"),
    ]);
    let resp = svc
        .invoke(InvokeRequest::new("Crash", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.failure, Some(FailureKind::Crash));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.ExitError");
    assert_eq!(
        v["errorMessage"],
        format!(
            "RequestId: {} Error: Runtime exited with error: exit status 3",
            resp.request_id
        )
    );
    let again = svc
        .invoke(InvokeRequest::new("Crash", "{}"))
        .await
        .expect("invoke");
    assert_eq!(again.failure, Some(FailureKind::Crash));
    svc.shutdown().await;
}

#[tokio::test]
async fn oversize_request_is_refused_not_truncated() {
    let svc = service(vec![python_fn("Size", "app.size")]);
    let body = format!("\"{}\"", "a".repeat(6_291_456));
    let err = svc
        .invoke(InvokeRequest::new("Size", body))
        .await
        .expect_err("over the limit");
    assert!(matches!(err, InvokeError::RequestTooLarge { .. }));
    assert_eq!(err.status(), 413);
    assert_eq!(err.error_type(), "RequestEntityTooLargeException");
    assert_eq!(
        err.to_string(),
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    );
    // Just under the limit goes through whole.
    let body = format!("\"{}\"", "a".repeat(6_291_456 - 2));
    let resp = svc
        .invoke(InvokeRequest::new("Size", body))
        .await
        .expect("invoke");
    assert_eq!(json(&resp.payload)["len"], 6_291_456);
    svc.shutdown().await;
}

#[tokio::test]
async fn oversize_response_is_function_error() {
    let svc = service(vec![python_fn("Big", "app.big")]);
    let resp = svc
        .invoke(InvokeRequest::new("Big", r#"{"n": 7000000}"#))
        .await
        .expect("invoke");
    assert_eq!(resp.failure, Some(FailureKind::ResponseTooLarge));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Function.ResponseSizeTooLarge");
    // AWS's wording, without the response's size (the Runtime Interface Emulator's and
    // Lambda's error document; the limit is Lambda's 6 MB quota,
    // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
    assert_eq!(
        v["errorMessage"],
        "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
    );
    let ok = svc
        .invoke(InvokeRequest::new("Big", r#"{"n": 6000000}"#))
        .await
        .expect("invoke");
    assert_eq!(ok.function_error(), None);
    assert_eq!(ok.payload.len(), 6_000_002);
    svc.shutdown().await;
}

#[tokio::test]
async fn invalid_json_is_refused() {
    let svc = service(vec![python_fn("Echo", "app.echo")]);
    let err = svc
        .invoke(InvokeRequest::new("Echo", "not json"))
        .await
        .expect_err("invalid");
    assert_eq!(err.error_type(), "InvalidRequestContentException");
    let err = svc
        .invoke(InvokeRequest::new("Nope", "{}"))
        .await
        .expect_err("unknown");
    assert_eq!(err.status(), 404);
    assert_eq!(
        err.to_string(),
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:Nope"
    );
}

#[tokio::test]
async fn parallel_requests_run_concurrently_up_to_the_limit() {
    let mut spec = python_fn("Par", "app.sleep");
    spec.reserved_concurrency = Some(16);
    let svc = service(vec![spec]);
    let burst = |seconds: f64| {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let svc = svc.clone();
                let body = format!(r#"{{"seconds": {seconds}}}"#);
                tokio::spawn(async move { svc.invoke(InvokeRequest::new("Par", body)).await })
            })
            .collect();
        async move {
            for t in tasks {
                let r = t.await.expect("join").expect("invoke");
                assert_eq!(r.function_error(), None, "{:?}", r.payload);
            }
        }
    };
    // The first burst cold-starts 16 interpreters (slow on 2 busy cores); the claim is
    // about the second: 16 x 1 s handlers take about one handler duration, not 16.
    burst(0.0).await;
    let t = Instant::now();
    burst(1.0).await;
    assert!(
        t.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        t.elapsed()
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn over_the_concurrency_limit_is_429() {
    let mut spec = python_fn("Lim", "app.sleep");
    spec.reserved_concurrency = Some(2);
    let svc = service(vec![spec]);
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let svc = svc.clone();
        tasks.push(tokio::spawn(async move {
            svc.invoke(InvokeRequest::new("Lim", r#"{"seconds": 1}"#))
                .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let err = svc
        .invoke(InvokeRequest::new("Lim", r#"{"seconds": 0}"#))
        .await
        .expect_err("throttled");
    assert!(matches!(err, InvokeError::TooManyRequests));
    assert_eq!(err.status(), 429);
    for t in tasks {
        t.await.expect("join").expect("invoke");
    }
    svc.shutdown().await;
}

#[tokio::test]
async fn tail_has_the_invocation_log_and_report() {
    let svc = service(vec![python_fn("Logs", "app.logs")]);
    let mut req = InvokeRequest::new("Logs", "{}");
    req.log_tail = true;
    let resp = svc.invoke(req).await.expect("invoke");
    let tail = base64::engine::general_purpose::STANDARD
        .decode(resp.log_tail.expect("tail"))
        .expect("base64");
    let tail = String::from_utf8(tail).expect("utf8");
    assert!(
        tail.contains(&format!("START RequestId: {}", resp.request_id)),
        "{tail}"
    );
    assert!(tail.contains("printed line"), "{tail}");
    assert!(tail.contains("[INFO]"), "{tail}");
    assert!(tail.contains("logged line"), "{tail}");
    assert!(
        tail.contains(&format!("END RequestId: {}", resp.request_id)),
        "{tail}"
    );
    assert!(tail.contains("Max Memory Used: "), "{tail}");
    assert!(tail.contains("Init Duration: "), "{tail}");
    svc.shutdown().await;
}

#[tokio::test]
async fn bytes_results_and_marshal_errors() {
    let svc = service(vec![
        python_fn("Raw", "app.raw"),
        python_fn("Set", "app.not_json"),
    ]);
    let resp = svc
        .invoke(InvokeRequest::new("Raw", "{}"))
        .await
        .expect("invoke");
    assert_eq!(&resp.payload[..], b"raw-bytes");
    let resp = svc
        .invoke(InvokeRequest::new("Set", "{}"))
        .await
        .expect("invoke");
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.MarshalError");
    svc.shutdown().await;
}

#[tokio::test]
async fn event_invocations_run_in_the_background() {
    let svc = service(vec![python_fn("Ev", "app.echo")]);
    svc.invoke_async(InvokeRequest::new("Ev", "{}"))
        .await
        .expect("queued");
    let err = svc
        .invoke_async(InvokeRequest::new(
            "Ev",
            format!("\"{}\"", "a".repeat(1_048_577)),
        ))
        .await
        .expect_err("over the async limit");
    assert_eq!(
        err.to_string(),
        "Request must be smaller than 1048576 bytes for the InvokeFunction operation"
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn shutdown_leaves_no_process() {
    let svc = service(vec![python_fn("Pid", "app.pid")]);
    let resp = svc
        .invoke(InvokeRequest::new("Pid", "{}"))
        .await
        .expect("invoke");
    let pid: i32 = json(&resp.payload).as_i64().expect("pid") as i32;
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    svc.shutdown().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    assert!(status.is_empty() || status.contains("zombie"), "{status}");
}

#[tokio::test]
async fn clean_exit_is_an_exit_error_without_a_reason() {
    let svc = service(vec![python_fn("Bye", "app.clean_exit")]);
    let resp = svc
        .invoke(InvokeRequest::new("Bye", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.failure, Some(FailureKind::Crash));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.ExitError");
    assert_eq!(
        v["errorMessage"],
        format!(
            "RequestId: {} Error: Runtime exited without providing a reason",
            resp.request_id
        )
    );
    svc.shutdown().await;
}

/// Powertools for AWS Lambda (Python)'s Logger prints each record once, as on Lambda:
/// awslambdaric installs the root logger's handler before it imports the handler module
/// (its bootstrap's `run`: `_setup_logging`, then `_get_handler`), so the Logger finds that
/// handler and adds its de-duplication filter to it. The same code under awslambdaric is
/// the reference. <https://docs.powertools.aws.dev/lambda/python/latest/core/logger/>
#[tokio::test]
async fn powertools_logger_prints_each_record_once_as_under_awslambdaric() {
    let mut ssam = FunctionSpec::new(
        "Pt",
        "python3.11",
        "app.handler",
        fixture("python_powertools"),
    );
    // Powertools as a layer, as it is usually deployed.
    ssam.layers.push(powertools_site_packages());
    let ric = ric_fn_in("PtRic", "app.handler", fixture("python_powertools"));
    let svc = service(vec![ssam, ric]);
    for name in ["PtRic", "Pt"] {
        for _ in 0..2 {
            let mut req = InvokeRequest::new(name, "{}");
            req.log_tail = true;
            let resp = svc.invoke(req).await.expect("invoke");
            assert_eq!(
                resp.function_error(),
                None,
                "{name}: {}",
                String::from_utf8_lossy(&resp.payload)
            );
            let tail = tail_text(&resp);
            let lines: Vec<&str> = tail
                .lines()
                .filter(|l| l.contains("powertools record"))
                .collect();
            assert_eq!(lines.len(), 1, "{name}: one line per record:\n{tail}");
            let record = json(lines[0].as_bytes());
            assert_eq!(record["level"], "INFO", "{name}: {tail}");
            assert_eq!(record["service"], "orders", "{name}: {tail}");
        }
    }
    svc.shutdown().await;
}

/// The directory holding the test venv's aws-lambda-powertools (`scripts/setup-venv`).
fn powertools_site_packages() -> std::path::PathBuf {
    let out = ssam_testkit::run_python(
        "import os, sys\n\
         try:\n    import aws_lambda_powertools as p\n\
         except ImportError as e:\n    sys.exit('%s: run scripts/setup-venv' % e)\n\
         print(os.path.dirname(os.path.dirname(p.__file__)))",
        &[],
    );
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Without Cognito, `context.identity` is still an object whose fields are None, as
/// awslambdaric builds it (`LambdaContext.identity = make_obj_from_dict(CognitoIdentity,
/// {})`), so `context.identity.cognito_identity_id` does not raise.
/// <https://docs.aws.amazon.com/lambda/latest/dg/python-context.html>
#[tokio::test]
async fn identity_without_cognito_has_none_fields_as_under_awslambdaric() {
    let svc = service(vec![
        ric_fn("IdRic", "app.identity"),
        python_fn("Id", "app.identity"),
    ]);
    for name in ["IdRic", "Id"] {
        let resp = svc
            .invoke(InvokeRequest::new(name, "{}"))
            .await
            .expect("invoke");
        assert_eq!(
            resp.function_error(),
            None,
            "{name}: {}",
            String::from_utf8_lossy(&resp.payload)
        );
        assert_eq!(
            json(&resp.payload),
            serde_json::json!({"cognito_identity_id": null, "cognito_identity_pool_id": null}),
            "{name}"
        );
    }
    svc.shutdown().await;
}
