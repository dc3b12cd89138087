//! The Lambda Telemetry API (2022-07-01) of one instance: extensions subscribe with
//! `PUT /2022-07-01/telemetry`, and ssam POSTs them JSON arrays of events (`platform.*`,
//! `function` and `extension` log lines) to the HTTP destination they named, batched by their
//! `buffering` settings.
//!
//! The spec is AWS's "Lambda Telemetry API reference" and "Lambda Telemetry API `Event`
//! schema reference" (<https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api-reference.html>,
//! `telemetry-schema-reference.html`, schema version 2022-12-13). Destinations name
//! `sandbox.localdomain`, the execution environment's own host on Lambda; natively that is
//! this machine, so ssam delivers to 127.0.0.1 at the same port.
//!
//! Events of the init phase are kept until init ends and replayed to each subscriber, as
//! extensions subscribe during init and still receive `platform.initStart`.
//!
//! The older Logs API (`PUT /2020-08-15/logs`, "Lambda Logs API" in AWS's guide), which
//! extensions written before the Telemetry API still use, is served from the same streams:
//! a subscriber says which API it subscribed with, and [`logs_api_events`] gives each event
//! its Logs API form (`platform.start`, `platform.end`, `platform.report`,
//! `platform.runtimeDone` from schema 2021-03-18, `platform.extension`,
//! `platform.logsSubscription`; no `platform.init*`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::Router;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::extensions::{api_error, identify, ExtHub};

/// Which stream an event belongs to (the subscription's `types`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Platform,
    Function,
    Extension,
}

impl Kind {
    /// As subscriptions name it (`types`).
    fn name(self) -> &'static str {
        match self {
            Kind::Platform => "platform",
            Kind::Function => "function",
            Kind::Extension => "extension",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Kind::Platform => 1,
            Kind::Function => 2,
            Kind::Extension => 4,
        }
    }
}

/// The execution environment's own host name on Lambda, which telemetry destinations name.
pub(crate) const SANDBOX_HOST: &str = "sandbox.localdomain";

/// Init-phase events kept for late subscribers, at most this many.
const BACKLOG_MAX: usize = 1000;

/// Which API a subscriber used: the events' shapes differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// The Telemetry API (2022-07-01).
    Telemetry,
    /// The Logs API (2020-08-15); `runtime_done` when subscribed with schema 2021-03-18.
    Logs { runtime_done: bool },
}

struct Subscriber {
    /// The extension that subscribed: subscribing again replaces its subscription.
    extension: String,
    api: Api,
    types: u8,
    tx: mpsc::UnboundedSender<Bytes>,
}

impl Subscriber {
    /// Sends `ev` in this subscriber's API's form, if it subscribed to its kind.
    fn send(&self, ev: &Stamped) {
        if self.types & ev.kind.bit() == 0 {
            return;
        }
        match self.api {
            Api::Telemetry => {
                if telemetry_has(ev.event_type) {
                    let _ = self.tx.send(ev.encode(ev.event_type, &ev.record));
                }
            }
            Api::Logs { runtime_done } => {
                if ev.event_type == "platform.runtimeDone" && !runtime_done {
                    return;
                }
                for (event_type, record) in logs_api_events(ev.event_type, &ev.record) {
                    let _ = self.tx.send(ev.encode(event_type, &record));
                }
            }
        }
    }
}

/// One event as it happened, before it is given an API's form.
struct Stamped {
    kind: Kind,
    time: String,
    event_type: &'static str,
    record: Value,
}

impl Stamped {
    fn encode(&self, event_type: &str, record: &Value) -> Bytes {
        Bytes::from(json!({ "time": self.time, "type": event_type, "record": record }).to_string())
    }
}

#[derive(Default)]
struct Inner {
    subscribers: Vec<Subscriber>,
    /// Events since init began, while it lasts (`None` once init is over, or when the
    /// instance has no external extension to subscribe).
    backlog: Option<Vec<Stamped>>,
}

/// The telemetry streams of one instance.
#[derive(Default)]
pub(crate) struct Telemetry {
    inner: Mutex<Inner>,
    /// Someone may want events: a subscriber, or an init backlog being kept. Checked first,
    /// so instances without subscribers build nothing.
    listening: AtomicBool,
}

/// Buffering as the subscription gives it, within the documented bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Buffering {
    pub max_items: usize,
    pub max_bytes: usize,
    pub timeout: Duration,
}

impl Default for Buffering {
    /// The documented defaults: 1,000 events, 256 KB, 1,000 ms.
    fn default() -> Self {
        Buffering {
            max_items: 1000,
            max_bytes: 256 * 1024,
            timeout: Duration::from_millis(1000),
        }
    }
}

impl Telemetry {
    /// Streams that keep init events for subscribers to come when `collect` (the instance
    /// starts external extensions).
    pub(crate) fn new(collect: bool) -> Self {
        Telemetry {
            inner: Mutex::new(Inner {
                subscribers: Vec::new(),
                backlog: collect.then(Vec::new),
            }),
            listening: AtomicBool::new(collect),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Init is over: no more backlog.
    pub(crate) fn end_init(&self) {
        let mut inner = self.lock();
        inner.backlog = None;
        self.listening
            .store(!inner.subscribers.is_empty(), Ordering::Release);
    }

    /// One event (`{"time", "type", "record"}`) to every subscriber of its kind, in the
    /// form of the API it subscribed with.
    pub(crate) fn emit(&self, kind: Kind, event_type: &'static str, record: Value) {
        if !self.listening() {
            return;
        }
        let event = Stamped {
            kind,
            time: now_ms(),
            event_type,
            record,
        };
        let mut inner = self.lock();
        for s in &inner.subscribers {
            s.send(&event);
        }
        if let Some(b) = &mut inner.backlog {
            if b.len() < BACKLOG_MAX {
                b.push(event);
            }
        }
    }

    /// A line the function (or an extension) wrote.
    pub(crate) fn log_line(&self, kind: Kind, line: &str) {
        let name = if kind == Kind::Extension {
            "extension"
        } else {
            "function"
        };
        self.emit(kind, name, Value::String(line.to_string()));
    }

    /// Subscribes `extension` (its id) through `api`; `Err` when it already subscribed with
    /// the other API, which Lambda refuses.
    fn subscribe(
        &self,
        extension: &str,
        api: Api,
        types: u8,
        destination: http::Uri,
        buffering: Buffering,
    ) -> Result<(), String> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut inner = self.lock();
        if let Some(other) = inner
            .subscribers
            .iter()
            .find(|s| s.extension == extension && is_telemetry(s.api) != is_telemetry(api))
        {
            return Err(format!(
                "this extension already subscribed with the {} API; an extension subscribes with the Telemetry API or the Logs API, not both",
                api_name(other.api)
            ));
        }
        inner.subscribers.retain(|s| s.extension != extension);
        let subscriber = Subscriber {
            extension: extension.to_string(),
            api,
            types,
            tx,
        };
        if let Some(backlog) = &inner.backlog {
            for ev in backlog {
                subscriber.send(ev);
            }
        }
        inner.subscribers.push(subscriber);
        self.listening.store(true, Ordering::Release);
        tokio::spawn(deliver(rx, destination, buffering));
        Ok(())
    }

    /// `platform.telemetrySubscription` / `platform.logsSubscription`, once subscribed.
    fn platform_subscription(&self, api: Api, name: &str, types: u8) {
        let names: Vec<&str> = [Kind::Platform, Kind::Function, Kind::Extension]
            .into_iter()
            .filter(|k| types & k.bit() != 0)
            .map(Kind::name)
            .collect();
        let event_type = match api {
            Api::Telemetry => "platform.telemetrySubscription",
            Api::Logs { .. } => "platform.logsSubscription",
        };
        self.emit(
            Kind::Platform,
            event_type,
            json!({ "name": name, "state": "Subscribed", "types": names }),
        );
    }

    pub(crate) fn platform_init_start(&self, function: &str) {
        self.emit(
            Kind::Platform,
            "platform.initStart",
            json!({
                "initializationType": "on-demand",
                "phase": "init",
                "functionName": function,
                "functionVersion": "$LATEST",
            }),
        );
    }

    pub(crate) fn platform_init_runtime_done(&self, status: &str, error_type: Option<&str>) {
        let mut record = json!({
            "initializationType": "on-demand",
            "phase": "init",
            "status": status,
        });
        if let Some(t) = error_type {
            record["errorType"] = Value::String(t.to_string());
        }
        self.emit(Kind::Platform, "platform.initRuntimeDone", record);
    }

    pub(crate) fn platform_init_report(&self, status: &str, duration: Duration) {
        self.emit(
            Kind::Platform,
            "platform.initReport",
            json!({
                "initializationType": "on-demand",
                "phase": "init",
                "status": status,
                "metrics": { "durationMs": ms(duration) },
            }),
        );
    }

    pub(crate) fn platform_extension(&self, name: &str, events: &[&str]) {
        self.emit(
            Kind::Platform,
            "platform.extension",
            json!({ "name": name, "state": "Ready", "events": events }),
        );
    }

    pub(crate) fn platform_start(&self, request_id: &str, trace_id: &str) {
        if !self.listening() {
            return;
        }
        self.emit(
            Kind::Platform,
            "platform.start",
            json!({
                "requestId": request_id,
                "version": "$LATEST",
                "tracing": { "type": "X-Amzn-Trace-Id", "value": trace_id },
            }),
        );
    }

    pub(crate) fn platform_runtime_done(
        &self,
        request_id: &str,
        status: &str,
        duration: Duration,
        produced_bytes: usize,
    ) {
        if !self.listening() {
            return;
        }
        self.emit(
            Kind::Platform,
            "platform.runtimeDone",
            json!({
                "requestId": request_id,
                "status": status,
                "metrics": { "durationMs": ms(duration), "producedBytes": produced_bytes },
            }),
        );
    }

    pub(crate) fn platform_report(&self, request_id: &str, status: &str, r: &crate::logs::Report) {
        if !self.listening() {
            return;
        }
        let duration = ms(r.duration);
        let mut metrics = json!({
            "durationMs": duration,
            "billedDurationMs": (duration.ceil() as u64).max(1),
            "memorySizeMB": r.memory_mb,
            "maxMemoryUsedMB": r.max_memory_used_mb,
        });
        if let Some(init) = r.init_duration {
            metrics["initDurationMs"] = json!(ms(init));
        }
        self.emit(
            Kind::Platform,
            "platform.report",
            json!({ "requestId": request_id, "status": status, "metrics": metrics }),
        );
    }
}

/// Whether the Telemetry API has this event (the Logs API's own are not sent to it).
fn telemetry_has(event_type: &str) -> bool {
    event_type != "platform.logsSubscription"
}

/// The Logs API's form of an event: the events it has (AWS's "Lambda Logs API", "Log
/// messages"), with their records as it documents them. `platform.report` is preceded by
/// `platform.end`; the init phase's events and `platform.telemetrySubscription` have none.
fn logs_api_events(event_type: &'static str, record: &Value) -> Vec<(&'static str, Value)> {
    let request_id = || json!({ "requestId": record["requestId"] });
    match event_type {
        "function" | "extension" | "platform.extension" | "platform.logsSubscription" => {
            vec![(event_type, record.clone())]
        }
        "platform.start" => vec![(
            event_type,
            json!({ "requestId": record["requestId"], "version": record["version"] }),
        )],
        "platform.runtimeDone" => {
            // Logs API statuses: success, failure, timeout.
            let status = record["status"]
                .as_str()
                .filter(|s| matches!(*s, "success" | "timeout"))
                .unwrap_or("failure");
            vec![(
                event_type,
                json!({ "requestId": record["requestId"], "status": status }),
            )]
        }
        "platform.report" => vec![
            ("platform.end", request_id()),
            (
                event_type,
                json!({ "requestId": record["requestId"], "metrics": record["metrics"] }),
            ),
        ],
        _ => Vec::new(),
    }
}

/// Telemetry, or else Logs whatever its schema.
fn is_telemetry(api: Api) -> bool {
    matches!(api, Api::Telemetry)
}

fn api_name(api: Api) -> &'static str {
    match api {
        Api::Telemetry => "Telemetry",
        Api::Logs { .. } => "Logs",
    }
}

/// Milliseconds with two decimals, as the schema's `durationMs`.
fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

/// `2022-10-12T00:00:15.064Z`, as events are stamped.
fn now_ms() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// Sends batches to one subscriber until its stream ends (the instance is gone), then the
/// rest. A batch that cannot be delivered is tried again with backoff (1.5 s in all), then
/// dropped.
async fn deliver(mut rx: mpsc::UnboundedReceiver<Bytes>, to: http::Uri, buffering: Buffering) {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, http_body_util::Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut batch: Vec<Bytes> = Vec::new();
    let mut size = 0usize;
    let mut deadline = tokio::time::Instant::now();
    loop {
        let next = if batch.is_empty() {
            rx.recv().await.map(Some)
        } else {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(ev) => ev.map(Some),
                Err(_) => Some(None),
            }
        };
        match next {
            Some(Some(ev)) => {
                if batch.is_empty() {
                    deadline = tokio::time::Instant::now() + buffering.timeout;
                }
                size += ev.len();
                batch.push(ev);
                if batch.len() >= buffering.max_items || size >= buffering.max_bytes {
                    post(&client, &to, std::mem::take(&mut batch)).await;
                    size = 0;
                }
            }
            // The buffering timeout passed.
            Some(None) => {
                post(&client, &to, std::mem::take(&mut batch)).await;
                size = 0;
            }
            None => {
                if !batch.is_empty() {
                    post(&client, &to, batch).await;
                }
                return;
            }
        }
    }
}

/// Waits before each new attempt at a batch that could not be delivered: Lambda retries
/// "with backoff if there is no listener, or if the POST or PUT request results in an
/// error" (AWS's "Lambda Logs API", Destination protocols), for instance a listener that
/// starts after its extension subscribed.
const RETRY_BACKOFF: [Duration; 4] = [
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(400),
    Duration::from_millis(800),
];

async fn post<C>(
    client: &hyper_util::client::legacy::Client<C, http_body_util::Full<Bytes>>,
    to: &http::Uri,
    batch: Vec<Bytes>,
) where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let mut body = BytesMut::with_capacity(batch.iter().map(|b| b.len() + 1).sum::<usize>() + 2);
    body.extend_from_slice(b"[");
    for (i, ev) in batch.iter().enumerate() {
        if i > 0 {
            body.extend_from_slice(b",");
        }
        body.extend_from_slice(ev);
    }
    body.extend_from_slice(b"]");
    let body = body.freeze();
    for backoff in std::iter::once(Duration::ZERO).chain(RETRY_BACKOFF) {
        tokio::time::sleep(backoff).await;
        let req = http::Request::post(to.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(body.clone()));
        let Ok(req) = req else {
            return;
        };
        match tokio::time::timeout(Duration::from_secs(5), client.request(req)).await {
            Ok(Ok(resp)) => {
                let status = resp.status();
                let _ = resp.into_body().collect().await;
                if status.is_success() {
                    return;
                }
                tracing::debug!("telemetry delivery to {to} answered {status}");
            }
            Ok(Err(e)) => tracing::debug!("telemetry delivery to {to} failed: {e}"),
            // A listener that does not answer in 5 s is not waited on again.
            Err(_) => {
                tracing::debug!("telemetry delivery to {to} timed out");
                return;
            }
        }
    }
    tracing::debug!("telemetry batch to {to} dropped after retries");
}

/// The Telemetry API and Logs API routes, merged into the instance's Runtime API server.
pub(crate) fn router(hub: Arc<ExtHub>) -> Router {
    Router::new()
        .route("/2022-07-01/telemetry", put(subscribe_telemetry))
        .route("/2022-07-01/telemetry/", put(subscribe_telemetry))
        .route("/2020-08-15/logs", put(subscribe_logs))
        .route("/2020-08-15/logs/", put(subscribe_logs))
        .with_state(hub)
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscribeBody {
    schema_version: Option<String>,
    destination: Option<Destination>,
    types: Option<Vec<String>>,
    #[serde(default)]
    buffering: Option<BufferingBody>,
}

#[derive(serde::Deserialize)]
struct Destination {
    protocol: Option<String>,
    #[serde(rename = "URI")]
    uri: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BufferingBody {
    max_items: Option<i64>,
    max_bytes: Option<i64>,
    timeout_ms: Option<i64>,
}

/// Which API a subscription request came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Through {
    Telemetry,
    Logs,
}

fn invalid(through: Through, message: &str) -> Response {
    let error_type = match through {
        Through::Telemetry => "ValidationError",
        // As the Logs API reference shows its 400 answers.
        Through::Logs => "Logs.ValidationError",
    };
    api_error(StatusCode::BAD_REQUEST, error_type, message)
}

/// A subscription request, checked against its API's reference.
#[derive(Debug)]
struct Subscription {
    api: Api,
    types: u8,
    uri: String,
    buffering: Buffering,
}

/// What a subscription asks for, checked against the Telemetry API reference or the Logs
/// API reference (`schemaVersion` optional there, 2020-08-15 by default; maxItems 10,000 by
/// default); `Err` is the message of the 400 answer.
fn parse_subscription(through: Through, body: &[u8]) -> Result<Subscription, String> {
    let b: SubscribeBody =
        serde_json::from_slice(body).map_err(|e| format!("invalid request body: {e}"))?;
    let api = match (through, b.schema_version.as_deref()) {
        (Through::Telemetry, Some("2022-07-01" | "2022-12-13" | "2025-01-29")) => Api::Telemetry,
        (Through::Telemetry, Some(v)) => {
            return Err(format!(
                "schemaVersion {v} is not supported (2022-07-01, 2022-12-13, 2025-01-29)"
            ))
        }
        (Through::Telemetry, None) => return Err("schemaVersion is required".into()),
        (Through::Logs, None | Some("2020-08-15")) => Api::Logs {
            runtime_done: false,
        },
        (Through::Logs, Some("2021-03-18")) => Api::Logs { runtime_done: true },
        (Through::Logs, Some(v)) => {
            return Err(format!(
                "schemaVersion {v} is not supported (2020-08-15, 2021-03-18)"
            ))
        }
    };
    let dest = b.destination.ok_or("destination is required")?;
    match dest.protocol.as_deref() {
        Some("HTTP") => {}
        Some("TCP") => {
            return Err("destination protocol TCP is not supported by ssam; use HTTP".into())
        }
        _ => return Err("destination protocol must be HTTP or TCP".into()),
    }
    let uri = dest.uri.ok_or("destination URI is required")?;
    let mut types = 0u8;
    for t in b.types.ok_or("types is required")? {
        types |= match t.as_str() {
            "platform" => Kind::Platform.bit(),
            "function" => Kind::Function.bit(),
            "extension" => Kind::Extension.bit(),
            other => {
                return Err(format!(
                    "unknown type {other} (platform, function, extension)"
                ))
            }
        };
    }
    if types == 0 {
        return Err("types should not be empty".into());
    }
    let mut buffering = Buffering::default();
    if through == Through::Logs {
        buffering.max_items = 10_000;
    }
    if let Some(bb) = b.buffering {
        // Documented bounds: maxItems 1,000..10,000, maxBytes 256 KB..1 MB, timeoutMs 25..30,000.
        if let Some(n) = bb.max_items {
            if !(1000..=10_000).contains(&n) {
                return Err(format!(
                    "buffering maxItems {n} is out of range (1000-10000)"
                ));
            }
            buffering.max_items = n as usize;
        }
        if let Some(n) = bb.max_bytes {
            if !(262_144..=1_048_576).contains(&n) {
                return Err(format!(
                    "buffering maxBytes {n} is out of range (262144-1048576)"
                ));
            }
            buffering.max_bytes = n as usize;
        }
        if let Some(n) = bb.timeout_ms {
            if !(25..=30_000).contains(&n) {
                return Err(format!(
                    "buffering timeoutMs {n} is out of range (25-30000)"
                ));
            }
            buffering.timeout = Duration::from_millis(n as u64);
        }
    }
    Ok(Subscription {
        api,
        types,
        uri,
        buffering,
    })
}

/// `sandbox.localdomain` (the execution environment's host name on Lambda) is this machine
/// natively: delivered to 127.0.0.1 at the same port. Only `http://` destinations.
pub(crate) fn local_destination(uri: &str) -> Result<http::Uri, String> {
    let parsed: http::Uri = uri
        .parse()
        .map_err(|e| format!("destination URI {uri} is invalid: {e}"))?;
    if parsed.scheme_str() != Some("http") {
        return Err(format!("destination URI {uri} must be http://"));
    }
    let host = parsed.host().unwrap_or_default();
    if host != SANDBOX_HOST && host != "sandbox" {
        return Ok(parsed);
    }
    let port = parsed.port_u16().unwrap_or(80);
    let path = parsed.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    format!("http://127.0.0.1:{port}{path}")
        .parse()
        .map_err(|e| format!("destination URI {uri} is invalid: {e}"))
}

async fn subscribe_telemetry(State(hub): State<Arc<ExtHub>>, req: Request) -> Response {
    subscribe(hub, Through::Telemetry, req).await
}

async fn subscribe_logs(State(hub): State<Arc<ExtHub>>, req: Request) -> Response {
    subscribe(hub, Through::Logs, req).await
}

async fn subscribe(hub: Arc<ExtHub>, through: Through, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let ext = match identify(&hub, &parts.headers) {
        Ok(e) => e,
        Err(r) => return r.into_response(),
    };
    let body = http_body_util::Limited::new(body, 64 * 1024)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let sub = match parse_subscription(through, &body) {
        Ok(s) => s,
        Err(m) => return invalid(through, &m),
    };
    let to = match local_destination(&sub.uri) {
        Ok(u) => u,
        Err(m) => return invalid(through, &m),
    };
    if let Err(m) = hub
        .telemetry
        .subscribe(&ext.id, sub.api, sub.types, to, sub.buffering)
    {
        return invalid(through, &m);
    }
    hub.telemetry
        .platform_subscription(sub.api, &ext.name, sub.types);
    tracing::debug!(
        "extension {} subscribed to the {} API at {}",
        ext.name,
        api_name(sub.api),
        sub.uri
    );
    (StatusCode::OK, "OK").into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn sandbox_localdomain_is_loopback() {
        assert_eq!(
            local_destination("http://sandbox.localdomain:4243/telemetry")
                .unwrap()
                .to_string(),
            "http://127.0.0.1:4243/telemetry"
        );
        assert_eq!(
            local_destination("http://127.0.0.1:9/")
                .unwrap()
                .to_string(),
            "http://127.0.0.1:9/"
        );
        assert!(local_destination("https://sandbox.localdomain:1").is_err());
        assert!(local_destination("not a uri").is_err());
    }

    #[test]
    fn subscription_bounds_as_documented() {
        let ok = br#"{"schemaVersion":"2022-12-13","destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:1"},"types":["platform","function"],"buffering":{"timeoutMs":25}}"#;
        let sub = parse_subscription(Through::Telemetry, ok).unwrap();
        assert_eq!(sub.types, Kind::Platform.bit() | Kind::Function.bit());
        assert_eq!(sub.api, Api::Telemetry);
        assert_eq!(sub.buffering.timeout, Duration::from_millis(25));
        assert_eq!(sub.buffering.max_items, 1000);
        for bad in [
            r#"{"destination":{"protocol":"HTTP","URI":"http://x:1"},"types":["platform"]}"#,
            r#"{"schemaVersion":"2022-12-13","destination":{"protocol":"HTTP","URI":"http://x:1"},"types":["logs"]}"#,
            r#"{"schemaVersion":"2022-12-13","destination":{"protocol":"HTTP","URI":"http://x:1"},"types":["platform"],"buffering":{"timeoutMs":5}}"#,
            r#"{"schemaVersion":"2022-12-13","destination":{"protocol":"HTTP","URI":"http://x:1"},"types":["platform"],"buffering":{"maxItems":10}}"#,
            r#"{"schemaVersion":"2022-12-13","types":["platform"]}"#,
            "not json",
        ] {
            assert!(
                parse_subscription(Through::Telemetry, bad.as_bytes()).is_err(),
                "{bad}"
            );
        }
    }

    /// AWS's "Lambda Logs API" reference: schemaVersion optional (2020-08-15), 2021-03-18
    /// adds platform.runtimeDone; maxItems 10,000 by default; empty types refused.
    #[test]
    fn logs_api_subscriptions_as_documented() {
        let dest = r#""destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:8080/lambda_logs"}"#;
        let plain = format!(r#"{{"types":["platform","function"],{dest}}}"#);
        let sub = parse_subscription(Through::Logs, plain.as_bytes()).unwrap();
        assert_eq!(
            sub.api,
            Api::Logs {
                runtime_done: false
            }
        );
        assert_eq!(sub.buffering.max_items, 10_000);
        let v2 = format!(
            r#"{{"schemaVersion":"2021-03-18","types":["platform"],"buffering":{{"maxItems":1000,"maxBytes":262144,"timeoutMs":100}},{dest}}}"#
        );
        let sub = parse_subscription(Through::Logs, v2.as_bytes()).unwrap();
        assert_eq!(sub.api, Api::Logs { runtime_done: true });
        assert_eq!(sub.buffering.max_items, 1000);
        for bad in [
            format!(r#"{{"schemaVersion":"2022-12-13","types":["platform"],{dest}}}"#),
            format!(r#"{{"types":[],{dest}}}"#),
        ] {
            assert!(
                parse_subscription(Through::Logs, bad.as_bytes()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn logs_api_forms_of_the_events() {
        let report =
            json!({"requestId": "r1", "status": "success", "metrics": {"durationMs": 1.5}});
        let forms = logs_api_events("platform.report", &report);
        assert_eq!(forms[0], ("platform.end", json!({"requestId": "r1"})));
        assert_eq!(
            forms[1],
            (
                "platform.report",
                json!({"requestId": "r1", "metrics": {"durationMs": 1.5}})
            )
        );
        let start = json!({"requestId": "r1", "version": "$LATEST", "tracing": {"type": "X-Amzn-Trace-Id"}});
        assert_eq!(
            logs_api_events("platform.start", &start),
            vec![(
                "platform.start",
                json!({"requestId": "r1", "version": "$LATEST"})
            )]
        );
        let error = json!({"requestId": "r1", "status": "error", "metrics": {}});
        assert_eq!(
            logs_api_events("platform.runtimeDone", &error)[0].1["status"],
            "failure"
        );
        assert!(logs_api_events("platform.initStart", &json!({})).is_empty());
        assert!(!telemetry_has("platform.logsSubscription"));
    }

    /// A listener that starts after its extension subscribed still gets the events: the
    /// batch is retried with backoff.
    #[tokio::test]
    async fn a_late_listener_gets_the_batch_on_a_retry() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        // A free port, closed until the listener starts.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let t = Telemetry::new(false);
        t.subscribe(
            "ext-1",
            Api::Telemetry,
            Kind::Function.bit(),
            local_destination(&format!("http://sandbox.localdomain:{port}/")).unwrap(),
            Buffering {
                timeout: Duration::from_millis(25),
                ..Buffering::default()
            },
        )
        .unwrap();
        t.log_line(Kind::Function, "sent before anyone listened");
        tokio::time::sleep(Duration::from_millis(250)).await;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let (mut sock, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept())
            .await
            .expect("a retry reaches the listener")
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("]") {
            let n = sock.read(&mut buf).await.unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        assert!(String::from_utf8_lossy(&got).contains("sent before anyone listened"));
        sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
    }

    /// "After subscribing using one of these APIs, any attempt to subscribe using the other
    /// API returns an error."
    #[tokio::test]
    async fn one_extension_subscribes_with_one_api() {
        let t = Telemetry::new(true);
        let to = local_destination("http://sandbox.localdomain:9/").unwrap();
        t.subscribe("ext-1", Api::Telemetry, 1, to.clone(), Buffering::default())
            .unwrap();
        // Again with the same API: replaces the subscription.
        t.subscribe("ext-1", Api::Telemetry, 3, to.clone(), Buffering::default())
            .unwrap();
        let err = t
            .subscribe(
                "ext-1",
                Api::Logs { runtime_done: true },
                1,
                to.clone(),
                Buffering::default(),
            )
            .unwrap_err();
        assert!(err.contains("Telemetry API"), "{err}");
        t.subscribe(
            "ext-2",
            Api::Logs {
                runtime_done: false,
            },
            1,
            to,
            Buffering::default(),
        )
        .unwrap();
    }

    #[tokio::test]
    async fn backlog_replayed_and_batches_posted() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let t = Telemetry::new(true);
        t.platform_init_start("Fn");
        t.log_line(Kind::Function, "hello from init");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        t.subscribe(
            "ext-1",
            Api::Telemetry,
            Kind::Platform.bit() | Kind::Function.bit(),
            local_destination(&format!("http://sandbox.localdomain:{port}/")).unwrap(),
            Buffering {
                timeout: Duration::from_millis(25),
                ..Buffering::default()
            },
        )
        .unwrap();
        t.end_init();
        t.log_line(Kind::Extension, "not subscribed");
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        while !String::from_utf8_lossy(&got).contains("]") {
            let n = sock.read(&mut buf).await.unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got).into_owned();
        let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
        let events: Vec<Value> = serde_json::from_str(body).unwrap();
        assert_eq!(events[0]["type"], "platform.initStart");
        assert_eq!(events[0]["record"]["functionName"], "Fn");
        assert_eq!(events[1]["type"], "function");
        assert_eq!(events[1]["record"], "hello from init");
        assert_eq!(events.len(), 2, "extension lines were not subscribed");
        assert!(events[0]["time"].as_str().unwrap().ends_with('Z'));
        sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
    }
}
