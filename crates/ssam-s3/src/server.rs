//! Serving S3 over HTTP: the accept loop (TCP_NODELAY on every socket, graceful shutdown),
//! the auth modes, virtual-host addressing, and CORS around s3s.
//!
//! Auth modes. Strict: s3s verifies every SigV4/SigV2 signature against the configured
//! credentials. Default (as LocalStack): any access key is accepted, so signatures cannot
//! be verified (the secret is the client's); the server checks presigned-URL expiry itself
//! and then hands s3s the request without its signature. Bodies framed as `aws-chunked`
//! (chunk signatures, trailing checksums) are unframed here in that mode (see `chunked`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use s3s::auth::{S3Auth, SecretKey};
use s3s::host::{S3Host, VirtualHost};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{s3_error, Body, S3Error, S3Result};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};

use crate::service::{ClientAddr, RequestId, Service, TraceHeader};
use crate::store::{BucketConfig, Store, StoreError, Versioning};
use crate::{cors, Error, ObjectEvent, S3Config};

/// Longest a presigned URL may live (S3: seven days).
const MAX_PRESIGN_SECS: i64 = 604_800;

/// Starts local S3 services.
pub struct S3Server;

/// A running service; dropping it without [`RunningS3::shutdown`] leaves it running until
/// the runtime stops.
pub struct RunningS3 {
    addr: SocketAddr,
    events: broadcast::Sender<ObjectEvent>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    data_dir: std::path::PathBuf,
    store: Arc<Store>,
    _ephemeral: Option<tempfile::TempDir>,
}

impl RunningS3 {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`, for `--endpoint-url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Object events (created, removed) from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ObjectEvent> {
        self.events.subscribe()
    }

    /// The object store, for readers in the same process (the dashboard lists buckets and
    /// objects through it). Writes go through the S3 protocol, so they publish events.
    pub fn store(&self) -> Arc<Store> {
        Arc::clone(&self.store)
    }

    /// Where the store lives (a temporary directory when ephemeral).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Stops accepting, lets requests in flight finish (up to 10 s), and returns when the
    /// store is closed. An ephemeral store is deleted.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Waits until the service stops (it only stops through [`RunningS3::shutdown`]).
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

/// Credentials for signature checks.
struct Credentials(HashMap<String, String>);

#[async_trait::async_trait]
impl S3Auth for Credentials {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.get(access_key) {
            Some(s) => Ok(SecretKey::from(s.clone())),
            // S3's answer for an unknown key (s3s's SimpleAuth says NotSignedUp).
            None => Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            )),
        }
    }
}

/// Lets anonymous requests through: in the default mode signatures were removed on purpose.
struct AllowAll;

#[async_trait::async_trait]
impl s3s::access::S3Access for AllowAll {
    async fn check(&self, _cx: &mut s3s::access::S3AccessContext<'_>) -> S3Result<()> {
        Ok(())
    }
}

/// Strict mode: signed requests pass (s3s verified them); anonymous ones get what the
/// canned ACLs of the bucket and object grant, as S3 does. A missing bucket is let through
/// so the operation answers 404 rather than 403.
struct AclAccess(Arc<Store>);

#[async_trait::async_trait]
impl s3s::access::S3Access for AclAccess {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> S3Result<()> {
        if cx.credentials().is_some() {
            return Ok(());
        }
        let denied = || s3_error!(AccessDenied, "Access Denied");
        let (bucket, key) = match cx.s3_path() {
            s3s::path::S3Path::Root => return Err(denied()),
            s3s::path::S3Path::Bucket { bucket } => (bucket.as_ref(), None),
            s3s::path::S3Path::Object { bucket, key } => (bucket.as_ref(), Some(key.as_ref())),
        };
        let Ok(b) = self.0.bucket(bucket) else {
            return Ok(());
        };
        // One look under the bucket's lock: its ACL and the object's, as they are now.
        let (bucket_acl, object_public) = b
            .read(|st| {
                let object_public = key.and_then(|k| st.current(k)).map(|v| {
                    matches!(
                        v.meta.acl.as_deref(),
                        Some("public-read" | "public-read-write")
                    )
                });
                (st.config().acl.clone(), object_public)
            })
            .map_err(|e| s3_error!(InternalError, "{}", e))?;
        let bucket_acl = bucket_acl.as_deref().unwrap_or("private");
        let public_read = matches!(bucket_acl, "public-read" | "public-read-write");
        let public_write = bucket_acl == "public-read-write";
        let allowed = match cx.s3_op().name() {
            "ListObjects" | "ListObjectsV2" | "ListObjectVersions" | "HeadBucket"
            | "GetBucketLocation" => public_read,
            "PutObject"
            | "PostObject"
            | "DeleteObject"
            | "DeleteObjects"
            | "CreateMultipartUpload"
            | "UploadPart"
            | "CompleteMultipartUpload"
            | "AbortMultipartUpload" => public_write,
            // Without the object, a reader who may list the bucket learns it is missing.
            "GetObject" | "HeadObject" => object_public.unwrap_or(public_read),
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(denied())
        }
    }
}

/// `bucket.localhost[:port]` and LocalStack's `bucket.s3.localhost.localstack.cloud` are
/// virtual-host requests; every other host (IPs, `localhost`, container names) is path-style.
struct LocalHosts;

const VHOST_SUFFIXES: [&str; 4] = [
    ".s3.localhost.localstack.cloud",
    ".localhost.localstack.cloud",
    ".s3.localhost",
    ".localhost",
];

fn vhost_bucket(host: &str) -> Option<&str> {
    let name = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    VHOST_SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .filter(|b| !b.is_empty() && *b != "s3")
}

impl S3Host for LocalHosts {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match vhost_bucket(host) {
            Some(b) => VirtualHost::new(host).with_bucket(b),
            None => VirtualHost::new(host),
        })
    }
}

struct Ctx {
    s3: S3Service,
    store: Arc<Store>,
    strict: bool,
}

impl S3Server {
    /// Opens the store, creates the configured buckets, binds, and serves in the background.
    pub async fn start(config: S3Config) -> Result<RunningS3, Error> {
        let ephemeral = if config.ephemeral {
            Some(tempfile::Builder::new().prefix("ssam-s3-").tempdir()?)
        } else {
            None
        };
        let data_dir = ephemeral
            .as_ref()
            .map_or_else(|| config.data_dir.clone(), |t| t.path().to_path_buf());
        let dd = data_dir.clone();
        let ephemeral_store = config.ephemeral;
        let store = tokio::task::spawn_blocking(move || Store::open(&dd, !ephemeral_store))
            .await
            .map_err(std::io::Error::other)?
            .map_err(|source| Error::DataDir {
                path: data_dir.clone(),
                source,
            })?;
        let store = Arc::new(store);
        for spec in &config.buckets {
            match store.bucket(&spec.name) {
                Ok(_) => continue,
                Err(StoreError::NoSuchBucket) => {}
                Err(source) => {
                    return Err(Error::Bucket {
                        name: spec.name.clone(),
                        source,
                    })
                }
            }
            let cfg = BucketConfig {
                created_ms: crate::store::now_ms(),
                region: config.region.clone(),
                versioning: if spec.versioning {
                    Versioning::Enabled
                } else {
                    Versioning::Unversioned
                },
                cors_xml: spec.cors.as_deref().and_then(cors::rules_to_xml),
                ..Default::default()
            };
            let (st, name) = (Arc::clone(&store), spec.name.clone());
            tokio::task::spawn_blocking(move || st.create_bucket(&name, cfg))
                .await
                .map_err(std::io::Error::other)?
                .map_err(|source| Error::Bucket {
                    name: spec.name.clone(),
                    source,
                })?;
        }

        let (events, _) = broadcast::channel(4096);
        let service = Service::new(Arc::clone(&store), events.clone(), config.region.clone());
        let mut builder = S3ServiceBuilder::new(service);
        builder.set_host(LocalHosts);
        builder.set_auth(Credentials(config.credentials.iter().cloned().collect()));
        if config.strict_auth {
            builder.set_access(AclAccess(Arc::clone(&store)));
        } else {
            builder.set_access(AllowAll);
        }
        let ctx = Arc::new(Ctx {
            s3: builder.build(),
            store: Arc::clone(&store),
            strict: config.strict_auth,
        });

        let addr = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, ctx, stop_rx));
        Ok(RunningS3 {
            addr,
            events,
            stop,
            task,
            data_dir,
            store,
            _ephemeral: ephemeral,
        })
    }
}

async fn accept_loop(listener: TcpListener, ctx: Arc<Ctx>, mut stop: watch::Receiver<bool>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (sock, peer) = match accepted {
                    Ok(x) => x,
                    Err(err) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Without it, small responses on kept-alive connections wait for the
                // peer's delayed ACK (~40 ms each).
                let _ = sock.set_nodelay(true);
                let ctx = Arc::clone(&ctx);
                let svc = hyper::service::service_fn(move |req| handle(Arc::clone(&ctx), peer, req));
                let conn = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(sock), svc)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(err) = conn.await {
                        tracing::debug!(%err, "connection ended with an error");
                    }
                });
            }
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
}

fn error_response(err: S3Error) -> Response<Body> {
    err.to_http_response().unwrap_or_else(|_| {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

async fn handle(
    ctx: Arc<Ctx>,
    peer: SocketAddr,
    mut req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let bucket = bucket_of(&req);
    if req.method() == http::Method::OPTIONS {
        return Ok(match cors::preflight_request(req.method(), req.headers()) {
            Some((origin, method, headers)) => {
                preflight(&ctx, bucket.as_deref(), &origin, &method, &headers)
            }
            None => error_response(s3_error!(
                InvalidRequest,
                "Insufficient information. Origin request header needed."
            )),
        });
    }
    // Presigned URLs expire in both modes; s3s answers 400 for a lifetime over seven days
    // where S3 answers 403, so the check runs here first.
    if let Err(e) = check_presigned_expiry(&req) {
        return Ok(error_response(e));
    }
    let unframe = !ctx.strict && relax_auth(&mut req);
    let origin = req
        .headers()
        .get(http::header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    // Browsers' actual requests use their own method; some clients name the intended one.
    let method = req
        .headers()
        .get("access-control-request-method")
        .and_then(|m| m.to_str().ok())
        .map_or_else(|| req.method().as_str().to_owned(), str::to_owned);
    let is_attributes = req.method() == http::Method::GET
        && req.uri().query().is_some_and(|q| {
            q.split('&')
                .any(|p| p == "attributes" || p.starts_with("attributes="))
        });
    // Minted once: the answer's `x-amz-request-id` and the request's object events agree.
    let request_id = RequestId::new();
    req.extensions_mut().insert(request_id.clone());
    req.extensions_mut().insert(ClientAddr(peer));
    if let Some(t) = req
        .headers()
        .get("x-amzn-trace-id")
        .and_then(|v| v.to_str().ok())
    {
        let t = t.to_owned();
        req.extensions_mut().insert(TraceHeader(t));
    }
    let req = if unframe {
        req.map(unchunked)
    } else {
        req.map(Body::from)
    };
    let mut resp = match ctx.s3.call(req).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(?e, "s3 service error");
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
    };
    if let (Some(origin), Some(bucket)) = (origin, bucket) {
        if let Some(cfg) = bucket_cors(&ctx.store, &bucket) {
            if let Some(rule) = cors::find_rule(&cfg, &origin, &method, &[]) {
                cors::apply(resp.headers_mut(), rule, &origin, None);
            }
        }
    }
    if is_attributes && resp.status().is_success() {
        unquote_attribute_etag(&mut resp);
    }
    add_request_id(&mut resp, &request_id);
    Ok(resp)
}

/// GetObjectAttributes is the one S3 answer whose `<ETag>` has no quotes (s3s writes them).
fn unquote_attribute_etag(resp: &mut Response<Body>) {
    let Some(bytes) = resp.body_mut().take_bytes() else {
        return;
    };
    let text = String::from_utf8_lossy(&bytes);
    let fixed = match (text.find("<ETag>&quot;"), text.find("&quot;</ETag>")) {
        (Some(_), Some(_)) => {
            text.replacen("<ETag>&quot;", "<ETag>", 1)
                .replacen("&quot;</ETag>", "</ETag>", 1)
        }
        _ => text
            .replacen("<ETag>\"", "<ETag>", 1)
            .replacen("\"</ETag>", "</ETag>", 1),
    };
    if let Ok(len) = http::HeaderValue::from_str(&fixed.len().to_string()) {
        resp.headers_mut().insert(http::header::CONTENT_LENGTH, len);
    }
    *resp.body_mut() = Body::from(fixed.into_bytes());
}

/// Every answer carries `x-amz-request-id` (and `x-amz-id-2`), and an error body names the
/// same id in `<RequestId>`, as S3's do; SDKs log it and users quote it.
fn add_request_id(resp: &mut Response<Body>, id: &RequestId) {
    let id = &id.0;
    if let Ok(v) = http::HeaderValue::from_str(id) {
        resp.headers_mut().insert("x-amz-request-id", v.clone());
        resp.headers_mut().insert("x-amz-id-2", v);
    }
    if !resp.status().is_client_error() && !resp.status().is_server_error() {
        return;
    }
    let Some(bytes) = resp.body_mut().take_bytes() else {
        return;
    };
    let body = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("</Error>") && !text.contains("<RequestId>") => text
            .replacen(
                "</Error>",
                &format!("<RequestId>{id}</RequestId></Error>"),
                1,
            )
            .into_bytes(),
        _ => bytes.to_vec(),
    };
    if let Ok(len) = http::HeaderValue::from_str(&body.len().to_string()) {
        resp.headers_mut().insert(http::header::CONTENT_LENGTH, len);
    }
    *resp.body_mut() = Body::from(body);
}

fn bucket_cors(store: &Store, bucket: &str) -> Option<s3s::dto::CORSConfiguration> {
    let b = store.bucket(bucket).ok()?;
    let xml = b.config().ok()?.cors_xml?;
    cors::parse(&xml)
}

fn preflight(
    ctx: &Ctx,
    bucket: Option<&str>,
    origin: &str,
    method: &str,
    headers: &[String],
) -> Response<Body> {
    let Some(bucket) = bucket else {
        return error_response(s3_error!(
            AccessDenied,
            "CORSResponse: This CORS request is not allowed."
        ));
    };
    if ctx.store.bucket(bucket).is_err() {
        return error_response(s3_error!(
            NoSuchBucket,
            "The specified bucket does not exist"
        ));
    }
    let Some(cfg) = bucket_cors(&ctx.store, bucket) else {
        return error_response(s3_error!(
            AccessDenied,
            "CORSResponse: CORS is not enabled for this bucket."
        ));
    };
    match cors::find_rule(&cfg, origin, method, headers) {
        Some(rule) => {
            let mut r = Response::new(Body::empty());
            cors::apply(r.headers_mut(), rule, origin, Some(headers));
            r
        }
        None => error_response(s3_error!(AccessDenied, "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")),
    }
}

/// The bucket a request addresses (virtual host first, then the first path segment).
fn bucket_of<B>(req: &Request<B>) -> Option<String> {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host());
    if let Some(b) = host.and_then(vhost_bucket) {
        return Some(b.to_owned());
    }
    let seg = req.uri().path().trim_start_matches('/').split('/').next()?;
    (!seg.is_empty()).then(|| seg.to_owned())
}

fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

fn auth_query_error(msg: &str) -> S3Error {
    s3_error!(AuthorizationQueryParametersError, "{}", msg)
}

/// Presigned URLs (SigV4 `X-Amz-Expires`, SigV2 `Expires`) that have expired, or that
/// ask for more than seven days, are refused with 403 `AccessDenied`, as S3 does.
fn check_presigned_expiry<B>(req: &Request<B>) -> S3Result<()> {
    let query = req.uri().query().unwrap_or("");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if query.contains("X-Amz-Signature=") {
        let pairs = query_pairs(query);
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let date = get("X-Amz-Date").ok_or_else(|| auth_query_error("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."))?;
        let expires: i64 = get("X-Amz-Expires")
            .and_then(|e| e.parse().ok())
            .ok_or_else(|| auth_query_error("X-Amz-Expires should be a number"))?;
        if !(0..=MAX_PRESIGN_SECS).contains(&expires) {
            return Err(s3_error!(
                AccessDenied,
                "X-Amz-Expires must be between 0 and 604800 seconds (one week)"
            ));
        }
        let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        let signed = time::PrimitiveDateTime::parse(date, &fmt)
            .map_err(|_| {
                auth_query_error(
                    "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
                )
            })?
            .assume_utc()
            .unix_timestamp();
        if now >= signed + expires {
            return Err(s3_error!(AccessDenied, "Request has expired"));
        }
    } else if query.contains("Signature=") && query.contains("Expires=") {
        let pairs = query_pairs(query);
        if let Some(exp) = pairs
            .iter()
            .find(|(n, _)| n == "Expires")
            .and_then(|(_, v)| v.parse::<i64>().ok())
        {
            if now > exp {
                return Err(s3_error!(AccessDenied, "Request has expired"));
            }
        }
    }
    Ok(())
}

/// Default auth mode: removes the signature (after [`check_presigned_expiry`]) so s3s takes
/// the request as an accepted anonymous one. Returns true when the body is `aws-chunked`
/// and must be unframed by [`unchunked`]. See the module comment.
fn relax_auth<B>(req: &mut Request<B>) -> bool {
    let query = req.uri().query().unwrap_or("").to_owned();
    if query.contains("X-Amz-Signature=") {
        strip_query(
            req,
            &[
                "X-Amz-Algorithm",
                "X-Amz-Credential",
                "X-Amz-Date",
                "X-Amz-Expires",
                "X-Amz-SignedHeaders",
                "X-Amz-Signature",
                "X-Amz-Security-Token",
            ],
        );
        return false;
    }
    if query.contains("Signature=") && query.contains("Expires=") {
        strip_query(
            req,
            &[
                "AWSAccessKeyId",
                "Signature",
                "Expires",
                "x-amz-security-token",
            ],
        );
        return false;
    }
    req.headers_mut().remove(http::header::AUTHORIZATION);
    let streaming = req
        .headers()
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("STREAMING-"));
    if !streaming {
        return false;
    }
    // The body will be unframed here (see `chunked`): describe it as the plain payload.
    let h = req.headers_mut();
    match h.remove("x-amz-decoded-content-length") {
        Some(len) => {
            h.insert(http::header::CONTENT_LENGTH, len);
        }
        None => {
            h.remove(http::header::CONTENT_LENGTH);
        }
    }
    let encodings: Vec<String> = h
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty() && *e != "aws-chunked")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    h.remove(http::header::CONTENT_ENCODING);
    if let Ok(v) = http::HeaderValue::from_str(&encodings.join(", ")) {
        if !encodings.is_empty() {
            h.insert(http::header::CONTENT_ENCODING, v);
        }
    }
    h.insert(
        "x-amz-content-sha256",
        http::HeaderValue::from_static("UNSIGNED-PAYLOAD"),
    );
    h.remove("x-amz-trailer");
    true
}

/// The payload of an `aws-chunked` body, unframed as it streams in.
fn unchunked(body: Incoming) -> Body {
    use futures::StreamExt;
    use http_body_util::BodyExt;
    type St = (
        http_body_util::BodyStream<Incoming>,
        crate::chunked::Decoder,
        std::collections::VecDeque<bytes::Bytes>,
        bool,
    );
    let start: St = (
        http_body_util::BodyStream::new(body),
        crate::chunked::Decoder::default(),
        Default::default(),
        false,
    );
    let stream = futures::stream::unfold(
        start,
        |(mut frames, mut dec, mut pending, mut ended)| async move {
            loop {
                if let Some(b) = pending.pop_front() {
                    return Some((
                        Ok(hyper::body::Frame::data(b)),
                        (frames, dec, pending, ended),
                    ));
                }
                if ended {
                    return None;
                }
                let item = match frames.next().await {
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => match dec.feed(&data) {
                            Ok(out) => {
                                pending.extend(out);
                                continue;
                            }
                            Err(e) => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
                        },
                        // Trailer frames carry nothing the payload needs.
                        Err(_) => continue,
                    },
                    Some(Err(e)) => Err(std::io::Error::other(e)),
                    None if dec.finished() => {
                        ended = true;
                        continue;
                    }
                    None => Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "aws-chunked body ended early",
                    )),
                };
                ended = true;
                return Some((item, (frames, dec, pending, ended)));
            }
        },
    );
    Body::http_body_unsync(http_body_util::StreamBody::new(stream).boxed_unsync())
}

fn strip_query<B>(req: &mut Request<B>, names: &[&str]) {
    let Some(q) = req.uri().query() else { return };
    let kept: Vec<&str> = q
        .split('&')
        .filter(|p| {
            let name = p.split_once('=').map_or(*p, |(k, _)| k);
            !names.iter().any(|n| n.eq_ignore_ascii_case(name))
        })
        .collect();
    let pq = if kept.is_empty() {
        req.uri().path().to_owned()
    } else {
        format!("{}?{}", req.uri().path(), kept.join("&"))
    };
    let mut parts = req.uri().clone().into_parts();
    if let Ok(p) = pq.parse() {
        parts.path_and_query = Some(p);
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hosts() {
        assert_eq!(
            vhost_bucket("help-me-sam.localhost:4566"),
            Some("help-me-sam")
        );
        assert_eq!(
            vhost_bucket("b.s3.localhost.localstack.cloud:4566"),
            Some("b")
        );
        assert_eq!(vhost_bucket("localhost:4566"), None);
        assert_eq!(vhost_bucket("127.0.0.1:4566"), None);
        assert_eq!(vhost_bucket("host.docker.internal:4566"), None);
    }

    #[test]
    fn expired_presign_is_access_denied() {
        let req = Request::builder()
            .uri("/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20200101T000000Z&X-Amz-Expires=60&X-Amz-Signature=ab")
            .body(())
            .expect("request");
        let err = check_presigned_expiry(&req).expect_err("expired");
        assert_eq!(err.code().as_str(), "AccessDenied");
    }

    #[test]
    fn week_long_presign_limit() {
        let req = Request::builder()
            .uri("/b/k?X-Amz-Date=20990101T000000Z&X-Amz-Expires=604801&X-Amz-Signature=ab")
            .body(())
            .expect("request");
        let err = check_presigned_expiry(&req).expect_err("too long");
        assert_eq!(err.code().as_str(), "AccessDenied");
    }

    #[test]
    fn valid_presign_loses_its_signature() {
        let mut req = Request::builder()
            .uri("/b/k?versionId=1&X-Amz-Date=20990101T000000Z&X-Amz-Expires=60&X-Amz-Signature=ab")
            .body(())
            .expect("request");
        check_presigned_expiry(&req).expect("valid");
        assert!(!relax_auth(&mut req));
        assert_eq!(req.uri().to_string(), "/b/k?versionId=1");
    }
}
