//! The life of one request, as stages: preflight → route → body → authorize → event →
//! invoke → respond. Each stage after routing returns `Result<_, Reject>`; a [`Reject`] is
//! logged and answered in one place ([`run`]), in the API type's own words, and every
//! answer to a routed request gets the request-id headers there too.
//!
//! Architecture invariant: nothing in a request's path panics or ends the server; every
//! failure becomes one of API Gateway's own answers ([`GatewayError`]) plus a log line
//! that says what to do.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use ssam_events::apigw::Request;
use ssam_lambda::limits::SYNC_REQUEST_MAX;
use ssam_lambda::{InvokeError, InvokeResponse};
use ssam_template::{ApiType, MockMethod, MockValue, RouteAuthorizer};

use crate::iam;
use crate::jwt;
use crate::routes::Guard;

use crate::authorizer::{self, AuthorizerContext};
use crate::binary;
use crate::cors;
use crate::errors::GatewayError;
use crate::event;
use crate::functions::InvokeFailure;
use crate::gateway::{Config, Gateway};
use crate::header_case::Spellings;
use crate::ids::RequestIds;
use crate::request::{Forwarded, RequestCtx};
use crate::response;
use crate::routes::{Lookup, Matched, RouteTable};
use crate::static_files;

/// API Gateway's payload quota (HTTP and REST APIs): 10 MB.
pub const PAYLOAD_MAX: usize = 10 * 1024 * 1024;

/// How much of an oversized body is read and dropped before answering 413.
const DRAIN_MAX: usize = 64 * 1024 * 1024;

pub(crate) type Body = Full<Bytes>;

/// Why a stage stopped the request: the gateway's answer, and the line that tells the
/// developer why (none where the client went away, or where the stage logged already).
pub(crate) struct Reject {
    error: GatewayError,
    log: Log,
}

enum Log {
    None,
    Info(String),
    /// Throttling: the template's concurrency settings are the cause, not the request.
    Warn(String),
}

impl Reject {
    fn quiet(error: GatewayError) -> Self {
        Reject {
            error,
            log: Log::None,
        }
    }

    fn info(error: GatewayError, line: String) -> Self {
        Reject {
            error,
            log: Log::Info(line),
        }
    }

    fn warn(error: GatewayError, line: String) -> Self {
        Reject {
            error,
            log: Log::Warn(line),
        }
    }

    /// Logs the reason and answers as the API type does.
    fn answer(self, api_type: ApiType) -> Response<Body> {
        match self.log {
            Log::None => {}
            Log::Info(line) => tracing::info!("{line}"),
            Log::Warn(line) => tracing::warn!("{line}"),
        }
        error_response(&self.error, api_type)
    }
}

/// Serves one request; `invoke_time` receives the time spent in the function.
pub(crate) async fn run<B>(
    gw: &Gateway,
    req: http::Request<B>,
    peer: std::net::SocketAddr,
    local_port: u16,
    spellings: Option<Spellings>,
    invoke_time: &mut Duration,
) -> Response<Body>
where
    B: http_body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let config = gw.config();
    let (parts, body) = req.into_parts();
    let forwarded = Forwarded::new(&parts.headers, &peer, local_port);
    let ctx = RequestCtx {
        parts,
        peer,
        spellings,
        forwarded,
    };
    let (m, preflight) = match route(gw, &config.table, &ctx).await {
        Routed::Found(m, preflight) => (m, preflight),
        // Preflights and static files carry no request ids, as before routing.
        Routed::Answered(resp) => return resp,
        Routed::NoRoute(api_type) => {
            let ids = RequestIds::unrouted(api_type == ApiType::Rest);
            let resp = error_response(&GatewayError::NoRoute, api_type);
            return ids.stamp(resp, &ctx.forwarded.trace_id);
        }
    };
    let api_type = m.api.api_type;
    let ids = RequestIds::new(api_type == ApiType::Rest);
    let resp = match serve(gw, &config, &m, &ctx, &ids, body, preflight, invoke_time).await {
        Ok(resp) => resp,
        Err(reject) => reject.answer(api_type),
    };
    ids.stamp(resp, &ctx.forwarded.trace_id)
}

/// The stages after routing.
#[allow(clippy::too_many_arguments)]
async fn serve<B>(
    gw: &Gateway,
    config: &Config,
    m: &Matched<'_>,
    ctx: &RequestCtx,
    ids: &RequestIds,
    body: B,
    preflight: Option<Response<Body>>,
    invoke_time: &mut Duration,
) -> Result<Response<Body>, Reject>
where
    B: http_body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let guard = if gw.options.disable_authorizer {
        &Guard::Open
    } else {
        &m.route.guard
    };
    match guard {
        Guard::Refused(why) => {
            return Err(Reject::info(
                GatewayError::AuthorizerFailure,
                format!("{why}: 500"),
            ))
        }
        Guard::Iam => {
            iam::check(&gw.options.iam, m, ctx).map_err(|(e, why)| Reject::info(e, why))?;
        }
        _ => {}
    }
    let iam_signature = matches!(guard, Guard::Iam) && gw.options.iam.checks_signatures();
    if let Some(mock) = &m.route.mock {
        if iam_signature {
            let body = receive(ctx, body).await?;
            iam::check_signature(&gw.options.iam, ctx, &body)
                .map_err(|(e, why)| Reject::info(e, why))?;
        }
        return Ok(mock_response(mock, ctx));
    }
    let body = receive(ctx, body).await?;
    if iam_signature {
        // The payload is part of the signature: checked once the body is in.
        iam::check_signature(&gw.options.iam, ctx, &body)
            .map_err(|(e, why)| Reject::info(e, why))?;
    }
    // The event's request is made once: the authorizer's event is made from it (without
    // the body), then the body and the authorizer's context are put in.
    let mut req = event::request(
        m,
        ctx,
        &ids.request_id,
        &ids.extended_id,
        &config.account_id,
    );
    let authorized = match guard {
        Guard::Lambda(ra) => {
            Some(authorize(gw, config, m, ra, ctx, &req, preflight.is_some()).await)
        }
        Guard::Jwt(j) => {
            let identity =
                authorizer::identity_values(&j.authorizer.identity_sources, ctx, &req, m);
            Some(
                jwt::authorize(&gw.options.jwks, m, j, identity)
                    .map(Some)
                    .map_err(Reject::quiet),
            )
        }
        _ => None,
    };
    if let Some(authorized) = authorized {
        req.authorizer = authorized?;
        if let Some(answer) = preflight {
            return Ok(answer);
        }
    }
    event::with_body(&mut req, m, ctx, body);
    let payload = encode_event(m, ctx, &req)?;
    let resp = invoke(gw, m, ctx, payload, invoke_time).await?;
    respond(m, ctx, &resp)
}

enum Routed<'a> {
    /// The route, and the CORS preflight answer to send if its authorizer lets it in.
    Found(Matched<'a>, Option<Response<Body>>),
    /// Answered without a route: a CORS preflight or a static file.
    Answered(Response<Body>),
    NoRoute(ApiType),
}

/// Preflight and route.
async fn route<'a>(gw: &Gateway, table: &'a RouteTable, ctx: &RequestCtx) -> Routed<'a> {
    let (method, raw_path) = (ctx.method(), ctx.raw_path());
    // CORS preflight, answered by the gateway. An HTTP API still routes it first: when the
    // route that catches OPTIONS (`ANY`, `$default`) has an authorizer, the authorizer runs
    // and can refuse the preflight, as deployed ("Configuring CORS for an HTTP API with a
    // $default route and an authorizer").
    let preflight = if method.eq_ignore_ascii_case("OPTIONS") {
        preflight(table, raw_path, ctx)
    } else {
        None
    };
    match table.lookup(method, raw_path) {
        Lookup::Found(m) => match preflight {
            Some(answer)
                if m.api.api_type == ApiType::Rest
                    || m.route.guard.is_open()
                    || gw.options.disable_authorizer =>
            {
                Routed::Answered(answer)
            }
            preflight => Routed::Found(m, preflight),
        },
        Lookup::NotFound { api_type, .. } => {
            if let Some(answer) = preflight {
                return Routed::Answered(answer);
            }
            if let Some(dir) = &gw.options.static_dir {
                if let Some(resp) = static_files::serve(dir, method, raw_path).await {
                    return Routed::Answered(resp);
                }
            }
            Routed::NoRoute(api_type)
        }
    }
}

/// The gateway's answer to a CORS preflight for `raw_path`, when its API has CORS.
fn preflight(table: &RouteTable, raw_path: &str, ctx: &RequestCtx) -> Option<Response<Body>> {
    let api = table.api_for_path(raw_path)?;
    let c = api.cors.as_ref()?;
    let origin = ctx.header("origin");
    let request_method = ctx.header("access-control-request-method");
    match api.api_type {
        ApiType::Http
            if !cors::is_preflight("OPTIONS", origin.as_deref(), request_method.as_deref()) =>
        {
            return None
        }
        ApiType::Rest => {
            // SAM adds its mock OPTIONS method only where the template declares none.
            if let Lookup::Found(m) = table.lookup("OPTIONS", raw_path) {
                if m.route.method.as_deref() == Some("OPTIONS") {
                    return None;
                }
            }
        }
        _ => {}
    }
    let methods = path_methods(table, raw_path);
    let (status, hs) = cors::preflight(
        api.api_type,
        c,
        origin.as_deref(),
        ctx.header("access-control-request-headers").as_deref(),
        &methods,
    );
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
    for (k, v) in hs {
        if let Ok(value) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, value);
        }
    }
    if api.api_type == ApiType::Rest {
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
    }
    Some(resp)
}

/// A `MOCK` integration's answer: the selected integration response's status, its
/// `method.response.header.*` mappings and static body, as `application/json` (API
/// Gateway's default content type).
fn mock_response(mock: &MockMethod, ctx: &RequestCtx) -> Response<Body> {
    let body = mock.body.clone().unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(mock.status).unwrap_or(StatusCode::OK);
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in &mock.headers {
        let value = match value {
            MockValue::Literal(v) => Some(v.clone()),
            MockValue::RequestHeader(h) => ctx.header(h).map(|v| v.into_owned()),
            MockValue::RequestQuery(q) => query_param(ctx.parts.uri.query(), q),
        };
        let (Some(value), Ok(name)) = (value, http::HeaderName::from_bytes(name.as_bytes())) else {
            continue;
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    if let Some(origin) = ctx.header("origin") {
        if mock
            .echo_origins
            .iter()
            .any(|p| cors::glob_match(p, &origin))
        {
            if let Ok(v) = HeaderValue::from_str(&origin) {
                resp.headers_mut().insert("access-control-allow-origin", v);
            }
        }
    }
    resp
}

/// The last value of a query string parameter, decoded (the one a REST mapping reads).
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_encoding::percent_decode_str(k).decode_utf8_lossy();
            (k == name).then(|| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
        })
        .next_back()
}

/// Methods declared on the routes that match a path (for REST preflight defaults).
fn path_methods(table: &RouteTable, raw_path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for m in ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"] {
        if let Lookup::Found(found) = table.lookup(m, raw_path) {
            if !found.route.is_catch_all() {
                out.extend(found.route.display_methods().into_iter().filter(|x| x == m));
            }
        }
    }
    out
}

/// The body stage: API Gateway's payload quota. An oversized body is still read (and
/// dropped), up to a bound: clients that are still sending when the answer comes see a
/// reset instead of the 413.
async fn receive<B>(ctx: &RequestCtx, body: B) -> Result<Bytes, Reject>
where
    B: http_body::Body<Data = Bytes>,
{
    match read_body(body).await {
        Ok(Some(b)) => Ok(b),
        Ok(None) => Err(Reject::info(
            GatewayError::PayloadTooLarge,
            format!(
                "{} {}: request body is over API Gateway's 10 MB payload quota: 413\n  hint: upload large files to S3 (e.g. with a presigned URL) instead of through the API",
                ctx.method(),
                ctx.raw_path()
            ),
        )),
        // The client went away or sent a broken body: nothing useful to answer.
        Err(()) => Err(Reject::quiet(GatewayError::BadGateway)),
    }
}

/// The request body, or `None` when it is over [`PAYLOAD_MAX`].
async fn read_body<B>(body: B) -> Result<Option<Bytes>, ()>
where
    B: http_body::Body<Data = Bytes>,
{
    let mut body = std::pin::pin!(body);
    let mut buf = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.as_mut().frame().await {
        let Ok(data) = frame.map_err(|_| ())?.into_data() else {
            continue;
        };
        seen += data.len();
        if seen > PAYLOAD_MAX {
            buf = bytes::BytesMut::new();
            if seen > DRAIN_MAX {
                break;
            }
        } else {
            buf.extend_from_slice(&data);
        }
    }
    Ok((seen <= PAYLOAD_MAX).then(|| buf.freeze()))
}

/// The authorize stage: the route's Lambda authorizer for `req` (still without its body).
async fn authorize(
    gw: &Gateway,
    config: &Config,
    m: &Matched<'_>,
    ra: &RouteAuthorizer,
    ctx: &RequestCtx,
    req: &Request,
    preflight: bool,
) -> Result<AuthorizerContext, Reject> {
    let authorized = authorizer::authorize(
        &gw.functions,
        &gw.auth_cache,
        &config.region,
        m,
        ra,
        ctx,
        req,
    )
    .await;
    // The authorizer logged why it refused; a refused preflight needs the CORS advice.
    authorized.map_err(|e| {
        if !preflight {
            return Reject::quiet(e);
        }
        Reject::info(
            e,
            format!(
                "OPTIONS {}: the CORS preflight matched route {} whose authorizer refused it; browsers send no credentials with preflights\n  hint: add an OPTIONS route without authorization (Auth: Authorizer: NONE), as AWS advises",
                ctx.raw_path(),
                m.route.route_key()
            ),
        )
    })
}

/// The event stage: the serialized event, within Lambda's request limit. The gateway
/// checks the limit itself (Lambda would too) to answer 413 with the base64 reason.
fn encode_event(m: &Matched<'_>, ctx: &RequestCtx, req: &Request) -> Result<Vec<u8>, Reject> {
    let (method, raw_path) = (ctx.method(), ctx.raw_path());
    let payload = event::build(m, req).map_err(|e| {
        Reject::info(
            GatewayError::BadGateway,
            format!("{method} {raw_path}: cannot build the event: {e}"),
        )
    })?;
    if payload.len() > SYNC_REQUEST_MAX {
        let base64 = event::body_is_base64(m, ctx.header("content-type").as_deref());
        let body_len = req.body.as_ref().map_or(0, Bytes::len);
        let reason = event::too_large_reason(payload.len(), body_len, base64);
        let log = format!("{method} {raw_path}: 413: {reason}");
        return Err(Reject::info(GatewayError::EventTooLarge { reason }, log));
    }
    Ok(payload)
}

/// The invoke stage: the route's function within the integration timeout.
async fn invoke(
    gw: &Gateway,
    m: &Matched<'_>,
    ctx: &RequestCtx,
    payload: Vec<u8>,
    invoke_time: &mut Duration,
) -> Result<InvokeResponse, Reject> {
    let (method, raw_path) = (ctx.method(), ctx.raw_path());
    let function = &m.route.function;
    let timeout = gw.options.integration_timeout.unwrap_or(m.route.timeout);
    let source = gw
        .functions
        .observed()
        .then(|| ssam_lambda::InvokeSource::Api {
            api: m.api.logical_id.clone(),
            method: method.to_string(),
            route: m.route.path.clone(),
            path: raw_path.to_string(),
        });
    let started = Instant::now();
    let result = gw
        .functions
        .invoke(
            function,
            Bytes::from(payload),
            timeout,
            Some(ctx.forwarded.trace_id.clone()),
            source,
        )
        .await;
    *invoke_time = started.elapsed();
    let bad = bad_gateway_status(m);
    let resp = result.map_err(|e| match e {
        InvokeFailure::Timeout => Reject::info(
            GatewayError::IntegrationTimeout,
            format!(
                "{method} {raw_path}: {function} did not answer within the {:.0} s integration timeout: {}",
                timeout.as_secs_f64(),
                if m.api.api_type == ApiType::Rest { 504 } else { 503 }
            ),
        ),
        InvokeFailure::NotRunnable(why) => Reject::info(
            GatewayError::BadGateway,
            format!("{method} {raw_path}: cannot invoke {why}: {bad}"),
        ),
        InvokeFailure::Lambda(InvokeError::TooManyRequests) => Reject::warn(
            GatewayError::LambdaThrottled,
            format!(
                "{method} {raw_path}: Lambda throttled {function} (all of its ReservedConcurrentExecutions are in use): 500"
            ),
        ),
        InvokeFailure::Lambda(e) => Reject::info(
            GatewayError::BadGateway,
            format!("{method} {raw_path}: Lambda refused the invocation: {e}: {bad}"),
        ),
    })?;
    if resp.function_error().is_some() {
        return Err(Reject::info(
            GatewayError::BadGateway,
            format!(
                "{method} {raw_path}: {function} failed: {}: {bad}",
                String::from_utf8_lossy(&resp.payload)
            ),
        ));
    }
    Ok(resp)
}

/// What a failing integration is answered with: 502 on REST APIs, 500 on HTTP APIs.
fn bad_gateway_status(m: &Matched<'_>) -> u16 {
    GatewayError::BadGateway.answer(m.api.api_type).status
}

/// The respond stage: the function's answer mapped to HTTP, binary decoding, CORS headers.
fn respond(
    m: &Matched<'_>,
    ctx: &RequestCtx,
    resp: &InvokeResponse,
) -> Result<Response<Body>, Reject> {
    let rest = m.api.api_type == ApiType::Rest;
    let function = &m.route.function;
    let bad = bad_gateway_status(m);
    let mapped = response::map(&resp.payload, m.route.payload, rest).map_err(|why| {
        Reject::info(
            GatewayError::BadGateway,
            format!(
                "{} {}: malformed Lambda proxy response from {function}: {why}: {bad}",
                ctx.method(),
                ctx.raw_path()
            ),
        )
    })?;
    let decode = if rest {
        let accept = ctx.header("accept");
        binary::is_binary_type(
            &m.api.binary_media_types,
            binary::first_accept(accept.as_deref()),
        ) || binary::is_binary_type(&m.api.binary_media_types, mapped.header("content-type"))
    } else {
        true
    };
    if mapped.base64 && !decode {
        tracing::info!(
            "{function}: isBase64Encoded response passed on as base64 text, as API Gateway does: neither the request's Accept nor the response's Content-Type is one of the API's BinaryMediaTypes"
        );
    }
    let body = mapped.body_bytes(decode).map_err(|why| {
        Reject::info(
            GatewayError::BadGateway,
            format!("{function}: {why}: {bad}"),
        )
    })?;
    Ok(http_response(m, ctx, &mapped, body))
}

/// The response to send: the function's status, headers (hop-by-hop ones dropped; the
/// gateway's CORS headers replace the function's when the API has CORS) and body.
fn http_response(
    m: &Matched<'_>,
    ctx: &RequestCtx,
    mapped: &response::Mapped,
    body: Bytes,
) -> Response<Body> {
    let cors_headers =
        m.api.cors.as_ref().and_then(|c| {
            cors::response_headers(m.api.api_type, c, ctx.header("origin").as_deref())
        });
    let status = StatusCode::from_u16(mapped.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let body = if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        Bytes::new()
    } else {
        body
    };
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    for (k, v) in &mapped.headers {
        let lower = k.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "content-length" | "transfer-encoding" | "connection" | "keep-alive"
        ) {
            continue;
        }
        if cors_headers.is_some() && lower.starts_with("access-control-") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.append(name, value);
        }
    }
    for (k, v) in cors_headers.unwrap_or_default() {
        if let Ok(value) = HeaderValue::from_str(&v) {
            h.insert(k, value);
        }
    }
    resp
}

/// A gateway answer in the API type's own words.
pub fn error_response(e: &GatewayError, api_type: ApiType) -> Response<Body> {
    let a = e.answer(api_type);
    let mut resp = Response::new(Full::new(Bytes::from(a.body)));
    *resp.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Some(t) = a.error_type {
        h.insert("x-amzn-errortype", HeaderValue::from_static(t));
    }
    if let Some(challenge) = a
        .www_authenticate
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        h.insert("www-authenticate", challenge);
    }
    resp
}
