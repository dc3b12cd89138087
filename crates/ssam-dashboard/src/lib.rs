//! The browser dashboard of `ssam local start` (and `start-api`, `start-lambda`,
//! `start-s3`): functions, invocations live, replay and invoke, routes, S3 and the async
//! queue, on a port of its own.
//!
//! - [`recorder`]: the Lambda service's observer; the ring of the last N invocations
//!   ([`ring`]), per-function counters, the async queue, object events, and the live feed.
//! - [`api`]: the JSON API under `/api/` (documented in `docs/dashboard.md`), the
//!   server-sent events stream and the embedded page (`assets/`: plain HTML, CSS and a
//!   JavaScript module; no network at run time).
//! - [`s3`]: buckets and objects read from the store; uploads and deletes go through the
//!   S3 protocol of the local S3, so they fire S3 events exactly as any client's would.
//!
//! Architecture invariant: the dashboard reads state. Replays and invokes go through the
//! Lambda service like any other invoke; it never changes how a function runs.

pub mod api;
pub mod model;
pub mod recorder;
pub mod ring;
pub mod s3;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use recorder::Recorder;
use ssam_lambda::LambdaService;

/// Invocations kept by default (`--dashboard-history`).
pub const DEFAULT_HISTORY: usize = 1000;
/// Bytes of events, responses and logs the ring keeps at most, whatever the history.
pub const DEFAULT_MAX_BYTES: usize = 128 * 1024 * 1024;

/// What the dashboard shows: set up by the command before it serves.
pub struct Dashboard {
    pub(crate) recorder: Arc<Recorder>,
    pub(crate) lambda: Option<Arc<LambdaService>>,
    pub(crate) gateway: RwLock<Option<(Arc<ssam_apigw::Gateway>, String)>>,
    pub(crate) s3: Option<s3::S3View>,
    pub(crate) addresses: RwLock<Vec<(String, String)>>,
    pub(crate) http: reqwest::Client,
    /// Where each function is declared (`template.yaml:12:3`), by logical id.
    pub(crate) positions: std::collections::HashMap<String, String>,
}

impl Dashboard {
    /// A dashboard keeping the last `history` invocations.
    pub fn new(history: usize) -> Self {
        Dashboard {
            recorder: Recorder::new(history, DEFAULT_MAX_BYTES),
            lambda: None,
            gateway: RwLock::new(None),
            s3: None,
            addresses: RwLock::new(Vec::new()),
            http: reqwest::Client::new(),
            positions: std::collections::HashMap::new(),
        }
    }

    /// Shows where each function is declared in the template (`file:line:column`, by
    /// logical id), next to its code directory.
    pub fn with_template_positions(
        mut self,
        positions: std::collections::HashMap<String, String>,
    ) -> Self {
        self.positions = positions;
        self
    }

    /// Shows the Lambda service's functions and observes its invocations.
    pub fn with_lambda(mut self, lambda: Arc<LambdaService>) -> Self {
        if !lambda.observe(self.recorder.clone()) {
            tracing::warn!(
                "the Lambda service already has an observer; the dashboard shows no invocations"
            );
        }
        self.lambda = Some(lambda);
        self
    }

    /// Shows the local S3: buckets and objects from `store`, writes through `endpoint`,
    /// the notification `bindings`, and the object events from `events`.
    pub fn with_s3(
        mut self,
        store: Arc<ssam_s3::store::Store>,
        endpoint: String,
        bindings: ssam_notify::Bindings,
        mut events: tokio::sync::broadcast::Receiver<ssam_s3::ObjectEvent>,
    ) -> Self {
        let recorder = Arc::clone(&self.recorder);
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match events.recv().await {
                    Ok(ev) => recorder.object_event(&ev),
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                }
            }
        });
        self.s3 = Some(s3::S3View {
            store,
            endpoint,
            bindings,
        });
        self
    }

    /// Shows the API Gateway emulator's routes, served at `url`.
    pub fn set_gateway(&self, gateway: Arc<ssam_apigw::Gateway>, url: String) {
        *self.gateway.write().unwrap_or_else(|p| p.into_inner()) = Some((gateway, url));
    }

    /// An address the overview lists (`("API", "http://127.0.0.1:3000")`).
    pub fn add_address(&self, name: &str, url: &str) {
        self.addresses
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push((name.to_string(), url.to_string()));
    }

    /// Serves the dashboard on `listener` until `shutdown` resolves. Live pages hold their
    /// event stream open, so connections are dropped rather than drained.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = api::router(Arc::new(self));
        tokio::select! {
            r = axum::serve(listener, app) => r,
            () = shutdown => Ok(()),
        }
    }
}

/// Whether an address is only reachable from this machine.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}
