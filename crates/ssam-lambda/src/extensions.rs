//! Lambda extensions: the executables a function's layers ship in `extensions/` (what
//! `/opt/extensions` is on Lambda), started as their own processes before the runtime, and the
//! Extensions API (2020-01-01) they talk to on the instance's Runtime API port.
//!
//! The spec is AWS's "Using the Lambda Extensions API to create extensions"
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html>): extensions
//! register (`Lambda-Extension-Name`, the events they want), then long-poll `event/next`.
//! Init ends once the runtime and every registered extension have called next; an invocation
//! ends once the runtime answered and every INVOKE subscriber called next again; on shutdown
//! SHUTDOWN subscribers get [`SHUTDOWN_DEADLINE`] before they are killed. Error types and
//! messages follow the Runtime Interface Emulator (`rapi/handler/constants.go`), which is
//! Lambda's own code.
//!
//! The lifecycle state of every extension lives in one `watch` value, so the instance waits
//! for "all registered", "all ready" or "all done with this invocation" without polling.
//! Instances whose function has no extension never register one: their invocations check one
//! atomic flag.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use http_body_util::BodyExt as _;
use tokio::sync::{mpsc, watch};

use crate::telemetry::Telemetry;

pub(crate) const HDR_NAME: &str = "lambda-extension-name";
pub(crate) const HDR_IDENTIFIER: &str = "lambda-extension-identifier";
pub(crate) const HDR_ERROR_TYPE: &str = "lambda-extension-function-error-type";
pub(crate) const HDR_ACCEPT_FEATURE: &str = "lambda-extension-accept-feature";
pub(crate) const HDR_EVENT_IDENTIFIER: &str = "lambda-extension-event-identifier";

/// How long extensions subscribed to SHUTDOWN get before they are killed: "2,000 ms for a
/// function with one or more registered external extensions" (Extensions API, Shutdown phase).
pub(crate) const SHUTDOWN_DEADLINE: Duration = Duration::from_millis(2000);

/// Lambda's limit on extensions per function (Extensions API, "Extension.TooManyExtensions").
const MAX_EXTENSIONS: usize = 10;

/// The external extensions of a function: executable files directly in each layer's
/// `extensions/` directory. Layers are extracted into `/opt` in order, so a later layer's file
/// replaces an earlier one of the same name; Lambda starts them in name order.
pub(crate) fn discover(layers: &[PathBuf]) -> Vec<PathBuf> {
    let mut by_name: std::collections::BTreeMap<String, PathBuf> = Default::default();
    for layer in layers {
        let Ok(entries) = std::fs::read_dir(layer.join("extensions")) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if crate::interpreter::is_executable(&path) {
                by_name.insert(entry.file_name().to_string_lossy().into_owned(), path);
            }
        }
    }
    by_name.into_values().collect()
}

/// The file name an external extension registers with.
pub(crate) fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Where one extension is in its lifecycle.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Phase {
    /// Registered; has not called `event/next` yet (still initialising).
    Registered,
    /// Called `event/next`: ready, `outstanding` events not yet answered by another next.
    Ready { outstanding: u32 },
    /// Posted `init/error` with this error type.
    InitError(String),
    /// Posted `exit/error` with this error type.
    ExitError(String),
}

/// One registered extension.
#[derive(Clone, Debug)]
pub(crate) struct Ext {
    pub id: String,
    pub name: String,
    /// Started by ssam from a layer (else registered by the runtime process: internal).
    pub external: bool,
    pub invoke: bool,
    pub shutdown: bool,
    pub phase: Phase,
    /// The last event handed out has not been acknowledged by a next call yet.
    delivered: bool,
}

/// Every extension's lifecycle state, watched by the instance.
#[derive(Clone, Debug, Default)]
pub(crate) struct HubState {
    pub exts: Vec<Ext>,
    /// External extensions whose process ended: (name, how, as Lambda words an exit).
    pub exited: Vec<(String, String)>,
    /// Init is over: registration is closed.
    pub init_done: bool,
}

/// Why the extensions failed an instance's init (or its invocation).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExtFailure {
    /// `Extension.InitError`, `Extension.ExitError`, `Extension.Crash`.
    pub error_type: &'static str,
    pub name: String,
    /// What happened, for the error message and the log.
    pub detail: String,
}

impl HubState {
    /// The first extension failure, as Lambda reports it (`fatalerror.go` of the emulator).
    pub(crate) fn failure(&self) -> Option<ExtFailure> {
        for e in &self.exts {
            match &e.phase {
                Phase::InitError(t) => {
                    return Some(ExtFailure {
                        error_type: "Extension.InitError",
                        name: e.name.clone(),
                        detail: t.clone(),
                    })
                }
                Phase::ExitError(t) => {
                    return Some(ExtFailure {
                        error_type: "Extension.ExitError",
                        name: e.name.clone(),
                        detail: t.clone(),
                    })
                }
                _ => {}
            }
        }
        self.exited.first().map(|(name, how)| ExtFailure {
            error_type: "Extension.Crash",
            name: name.clone(),
            detail: how.clone(),
        })
    }

    fn find(&self, id: &str) -> Option<&Ext> {
        self.exts.iter().find(|e| e.id == id)
    }

    fn find_mut(&mut self, id: &str) -> Option<&mut Ext> {
        self.exts.iter_mut().find(|e| e.id == id)
    }

    /// Every external extension ssam started has registered.
    fn all_registered(&self, external: &[String]) -> bool {
        external
            .iter()
            .all(|n| self.exts.iter().any(|e| e.external && &e.name == n))
    }

    /// Every registered extension called next (init), and answered every event it was given.
    fn all_idle(&self) -> bool {
        self.exts
            .iter()
            .all(|e| matches!(e.phase, Phase::Ready { outstanding: 0 }))
    }
}

/// What the register answer tells an extension about the function.
pub(crate) struct FunctionInfo {
    pub name: String,
    pub handler: String,
    pub account_id: String,
}

/// One extension's event queue.
struct Queue {
    tx: mpsc::UnboundedSender<Bytes>,
    rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Bytes>>>,
}

/// The Extensions API state of one instance.
pub(crate) struct ExtHub {
    /// File names of the external extensions ssam started for this instance.
    external: Vec<String>,
    state: watch::Sender<HubState>,
    queues: Mutex<HashMap<String, Queue>>,
    function: FunctionInfo,
    /// Set by the first registration: instances without extensions check only this.
    active: AtomicBool,
    pub telemetry: Arc<Telemetry>,
}

impl ExtHub {
    pub(crate) fn new(external: Vec<String>, function: FunctionInfo) -> Arc<Self> {
        let external_empty = external.is_empty();
        Arc::new(ExtHub {
            external,
            state: watch::channel(HubState::default()).0,
            queues: Mutex::new(HashMap::new()),
            function,
            active: AtomicBool::new(false),
            telemetry: Arc::new(Telemetry::new(!external_empty)),
        })
    }

    /// Whether any extension registered (one atomic load: the hot path of functions without).
    pub(crate) fn active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub(crate) fn has_external(&self) -> bool {
        !self.external.is_empty()
    }

    pub(crate) fn snapshot(&self) -> HubState {
        self.state.borrow().clone()
    }

    fn queues(&self) -> std::sync::MutexGuard<'_, HashMap<String, Queue>> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The first external extension whose process ended, and how (`exit status 3`), for an
    /// instance with extensions; `None` otherwise (one atomic load without extensions).
    pub(crate) fn exited_extension(&self) -> Option<(String, String)> {
        if !self.active() {
            return None;
        }
        self.state.borrow().exited.first().cloned()
    }

    /// Records that an external extension's process ended.
    pub(crate) fn process_exited(&self, name: &str, how: String) {
        self.state
            .send_modify(|s| s.exited.push((name.to_string(), how)));
    }

    /// Closes registration: the runtime has asked for its first invocation and init is over.
    pub(crate) fn close_registration(&self) {
        self.state.send_modify(|s| s.init_done = true);
    }

    /// Waits until every external extension registered, or one failed.
    pub(crate) async fn registered(&self) -> Result<(), ExtFailure> {
        let mut rx = self.state.subscribe();
        let s = rx
            .wait_for(|s| s.all_registered(&self.external) || s.failure().is_some())
            .await
            .map(|s| s.clone())
            .unwrap_or_default();
        match s.failure() {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }

    /// Waits until every registered extension called next (and answered its events), or one
    /// failed.
    pub(crate) async fn idle(&self) -> Result<(), ExtFailure> {
        let mut rx = self.state.subscribe();
        let s = rx
            .wait_for(|s| s.all_idle() || s.failure().is_some())
            .await
            .map(|s| s.clone())
            .unwrap_or_default();
        match s.failure() {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }

    /// Waits until every extension answered its events with a next call, or ended (after a
    /// SHUTDOWN, exiting is the expected answer).
    pub(crate) async fn settled(&self) {
        let mut rx = self.state.subscribe();
        let _ = rx
            .wait_for(|s| {
                s.exts.iter().all(|e| {
                    matches!(
                        e.phase,
                        Phase::Ready { outstanding: 0 } | Phase::InitError(_) | Phase::ExitError(_)
                    ) || s.exited.iter().any(|(n, _)| *n == e.name)
                })
            })
            .await;
    }

    /// Whether any extension is still working on an event.
    pub(crate) fn busy(&self) -> bool {
        !self.state.borrow().all_idle()
    }

    /// Names of the extensions not done with their events (for messages).
    pub(crate) fn busy_names(&self) -> Vec<String> {
        self.state
            .borrow()
            .exts
            .iter()
            .filter(|e| !matches!(e.phase, Phase::Ready { outstanding: 0 }))
            .map(|e| e.name.clone())
            .collect()
    }

    /// Queues `event` for every extension `wants` selects; they count as busy until they call
    /// next again.
    fn push(&self, event: &Bytes, wants: impl Fn(&Ext) -> bool) -> bool {
        let mut targets = Vec::new();
        self.state.send_modify(|s| {
            for e in s.exts.iter_mut().filter(|e| wants(e)) {
                if let Phase::Ready { outstanding } = &mut e.phase {
                    *outstanding += 1;
                    targets.push(e.id.clone());
                }
            }
        });
        let queues = self.queues();
        for id in &targets {
            if let Some(q) = queues.get(id) {
                let _ = q.tx.send(event.clone());
            }
        }
        !targets.is_empty()
    }

    /// The INVOKE event for every extension subscribed to it.
    pub(crate) fn invoke(&self, request_id: &str, deadline_ms: u64, arn: &str, trace_id: &str) {
        let event = serde_json::json!({
            "eventType": "INVOKE",
            "deadlineMs": deadline_ms,
            "requestId": request_id,
            "invokedFunctionArn": arn,
            "tracing": { "type": "X-Amzn-Trace-Id", "value": trace_id },
        });
        self.push(&Bytes::from(event.to_string()), |e| e.invoke);
    }

    /// The SHUTDOWN event for every extension subscribed to it; false when there is none.
    pub(crate) fn shutdown(&self, reason: ShutdownReason, deadline_ms: u64) -> bool {
        let event = serde_json::json!({
            "eventType": "SHUTDOWN",
            "shutdownReason": reason.as_str(),
            "deadlineMs": deadline_ms,
        });
        self.push(&Bytes::from(event.to_string()), |e| e.shutdown)
    }

    /// Lines the function's log gets once init is over, as Lambda writes them:
    /// `EXTENSION\tName: x\tState: Ready\tEvents: [INVOKE, SHUTDOWN]`.
    pub(crate) fn report_lines(&self) -> Vec<String> {
        let s = self.state.borrow();
        s.exts
            .iter()
            .filter(|e| e.external)
            .map(|e| {
                let state = match &e.phase {
                    Phase::Registered => "Registered",
                    Phase::Ready { .. } => "Ready",
                    Phase::InitError(_) => "InitError",
                    Phase::ExitError(_) => "ExitError",
                };
                format!(
                    "EXTENSION\tName: {}\tState: {state}\tEvents: [{}]",
                    e.name,
                    events_of(e).join(", ")
                )
            })
            .collect()
    }
}

fn events_of(e: &Ext) -> Vec<&'static str> {
    let mut v = Vec::new();
    if e.invoke {
        v.push("INVOKE");
    }
    if e.shutdown {
        v.push("SHUTDOWN");
    }
    v
}

/// Why an execution environment shuts down (the SHUTDOWN event's `shutdownReason`; the
/// emulator sends these lowercase values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ShutdownReason {
    Spindown,
    Timeout,
    Failure,
}

impl ShutdownReason {
    fn as_str(self) -> &'static str {
        match self {
            ShutdownReason::Spindown => "spindown",
            ShutdownReason::Timeout => "timeout",
            ShutdownReason::Failure => "failure",
        }
    }
}

/// The Extensions API routes, merged into the instance's Runtime API server.
pub(crate) fn router(hub: Arc<ExtHub>) -> Router {
    Router::new()
        .route("/2020-01-01/extension/register", post(register))
        .route("/2020-01-01/extension/event/next", get(next))
        .route("/2020-01-01/extension/init/error", post(init_error))
        .route("/2020-01-01/extension/exit/error", post(exit_error))
        .with_state(hub)
}

/// `{"errorMessage", "errorType"}` with a status, as the Extensions API answers.
pub(crate) fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        crate::outcome::error_doc(error_type, message),
    )
        .into_response()
}

fn forbidden(error_type: &str, message: &str) -> Response {
    api_error(StatusCode::FORBIDDEN, error_type, message)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A refused Extensions API request: 403 with Lambda's error type.
pub(crate) struct Refused {
    error_type: &'static str,
    message: String,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        forbidden(self.error_type, &self.message)
    }
}

/// The caller's extension id, or why a request without a valid one is refused.
pub(crate) fn identify(hub: &ExtHub, headers: &HeaderMap) -> Result<Ext, Refused> {
    let Some(id) = header(headers, HDR_IDENTIFIER) else {
        return Err(Refused {
            error_type: "Extension.MissingExtensionIdentifier",
            message: "Missing Lambda-Extension-Identifier header".into(),
        });
    };
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(Refused {
            error_type: "Extension.InvalidExtensionIdentifier",
            message: "Invalid Lambda-Extension-Identifier".into(),
        });
    }
    hub.state.borrow().find(id).cloned().ok_or_else(|| Refused {
        error_type: "Extension.UnknownExtensionIdentifier",
        message: format!("Unknown extension {id}"),
    })
}

async fn read_body(req: Request) -> (HeaderMap, Bytes) {
    let (parts, body) = req.into_parts();
    let limit = http_body_util::Limited::new(body, 1024 * 1024);
    let bytes = limit
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    (parts.headers, bytes)
}

#[derive(serde::Deserialize)]
struct RegisterBody {
    #[serde(default)]
    events: Vec<String>,
}

async fn register(State(hub): State<Arc<ExtHub>>, req: Request) -> Response {
    let (headers, body) = read_body(req).await;
    let Some(name) = header(&headers, HDR_NAME).map(str::to_string) else {
        return forbidden("Extension.InvalidExtensionName", "Empty extension name");
    };
    let parsed: RegisterBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return forbidden("InvalidRequestFormat", &e.to_string()),
    };
    let external = hub.external.contains(&name);
    let (mut invoke, mut shutdown) = (false, false);
    for event in &parsed.events {
        match event.as_str() {
            "INVOKE" => invoke = true,
            "SHUTDOWN" if external => shutdown = true,
            "SHUTDOWN" => {
                return forbidden(
                    "Extension.InvalidEventType",
                    "SHUTDOWN: internal extensions cannot register for SHUTDOWN",
                )
            }
            other => {
                return forbidden(
                    "Extension.InvalidEventType",
                    &format!("{other}: unknown event type"),
                )
            }
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let mut refused = None;
    hub.state.send_if_modified(|s| {
        if let Some(prior) = s.exts.iter().find(|e| e.name == name) {
            let state = if matches!(prior.phase, Phase::Registered) {
                "Registered"
            } else {
                "Ready"
            };
            refused = Some(forbidden(
                "Extension.InvalidExtensionState",
                &format!(
                    "State transition from {state} to Registered failed for extension {name}. Error: the extension is already registered"
                ),
            ));
            return false;
        }
        // External extensions register before the runtime starts (in a container, where
        // they start beside it, any time until the instance's init ends); anything else
        // registers from inside the runtime process, until it asks for its first invocation.
        if s.init_done && !external {
            refused = Some(forbidden(
                "Extension.RegistrationClosed",
                "Extension registration closed already",
            ));
            return false;
        }
        if s.exts.len() >= MAX_EXTENSIONS {
            refused = Some(forbidden(
                "Extension.TooManyExtensions",
                &format!("Extension limit ({MAX_EXTENSIONS}) reached"),
            ));
            return false;
        }
        s.exts.push(Ext {
            id: id.clone(),
            name: name.clone(),
            external,
            invoke,
            shutdown,
            phase: Phase::Registered,
            delivered: false,
        });
        true
    });
    if let Some(r) = refused {
        return r;
    }
    let (tx, rx) = mpsc::unbounded_channel();
    hub.queues().insert(
        id.clone(),
        Queue {
            tx,
            rx: Arc::new(tokio::sync::Mutex::new(rx)),
        },
    );
    hub.active.store(true, Ordering::Release);
    // `accountId` only for callers that ask for it (Extensions API, Register: the
    // `Lambda-Extension-Accept-Feature: accountId` header).
    let wants_account = header(&headers, HDR_ACCEPT_FEATURE)
        .is_some_and(|v| v.split(',').any(|f| f.trim() == "accountId"));
    let mut doc = serde_json::json!({
        "functionName": hub.function.name,
        "functionVersion": "$LATEST",
        "handler": hub.function.handler,
    });
    if wants_account {
        doc["accountId"] = serde_json::Value::String(hub.function.account_id.clone());
    }
    let mut resp = (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HDR_IDENTIFIER, v);
    }
    resp
}

async fn next(State(hub): State<Arc<ExtHub>>, headers: HeaderMap) -> Response {
    let ext = match identify(&hub, &headers) {
        Ok(e) => e,
        Err(r) => return r.into_response(),
    };
    let mut refused = None;
    let mut first = false;
    hub.state.send_if_modified(|s| {
        let Some(e) = s.find_mut(&ext.id) else {
            return false;
        };
        match &mut e.phase {
            Phase::Registered => {
                first = true;
                e.phase = Phase::Ready { outstanding: 0 };
            }
            Phase::Ready { outstanding } => {
                // This call answers the event handed out by the previous one.
                if e.delivered {
                    *outstanding = outstanding.saturating_sub(1);
                    e.delivered = false;
                }
            }
            Phase::InitError(_) | Phase::ExitError(_) => {
                refused = Some(forbidden(
                    "Extension.InvalidExtensionState",
                    &format!(
                        "State transition from {:?} to Ready failed for extension {}. Error: the extension reported an error",
                        e.phase, ext.id
                    ),
                ));
                return false;
            }
        }
        true
    });
    if let Some(r) = refused {
        return r;
    }
    if first {
        hub.telemetry
            .platform_extension(&ext.name, &events_of(&ext));
    }
    let rx = hub.queues().get(&ext.id).map(|q| Arc::clone(&q.rx));
    let Some(rx) = rx else {
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Extension.ShuttingDown",
            "the execution environment is shutting down",
        );
    };
    let event = rx.lock().await.recv().await;
    let Some(event) = event else {
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Extension.ShuttingDown",
            "the execution environment is shutting down",
        );
    };
    hub.state.send_modify(|s| {
        if let Some(e) = s.find_mut(&ext.id) {
            e.delivered = true;
        }
    });
    let mut resp = (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, "application/json")],
        event,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        resp.headers_mut().insert(HDR_EVENT_IDENTIFIER, v);
    }
    resp
}

async fn init_error(State(hub): State<Arc<ExtHub>>, req: Request) -> Response {
    report_error(hub, req, true).await
}

async fn exit_error(State(hub): State<Arc<ExtHub>>, req: Request) -> Response {
    report_error(hub, req, false).await
}

/// `init/error` (allowed before the extension's first next) and `exit/error` (any time).
async fn report_error(hub: Arc<ExtHub>, req: Request, init: bool) -> Response {
    let (headers, _body) = read_body(req).await;
    let ext = match identify(&hub, &headers) {
        Ok(e) => e,
        Err(r) => return r.into_response(),
    };
    let Some(error_type) = header(&headers, HDR_ERROR_TYPE).map(str::to_string) else {
        return forbidden(
            "Extension.MissingHeader",
            "Lambda-Extension-Function-Error-Type not found",
        );
    };
    let mut refused = None;
    hub.state.send_if_modified(|s| {
        let Some(e) = s.find_mut(&ext.id) else {
            return false;
        };
        let allowed = match &e.phase {
            Phase::Registered => true,
            Phase::Ready { .. } => !init,
            Phase::InitError(_) | Phase::ExitError(_) => false,
        };
        if !allowed {
            let to = if init { "InitError" } else { "ExitError" };
            refused = Some(forbidden(
                "Extension.InvalidExtensionState",
                &format!(
                    "State transition from {:?} to {to} failed for extension {}. Error: not allowed in this state",
                    e.phase, ext.id
                ),
            ));
            return false;
        }
        e.phase = if init {
            Phase::InitError(error_type.clone())
        } else {
            Phase::ExitError(error_type.clone())
        };
        true
    });
    if let Some(r) = refused {
        return r;
    }
    (
        StatusCode::ACCEPTED,
        [(http::header::CONTENT_TYPE, "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn hub(external: &[&str]) -> Arc<ExtHub> {
        ExtHub::new(
            external.iter().map(|s| s.to_string()).collect(),
            FunctionInfo {
                name: "Fn".into(),
                handler: "app.handler".into(),
                account_id: "123456789012".into(),
            },
        )
    }

    async fn serve(hub: Arc<ExtHub>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router(hub)).await;
        });
        format!("http://{addr}/2020-01-01/extension")
    }

    #[test]
    fn discovery_takes_executables_later_layers_win_name_order() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for l in [&a, &b] {
            std::fs::create_dir_all(l.join("extensions")).unwrap();
        }
        let write = |p: PathBuf, exec: bool| {
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            let mode = if exec { 0o755 } else { 0o644 };
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        write(a.join("extensions/zeta"), true);
        write(a.join("extensions/shared"), true);
        write(a.join("extensions/readme.txt"), false);
        write(b.join("extensions/shared"), true);
        write(b.join("extensions/alpha"), true);
        let found = discover(&[a.clone(), b.clone()]);
        assert_eq!(
            found,
            vec![
                b.join("extensions/alpha"),
                b.join("extensions/shared"),
                a.join("extensions/zeta")
            ]
        );
        assert!(discover(&[dir.path().join("missing")]).is_empty());
    }

    #[tokio::test]
    async fn register_next_and_documented_errors() {
        let hub = hub(&["recorder"]);
        let base = serve(Arc::clone(&hub)).await;
        let client = reqwest::Client::new();
        // No name: Extension.InvalidExtensionName.
        let r = client
            .post(format!("{base}/register"))
            .body(r#"{"events":["INVOKE"]}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("Extension.InvalidExtensionName"));
        // Unknown event type.
        let r = client
            .post(format!("{base}/register"))
            .header("Lambda-Extension-Name", "recorder")
            .body(r#"{"events":["BOGUS"]}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("Extension.InvalidEventType"));
        let r = client
            .post(format!("{base}/register"))
            .header("Lambda-Extension-Name", "recorder")
            .header("Lambda-Extension-Accept-Feature", "accountId")
            .body(r#"{"events":["INVOKE","SHUTDOWN"]}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let id = r.headers()[HDR_IDENTIFIER].to_str().unwrap().to_string();
        let doc: serde_json::Value = r.json().await.unwrap();
        assert_eq!(doc["functionName"], "Fn");
        assert_eq!(doc["functionVersion"], "$LATEST");
        assert_eq!(doc["handler"], "app.handler");
        assert_eq!(doc["accountId"], "123456789012");
        hub.registered().await.unwrap();
        // Twice: refused.
        let r = client
            .post(format!("{base}/register"))
            .header("Lambda-Extension-Name", "recorder")
            .body(r#"{"events":[]}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // Unknown and missing identifiers.
        let r = client
            .get(format!("{base}/event/next"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("Extension.MissingExtensionIdentifier"));
        let r = client
            .get(format!("{base}/event/next"))
            .header(
                "Lambda-Extension-Identifier",
                uuid::Uuid::new_v4().to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("Extension.UnknownExtensionIdentifier"));
        assert!(hub.busy(), "not ready before its first next");
        // First next: ready, then waits for an event.
        let next = {
            let (client, base, id) = (client.clone(), base.clone(), id.clone());
            tokio::spawn(async move {
                client
                    .get(format!("{base}/event/next"))
                    .header("Lambda-Extension-Identifier", id)
                    .send()
                    .await
                    .unwrap()
            })
        };
        tokio::time::timeout(Duration::from_secs(5), hub.idle())
            .await
            .unwrap()
            .unwrap();
        hub.close_registration();
        let late = client
            .post(format!("{base}/register"))
            .header("Lambda-Extension-Name", "late")
            .body(r#"{"events":["INVOKE"]}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(late.status(), 403);
        assert!(late
            .text()
            .await
            .unwrap()
            .contains("Extension.RegistrationClosed"));
        hub.invoke(
            "req-1",
            42,
            "arn:aws:lambda:us-east-1:123456789012:function:Fn",
            "Root=1",
        );
        assert!(hub.busy(), "busy until it calls next again");
        let r = next.await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().contains_key(HDR_EVENT_IDENTIFIER));
        let ev: serde_json::Value = r.json().await.unwrap();
        assert_eq!(ev["eventType"], "INVOKE");
        assert_eq!(ev["requestId"], "req-1");
        assert_eq!(ev["deadlineMs"], 42);
        assert_eq!(ev["tracing"]["type"], "X-Amzn-Trace-Id");
        assert!(hub.busy());
        // Init error after init: refused; exit error: accepted.
        let r = client
            .post(format!("{base}/init/error"))
            .header("Lambda-Extension-Identifier", &id)
            .header("Lambda-Extension-Function-Error-Type", "Extension.Bad")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let r = client
            .post(format!("{base}/exit/error"))
            .header("Lambda-Extension-Identifier", &id)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "the error type header is required");
        let r = client
            .post(format!("{base}/exit/error"))
            .header("Lambda-Extension-Identifier", &id)
            .header("Lambda-Extension-Function-Error-Type", "Extension.Bad")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let f = hub.idle().await.unwrap_err();
        assert_eq!(f.error_type, "Extension.ExitError");
        assert_eq!(f.detail, "Extension.Bad");
    }

    #[tokio::test]
    async fn shutdown_event_and_crash() {
        let hub = hub(&["a"]);
        let base = serve(Arc::clone(&hub)).await;
        let client = reqwest::Client::new();
        let r = client
            .post(format!("{base}/register"))
            .header("Lambda-Extension-Name", "a")
            .body(r#"{"events":["SHUTDOWN"]}"#)
            .send()
            .await
            .unwrap();
        let id = r.headers()[HDR_IDENTIFIER].to_str().unwrap().to_string();
        let next = {
            let (client, base, id) = (client.clone(), base.clone(), id.clone());
            tokio::spawn(async move {
                client
                    .get(format!("{base}/event/next"))
                    .header("Lambda-Extension-Identifier", id)
                    .send()
                    .await
                    .unwrap()
                    .json::<serde_json::Value>()
                    .await
                    .unwrap()
            })
        };
        hub.idle().await.unwrap();
        // Not subscribed to INVOKE: an invocation does not make it busy.
        hub.invoke("r", 1, "arn", "t");
        assert!(!hub.busy());
        assert!(hub.shutdown(ShutdownReason::Spindown, 7));
        let ev = next.await.unwrap();
        assert_eq!(ev["eventType"], "SHUTDOWN");
        assert_eq!(ev["shutdownReason"], "spindown");
        assert_eq!(ev["deadlineMs"], 7);
        hub.process_exited("a", "exit status 1".into());
        let f = hub.idle().await.unwrap_err();
        assert_eq!(f.error_type, "Extension.Crash");
        assert_eq!(f.detail, "exit status 1");
    }
}
