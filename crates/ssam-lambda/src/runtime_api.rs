//! The Lambda Runtime API (2018-06-01) that one sandbox talks to, on its own 127.0.0.1 port.
//!
//! The spec is AWS's "Using the Lambda runtime API for custom runtimes". Invocations arrive
//! through a channel from the instance's owner and leave through `/next`; the runtime's
//! answer (`/response`, `/error`, or a streamed response) goes back on the invocation's
//! oneshot. Runtime clients are strict (see docs/ANCHORS): `/next` answers 200 while the
//! runtime is healthy, posts answer exactly 202, and the deadline is epoch milliseconds.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;
use tokio::sync::{mpsc, oneshot, watch};

use crate::limits::RESPONSE_MAX;

pub(crate) const HDR_REQUEST_ID: &str = "lambda-runtime-aws-request-id";
pub(crate) const HDR_DEADLINE: &str = "lambda-runtime-deadline-ms";
pub(crate) const HDR_FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
pub(crate) const HDR_TRACE_ID: &str = "lambda-runtime-trace-id";
pub(crate) const HDR_CLIENT_CONTEXT: &str = "lambda-runtime-client-context";
pub(crate) const HDR_COGNITO_IDENTITY: &str = "lambda-runtime-cognito-identity";
pub(crate) const HDR_ERROR_TYPE: &str = "lambda-runtime-function-error-type";
pub(crate) const HDR_ERROR_BODY: &str = "lambda-runtime-function-error-body";
pub(crate) const HDR_RESPONSE_MODE: &str = "lambda-runtime-function-response-mode";

/// One invocation handed to a runtime through `/next`.
pub(crate) struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    /// Epoch milliseconds after which the invocation times out.
    pub deadline_ms: u64,
    pub function_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub reply: oneshot::Sender<RuntimeReply>,
}

/// What the runtime answered for one invocation.
pub(crate) enum RuntimeReply {
    /// A buffered `/response`.
    Response {
        body: Bytes,
        content_type: Option<String>,
    },
    /// `/error`: the body as posted, and the `Lambda-Runtime-Function-Error-Type` header.
    Error {
        body: Bytes,
        error_type: Option<String>,
    },
    /// A buffered response over [`RESPONSE_MAX`] (the runtime got 413).
    ResponseTooLarge { size: Option<u64> },
    /// `Lambda-Runtime-Function-Response-Mode: streaming`: chunks until the channel closes.
    Stream {
        content_type: Option<String>,
        chunks: mpsc::Receiver<StreamEvent>,
    },
}

/// One event of a streamed response.
#[derive(Debug)]
pub enum StreamEvent {
    Chunk(Bytes),
    /// The runtime ended the stream with error trailers.
    Error {
        error_type: String,
        body: Bytes,
    },
}

/// How far the runtime got with its initialisation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum InitState {
    Pending,
    /// The runtime asked for its first invocation.
    Ready,
    /// The runtime posted `/init/error`.
    Failed {
        body: Bytes,
        error_type: Option<String>,
    },
}

/// The invocation the runtime is working on.
struct Current {
    request_id: String,
    /// Taken by the first `/response` or `/error`; `None` afterwards.
    reply: Option<oneshot::Sender<RuntimeReply>>,
}

#[derive(Default)]
struct Slots {
    current: Option<Current>,
}

/// Shared state of one sandbox's Runtime API.
pub(crate) struct RuntimeApi {
    next_rx: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    slots: Mutex<Slots>,
    init: watch::Sender<InitState>,
}

/// What [`RuntimeApi::start`] gives the instance's owner.
pub(crate) struct RuntimeApiHandle {
    pub addr: SocketAddr,
    pub invocations: mpsc::Sender<Invocation>,
    pub init: watch::Receiver<InitState>,
    pub server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Binds 127.0.0.1:0 and serves the Runtime API until the returned task is aborted.
    pub(crate) async fn start() -> std::io::Result<RuntimeApiHandle> {
        let (tx, rx) = mpsc::channel(1);
        let (init_tx, init_rx) = watch::channel(InitState::Pending);
        let api = Arc::new(RuntimeApi {
            next_rx: tokio::sync::Mutex::new(rx),
            slots: Mutex::new(Slots::default()),
            init: init_tx,
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = router(api);
        let server = tokio::spawn(async move {
            use axum::serve::ListenerExt as _;
            // Small request/response pairs on a kept-alive connection: Nagle would add ~40 ms.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, app).await;
        });
        Ok(RuntimeApiHandle {
            addr,
            invocations: tx,
            init: init_rx,
            server,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        // A poisoned lock only means a handler panicked mid-update; the data is still usable.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims the reply channel of invocation `id`, or says why the runtime may not answer it.
    fn claim(&self, id: &str) -> Result<oneshot::Sender<RuntimeReply>, ClaimError> {
        let mut slots = self.lock();
        match slots.current.as_mut() {
            Some(cur) if cur.request_id == id => cur.reply.take().ok_or(ClaimError::Answered),
            _ => Err(ClaimError::UnknownId),
        }
    }
}

/// Why a `/response` or `/error` post is refused.
enum ClaimError {
    /// Not the invocation the runtime is working on.
    UnknownId,
    /// The invocation already has its answer.
    Answered,
}

impl IntoResponse for ClaimError {
    fn into_response(self) -> Response {
        match self {
            ClaimError::UnknownId => runtime_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                "Invalid request ID",
            ),
            ClaimError::Answered => runtime_error(
                StatusCode::FORBIDDEN,
                "InvalidStateTransition",
                "State transition is not allowed: the invocation was already answered",
            ),
        }
    }
}

fn router(api: Arc<RuntimeApi>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(api)
}

/// `{"errorMessage": ..., "errorType": ...}` with a status, as Lambda answers runtimes.
fn runtime_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [(http::header::CONTENT_TYPE, "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn next(State(api): State<Arc<RuntimeApi>>) -> Response {
    api.init.send_if_modified(|s| {
        if *s == InitState::Pending {
            *s = InitState::Ready;
            true
        } else {
            false
        }
    });
    let inv = {
        let mut rx = api.next_rx.lock().await;
        rx.recv().await
    };
    let Some(inv) = inv else {
        // The instance is being torn down; the runtime will be killed right after.
        return runtime_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Runtime.ShuttingDown",
            "the sandbox is shutting down",
        );
    };
    let mut resp = Response::new(Body::from(inv.payload));
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    put(HDR_REQUEST_ID, &inv.request_id);
    put(HDR_DEADLINE, &inv.deadline_ms.to_string());
    put(HDR_FUNCTION_ARN, &inv.function_arn);
    put(HDR_TRACE_ID, &inv.trace_id);
    if let Some(cc) = &inv.client_context {
        put(HDR_CLIENT_CONTEXT, cc);
    }
    if let Some(ci) = &inv.cognito_identity {
        put(HDR_COGNITO_IDENTITY, ci);
    }
    api.lock().current = Some(Current {
        request_id: inv.request_id,
        reply: Some(inv.reply),
    });
    resp
}

enum ReadError {
    TooLarge,
    /// The connection broke before the body ended.
    Broken,
}

/// Reads a whole body, failing as soon as it grows past `limit`.
async fn read_limited(body: Body, limit: usize) -> Result<Bytes, ReadError> {
    let mut body = body;
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ReadError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ReadError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn too_large() -> Response {
    runtime_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({RESPONSE_MAX} bytes)."),
    )
}

async fn response(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let reply = match api.claim(&id) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let (parts, body) = req.into_parts();
    let content_type = header_str(&parts.headers, "content-type");
    let streaming = parts
        .headers
        .get(HDR_RESPONSE_MODE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("streaming"));
    if streaming {
        return stream_response(body, content_type, reply).await;
    }
    if let Some(len) = content_length(&parts.headers) {
        if len > RESPONSE_MAX as u64 {
            let _ = reply.send(RuntimeReply::ResponseTooLarge { size: Some(len) });
            return too_large();
        }
    }
    match read_limited(body, RESPONSE_MAX).await {
        Ok(body) => {
            let _ = reply.send(RuntimeReply::Response { body, content_type });
            accepted()
        }
        Err(ReadError::TooLarge) => {
            let _ = reply.send(RuntimeReply::ResponseTooLarge { size: None });
            too_large()
        }
        // The runtime went away mid-post: dropping `reply` lets the owner see the exit.
        Err(ReadError::Broken) => {
            runtime_error(StatusCode::BAD_REQUEST, "InvalidBody", "incomplete body")
        }
    }
}

/// Forwards a streamed response chunk by chunk; error trailers end it with an error.
async fn stream_response(
    mut body: Body,
    content_type: Option<String>,
    reply: oneshot::Sender<RuntimeReply>,
) -> Response {
    let (tx, rx) = mpsc::channel(16);
    let _ = reply.send(RuntimeReply::Stream {
        content_type,
        chunks: rx,
    });
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            let _ = tx
                .send(StreamEvent::Error {
                    error_type: "Runtime.TruncatedResponse".into(),
                    body: Bytes::from_static(b"the runtime closed the response stream early"),
                })
                .await;
            return runtime_error(StatusCode::BAD_REQUEST, "InvalidBody", "incomplete body");
        };
        match frame.into_data() {
            // A caller that went away does not stop the runtime: keep draining.
            Ok(data) => {
                let _ = tx.send(StreamEvent::Chunk(data)).await;
            }
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    if let Some(error_type) = header_str(&trailers, HDR_ERROR_TYPE) {
                        let body = header_str(&trailers, HDR_ERROR_BODY)
                            .and_then(|b| {
                                base64::engine::general_purpose::STANDARD
                                    .decode(b.trim())
                                    .ok()
                            })
                            .map(Bytes::from)
                            .unwrap_or_default();
                        let _ = tx.send(StreamEvent::Error { error_type, body }).await;
                    }
                }
            }
        }
    }
    accepted()
}

async fn error(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let reply = match api.claim(&id) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let (parts, body) = req.into_parts();
    let error_type = header_str(&parts.headers, HDR_ERROR_TYPE);
    match read_limited(body, RESPONSE_MAX).await {
        Ok(body) => {
            let _ = reply.send(RuntimeReply::Error { body, error_type });
            accepted()
        }
        Err(ReadError::TooLarge) => {
            let _ = reply.send(RuntimeReply::ResponseTooLarge { size: None });
            too_large()
        }
        Err(ReadError::Broken) => {
            runtime_error(StatusCode::BAD_REQUEST, "InvalidBody", "incomplete body")
        }
    }
}

async fn init_error(State(api): State<Arc<RuntimeApi>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let error_type = header_str(&parts.headers, HDR_ERROR_TYPE);
    let body = read_limited(body, RESPONSE_MAX).await.unwrap_or_default();
    let mut allowed = false;
    api.init.send_if_modified(|s| {
        if *s == InitState::Pending {
            *s = InitState::Failed { body, error_type };
            allowed = true;
            true
        } else {
            false
        }
    });
    if allowed {
        accepted()
    } else {
        runtime_error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "State transition is not allowed: init already finished",
        )
    }
}
