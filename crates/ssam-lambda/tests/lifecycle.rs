//! Lifecycle behaviours seen through the logs: asynchronous invocations and their retries,
//! idle reaping, EAGER prewarming.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use ssam_lambda::{InvokeRequest, LambdaService, LogListener, ServiceOptions};

#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl LogListener for Lines {
    fn line(&self, function: &str, line: &str) {
        self.0.lock().unwrap().push(format!("{function}: {line}"));
    }
}

impl Lines {
    fn count(&self, needle: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    async fn wait_for(&self, needle: &str, n: usize) -> bool {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if self.count(needle) >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

fn with_lines(
    specs: Vec<ssam_lambda::FunctionSpec>,
    options: ServiceOptions,
) -> (Arc<LambdaService>, Arc<Lines>) {
    let lines = Arc::new(Lines::default());
    let svc = LambdaService::with_listener(specs, options, Some(lines.clone()));
    (svc, lines)
}

#[tokio::test]
async fn event_invocation_runs_once_on_success() {
    let (svc, lines) = with_lines(vec![python_fn("Ev", "app.logs")], options());
    svc.invoke_async(InvokeRequest::new("Ev", "{}"))
        .await
        .expect("queued");
    assert!(lines.wait_for("Ev: printed line", 1).await);
    assert!(lines.wait_for("Ev: REPORT RequestId", 1).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(lines.count("Ev: START RequestId"), 1);
    svc.shutdown().await;
}

#[tokio::test]
async fn failed_event_invocation_is_retried_twice() {
    let (svc, lines) = with_lines(vec![python_fn("EvFail", "app.fail")], options());
    svc.invoke_async(InvokeRequest::new("EvFail", "{}"))
        .await
        .expect("queued");
    assert!(
        lines.wait_for("EvFail: START RequestId", 3).await,
        "{:?}",
        lines.0.lock().unwrap()
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        lines.count("EvFail: START RequestId"),
        3,
        "1 attempt + 2 retries"
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn event_invocations_wait_for_a_free_instance_instead_of_throttling() {
    let mut spec = python_fn("EvOne", "app.sleep");
    spec.reserved_concurrency = Some(1);
    let (svc, lines) = with_lines(vec![spec], options());
    for _ in 0..3 {
        svc.invoke_async(InvokeRequest::new("EvOne", r#"{"seconds": 0.2}"#))
            .await
            .expect("queued, not throttled");
    }
    assert!(lines.wait_for("EvOne: REPORT RequestId", 3).await);
    assert_eq!(
        lines.count("Init Duration"),
        1,
        "one instance served all three"
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn idle_instances_are_reaped() {
    let options = ServiceOptions {
        idle_timeout: Some(Duration::from_millis(300)),
        ..options()
    };
    let svc = LambdaService::new(vec![python_fn("Idle", "app.pid")], options);
    let resp = svc
        .invoke(InvokeRequest::new("Idle", "{}"))
        .await
        .expect("invoke");
    let pid = json(&resp.payload).as_i64().unwrap();
    let proc_dir = format!("/proc/{pid}");
    let until = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&proc_dir).exists()
        && !std::fs::read_to_string(format!("{proc_dir}/status"))
            .unwrap_or_default()
            .contains("zombie")
        && Instant::now() < until
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = std::fs::read_to_string(format!("{proc_dir}/status")).unwrap_or_default();
    assert!(
        status.is_empty() || status.contains("zombie"),
        "still running: {status}"
    );
    let again = svc
        .invoke(InvokeRequest::new("Idle", "{}"))
        .await
        .expect("invoke");
    assert!(
        again.init_duration.is_some(),
        "a reaped function cold-starts"
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn prewarm_makes_the_first_invoke_warm() {
    let svc = service(vec![python_fn("Warm", "app.hello")]);
    svc.prewarm("Warm").await.expect("prewarm");
    let resp = svc
        .invoke(InvokeRequest::new("Warm", "{}"))
        .await
        .expect("invoke");
    assert!(resp.init_duration.is_none());
    svc.shutdown().await;
}

#[tokio::test]
async fn unsupported_runtime_is_an_init_error_not_a_panic() {
    let svc = service(vec![ssam_lambda::FunctionSpec::new(
        "J",
        "java21",
        "x::y",
        fixture("python"),
    )]);
    let resp = svc
        .invoke(InvokeRequest::new("J", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), Some("Unhandled"));
    assert_eq!(json(&resp.payload)["errorType"], "Runtime.InvalidRuntime");
    let svc = service(vec![ssam_lambda::FunctionSpec::new(
        "P",
        "provided.al2",
        "x",
        fixture("python"),
    )]);
    let resp = svc
        .invoke(InvokeRequest::new("P", "{}"))
        .await
        .expect("invoke");
    assert_eq!(
        json(&resp.payload)["errorType"],
        "Runtime.InvalidEntrypoint"
    );
}

#[tokio::test]
async fn output_without_newlines_is_split_not_buffered_forever() {
    let opts = ServiceOptions {
        print_logs: false,
        ..options()
    };
    let (svc, lines) = with_lines(vec![python_fn("Flood", "app.flood")], opts);
    let resp = svc
        .invoke(InvokeRequest::new("Flood", "{}"))
        .await
        .expect("invoke");
    assert_eq!(&resp.payload[..], b"\"ok\"");
    assert!(lines.wait_for("Flood: yyyy", 3).await);
    let longest = lines
        .0
        .lock()
        .unwrap()
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(0);
    assert!(longest <= 256 * 1024 + "Flood: ".len(), "{longest}");
    svc.shutdown().await;
}

#[tokio::test]
async fn layers_are_on_the_python_path_and_path() {
    let mut spec = python_fn("Layered", "app.uses_layer");
    spec.layers.push(fixture("layer"));
    let svc = service(vec![spec]);
    let resp = svc
        .invoke(InvokeRequest::new("Layered", "{}"))
        .await
        .expect("invoke");
    assert_eq!(
        resp.function_error(),
        None,
        "{}",
        String::from_utf8_lossy(&resp.payload)
    );
    let v = json(&resp.payload);
    assert_eq!(v["greeting"], "hello from the layer, x");
    assert_eq!(v["tool"], "tool-from-layer");
    svc.shutdown().await;
}

#[tokio::test]
async fn recycle_starts_fresh_instances() {
    let svc = service(vec![python_fn("Rec", "app.pid")]);
    let a = svc
        .invoke(InvokeRequest::new("Rec", "{}"))
        .await
        .expect("invoke");
    let b = svc
        .invoke(InvokeRequest::new("Rec", "{}"))
        .await
        .expect("invoke");
    assert_eq!(a.payload, b.payload, "warm: same process");
    svc.recycle("Rec").expect("recycle");
    let c = svc
        .invoke(InvokeRequest::new("Rec", "{}"))
        .await
        .expect("invoke");
    assert_ne!(a.payload, c.payload, "a new process after recycle");
    assert!(c.init_duration.is_some());
    svc.shutdown().await;
}

fn gone(pid: i64) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.is_empty() || status.contains("zombie")
}

#[tokio::test]
async fn killing_a_sandbox_kills_what_the_function_spawned() {
    let mut spec = python_fn("Spawner", "app.spawn_child");
    spec.timeout = Duration::from_secs(2);
    let svc = service(vec![spec]);
    let resp = svc
        .invoke(InvokeRequest::new("Spawner", "{}"))
        .await
        .expect("invoke");
    let child = json(&resp.payload).as_i64().expect("child pid");
    assert!(
        !gone(child),
        "the function's child runs while the instance is warm"
    );
    svc.shutdown().await;
    let until = Instant::now() + Duration::from_secs(3);
    while !gone(child) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone(child), "orphan left behind: {child}");
}

#[tokio::test]
async fn init_that_never_asks_for_work_times_out() {
    let opts = ServiceOptions {
        init_timeout: Duration::from_millis(500),
        ..options()
    };
    let (svc, lines) = with_lines(
        vec![ssam_lambda::FunctionSpec::new(
            "Hang",
            "provided.al2023",
            "x",
            fixture("provided_hang"),
        )],
        opts,
    );
    let t = Instant::now();
    let resp = svc
        .invoke(InvokeRequest::new("Hang", "{}"))
        .await
        .expect("invoke");
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(resp.failure, Some(ssam_lambda::FailureKind::Init));
    assert_eq!(json(&resp.payload)["errorType"], "Sandbox.Timedout");
    let child: i64 = lines
        .0
        .lock()
        .unwrap()
        .iter()
        .find_map(|l| {
            l.strip_prefix("Hang: child ")
                .and_then(|p| p.trim().parse().ok())
        })
        .expect("the bootstrap printed its child");
    let until = Instant::now() + Duration::from_secs(3);
    while !gone(child) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone(child), "the hung bootstrap's child survived");
    svc.shutdown().await;
}

#[tokio::test]
async fn node_es_modules() {
    let svc = service(vec![ssam_lambda::FunctionSpec::new(
        "Esm",
        "nodejs20.x",
        "app.handler",
        fixture("node_esm"),
    )]);
    let resp = svc
        .invoke(InvokeRequest::new("Esm", "{}"))
        .await
        .expect("invoke");
    assert_eq!(
        resp.function_error(),
        None,
        "{}",
        String::from_utf8_lossy(&resp.payload)
    );
    assert_eq!(json(&resp.payload)["esm"], true);
    svc.shutdown().await;
}

/// Lambda keeps a function's stdout and stderr in one log stream, in the order they were
/// written (<https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html>):
/// the same through the log listener (`start-lambda`'s output) and `LogType: Tail`. A
/// multi-threaded runtime, as `start-lambda`'s, is where two pipes read by two tasks went
/// out of order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_and_stderr_lines_keep_the_order_they_were_written_in() {
    let (svc, lines) = with_lines(
        vec![
            python_fn("Mixed", "app.interleaved_output"),
            node_fn("NMixed", "app.interleavedOutput"),
        ],
        options(),
    );
    let expected: Vec<String> = (0..15)
        .flat_map(|i| [format!("line {i} stdout"), format!("line {i} stderr")])
        .collect();
    let ours = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.find("line ").map(|i| l[i..].to_string()))
            .filter(|l| l.ends_with(" stdout") || l.ends_with(" stderr"))
            .collect()
    };
    for name in ["Mixed", "NMixed"] {
        for _ in 0..3 {
            lines.0.lock().unwrap().clear();
            let mut req = InvokeRequest::new(name, r#"{"n": 15}"#);
            req.log_tail = true;
            let resp = svc.invoke(req).await.expect("invoke");
            assert_eq!(resp.function_error(), None, "{:?}", resp.payload);
            let tail = tail_text(&resp);
            assert_eq!(ours(&tail), expected, "{name}, tail:\n{tail}");
            let prefix = format!("{name}: ");
            let listened: String = lines
                .0
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.starts_with(&prefix))
                .map(|l| format!("{l}\n"))
                .collect();
            assert_eq!(ours(&listened), expected, "{name}, listener:\n{listened}");
        }
    }
    svc.shutdown().await;
}
