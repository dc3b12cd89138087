//! The dashboard's HTTP surface: the embedded page, the JSON API under `/api/` (see
//! `docs/dashboard.md`) and the live feed (`/api/stream`, server-sent events).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use ssam_apigw::routes::Guard;
use ssam_lambda::{InvokeRequest, InvokeSource, Status};

use crate::model::{Detail, Summary};
use crate::recorder::caused_by;
use crate::Dashboard;

type Shared = Arc<Dashboard>;

pub fn router(dash: Shared) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(script))
        .route("/style.css", get(style))
        .route("/api/overview", get(overview))
        .route("/api/functions", get(functions))
        .route("/api/functions/{name}/invoke", post(invoke))
        .route("/api/invocations", get(invocations))
        .route("/api/invocations/{id}", get(invocation))
        .route("/api/invocations/{id}/event", get(event_payload))
        .route("/api/invocations/{id}/response", get(response_payload))
        .route("/api/invocations/{id}/replay", post(replay))
        .route("/api/catalog", get(catalog))
        .route("/api/catalog/{service}/{event}", post(generate))
        .route("/api/routes", get(routes))
        .route("/api/routes/send", post(send))
        .route("/api/s3/buckets", get(buckets))
        .route("/api/s3/buckets/{bucket}/objects", get(objects))
        .route(
            "/api/s3/buckets/{bucket}/object",
            get(object)
                .put(upload)
                .layer(DefaultBodyLimit::max(UPLOAD_MAX))
                .delete(delete_object),
        )
        .route("/api/s3/buckets/{bucket}/content", get(content))
        .route("/api/s3/events", get(object_events))
        .route("/api/async", get(async_queue))
        .route("/api/async/dropped/{id}/payload", get(dropped_payload))
        .route("/api/stream", get(stream))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such page or API") })
        .layer(DefaultBodyLimit::max(EVENT_MAX))
        .layer(middleware::from_fn(same_origin))
        .with_state(dash)
}

/// Largest event a replay or invoke takes: Lambda's 6 MB synchronous payload, with room.
const EVENT_MAX: usize = 8 * 1024 * 1024;
/// Largest upload through the S3 view (held in memory while it is sent on).
pub const UPLOAD_MAX: usize = 256 * 1024 * 1024;

/// Refuses requests that change something (invoke, replay, upload, delete) when another web
/// page sent them: a page on another origin may post to localhost, but its browser says
/// where it comes from (`Origin`), and that is not the dashboard's own address.
async fn same_origin(req: axum::extract::Request, next: middleware::Next) -> Response {
    let safe = matches!(*req.method(), http::Method::GET | http::Method::HEAD);
    if !safe {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok());
        if let Some(origin) = origin {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            if Some(origin_host) != host {
                return error(
                    StatusCode::FORBIDDEN,
                    format!("a page from {origin} may not change anything through the dashboard"),
                );
            }
        }
    }
    next.run(req).await
}

/// `{"error": "..."}` with a status.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    #[derive(Serialize)]
    struct E {
        error: String,
    }
    (
        status,
        Json(E {
            error: message.into(),
        }),
    )
        .into_response()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("../assets/index.html"),
    )
}
async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    )
}
async fn style() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../assets/style.css"),
    )
}

// ---------------------------------------------------------------- overview and functions

#[derive(Serialize)]
struct Overview {
    addresses: Vec<Address>,
    functions: usize,
    routes: usize,
    buckets: usize,
    /// How many invocations the dashboard keeps at most (`--dashboard-history`).
    history: usize,
    /// How many it holds now.
    kept: usize,
}

#[derive(Serialize)]
struct Address {
    name: String,
    url: String,
}

async fn overview(State(d): State<Shared>) -> Json<Overview> {
    let addresses = d
        .addresses
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|(name, url)| Address {
            name: name.clone(),
            url: url.clone(),
        })
        .collect();
    let routes = d
        .gateway
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .map_or(0, |(g, _)| g.config().table.routes.len());
    let ring_sizes = {
        let rec = d.recorder.lock();
        (rec.ring.capacity(), rec.ring.len())
    };
    Json(Overview {
        addresses,
        functions: d.lambda.as_ref().map_or(0, |l| l.functions().len()),
        routes,
        buckets: d.s3.as_ref().map_or(0, |s| s.buckets().len()),
        history: ring_sizes.0,
        kept: ring_sizes.1,
    })
}

#[derive(Serialize)]
struct FunctionView {
    #[serde(flatten)]
    state: ssam_lambda::FunctionState,
    /// Where the function is declared: `template.yaml:12:3`.
    template_position: Option<String>,
    invocations: u64,
    errors: u64,
    throttles: u64,
    cold_starts: u64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    last_cold_start_ms: Option<f64>,
    last_init_ms: Option<f64>,
    async_pending: i64,
    async_retries: u64,
    async_dropped: u64,
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i.min(sorted.len() - 1)).copied()
}

fn function_views(d: &Dashboard) -> Vec<FunctionView> {
    let Some(lambda) = &d.lambda else {
        return Vec::new();
    };
    let states = lambda.function_states();
    let st = d.recorder.lock();
    states
        .into_iter()
        .map(|state| {
            let s = st.stats.get(&state.name);
            let mut durations: Vec<f64> = s
                .map(|s| s.durations_ms.iter().copied().collect())
                .unwrap_or_default();
            durations.sort_by(f64::total_cmp);
            FunctionView {
                template_position: d.positions.get(&state.logical_id).cloned(),
                invocations: s.map_or(0, |s| s.invocations),
                errors: s.map_or(0, |s| s.errors),
                throttles: s.map_or(0, |s| s.throttles),
                cold_starts: s.map_or(0, |s| s.cold_starts),
                p50_ms: percentile(&durations, 0.5),
                p99_ms: percentile(&durations, 0.99),
                last_cold_start_ms: s
                    .and_then(|s| s.last_cold)
                    .map(|(t, _)| crate::model::epoch_ms(t)),
                last_init_ms: s
                    .and_then(|s| s.last_cold)
                    .map(|(_, d)| d.as_secs_f64() * 1000.0),
                async_pending: s.map_or(0, |s| s.async_pending.max(0)),
                async_retries: s.map_or(0, |s| s.async_retries),
                async_dropped: s.map_or(0, |s| s.async_dropped),
                state,
            }
        })
        .collect()
}

async fn functions(State(d): State<Shared>) -> Json<Vec<FunctionView>> {
    Json(function_views(&d))
}

// ---------------------------------------------------------------- invocations

#[derive(Deserialize, Default)]
struct InvocationFilter {
    function: Option<String>,
    /// `success`, `error` (any failure), or one status.
    status: Option<String>,
    /// Text searched in the request id, event, response and log.
    q: Option<String>,
    /// Only invocations with a larger id (for polling).
    after: Option<u64>,
    limit: Option<usize>,
}

fn status_matches(status: Status, wanted: &str) -> bool {
    match wanted {
        "" | "all" => true,
        "error" | "failed" => status != Status::Success,
        other => serde_json::to_value(status)
            .ok()
            .and_then(|v| v.as_str().map(|s| s == other))
            .unwrap_or(false),
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    !n.is_empty() && haystack.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

async fn invocations(State(d): State<Shared>, Query(f): Query<InvocationFilter>) -> Response {
    let st = d.recorder.lock();
    let limit = f.limit.unwrap_or(usize::MAX);
    let q = f.q.as_deref().unwrap_or("").trim();
    let mut out: Vec<Summary<'_>> = st
        .ring
        .iter()
        .rev()
        .filter(|e| f.after.is_none_or(|a| e.id > a))
        .filter(|e| {
            f.function
                .as_deref()
                .is_none_or(|n| n.is_empty() || e.record.function == n)
        })
        .filter(|e| {
            f.status
                .as_deref()
                .is_none_or(|s| status_matches(e.record.status, s))
        })
        .filter(|e| {
            let r = &e.record;
            q.is_empty()
                || r.request_id.contains(q)
                || r.function.contains(q)
                || contains(&r.event, q)
                || contains(&r.response, q)
                || contains(r.log.as_bytes(), q)
        })
        .take(limit)
        .map(|e| Summary::of(e))
        .collect();
    out.reverse();
    // Serialised under the lock: the summaries borrow the ring.
    Json(out).into_response()
}

fn entry(d: &Dashboard, id: &str) -> Option<Arc<crate::ring::Entry>> {
    let st = d.recorder.lock();
    match id.parse::<u64>() {
        Ok(n) => st.ring.get(n),
        Err(_) => st.ring.find_request(id),
    }
}

const GONE: &str =
    "no such invocation in the dashboard's history; hint: keep more with --dashboard-history";

async fn invocation(State(d): State<Shared>, Path(id): Path<String>) -> Response {
    match entry(&d, &id) {
        Some(e) => Json(Detail::of(&e)).into_response(),
        None => error(StatusCode::NOT_FOUND, GONE),
    }
}

fn download(body: Bytes, name: String) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    let mut resp = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

async fn event_payload(State(d): State<Shared>, Path(id): Path<String>) -> Response {
    match entry(&d, &id) {
        Some(e) => download(
            e.record.event.clone(),
            format!("{}-event.json", e.record.request_id),
        ),
        None => error(StatusCode::NOT_FOUND, GONE),
    }
}

async fn response_payload(State(d): State<Shared>, Path(id): Path<String>) -> Response {
    match entry(&d, &id) {
        Some(e) => download(
            e.record.response.clone(),
            format!("{}-response.json", e.record.request_id),
        ),
        None => error(StatusCode::NOT_FOUND, GONE),
    }
}

/// What an invoke from the dashboard answers: the new invocation's request id, status and
/// payload (the invocation itself shows up in the list like any other).
#[derive(Serialize)]
struct Invoked {
    request_id: String,
    status: Status,
    payload: String,
    duration_ms: f64,
}

async fn run_invoke(d: &Dashboard, function: &str, event: Bytes, source: InvokeSource) -> Response {
    let Some(lambda) = &d.lambda else {
        return error(StatusCode::NOT_FOUND, "this command serves no functions");
    };
    let mut req = InvokeRequest::new(function, event);
    req.source = source;
    match lambda.invoke(req).await {
        Ok(resp) => Json(Invoked {
            request_id: resp.request_id.clone(),
            status: Status::of(resp.failure),
            payload: String::from_utf8_lossy(&resp.payload).into_owned(),
            duration_ms: resp.duration.as_secs_f64() * 1000.0,
        })
        .into_response(),
        Err(e) => {
            let msg = match e.hint() {
                Some(h) => format!("{e}; hint: {h}"),
                None => e.to_string(),
            };
            error(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                msg,
            )
        }
    }
}

/// Runs an earlier invocation again, with its event or with the body (an edited event).
async fn replay(State(d): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(e) = entry(&d, &id) else {
        return error(StatusCode::NOT_FOUND, GONE);
    };
    let event = if body.iter().all(u8::is_ascii_whitespace) {
        e.record.event.clone()
    } else {
        body
    };
    let source = InvokeSource::Replay {
        of: e.record.request_id.clone(),
    };
    run_invoke(&d, &e.record.function, event, source).await
}

async fn invoke(State(d): State<Shared>, Path(name): Path<String>, body: Bytes) -> Response {
    run_invoke(&d, &name, body, InvokeSource::Dashboard).await
}

// ---------------------------------------------------------------- generate-event catalogue

#[derive(Serialize)]
struct CatalogService {
    name: &'static str,
    help: &'static str,
    events: Vec<CatalogEvent>,
}

#[derive(Serialize)]
struct CatalogEvent {
    name: &'static str,
    help: &'static str,
    flags: Vec<CatalogFlag>,
}

#[derive(Serialize)]
struct CatalogFlag {
    name: &'static str,
    default: &'static str,
    help: &'static str,
}

async fn catalog() -> Json<Vec<CatalogService>> {
    Json(
        ssam_events::registry::SERVICES
            .iter()
            .map(|s| CatalogService {
                name: s.name,
                help: s.help,
                events: s
                    .events
                    .iter()
                    .map(|e| CatalogEvent {
                        name: e.name,
                        help: e.help,
                        flags: e
                            .flags
                            .iter()
                            .map(|f| CatalogFlag {
                                name: f.name,
                                default: f.default,
                                help: f.help,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    )
}

/// A sample event from the catalogue, its flags filled from the body (`{"flag": "value"}`),
/// as `ssam local generate-event SERVICE EVENT --flag value` makes it.
async fn generate(
    Path((service, event)): Path<(String, String)>,
    body: Option<Json<BTreeMap<String, String>>>,
) -> Response {
    let mut args = Vec::new();
    for (k, v) in body.map(|Json(b)| b).unwrap_or_default() {
        args.push(format!("--{k}"));
        args.push(v);
    }
    match ssam_events::registry::generate(&service, &event, &args) {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

// ---------------------------------------------------------------- routes

#[derive(Serialize)]
struct ApiView {
    logical_id: String,
    api_type: String,
    stage: String,
    cors: Option<CorsView>,
}

#[derive(Serialize)]
struct CorsView {
    allow_origins: Vec<String>,
    allow_methods: Vec<String>,
    allow_headers: Vec<String>,
    expose_headers: Vec<String>,
    allow_credentials: bool,
    max_age: Option<i64>,
}

#[derive(Serialize)]
struct RouteView {
    api: String,
    method: String,
    path: String,
    function: String,
    authorizer: Option<String>,
    refused: Option<String>,
    timeout_ms: u64,
}

#[derive(Serialize)]
struct RoutesView {
    url: Option<String>,
    apis: Vec<ApiView>,
    routes: Vec<RouteView>,
}

async fn routes(State(d): State<Shared>) -> Json<RoutesView> {
    let guard = d.gateway.read().unwrap_or_else(|p| p.into_inner());
    let Some((gw, url)) = guard.as_ref() else {
        return Json(RoutesView {
            url: None,
            apis: Vec::new(),
            routes: Vec::new(),
        });
    };
    let config = gw.config();
    let table = &config.table;
    let apis = table
        .apis
        .iter()
        .map(|a| ApiView {
            logical_id: a.logical_id.clone(),
            api_type: format!("{:?}", a.api_type),
            stage: a.stage.clone(),
            cors: a.cors.as_ref().map(cors_view),
        })
        .collect();
    let routes = table
        .routes
        .iter()
        .map(|r| RouteView {
            api: table
                .apis
                .get(r.api)
                .map(|a| a.logical_id.clone())
                .unwrap_or_default(),
            method: r.method.clone().unwrap_or_else(|| "ANY".into()),
            path: r.path.clone(),
            function: r.function.clone(),
            authorizer: match &r.guard {
                Guard::Open | Guard::Refused(_) => None,
                Guard::Lambda(a) => Some(format!("{} ({})", a.authorizer.name, a.function)),
                Guard::Jwt(j) => Some(format!("{} (JWT)", j.authorizer.name)),
                Guard::Iam => Some("AWS_IAM".into()),
            },
            refused: match &r.guard {
                Guard::Refused(why) => Some(why.clone()),
                _ => None,
            },
            timeout_ms: r.timeout.as_millis() as u64,
        })
        .collect();
    Json(RoutesView {
        url: Some(url.clone()),
        apis,
        routes,
    })
}

fn cors_view(c: &ssam_template::Cors) -> CorsView {
    CorsView {
        allow_origins: c.allow_origins.clone(),
        allow_methods: c.allow_methods.clone(),
        allow_headers: c.allow_headers.clone(),
        expose_headers: c.expose_headers.clone(),
        allow_credentials: c.allow_credentials,
        max_age: c.max_age.map(i64::from),
    }
}

#[derive(Deserialize)]
struct SendRequest {
    method: String,
    /// Path and query, e.g. `/hello?name=x`.
    path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: String,
}

#[derive(Serialize)]
struct SentResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

/// Sends a request to the API Gateway emulator, as a client would.
async fn send(State(d): State<Shared>, Json(req): Json<SendRequest>) -> Response {
    let url = {
        let guard = d.gateway.read().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some((_, url)) => url.clone(),
            None => return error(StatusCode::NOT_FOUND, "this command serves no API"),
        }
    };
    let Ok(method) = reqwest::Method::from_bytes(req.method.to_ascii_uppercase().as_bytes()) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("{} is not an HTTP method", req.method),
        );
    };
    let path = if req.path.starts_with('/') {
        req.path.clone()
    } else {
        format!("/{}", req.path)
    };
    let mut builder = d.http.request(method, format!("{url}{path}"));
    for (k, v) in &req.headers {
        builder = builder.header(k, v);
    }
    if !req.body.is_empty() {
        builder = builder.body(req.body.clone());
    }
    match builder.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = resp.bytes().await.unwrap_or_default();
            Json(SentResponse {
                status,
                headers,
                body: crate::model::preview(&body, crate::model::PREVIEW_MAX).0,
            })
            .into_response()
        }
        Err(e) => error(
            StatusCode::BAD_GATEWAY,
            format!("the API did not answer: {e}"),
        ),
    }
}

// ---------------------------------------------------------------- S3

fn no_s3() -> Response {
    error(StatusCode::NOT_FOUND, "this command serves no S3")
}

async fn buckets(State(d): State<Shared>) -> Response {
    match &d.s3 {
        Some(s) => Json(s.buckets()).into_response(),
        None => no_s3(),
    }
}

#[derive(Deserialize)]
struct PrefixQuery {
    #[serde(default)]
    prefix: String,
}

async fn objects(
    State(d): State<Shared>,
    Path(bucket): Path<String>,
    Query(q): Query<PrefixQuery>,
) -> Response {
    let Some(s) = d.s3.as_ref() else {
        return no_s3();
    };
    match s.list(&bucket, &q.prefix) {
        Ok(l) => Json(l).into_response(),
        Err(e) => error(StatusCode::NOT_FOUND, e),
    }
}

#[derive(Deserialize)]
struct KeyQuery {
    key: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    download: Option<String>,
}

#[derive(Serialize)]
struct ObjectView {
    bucket: String,
    key: String,
    versions: Vec<crate::s3::VersionView>,
    /// Object events for this key, newest last, each with the invocations it caused.
    events: Vec<LinkedEvent>,
}

#[derive(Serialize)]
struct LinkedEvent {
    #[serde(flatten)]
    event: crate::recorder::ObjectEventView,
    invocations: Vec<LinkedInvocation>,
}

#[derive(Serialize)]
struct LinkedInvocation {
    id: u64,
    function: String,
    request_id: String,
    status: Status,
}

fn linked_events(
    d: &Dashboard,
    filter: impl Fn(&crate::recorder::ObjectEventView) -> bool,
) -> Vec<LinkedEvent> {
    let st = d.recorder.lock();
    st.objects
        .iter()
        .filter(|e| filter(e))
        .map(|ev| LinkedEvent {
            invocations: st
                .ring
                .iter()
                .filter(|e| caused_by(&e.record.source, &ev.bucket, &ev.sequencer))
                .map(|e| LinkedInvocation {
                    id: e.id,
                    function: e.record.function.clone(),
                    request_id: e.record.request_id.clone(),
                    status: e.record.status,
                })
                .collect(),
            event: ev.clone(),
        })
        .collect()
}

async fn object(
    State(d): State<Shared>,
    Path(bucket): Path<String>,
    Query(q): Query<KeyQuery>,
) -> Response {
    let Some(s) = d.s3.as_ref() else {
        return no_s3();
    };
    match s.versions(&bucket, &q.key) {
        Ok(versions) if !versions.is_empty() => Json(ObjectView {
            events: linked_events(&d, |e| e.bucket == bucket && e.key == q.key),
            bucket,
            key: q.key,
            versions,
        })
        .into_response(),
        Ok(_) => error(
            StatusCode::NOT_FOUND,
            format!("s3://{bucket}/{} does not exist", q.key),
        ),
        Err(e) => error(StatusCode::NOT_FOUND, e),
    }
}

/// Relays a request to the local S3 and its answer back (status, body, content headers).
async fn relay(builder: reqwest::RequestBuilder, download_as: Option<&str>) -> Response {
    match builder.send().await {
        Ok(resp) => {
            let status =
                StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut headers = HeaderMap::new();
            for name in [header::CONTENT_TYPE, header::ETAG] {
                if let Some(v) = resp.headers().get(name.as_str()) {
                    if let Ok(v) = HeaderValue::from_bytes(v.as_bytes()) {
                        headers.insert(name, v);
                    }
                }
            }
            if let Some(name) = download_as {
                let name = name.rsplit('/').next().unwrap_or(name).replace('"', "");
                if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                    headers.insert(header::CONTENT_DISPOSITION, v);
                }
            }
            match resp.bytes().await {
                Ok(body) => (status, headers, body).into_response(),
                Err(e) => error(
                    StatusCode::BAD_GATEWAY,
                    format!("the local S3 stopped answering: {e}"),
                ),
            }
        }
        Err(e) => error(
            StatusCode::BAD_GATEWAY,
            format!("the local S3 did not answer: {e}"),
        ),
    }
}

fn versioned(url: String, version: &Option<String>) -> String {
    match version {
        Some(v) => format!(
            "{url}?versionId={}",
            percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
        ),
        None => url,
    }
}

async fn content(
    State(d): State<Shared>,
    Path(bucket): Path<String>,
    Query(q): Query<KeyQuery>,
) -> Response {
    let Some(s) = d.s3.as_ref() else {
        return no_s3();
    };
    let req = d
        .http
        .get(versioned(s.object_url(&bucket, &q.key), &q.version));
    let download = q.download.is_some().then_some(q.key.as_str());
    relay(req, download).await
}

/// Uploads the body as `key` with an S3 PUT (`Content-Type` and `x-amz-meta-*` headers
/// passed on), so the object events and notifications are those of any S3 client's PUT.
async fn upload(
    State(d): State<Shared>,
    Path(bucket): Path<String>,
    Query(q): Query<KeyQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(s) = d.s3.as_ref() else {
        return no_s3();
    };
    let mut req = d.http.put(s.object_url(&bucket, &q.key)).body(body);
    for (name, value) in &headers {
        let n = name.as_str();
        if n == "content-type" || n.starts_with("x-amz-meta-") {
            req = req.header(n, value.as_bytes());
        }
    }
    relay(req, None).await
}

async fn delete_object(
    State(d): State<Shared>,
    Path(bucket): Path<String>,
    Query(q): Query<KeyQuery>,
) -> Response {
    let Some(s) = d.s3.as_ref() else {
        return no_s3();
    };
    let req = d
        .http
        .delete(versioned(s.object_url(&bucket, &q.key), &q.version));
    relay(req, None).await
}

async fn object_events(State(d): State<Shared>) -> Json<Vec<LinkedEvent>> {
    Json(linked_events(&d, |_| true))
}

// ---------------------------------------------------------------- async queue

#[derive(Serialize)]
struct AsyncView {
    functions: Vec<AsyncFunction>,
    dropped: Vec<crate::recorder::Dropped>,
    loops: Vec<crate::recorder::LoopStopped>,
}

#[derive(Serialize)]
struct AsyncFunction {
    function: String,
    pending: i64,
    retries: u64,
    dropped: u64,
}

async fn async_queue(State(d): State<Shared>) -> Json<AsyncView> {
    let functions = function_views(&d)
        .into_iter()
        .map(|f| AsyncFunction {
            function: f.state.name,
            pending: f.async_pending,
            retries: f.async_retries,
            dropped: f.async_dropped,
        })
        .collect();
    let st = d.recorder.lock();
    Json(AsyncView {
        functions,
        dropped: st.dropped.iter().cloned().collect(),
        loops: st.loops.iter().cloned().collect(),
    })
}

async fn dropped_payload(State(d): State<Shared>, Path(id): Path<u64>) -> Response {
    let st = d.recorder.lock();
    match st.dropped.iter().find(|x| x.id == id) {
        Some(x) => download(x.payload.clone(), format!("dropped-{id}.json")),
        None => error(
            StatusCode::NOT_FOUND,
            "no such dropped event (only the last 200 are kept)",
        ),
    }
}

// ---------------------------------------------------------------- live feed

/// Server-sent events: one `message` per change, its data `{"type": ..., "data": ...}`;
/// `{"type": "resync"}` when the page fell behind and should reload its lists.
async fn stream(
    State(d): State<Shared>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let rx = d.recorder.subscribe();
    let s = futures::stream::unfold(rx, |mut rx| async move {
        use tokio::sync::broadcast::error::RecvError;
        let ev = match rx.recv().await {
            Ok(json) => Event::default().data(&*json),
            Err(RecvError::Lagged(_)) => Event::default().data(r#"{"type":"resync"}"#),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(ev), rx))
    });
    Sse::new(s).keep_alive(KeepAlive::default())
}
