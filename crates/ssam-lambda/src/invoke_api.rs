//! Lambda's Invoke API over HTTP (`POST /2015-03-31/functions/{name}/invocations`), as
//! boto3, the aws cli and other SDKs call it: RequestResponse, Event and DryRun, Tail logs,
//! and errors in Lambda's JSON shape with `x-amzn-ErrorType`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

use crate::error::InvokeError;
use crate::service::{InvokeRequest, LambdaService};

/// The Invoke API routes; merge them into a bigger router or serve them alone.
pub fn router(service: Arc<LambdaService>) -> Router {
    Router::new()
        .route("/2015-03-31/functions/{function}/invocations", post(invoke))
        .route(
            "/2021-11-15/functions/{function}/response-streaming-invocations",
            post(invoke_with_response_stream),
        )
        // Bodies over the limit must reach the handler so it can answer Lambda's 413, not
        // axum's; 2x leaves room to measure them.
        .layer(DefaultBodyLimit::max(
            2 * crate::limits::SYNC_REQUEST_MAX + 1024,
        ))
        .fallback(not_found)
        .with_state(service)
}

#[derive(Deserialize)]
struct InvokeQuery {
    #[serde(rename = "Qualifier")]
    qualifier: Option<String>,
}

/// An error answered the way Lambda answers it.
pub fn error_response(err: &InvokeError) -> Response {
    let mut resp = Response::new(Body::from(err.body()));
    *resp.status_mut() =
        StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert(
        "x-amzn-errortype",
        HeaderValue::from_static(err.error_type()),
    );
    h.insert("x-amzn-requestid", request_id_header());
    resp
}

fn request_id_header() -> HeaderValue {
    HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("00000000-0000-0000-0000-000000000000"))
}

async fn not_found() -> Response {
    let body = r#"{"Type":"User","message":"Unknown operation"}"#;
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::NOT_FOUND;
    resp.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static("UnknownOperationException"),
    );
    resp
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The InvokeRequest an HTTP request describes, or the error Lambda answers it with.
fn parse_request(
    function: String,
    query: InvokeQuery,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<InvokeRequest, InvokeError> {
    let function = match query.qualifier.as_deref() {
        Some(q) if !function.starts_with("arn:") || function.matches(':').count() < 7 => {
            format!("{function}:{q}")
        }
        _ => function,
    };
    let log_tail = match header(headers, "x-amz-log-type") {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(other) => {
            return Err(InvokeError::InvalidParameterValue(format!(
                "1 validation error detected: Value '{other}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]"
            )))
        }
    };
    // The Invoke API takes the client context base64-encoded; runtimes get the JSON itself.
    let client_context = match header(headers, "x-amz-client-context") {
        None => None,
        Some(b64) => match base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .filter(|s| serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok())
        {
            Some(json) => Some(json),
            None => {
                return Err(InvokeError::InvalidRequestContent(
                    "Client context must be a valid Base64-encoded JSON object.".into(),
                ))
            }
        },
    };
    Ok(InvokeRequest {
        function,
        payload: body,
        client_context,
        cognito_identity: None,
        log_tail,
        trace_id: header(headers, "x-amzn-trace-id").map(str::to_string),
        // A user's payload: the service checks that it is JSON.
        payload_is_json: false,
        source: crate::observe::InvokeSource::InvokeApi,
        ..Default::default()
    })
}

async fn invoke(
    State(service): State<Arc<LambdaService>>,
    Path(function): Path<String>,
    Query(query): Query<InvokeQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match parse_request(function, query, &headers, body) {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    match header(&headers, "x-amz-invocation-type").unwrap_or("RequestResponse") {
        // A caller that hangs up does not abort the function (the service detaches it).
        "RequestResponse" => match service.invoke(req).await {
            Ok(resp) => {
                let function_error = resp.function_error();
                let mut out = Response::new(Body::from(resp.payload));
                let h = out.headers_mut();
                let ct = resp
                    .content_type
                    .as_deref()
                    .and_then(|c| HeaderValue::from_str(c).ok())
                    .unwrap_or_else(|| HeaderValue::from_static("application/json"));
                h.insert("content-type", ct);
                if let Ok(v) = HeaderValue::from_str(&resp.request_id) {
                    h.insert("x-amzn-requestid", v);
                }
                if let Ok(v) = HeaderValue::from_str(&resp.executed_version) {
                    h.insert("x-amz-executed-version", v);
                }
                if let Some(fe) = function_error {
                    let fe = HeaderValue::from_static(fe);
                    h.insert("x-amz-function-error", fe);
                }
                if let Some(tail) = resp.log_tail.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
                    h.insert("x-amz-log-result", tail);
                }
                out
            }
            Err(e) => error_response(&e),
        },
        "Event" => match service.invoke_async(req).await {
            Ok(()) => {
                let mut out = StatusCode::ACCEPTED.into_response();
                out.headers_mut().insert("x-amzn-requestid", request_id_header());
                out
            }
            Err(e) => error_response(&e),
        },
        "DryRun" => match service.resolve(&req.function) {
            Ok(_) => {
                let mut out = StatusCode::NO_CONTENT.into_response();
                out.headers_mut().insert("x-amzn-requestid", request_id_header());
                out
            }
            Err(e) => error_response(&e),
        },
        other => error_response(&InvokeError::InvalidParameterValue(format!(
            "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        ))),
    }
}

/// `InvokeWithResponseStream`: the response as an event stream of `PayloadChunk` events
/// ended by `InvokeComplete` (with the error, if any, and the log tail).
async fn invoke_with_response_stream(
    State(service): State<Arc<LambdaService>>,
    Path(function): Path<String>,
    Query(query): Query<InvokeQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match parse_request(function, query, &headers, body) {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    match header(&headers, "x-amz-invocation-type").unwrap_or("RequestResponse") {
        "RequestResponse" => {}
        "DryRun" => {
            return match service.resolve(&req.function) {
                Ok(_) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => error_response(&e),
            }
        }
        other => {
            return error_response(&InvokeError::InvalidParameterValue(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [RequestResponse, DryRun]"
            )))
        }
    }
    let stream = match service.invoke_stream(req).await {
        Ok(s) => s,
        Err(e) => return error_response(&e),
    };
    let request_id = stream.request_id.clone();
    let executed_version = stream.executed_version.clone();
    let response_content_type = stream.content_type.clone();
    let frames = futures::stream::unfold(
        (Some(stream), None::<(String, String)>),
        |(state, mut error)| async move {
            let mut stream = state?;
            loop {
                match stream.body.recv().await {
                    Some(crate::StreamEvent::Chunk(c)) => {
                        let frame = crate::eventstream::event(
                            "PayloadChunk",
                            "application/octet-stream",
                            &c,
                        );
                        return Some((
                            Ok::<_, std::convert::Infallible>(frame),
                            (Some(stream), error),
                        ));
                    }
                    // Reported in InvokeComplete, after the chunks already sent.
                    Some(crate::StreamEvent::Error { error_type, body }) => {
                        error = Some((error_type, String::from_utf8_lossy(&body).into_owned()));
                    }
                    None => {
                        let done = (&mut stream.done).await.ok();
                        let complete = Complete {
                            error_code: error.as_ref().map(|e| e.0.clone()),
                            error_details: error.map(|e| e.1),
                            log_result: done.and_then(|d| d.log_tail),
                        };
                        let json = serde_json::to_vec(&complete).unwrap_or_default();
                        let frame =
                            crate::eventstream::event("InvokeComplete", "application/json", &json);
                        return Some((Ok(frame), (None, None)));
                    }
                }
            }
        },
    );
    let mut out = Response::new(Body::from_stream(frames));
    let h = out.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Ok(v) = HeaderValue::from_str(&executed_version) {
        h.insert("x-amz-executed-version", v);
    }
    if let Some(v) = response_content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert("x-amzn-stream-content-type", v);
    }
    out
}

/// The `InvokeComplete` event's JSON.
#[derive(serde::Serialize)]
struct Complete {
    #[serde(rename = "ErrorCode", skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    #[serde(rename = "ErrorDetails", skip_serializing_if = "Option::is_none")]
    error_details: Option<String>,
    #[serde(rename = "LogResult", skip_serializing_if = "Option::is_none")]
    log_result: Option<String>,
}
