//! Lambda function URLs (`FunctionUrlConfig`): each function that has one gets its own local
//! HTTP endpoint, standing for `https://<url-id>.lambda-url.<region>.on.aws`
//! ("Invoking Lambda function URLs", AWS Lambda Developer Guide):
//! - every method and path reaches the function with the payload format 2.0 event
//!   (`routeKey` and `stage` `$default`, `requestContext.domainName` the URL's domain);
//! - the response is read as an HTTP API 2.0 response, a plain JSON value answered as
//!   `200 application/json`; a function error answers 502 `Internal Server Error`;
//! - `AuthType: AWS_IAM` needs a Signature Version 4 signed request (header or query);
//!   unsigned requests get 403 `{"Message":"Forbidden"}` and never reach the function, and
//!   the caller's access key is passed in `requestContext.authorizer.iam`; with a secret
//!   from `--iam-credentials` the signature is recomputed for the service `lambda`;
//! - `Cors` is applied by Lambda: preflights are answered without invoking the function
//!   and the configured headers replace the function's own;
//! - `InvokeMode: RESPONSE_STREAM` sends the body to the client as the function writes it
//!   (with the `application/vnd.awslambda.http-integration-response` prelude for status
//!   and headers).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use ssam_events::apigw::Request;
use ssam_lambda::{InvokeRequest, LambdaService, StreamEvent};
use ssam_template::{ApiType, Cors};
use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::response::{self, Mapped};

/// Lambda's request payload limit for a synchronous invocation (6 MB).
const REQUEST_MAX: usize = 6 * 1024 * 1024;

/// The separator between a streamed response's JSON prelude and its body (eight NUL bytes).
const PRELUDE_END: [u8; 8] = [0; 8];

const HTTP_INTEGRATION: &str = "application/vnd.awslambda.http-integration-response";

/// One function URL as the template declares it.
#[derive(Clone, Debug)]
pub struct FunctionUrl {
    /// The function's logical id (the Lambda service's name for it).
    pub function: String,
    /// The URL id in `<url-id>.lambda-url.<region>.on.aws`: stable per function.
    pub url_id: String,
    pub region: String,
    pub account_id: String,
    /// `AuthType: AWS_IAM`.
    pub iam: bool,
    /// The access keys AWS_IAM accepts, and the secrets whose signatures are checked
    /// (`--iam-credentials`); no keys: any signed request.
    pub credentials: crate::iam::IamOptions,
    /// `InvokeMode: RESPONSE_STREAM`.
    pub streaming: bool,
    pub cors: Option<Cors>,
}

impl FunctionUrl {
    /// The url id Lambda would mint: 32 lowercase alphanumerics, here derived from the
    /// function's name so it stays the same across restarts.
    pub fn url_id_for(function: &str) -> String {
        use std::fmt::Write as _;
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut out = String::new();
        for round in 0u8..2 {
            for b in function.bytes().chain([round]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            let _ = write!(out, "{h:016x}");
        }
        out
    }

    pub fn domain_name(&self) -> String {
        ssam_events::function_url::domain_name(&self.url_id, &self.region)
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

fn full(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    r
}

/// Lambda's own error answers, with the `x-amzn-ErrorType` header it sends.
fn error(status: u16, error_type: &str, body: &str) -> Response<Body> {
    let mut r = full(status, "application/json", body.to_string());
    if let Ok(v) = http::HeaderValue::from_str(error_type) {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

/// Lambda's 403 for an `AWS_IAM` URL's request it refuses, with the log line saying why.
fn iam_refusal(
    url: &FunctionUrl,
    method: &str,
    path: &str,
    r: crate::iam::Refusal,
) -> Response<Body> {
    use crate::iam::Refusal;
    let what = format!("function URL of {}: {method} {path}", url.function);
    match r {
        Refusal::Unsigned => {
            tracing::info!("{what} refused: AuthType AWS_IAM needs a SigV4-signed request: 403");
            error(403, "AccessDeniedException", r#"{"Message":"Forbidden"}"#)
        }
        Refusal::UnknownKey(key) => {
            tracing::info!("{what}: access key {key} is not one of --iam-credentials: 403");
            error(
                403,
                "UnrecognizedClientException",
                r#"{"Message":"The security token included in the request is invalid."}"#,
            )
        }
        Refusal::Mismatch {
            canonical_request, ..
        } => {
            tracing::info!(
                "{what}: the SigV4 signature does not verify with the secret given by --iam-credentials (service lambda): 403\n  canonical request ssam computed:\n{canonical_request}"
            );
            let body = serde_json::json!({ "Message": crate::iam::SIGNATURE_MISMATCH });
            error(403, "InvalidSignatureException", &body.to_string())
        }
        Refusal::Invalid(message) => {
            tracing::info!("{what}: {message}: 403");
            let body = serde_json::json!({ "Message": message });
            error(403, "InvalidSignatureException", &body.to_string())
        }
    }
}

/// Serves `url` on `listener` until `shutdown` completes.
pub async fn serve(
    url: Arc<FunctionUrl>,
    service: Arc<LambdaService>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return,
            a = listener.accept() => a,
        };
        let Ok((stream, peer)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        // HTTP/1.0 clients get an HTTP/1.1 status line, as from API routes.
        let (stream, _) = crate::header_case::Sniff::new(stream);
        let (url, service) = (Arc::clone(&url), Arc::clone(&service));
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let (url, service) = (Arc::clone(&url), Arc::clone(&service));
                async move { Ok::<_, Infallible>(handle(&url, &service, req, peer).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn handle(
    url: &FunctionUrl,
    service: &Arc<LambdaService>,
    req: http::Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let origin = header(&parts.headers, "origin").map(str::to_string);

    // CORS preflights are Lambda's to answer when the URL has a Cors configuration.
    if let Some(cors) = &url.cors {
        let request_method = header(&parts.headers, "access-control-request-method");
        if crate::cors::is_preflight(&method, origin.as_deref(), request_method) {
            let (status, headers) = crate::cors::preflight(
                ApiType::Http,
                cors,
                origin.as_deref(),
                header(&parts.headers, "access-control-request-headers"),
                &[],
            );
            let mut r = full(if status == 204 { 200 } else { status }, "text/plain", "");
            for (k, v) in headers {
                if let Ok(v) = http::HeaderValue::from_str(&v) {
                    r.headers_mut().append(k, v);
                }
            }
            return r;
        }
    }

    // AWS_IAM: the signature's presence and access key before the body is read, the
    // signature itself (with `--iam-credentials KEY:SECRET`) once it is in.
    if url.iam {
        if let Err(r) = crate::iam::precheck(&url.credentials, &parts.headers, parts.uri.query()) {
            return iam_refusal(url, &method, parts.uri.path(), r);
        }
    }

    let body = match http_body_util::Limited::new(body, REQUEST_MAX)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return error(
                413,
                "RequestEntityTooLargeException",
                r#"{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}"#,
            )
        }
    };

    let authorizer = if url.iam {
        match crate::iam::verify(
            &url.credentials,
            "lambda",
            &parts,
            &body,
            OffsetDateTime::now_utc(),
        ) {
            Ok(key) => Some(serde_json::json!({"iam": {
                "accessKey": key,
                "accountId": url.account_id,
                "callerId": format!("AIDA{}", &url.url_id[..16].to_ascii_uppercase()),
                "cognitoIdentity": null,
                "principalOrgId": null,
                "userArn": format!("arn:aws:iam::{}:user/local", url.account_id),
                "userId": format!("AIDA{}", &url.url_id[..16].to_ascii_uppercase()),
            }})),
            Err(r) => return iam_refusal(url, &method, parts.uri.path(), r),
        }
    } else {
        None
    };

    let request_id = uuid::Uuid::new_v4().to_string();
    let mut event = Request::new(method.clone(), parts.uri.path().to_string());
    event.headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let query = parts.uri.query().unwrap_or("");
    event.query = ssam_events::encode::parse_query(query);
    event.raw_query = Some(query.to_string());
    event.raw_path = Some(parts.uri.path().to_string());
    event.source_ip = peer.ip().to_string();
    event.account_id = if url.iam {
        url.account_id.clone()
    } else {
        "anonymous".into()
    };
    event.request_id = request_id;
    event.protocol = "HTTP/1.1".into();
    event.time = OffsetDateTime::now_utc();
    event.authorizer = authorizer;
    if !body.is_empty() {
        event.base64_body = !crate::binary::is_text_type(header(&parts.headers, "content-type"));
        event.body = Some(body);
    }
    let payload = ssam_events::function_url::request(&event, &url.url_id, &url.region);
    let payload = match serde_json::to_vec(&payload) {
        Ok(p) => Bytes::from(p),
        Err(e) => return error(500, "ServiceException", &format!(r#"{{"Message":"{e}"}}"#)),
    };
    let Some(name) = service.name_of(&url.function) else {
        return error(
            404,
            "ResourceNotFoundException",
            r#"{"Message":"The function of this URL is not running"}"#,
        );
    };
    let invoke = InvokeRequest::event(name, payload);
    let mut answer = if url.streaming {
        streamed(url, service, invoke).await
    } else {
        buffered(url, service, invoke).await
    };
    if let Some(cors) = &url.cors {
        apply_cors(&mut answer, cors, origin.as_deref());
    }
    answer
}

/// The configured CORS headers replace whatever the function set ("Cross-origin resource
/// sharing (CORS)" in the function URL guide).
fn apply_cors(answer: &mut Response<Body>, cors: &Cors, origin: Option<&str>) {
    let headers = answer.headers_mut();
    for name in [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-expose-headers",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-max-age",
    ] {
        headers.remove(name);
    }
    if let Some(added) = crate::cors::response_headers(ApiType::Http, cors, origin) {
        for (k, v) in added {
            if let Ok(v) = http::HeaderValue::from_str(&v) {
                headers.append(k, v);
            }
        }
    }
}

fn mapped_response(m: Mapped) -> Response<Body> {
    let body = match m.body_bytes(true) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("function URL response: {e}");
            return bad_gateway();
        }
    };
    let mut r = Response::new(Full::new(body).boxed());
    *r.status_mut() = StatusCode::from_u16(m.status).unwrap_or(StatusCode::OK);
    for (k, v) in m.headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(&v),
        ) {
            r.headers_mut().append(k, v);
        }
    }
    r
}

fn bad_gateway() -> Response<Body> {
    full(502, "text/plain; charset=utf-8", "Internal Server Error")
}

async fn buffered(
    url: &FunctionUrl,
    service: &Arc<LambdaService>,
    invoke: InvokeRequest,
) -> Response<Body> {
    match service.invoke_waiting(invoke, None).await {
        Ok(resp) if resp.failure.is_none() => {
            match response::map(&resp.payload, crate::routes::PayloadVersion::V2, false) {
                Ok(m) => mapped_response(m),
                Err(why) => {
                    tracing::warn!("function URL of {}: {why}", url.function);
                    bad_gateway()
                }
            }
        }
        Ok(_) => bad_gateway(),
        Err(e) => {
            tracing::warn!("function URL of {}: {e}", url.function);
            match e {
                ssam_lambda::InvokeError::TooManyRequests
                | ssam_lambda::InvokeError::InstanceCapReached { .. } => error(
                    429,
                    "TooManyRequestsException",
                    r#"{"Message":"Rate Exceeded."}"#,
                ),
                _ => bad_gateway(),
            }
        }
    }
}

/// `RESPONSE_STREAM`: chunks go to the client as the function writes them; an
/// `http-integration-response` prelude (JSON, then eight NUL bytes) sets status and headers.
async fn streamed(
    url: &FunctionUrl,
    service: &Arc<LambdaService>,
    invoke: InvokeRequest,
) -> Response<Body> {
    let mut stream = match service.invoke_stream(invoke).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("function URL of {}: {e}", url.function);
            return bad_gateway();
        }
    };
    let mut status = 200u16;
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut first = Bytes::new();
    let with_prelude = stream.content_type.as_deref() == Some(HTTP_INTEGRATION);
    if with_prelude {
        // Read until the prelude's end; what follows it is the first body bytes.
        let mut head = Vec::new();
        let split = loop {
            match stream.body.recv().await {
                Some(StreamEvent::Chunk(c)) => {
                    head.extend_from_slice(&c);
                    if let Some(i) = head.windows(8).position(|w| w == PRELUDE_END) {
                        break Some(i);
                    }
                }
                Some(StreamEvent::Error { .. }) | None => break None,
            }
        };
        let Some(i) = split else {
            return bad_gateway();
        };
        if let Ok(prelude) = serde_json::from_slice::<serde_json::Value>(&head[..i]) {
            status = prelude["statusCode"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200);
            if let Some(h) = prelude["headers"].as_object() {
                for (k, v) in h {
                    headers.push((k.clone(), v.as_str().unwrap_or_default().to_string()));
                }
            }
            if let Some(c) = prelude["cookies"].as_array() {
                for cookie in c.iter().filter_map(|c| c.as_str()) {
                    headers.push(("set-cookie".into(), cookie.to_string()));
                }
            }
        }
        first = Bytes::copy_from_slice(&head[i + 8..]);
    } else {
        headers.push((
            "content-type".into(),
            stream
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
        ));
    }
    // Lambda ends the stream where an error happened: the client sees a truncated body
    // (the status is already sent).
    let first = (!first.is_empty()).then_some(first);
    let frames = futures::stream::unfold((first, Some(stream.body)), |(first, rx)| async move {
        if let Some(c) = first {
            return Some((Ok::<_, Infallible>(Frame::data(c)), (None, rx)));
        }
        let mut rx = rx?;
        match rx.recv().await {
            Some(StreamEvent::Chunk(c)) => Some((Ok(Frame::data(c)), (None, Some(rx)))),
            Some(StreamEvent::Error { .. }) | None => None,
        }
    });
    let body = StreamBody::new(frames);
    let mut r = Response::new(http_body_util::BodyExt::boxed(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(&v),
        ) {
            r.headers_mut().append(k, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_ids_are_stable_and_shaped_like_lambdas() {
        let a = FunctionUrl::url_id_for("Hello");
        assert_eq!(a, FunctionUrl::url_id_for("Hello"));
        assert_ne!(a, FunctionUrl::url_id_for("World"));
        assert_eq!(a.len(), 32);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
    }

    #[test]
    fn only_sigv4_signed_requests_have_an_access_key() {
        use crate::iam::signed_access_key as sigv4_access_key;
        let mut h = HeaderMap::new();
        assert_eq!(sigv4_access_key(&h, None), None);
        h.insert(
            "authorization",
            http::HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(sigv4_access_key(&h, None), None);
        h.insert(
            "authorization",
            http::HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd"),
        );
        assert_eq!(sigv4_access_key(&h, None).as_deref(), Some("AKIDEXAMPLE"));
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKQ%2F20240101%2Fus-east-1%2Flambda%2Faws4_request&X-Amz-Signature=ff";
        assert_eq!(
            sigv4_access_key(&HeaderMap::new(), Some(q)).as_deref(),
            Some("AKQ")
        );
    }
}
