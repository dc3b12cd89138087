//! The functions behind the routes, as the gateway sees them: the one Lambda service (which
//! owns admission, instances and hot reload) and, for functions the template has but ssam
//! cannot run, why not.
//!
//! A request over a function's local instance cap waits for an instance inside the Lambda
//! service, bounded here by the integration timeout; when the gateway gives up at that
//! timeout, the function runs on, as it does behind a real API Gateway.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use ssam_lambda::from_template::Skipped;
use ssam_lambda::{FunctionSpec, InvokeError, InvokeRequest, InvokeResponse, LambdaService};

/// Why an invocation produced no function result.
#[derive(Debug)]
pub enum InvokeFailure {
    /// The integration timeout passed first.
    Timeout,
    /// No such runnable function; the reason is for the log.
    NotRunnable(String),
    /// Lambda refused the invocation.
    Lambda(InvokeError),
}

/// The functions of the app.
pub struct Functions {
    service: Arc<LambdaService>,
    /// Functions the template has but ssam cannot run, by logical id.
    skipped: RwLock<HashMap<String, Skipped>>,
    /// `--warm-containers EAGER`: functions replaced by a reload start an instance at once too.
    eager: AtomicBool,
    /// Whether the gateway owns the service (`start-api`: it recycles and shuts it down) or
    /// shares one its caller owns (`ssam local start`, whose own watcher recycles).
    owned: bool,
}

impl Functions {
    /// Functions on a service the gateway owns.
    pub fn owned(service: Arc<LambdaService>, skipped: Vec<Skipped>) -> Self {
        Self::with(service, skipped, true)
    }

    /// Functions on a service the caller owns and shuts down.
    pub fn shared(service: Arc<LambdaService>, skipped: Vec<Skipped>) -> Self {
        Self::with(service, skipped, false)
    }

    fn with(service: Arc<LambdaService>, skipped: Vec<Skipped>, owned: bool) -> Self {
        Functions {
            service,
            skipped: RwLock::new(by_id(skipped)),
            eager: AtomicBool::new(false),
            owned,
        }
    }

    /// The Lambda service the functions run on.
    pub fn service(&self) -> &Arc<LambdaService> {
        &self.service
    }

    /// The logical ids of the runnable functions.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .service
            .functions()
            .into_iter()
            .map(|s| s.logical_id)
            .collect();
        ids.sort();
        ids
    }

    /// Why a function cannot run, when the template has it but ssam cannot run it.
    pub fn skipped_reason(&self, logical_id: &str) -> Option<String> {
        self.skipped
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(logical_id)
            .map(|s| s.reason.clone())
    }

    /// Invokes `logical_id` with `payload` (an event the gateway built), giving up after
    /// `timeout` (the function keeps running in the background, as behind API Gateway).
    pub async fn invoke(
        &self,
        logical_id: &str,
        payload: Bytes,
        timeout: Duration,
        trace_id: Option<String>,
        source: Option<ssam_lambda::InvokeSource>,
    ) -> Result<InvokeResponse, InvokeFailure> {
        let Some(name) = self.service.name_of(logical_id) else {
            let why = self
                .skipped_reason(logical_id)
                .unwrap_or_else(|| "the template has no such function".into());
            return Err(InvokeFailure::NotRunnable(format!("{logical_id}: {why}")));
        };
        // A breakpoint holds the function longer than any integration timeout; as SAM CLI
        // suspends timeouts while debugging, the gateway waits for it too.
        let timeout = if self.service.is_debugged(&name) {
            timeout.max(ssam_lambda::DEBUG_TIMEOUT)
        } else {
            timeout
        };
        let mut req = InvokeRequest::event(name, payload);
        req.trace_id = trace_id;
        if let Some(source) = source {
            req.source = source;
        }
        let invoked = self.service.invoke_waiting(req, Some(timeout));
        match tokio::time::timeout(timeout, invoked).await {
            Ok(Ok(resp)) => Ok(resp),
            // Waited for an instance as long as the integration allows.
            Ok(Err(InvokeError::InstanceCapReached { .. })) | Err(_) => Err(InvokeFailure::Timeout),
            Ok(Err(e)) => Err(InvokeFailure::Lambda(e)),
        }
    }

    /// Whether the Lambda service has an observer (the dashboard): only then does a
    /// request describe itself as the invocation's source.
    pub fn observed(&self) -> bool {
        self.service.observed()
    }

    /// Starts one instance of every function (`--warm-containers EAGER`), now and whenever
    /// a reload replaces a function. Returns the errors.
    pub async fn prewarm_all(&self) -> Vec<String> {
        self.eager.store(true, Ordering::Relaxed);
        self.service.prewarm_all().await
    }

    fn prewarm_in_background(&self, logical_id: &str) {
        if !self.eager.load(Ordering::Relaxed) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let service = Arc::clone(&self.service);
        let id = logical_id.to_string();
        rt.spawn(async move {
            if service.function(&id).is_some() {
                if let Err(e) = service.prewarm(&id).await {
                    tracing::warn!("{id}: {e}");
                }
            }
        });
    }

    /// Recycles a function's warm instances (its code changed). Only a gateway that owns
    /// its service does: a shared service's owner watches the code itself.
    pub fn recycle(&self, logical_id: &str) -> bool {
        if !self.owned || self.service.recycle(logical_id).is_err() {
            return false;
        }
        self.prewarm_in_background(logical_id);
        true
    }

    /// Applies a reloaded template: new and changed functions get a fresh pool, removed ones
    /// are dropped, unchanged ones keep their warm instances. Returns the ids replaced.
    pub fn update(&self, specs: Vec<FunctionSpec>, skipped: Vec<Skipped>) -> Vec<String> {
        *self.skipped.write().unwrap_or_else(|p| p.into_inner()) = by_id(skipped);
        if !self.owned {
            return Vec::new();
        }
        let changed = self.service.update(specs);
        for id in &changed {
            self.prewarm_in_background(id);
        }
        changed
    }

    /// The code directories of the runnable functions, for the file watcher.
    pub fn code_dirs(&self) -> Vec<(String, std::path::PathBuf)> {
        self.service
            .functions()
            .into_iter()
            .flat_map(|s| {
                let id = s.logical_id.clone();
                s.watched_dirs().into_iter().map(move |d| (id.clone(), d))
            })
            .collect()
    }

    /// Kills every sandbox of a service the gateway owns.
    pub async fn shutdown(&self) {
        if self.owned {
            self.service.shutdown().await;
        }
    }
}

fn by_id(skipped: Vec<Skipped>) -> HashMap<String, Skipped> {
    skipped
        .into_iter()
        .map(|s| (s.logical_id.clone(), s))
        .collect()
}
