//! Asynchronous invocation limits from EventInvokeConfig: MaximumRetryAttempts and
//! MaximumEventAgeInSeconds (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html>).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use ssam_lambda::{InvokeRequest, LambdaService, LogListener, ServiceOptions};

#[derive(Default)]
struct Starts(Mutex<usize>);

impl LogListener for Starts {
    fn line(&self, _function: &str, line: &str) {
        if line.starts_with("START RequestId") {
            *self.0.lock().unwrap() += 1;
        }
    }
}

async fn attempts(max_retries: u32, max_age: Duration, retry_delay: Duration) -> usize {
    let mut spec = python_fn("Failing", "app.fail");
    spec.max_async_retries = max_retries;
    spec.max_event_age = max_age;
    let starts = Arc::new(Starts::default());
    let options = ServiceOptions {
        async_retry_delay: retry_delay,
        print_logs: false,
        ..options()
    };
    let svc = LambdaService::with_listener(vec![spec], options, Some(starts.clone()));
    svc.invoke_async(InvokeRequest::new("Failing", "{\"n\": 1}"))
        .await
        .expect("queued");
    // Long enough for every retry that may happen (delays double: d, 2d).
    tokio::time::sleep(retry_delay * 3 + Duration::from_secs(3)).await;
    svc.shutdown().await;
    let n = *starts.0.lock().unwrap();
    n
}

#[tokio::test]
async fn maximum_retry_attempts_bounds_the_attempts() {
    assert_eq!(
        attempts(1, Duration::from_secs(3600), Duration::from_millis(50)).await,
        2
    );
    assert_eq!(
        attempts(0, Duration::from_secs(3600), Duration::from_millis(50)).await,
        1
    );
}

#[tokio::test]
async fn events_older_than_maximum_event_age_are_dropped_not_retried() {
    // The first attempt fails; the retry would start after 1 s, when the event is too old.
    assert_eq!(
        attempts(2, Duration::from_millis(500), Duration::from_secs(1)).await,
        1
    );
}
