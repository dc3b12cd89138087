//! The gateway: the current route table and functions, and the life of one request
//! (preflight, route, body limit, authorizer, event, invocation, response mapping).
//!
//! Architecture invariant: nothing in a request's path panics or ends the server; every
//! failure becomes one of API Gateway's own answers ([`GatewayError`]) plus a log line
//! that says what to do.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use ssam_lambda::from_template::Skipped;
use ssam_lambda::{FunctionSpec, InvokeError, LambdaService, ServiceOptions};
use ssam_template::{ApiType, App};
use time::OffsetDateTime;

use crate::authorizer::{self, AuthCache};
use crate::binary;
use crate::cors;
use crate::errors::GatewayError;
use crate::event::{self, Incoming, LAMBDA_REQUEST_MAX};
use crate::functions::{Functions, InvokeFailure};
use crate::header_case::Spellings;
use crate::ids;
use crate::response;
use crate::routes::{Lookup, Matched, RouteTable};

/// API Gateway's payload quota (HTTP and REST APIs): 10 MB.
pub const PAYLOAD_MAX: usize = 10 * 1024 * 1024;

/// How the gateway behaves beyond what the template says.
#[derive(Clone, Debug, Default)]
pub struct GatewayOptions {
    /// Overrides the integration timeout of every route (tests; AWS's are 30 s / 29 s).
    pub integration_timeout: Option<Duration>,
    /// Files served as they are for GET/HEAD (`--static-dir`).
    pub static_dir: Option<PathBuf>,
    /// Let every request through without running Lambda authorizers.
    pub disable_authorizer: bool,
    /// Print one access-log line per request on stderr.
    pub log_requests: bool,
    /// Record the gateway's own time per request (benchmarks; see [`Gateway::take_overhead`]).
    pub record_overhead: bool,
}

/// What the template says, in the form the gateway serves it.
pub struct Config {
    pub table: RouteTable,
    pub region: String,
    pub account_id: String,
}

/// A route as SAM's `Mounting` line shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub function: String,
    /// As declared, without the stage prefix (as SAM prints it).
    pub path: String,
    pub methods: Vec<String>,
}

/// The running gateway.
pub struct Gateway {
    config: RwLock<Arc<Config>>,
    pub functions: Functions,
    options: GatewayOptions,
    auth_cache: AuthCache,
    overhead: Option<std::sync::Mutex<Vec<Duration>>>,
}

type Body = Full<Bytes>;

impl Gateway {
    /// Builds the gateway; `warnings` receives what cannot be served as AWS would. Must be
    /// called inside a Tokio runtime.
    pub fn new(
        app: &App,
        specs: Vec<FunctionSpec>,
        skipped: Vec<Skipped>,
        service_options: ServiceOptions,
        options: GatewayOptions,
        warnings: &mut Vec<String>,
    ) -> Arc<Self> {
        let config = Self::config_of(app, warnings);
        Arc::new(Gateway {
            config: RwLock::new(Arc::new(config)),
            functions: Functions::owned(LambdaService::new(specs, service_options), skipped),
            overhead: options
                .record_overhead
                .then(|| std::sync::Mutex::new(Vec::new())),
            options,
            auth_cache: AuthCache::default(),
        })
    }

    /// Like [`Gateway::new`], on a Lambda service the caller owns (and shuts down), e.g. the
    /// one `ssam local start` shares with the Invoke API and S3 events. Code changes cannot
    /// recycle instances of a shared service; template reloads update routes only.
    pub fn on_service(
        app: &App,
        service: Arc<ssam_lambda::LambdaService>,
        skipped: Vec<Skipped>,
        options: GatewayOptions,
        warnings: &mut Vec<String>,
    ) -> Arc<Self> {
        let config = Self::config_of(app, warnings);
        Arc::new(Gateway {
            config: RwLock::new(Arc::new(config)),
            functions: Functions::shared(service, skipped),
            overhead: options
                .record_overhead
                .then(|| std::sync::Mutex::new(Vec::new())),
            options,
            auth_cache: AuthCache::default(),
        })
    }

    fn config_of(app: &App, warnings: &mut Vec<String>) -> Config {
        Config {
            table: RouteTable::from_app(app, warnings),
            region: app.region.clone(),
            account_id: app.account_id.clone(),
        }
    }

    /// The configuration requests are served with now.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Serves a reloaded template: new routes at once, changed functions with fresh
    /// instances. Returns the functions whose instances were replaced.
    pub fn reload(
        &self,
        app: &App,
        specs: Vec<FunctionSpec>,
        skipped: Vec<Skipped>,
        warnings: &mut Vec<String>,
    ) -> Vec<String> {
        let config = Self::config_of(app, warnings);
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
        self.auth_cache.clear();
        self.functions.update(specs, skipped)
    }

    /// The routes, as SAM's `Mounting X at http://host:port/path [GET, OPTIONS]` lines list
    /// them: one line per function and path, methods merged, `OPTIONS` added where the
    /// gateway answers CORS preflights.
    pub fn mounts(&self) -> Vec<Mount> {
        let config = self.config();
        let mut out: Vec<Mount> = Vec::new();
        for r in &config.table.routes {
            let Some(api) = config.table.apis.get(r.api) else {
                continue;
            };
            // SAM prints the path without the stage; the stage-prefixed form is served too.
            let path = if r.is_catch_all() {
                "/{proxy+}".to_string()
            } else {
                r.path.clone()
            };
            let mut methods = r.display_methods();
            if api.cors.is_some() {
                methods.push("OPTIONS".into());
            }
            match out
                .iter_mut()
                .find(|m| m.function == r.function && m.path == path)
            {
                Some(m) => m.methods.extend(methods),
                None => out.push(Mount {
                    function: r.function.clone(),
                    path,
                    methods,
                }),
            }
        }
        for m in &mut out {
            m.methods.sort();
            m.methods.dedup();
        }
        out
    }

    /// Serves one request.
    pub async fn handle<B>(
        self: &Arc<Self>,
        req: http::Request<B>,
        peer: std::net::SocketAddr,
        local_port: u16,
        spellings: Option<Spellings>,
    ) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let log_line = if self.options.log_requests {
            Some(format!("{} {}", req.method(), req.uri()))
        } else {
            None
        };
        let mut invoke_time = Duration::ZERO;
        let resp = self
            .handle_inner(req, peer, local_port, spellings, &mut invoke_time)
            .await;
        if let Some(samples) = &self.overhead {
            let own = started.elapsed().saturating_sub(invoke_time);
            samples.lock().unwrap_or_else(|p| p.into_inner()).push(own);
        }
        if let Some(line) = log_line {
            let now = OffsetDateTime::now_utc();
            tracing::info!(
                "{} - - [{}] \"{line} HTTP/1.1\" {} - {:.1} ms",
                peer.ip(),
                ssam_events::encode::clf(now),
                resp.status().as_u16(),
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        resp
    }

    /// The gateway's own time per request so far (everything but the invocation), when
    /// [`GatewayOptions::record_overhead`] is set; clears the record.
    pub fn take_overhead(&self) -> Vec<Duration> {
        self.overhead
            .as_ref()
            .map(|s| std::mem::take(&mut *s.lock().unwrap_or_else(|p| p.into_inner())))
            .unwrap_or_default()
    }

    async fn handle_inner<B>(
        self: &Arc<Self>,
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
        let config = self.config();
        let (parts, body) = req.into_parts();
        let method = parts.method.as_str();
        let raw_path = parts.uri.path();
        let mut headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let trace_id = forwarded_headers(&mut headers, &peer, local_port);
        let headers = headers;
        let header = |name: &str| -> Option<&str> {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let origin = header("origin");

        // CORS preflight, answered by the gateway. An HTTP API still routes it first: when the
        // route that catches OPTIONS (`ANY`, `$default`) has an authorizer, the authorizer runs
        // and can refuse the preflight, as deployed ("Configuring CORS for an HTTP API with a
        // $default route and an authorizer").
        let mut preflight = if method.eq_ignore_ascii_case("OPTIONS") {
            self.preflight(&config.table, raw_path, origin, &headers)
        } else {
            None
        };

        let m = match config.table.lookup(method, raw_path) {
            Lookup::Found(m) => {
                if let Some(answer) = preflight.take() {
                    if m.api.api_type == ApiType::Rest
                        || m.route.authorizer.is_none()
                        || self.options.disable_authorizer
                    {
                        return answer;
                    }
                    preflight = Some(answer);
                }
                m
            }
            Lookup::NotFound { api_type, .. } => {
                if let Some(answer) = preflight {
                    return answer;
                }
                if let Some(resp) = self.static_file(method, raw_path).await {
                    return resp;
                }
                let rest = api_type == ApiType::Rest;
                let id = ids::short_request_id();
                let request_id = if rest {
                    ids::rest_request_id()
                } else {
                    id.clone()
                };
                return with_ids(
                    error_response(&GatewayError::NoRoute, api_type),
                    rest,
                    &request_id,
                    &id,
                    &trace_id,
                );
            }
        };
        let api_type = m.api.api_type;
        let rest = api_type == ApiType::Rest;
        let request_id = if rest {
            ids::rest_request_id()
        } else {
            ids::short_request_id()
        };
        let extended_id = if rest {
            ids::short_request_id()
        } else {
            request_id.clone()
        };
        let ids_for =
            |resp: Response<Body>| with_ids(resp, rest, &request_id, &extended_id, &trace_id);

        // API Gateway's payload quota. An oversized body is still read (and dropped), up to
        // a bound: clients that are still sending when the answer comes see a reset instead
        // of the 413.
        let body = match read_body(body).await {
            Ok(Some(b)) => b,
            Ok(None) => {
                tracing::info!(
                    "{method} {raw_path}: request body is over API Gateway's 10 MB payload quota: 413\n  hint: upload large files to S3 (e.g. with a presigned URL) instead of through the API"
                );
                return ids_for(error_response(&GatewayError::PayloadTooLarge, api_type));
            }
            // The client went away or sent a broken body: nothing useful to answer.
            Err(()) => return ids_for(error_response(&GatewayError::BadGateway, api_type)),
        };

        let mut inc = Incoming {
            method,
            headers: &headers,
            raw_query: parts.uri.query(),
            body: &body,
            source_ip: peer.ip().to_string(),
            protocol: "HTTP/1.1",
            request_id: &request_id,
            extended_request_id: &extended_id,
            account_id: &config.account_id,
            time: OffsetDateTime::now_utc(),
            authorizer: None,
            spellings: spellings.as_ref(),
        };
        if let Some(ra) = m
            .route
            .authorizer
            .as_ref()
            .filter(|_| !self.options.disable_authorizer)
        {
            let mut req = event::request(&m, &inc);
            req.body = None;
            req.base64_body = false;
            match authorizer::authorize(
                &self.functions,
                &self.auth_cache,
                &config.region,
                &m,
                ra,
                &req,
            )
            .await
            {
                Ok(ctx) => inc.authorizer = ctx,
                Err(e) => {
                    if preflight.is_some() {
                        tracing::info!(
                            "OPTIONS {raw_path}: the CORS preflight matched route {} whose authorizer refused it; browsers send no credentials with preflights\n  hint: add an OPTIONS route without authorization (Auth: Authorizer: NONE), as AWS advises",
                            m.route.route_key()
                        );
                    }
                    return ids_for(error_response(&e, api_type));
                }
            }
            if let Some(answer) = preflight {
                return ids_for(answer);
            }
        }

        let payload = match event::build(&m, &inc) {
            Ok(p) => p,
            Err(e) => {
                tracing::info!("{method} {raw_path}: cannot build the event: {e}");
                return ids_for(error_response(&GatewayError::BadGateway, api_type));
            }
        };
        if payload.len() > LAMBDA_REQUEST_MAX {
            let base64 = event::body_is_base64(&m, header("content-type"));
            let reason = event::too_large_reason(payload.len(), body.len(), base64);
            tracing::info!("{method} {raw_path}: 413: {reason}");
            return ids_for(error_response(
                &GatewayError::EventTooLarge { reason },
                api_type,
            ));
        }

        let timeout = self.options.integration_timeout.unwrap_or(m.route.timeout);
        let invoke_started = Instant::now();
        let result = self
            .functions
            .invoke(
                &m.route.function,
                Bytes::from(payload),
                timeout,
                Some(trace_id.clone()),
            )
            .await;
        *invoke_time = invoke_started.elapsed();
        let resp = match result {
            Ok(r) => r,
            Err(InvokeFailure::Timeout) => {
                tracing::info!(
                    "{method} {raw_path}: {} did not answer within the {:.0} s integration timeout: {}",
                    m.route.function,
                    timeout.as_secs_f64(),
                    if rest { 504 } else { 503 }
                );
                return ids_for(error_response(&GatewayError::IntegrationTimeout, api_type));
            }
            Err(InvokeFailure::NotRunnable(why)) => {
                tracing::info!("{method} {raw_path}: cannot invoke {why}: 502");
                return ids_for(error_response(&GatewayError::BadGateway, api_type));
            }
            Err(InvokeFailure::Lambda(InvokeError::TooManyRequests)) => {
                tracing::warn!(
                    "{method} {raw_path}: Lambda throttled {} (all of its ReservedConcurrentExecutions are in use): 500",
                    m.route.function
                );
                return ids_for(error_response(&GatewayError::LambdaThrottled, api_type));
            }
            Err(InvokeFailure::Lambda(e)) => {
                tracing::info!("{method} {raw_path}: Lambda refused the invocation: {e}: 502");
                return ids_for(error_response(&GatewayError::BadGateway, api_type));
            }
        };
        if resp.function_error().is_some() {
            tracing::info!(
                "{method} {raw_path}: {} failed: {}: 502",
                m.route.function,
                String::from_utf8_lossy(&resp.payload)
            );
            return ids_for(error_response(&GatewayError::BadGateway, api_type));
        }
        let mapped = match response::map(&resp.payload, m.route.payload, rest) {
            Ok(mapped) => mapped,
            Err(why) => {
                tracing::info!(
                    "{method} {raw_path}: malformed Lambda proxy response from {}: {why}: 502",
                    m.route.function
                );
                return ids_for(error_response(&GatewayError::BadGateway, api_type));
            }
        };
        ids_for(self.respond(&m, mapped, origin, header("accept")))
    }

    /// The HTTP response for a mapped function result: binary decoding, CORS headers.
    fn respond(
        &self,
        m: &Matched<'_>,
        mapped: response::Mapped,
        origin: Option<&str>,
        accept: Option<&str>,
    ) -> Response<Body> {
        let rest = m.api.api_type == ApiType::Rest;
        let decode = if rest {
            binary::is_binary_type(&m.api.binary_media_types, binary::first_accept(accept))
                || binary::is_binary_type(&m.api.binary_media_types, mapped.header("content-type"))
        } else {
            true
        };
        if mapped.base64 && !decode {
            tracing::info!(
                "{}: isBase64Encoded response passed on as base64 text, as API Gateway does: neither the request's Accept nor the response's Content-Type is one of the API's BinaryMediaTypes",
                m.route.function
            );
        }
        let body = match mapped.body_bytes(decode) {
            Ok(b) => b,
            Err(why) => {
                tracing::info!("{}: {why}: 502", m.route.function);
                return error_response(&GatewayError::BadGateway, m.api.api_type);
            }
        };
        let cors_headers = m
            .api
            .cors
            .as_ref()
            .and_then(|c| cors::response_headers(m.api.api_type, c, origin));
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

    fn preflight(
        &self,
        table: &RouteTable,
        raw_path: &str,
        origin: Option<&str>,
        headers: &[(String, String)],
    ) -> Option<Response<Body>> {
        let api = table.api_for_path(raw_path)?;
        let c = api.cors.as_ref()?;
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let request_method = header("access-control-request-method");
        match api.api_type {
            ApiType::Http if !cors::is_preflight("OPTIONS", origin, request_method) => return None,
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
            origin,
            header("access-control-request-headers"),
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

    async fn static_file(&self, method: &str, raw_path: &str) -> Option<Response<Body>> {
        if method != "GET" && method != "HEAD" {
            return None;
        }
        let dir = self.options.static_dir.as_ref()?;
        let decoded = percent_encoding::percent_decode_str(raw_path)
            .decode_utf8()
            .ok()?;
        let rel: PathBuf = decoded
            .split('/')
            .filter(|s| !s.is_empty() && *s != "." && *s != "..")
            .collect();
        let mut path = dir.join(rel);
        if path.is_dir() {
            path = path.join("index.html");
        }
        let bytes = tokio::fs::read(&path).await.ok()?;
        let mut resp = Response::new(Full::new(Bytes::from(bytes)));
        if let Ok(v) = HeaderValue::from_str(content_type_for(&path)) {
            resp.headers_mut().insert("content-type", v);
        }
        Some(resp)
    }
}

/// How much of an oversized body is read and dropped before answering 413.
const DRAIN_MAX: usize = 64 * 1024 * 1024;

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

fn content_type_for(path: &std::path::Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
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
    resp
}

/// The headers API Gateway adds to the request it passes on (the REST sample event in "Set
/// up Lambda proxy integrations" shows them): `X-Forwarded-For/Port/Proto` and
/// `X-Amzn-Trace-Id` (kept when the client sent one). Returns the trace id, which the
/// function also gets as `_X_AMZN_TRACE_ID`.
fn forwarded_headers(
    headers: &mut Vec<(String, String)>,
    peer: &std::net::SocketAddr,
    local_port: u16,
) -> String {
    let ip = peer.ip().to_string();
    match headers.iter_mut().find(|(k, _)| k == "x-forwarded-for") {
        Some((_, v)) => {
            v.push_str(", ");
            v.push_str(&ip);
        }
        None => headers.push(("x-forwarded-for".into(), ip)),
    }
    headers.retain(|(k, _)| k != "x-forwarded-port" && k != "x-forwarded-proto");
    headers.push(("x-forwarded-port".into(), local_port.to_string()));
    headers.push(("x-forwarded-proto".into(), "http".into()));
    match headers
        .iter()
        .find(|(k, v)| k == "x-amzn-trace-id" && v.starts_with("Root="))
    {
        Some((_, v)) => v.clone(),
        None => {
            let t = ssam_lambda::ids::trace_header();
            headers.retain(|(k, _)| k != "x-amzn-trace-id");
            headers.push(("x-amzn-trace-id".into(), t.clone()));
            t
        }
    }
}

/// The request-id headers each API type adds to every answer.
fn with_ids(
    mut resp: Response<Body>,
    rest: bool,
    request_id: &str,
    extended_id: &str,
    trace_id: &str,
) -> Response<Body> {
    let h = resp.headers_mut();
    if rest {
        if let Ok(v) = HeaderValue::from_str(trace_id) {
            h.insert("x-amzn-trace-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(request_id) {
            h.insert("x-amzn-requestid", v);
        }
        if let Ok(v) = HeaderValue::from_str(extended_id) {
            h.insert("x-amz-apigw-id", v);
        }
    } else if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("apigw-requestid", v);
    }
    resp
}
