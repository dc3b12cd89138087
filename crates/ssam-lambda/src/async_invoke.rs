//! Asynchronous (Event) invocations: queued in the background, run when an instance is free,
//! retried on function errors with Lambda's backoff up to EventInvokeConfig's
//! MaximumRetryAttempts, dropped past MaximumEventAgeInSeconds. A dropped event is printed
//! with its payload, as a dead-letter queue would keep it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use crate::observe::AsyncEvent;
use crate::pool::Pool;
use crate::service::{InvokeRequest, LambdaService};

impl LambdaService {
    /// Runs `req` with Lambda's asynchronous retries; returns when it succeeded, was
    /// dropped, or the service shut down.
    pub(crate) async fn run_async(
        self: Arc<Self>,
        pool: Arc<Pool>,
        req: InvokeRequest,
        payload: Bytes,
    ) {
        let retries = pool.spec.max_async_retries;
        let mut delay = self.options.async_retry_delay;
        let queued = tokio::time::Instant::now();
        let mut last_error = String::from("no attempt ran");
        let mut req = req;
        req.log_tail = false;
        req.asynchronous = true;
        let observer = self.observer().cloned();
        let function = &pool.spec.name;
        let done = || {
            if let Some(o) = &observer {
                o.async_event(AsyncEvent::Done {
                    function: function.clone(),
                });
            }
        };
        for attempt in 0..=retries {
            // EventInvokeConfig MaximumEventAgeInSeconds: an event that waited too long
            // (retries included) is dropped, never run late.
            if queued.elapsed() > pool.spec.max_event_age {
                last_error = format!(
                    "the event is older than MaximumEventAgeInSeconds ({} s)",
                    pool.spec.max_event_age.as_secs()
                );
                break;
            }
            let Some(lease) = pool.lease().await else {
                done();
                return;
            };
            req.attempt = attempt;
            let resp = self.run_buffered(&pool, lease, &req, payload.clone()).await;
            if resp.failure.is_none() {
                done();
                return;
            }
            last_error = String::from_utf8_lossy(&resp.payload).into_owned();
            if attempt < retries {
                tracing::info!(
                    "{}: asynchronous invocation failed; retry {} of {retries} in {:.1} s",
                    pool.spec.name,
                    attempt + 1,
                    delay.as_secs_f64()
                );
                if let Some(o) = &observer {
                    o.async_event(AsyncEvent::Retrying {
                        function: function.clone(),
                        attempt: attempt + 1,
                        delay,
                        error: last_error.clone(),
                    });
                }
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
        done();
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        if let Some(o) = &observer {
            o.async_event(AsyncEvent::Dropped {
                function: function.clone(),
                attempts: retries + 1,
                error: last_error.trim().to_string(),
                payload: payload.clone(),
            });
        }
        // Nothing is lost silently: the event is printed so it can be replayed
        // (`ssam local invoke -e`), as a dead-letter queue would keep it on AWS.
        let event = String::from_utf8_lossy(&payload);
        let shown: String = event.chars().take(4096).collect();
        let cut = if shown.len() < event.len() {
            " (first 4 KB)"
        } else {
            ""
        };
        tracing::error!(
            "{}: asynchronous invocation dropped after {} attempt(s): {}\n  event{cut}: {shown}",
            pool.spec.name,
            retries + 1,
            last_error.trim()
        );
    }
}
