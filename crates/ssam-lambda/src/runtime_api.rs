//! The Lambda Runtime API (2018-06-01) that one sandbox talks to, on its own 127.0.0.1 port
//! (a docker network's gateway for containers on that network).
//!
//! The spec is AWS's "Using the Lambda runtime API for custom runtimes". Invocations arrive
//! through a channel from the instance's owner and leave through `/next`; the runtime's
//! answer (`/response`, `/error`, or a streamed response) goes back on the invocation's
//! oneshot. Runtime clients are strict: awslambdaric dies on a non-2xx `/next` and exits on a
//! non-2xx post, aws-lambda-go wants exactly 200 and 202, `lambda_runtime` panics without
//! the deadline header. So `/next` answers 200 while the runtime is healthy, posts answer
//! exactly 202, and the deadline is epoch milliseconds.

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
    /// Set once `/next` has handed the invocation to the runtime.
    pub taken: Arc<std::sync::atomic::AtomicBool>,
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
    /// The Extensions and Telemetry APIs served on the same port.
    extensions: Arc<crate::extensions::ExtHub>,
}

/// What [`RuntimeApi::start`] gives the instance's owner.
pub(crate) struct RuntimeApiHandle {
    pub addr: SocketAddr,
    pub invocations: mpsc::Sender<Invocation>,
    pub init: watch::Receiver<InitState>,
    pub server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Binds `ip` (127.0.0.1, or a docker network's gateway for containers on it) on a free
    /// port and serves the Runtime API until the returned task is aborted.
    pub(crate) async fn start(
        ip: std::net::IpAddr,
        extensions: Arc<crate::extensions::ExtHub>,
    ) -> std::io::Result<RuntimeApiHandle> {
        let (tx, rx) = mpsc::channel(1);
        let (init_tx, init_rx) = watch::channel(InitState::Pending);
        let api = Arc::new(RuntimeApi {
            next_rx: tokio::sync::Mutex::new(rx),
            slots: Mutex::new(Slots::default()),
            init: init_tx,
            extensions,
        });
        let listener = tokio::net::TcpListener::bind((ip, 0)).await?;
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
    let hub = Arc::clone(&api.extensions);
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(api)
        .merge(crate::extensions::router(Arc::clone(&hub)))
        .merge(crate::telemetry::router(hub))
}

/// `{"errorMessage": ..., "errorType": ...}` with a status, as Lambda answers runtimes.
fn runtime_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        crate::outcome::error_doc(error_type, message),
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
    let first = api.init.send_if_modified(|s| {
        if *s == InitState::Pending {
            *s = InitState::Ready;
            true
        } else {
            false
        }
    });
    if first {
        // Internal extensions register from the runtime process before it asks for work.
        api.extensions.close_registration();
    }
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
    inv.taken.store(true, std::sync::atomic::Ordering::Release);
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
    let (parts, body) = req.into_parts();
    let reply = match api.claim(&id) {
        Ok(r) => r,
        Err(e) => {
            // Reading the refused body keeps the runtime's kept-alive connection usable
            // (hyper closes connections whose request body was left unread).
            let _ = read_limited(body, 2 * RESPONSE_MAX).await;
            return e.into_response();
        }
    };
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
    let (parts, body) = req.into_parts();
    let reply = match api.claim(&id) {
        Ok(r) => r,
        Err(e) => {
            // Reading the refused body keeps the runtime's kept-alive connection usable
            // (hyper closes connections whose request body was left unread).
            let _ = read_limited(body, 2 * RESPONSE_MAX).await;
            return e.into_response();
        }
    };
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const LOOPBACK: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn hub() -> Arc<crate::extensions::ExtHub> {
        crate::extensions::ExtHub::new(
            Vec::new(),
            crate::extensions::FunctionInfo {
                name: "F".into(),
                handler: "h".into(),
                account_id: "123456789012".into(),
            },
        )
    }

    fn invocation(id: &str) -> (Invocation, oneshot::Receiver<RuntimeReply>) {
        let (tx, rx) = oneshot::channel();
        let inv = Invocation {
            request_id: id.to_string(),
            payload: Bytes::from_static(b"{\"k\":1}"),
            deadline_ms: 1_700_000_000_000,
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:F".into(),
            trace_id: "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0"
                .into(),
            client_context: None,
            cognito_identity: Some("{\"cognitoIdentityId\":\"x\"}".into()),
            reply: tx,
            taken: Arc::default(),
        };
        (inv, rx)
    }

    #[tokio::test]
    async fn next_headers_and_answer_rules() {
        let api = RuntimeApi::start(LOOPBACK, hub()).await.unwrap();
        let base = format!("http://{}/2018-06-01/runtime", api.addr);
        let client = reqwest::Client::new();
        let (inv, reply) = invocation("req-1");
        api.invocations.send(inv).await.unwrap();
        let next = client
            .get(format!("{base}/invocation/next"))
            .send()
            .await
            .unwrap();
        assert_eq!(next.status(), 200);
        assert_eq!(*api.init.borrow(), InitState::Ready);
        let h = next.headers();
        assert_eq!(h[HDR_REQUEST_ID], "req-1");
        assert_eq!(h[HDR_DEADLINE], "1700000000000");
        assert_eq!(
            h[HDR_FUNCTION_ARN],
            "arn:aws:lambda:us-east-1:123456789012:function:F"
        );
        assert_eq!(h["content-type"], "application/json");
        assert!(h.contains_key(HDR_TRACE_ID));
        assert!(h.contains_key(HDR_COGNITO_IDENTITY));
        assert!(!h.contains_key(HDR_CLIENT_CONTEXT), "absent when not given");
        assert_eq!(next.text().await.unwrap(), "{\"k\":1}");

        let wrong = client
            .post(format!("{base}/invocation/nope/response"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 400);
        assert!(wrong
            .text()
            .await
            .unwrap()
            .contains("\"errorType\":\"InvalidRequestID\""));

        let ok = client
            .post(format!("{base}/invocation/req-1/response"))
            .body("\"done\"")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 202);
        assert_eq!(ok.text().await.unwrap(), r#"{"status":"OK"}"#);
        match reply.await.unwrap() {
            RuntimeReply::Response { body, .. } => assert_eq!(&body[..], b"\"done\""),
            _ => panic!("expected a response"),
        }
        let again = client
            .post(format!("{base}/invocation/req-1/error"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 403);
        assert!(again
            .text()
            .await
            .unwrap()
            .contains("InvalidStateTransition"));

        let late_init = client
            .post(format!("{base}/init/error"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(late_init.status(), 403);
        api.server.abort();
    }

    #[tokio::test]
    async fn oversize_response_is_413_then_403() {
        let api = RuntimeApi::start(LOOPBACK, hub()).await.unwrap();
        let base = format!("http://{}/2018-06-01/runtime", api.addr);
        let client = reqwest::Client::new();
        let (inv, reply) = invocation("big");
        api.invocations.send(inv).await.unwrap();
        client
            .get(format!("{base}/invocation/next"))
            .send()
            .await
            .unwrap();
        let big = vec![b'x'; RESPONSE_MAX + 1];
        let resp = client
            .post(format!("{base}/invocation/big/response"))
            .body(big)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 413);
        assert!(resp.text().await.unwrap().contains("6291556"));
        assert!(matches!(
            reply.await.unwrap(),
            RuntimeReply::ResponseTooLarge {
                size: Some(6_291_557)
            }
        ));
        let err = client
            .post(format!("{base}/invocation/big/error"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(err.status(), 403);
        // Exactly the limit is fine.
        let (inv, reply) = invocation("edge");
        api.invocations.send(inv).await.unwrap();
        client
            .get(format!("{base}/invocation/next"))
            .send()
            .await
            .unwrap();
        let resp = client
            .post(format!("{base}/invocation/edge/response"))
            .body(vec![b'y'; RESPONSE_MAX])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        assert!(
            matches!(reply.await.unwrap(), RuntimeReply::Response { body, .. } if body.len() == RESPONSE_MAX)
        );
        api.server.abort();
    }

    #[tokio::test]
    async fn init_error_and_header_only_error() {
        let api = RuntimeApi::start(LOOPBACK, hub()).await.unwrap();
        let base = format!("http://{}/2018-06-01/runtime", api.addr);
        let client = reqwest::Client::new();
        let resp = client
            .post(format!("{base}/init/error"))
            .header("Lambda-Runtime-Function-Error-Type", "Runtime.Custom")
            .body(r#"{"errorMessage":"bad","errorType":"Runtime.Custom"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        match api.init.borrow().clone() {
            InitState::Failed { error_type, body } => {
                assert_eq!(error_type.as_deref(), Some("Runtime.Custom"));
                assert!(body.starts_with(b"{\"errorMessage\""));
            }
            other => panic!("{other:?}"),
        }
        api.server.abort();
    }

    #[tokio::test]
    async fn streamed_response_with_error_trailer() {
        let api = RuntimeApi::start(LOOPBACK, hub()).await.unwrap();
        let addr = api.addr;
        let (inv, reply) = invocation("s1");
        api.invocations.send(inv).await.unwrap();
        let client = reqwest::Client::new();
        client
            .get(format!("http://{addr}/2018-06-01/runtime/invocation/next"))
            .send()
            .await
            .unwrap();
        // Raw HTTP/1.1: chunked body with trailers, as runtime clients send it.
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
        let err_body =
            base64::engine::general_purpose::STANDARD.encode(r#"{"errorMessage":"late"}"#);
        let req = format!(
            "POST /2018-06-01/runtime/invocation/s1/response HTTP/1.1\r\nHost: x\r\n\
             Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n\
             Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n\
             5\r\nhello\r\n0\r\nLambda-Runtime-Function-Error-Type: Custom.Late\r\n\
             Lambda-Runtime-Function-Error-Body: {err_body}\r\n\r\n"
        );
        sock.write_all(req.as_bytes()).await.unwrap();
        let RuntimeReply::Stream { mut chunks, .. } = reply.await.unwrap() else {
            panic!("expected a stream");
        };
        match chunks.recv().await.unwrap() {
            StreamEvent::Chunk(c) => assert_eq!(&c[..], b"hello"),
            other => panic!("{other:?}"),
        }
        match chunks.recv().await.unwrap() {
            StreamEvent::Error { error_type, body } => {
                assert_eq!(error_type, "Custom.Late");
                assert_eq!(&body[..], br#"{"errorMessage":"late"}"#);
            }
            other => panic!("{other:?}"),
        }
        let mut buf = vec![0u8; 512];
        let n = sock.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 202"));
        api.server.abort();
    }
}
