//! The functions behind the routes: one Lambda service per function, so that one function's
//! warm instances can be recycled (hot reload) without touching the others.
//!
//! Requests wait for a free instance instead of being throttled: the gateway holds one
//! permit per instance the function may run (its concurrency limit), so a burst queues the
//! way Lambda's account-level concurrency absorbs it, bounded by the integration timeout.
//! The invocation runs in its own task: when the gateway gives up at the integration
//! timeout, the function runs on, as it does behind a real API Gateway.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use ssam_lambda::{
    FunctionSpec, InvokeError, InvokeRequest, InvokeResponse, LambdaService, ServiceOptions,
};
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// One function's service.
pub struct FunctionHandle {
    pub spec: FunctionSpec,
    service: Arc<LambdaService>,
    permits: Arc<Semaphore>,
}

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

/// The functions of the app, by logical id.
pub struct Functions {
    handles: RwLock<HashMap<String, Arc<FunctionHandle>>>,
    /// Functions the template has but ssam cannot run, with the reason.
    skipped: RwLock<HashMap<String, String>>,
    options: ServiceOptions,
    /// `--warm-containers EAGER`: replaced services start an instance at once too.
    eager: AtomicBool,
    /// Set when the functions run on a service the caller owns (`ssam local start` shares
    /// one with the Invoke API and S3 events): no recycling, no shutdown from here.
    shared: Option<Arc<LambdaService>>,
}

fn new_handle(spec: FunctionSpec, options: &ServiceOptions) -> Arc<FunctionHandle> {
    let service = LambdaService::new(vec![spec.clone()], options.clone());
    handle_on(spec, service)
}

fn handle_on(spec: FunctionSpec, service: Arc<LambdaService>) -> Arc<FunctionHandle> {
    let permits = Arc::new(Semaphore::new(spec.concurrency_limit().max(1) as usize));
    Arc::new(FunctionHandle {
        spec,
        service,
        permits,
    })
}

/// Whether two specs would start the same sandbox (FunctionSpec has no `PartialEq`).
fn same_spec(a: &FunctionSpec, b: &FunctionSpec) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

impl Functions {
    /// Must be called inside a Tokio runtime (each service starts its idle reaper).
    pub fn new(
        specs: Vec<FunctionSpec>,
        skipped: Vec<(String, String)>,
        options: ServiceOptions,
    ) -> Self {
        let mut handles = HashMap::new();
        for spec in specs {
            handles.insert(spec.logical_id.clone(), new_handle(spec, &options));
        }
        Functions {
            handles: RwLock::new(handles),
            skipped: RwLock::new(skipped.into_iter().collect()),
            options,
            eager: AtomicBool::new(false),
            shared: None,
        }
    }

    /// The functions of a service the caller owns and shuts down.
    pub fn on_service(service: Arc<LambdaService>, skipped: Vec<(String, String)>) -> Self {
        let mut handles = HashMap::new();
        for spec in service.functions() {
            handles.insert(
                spec.logical_id.clone(),
                handle_on(spec.clone(), Arc::clone(&service)),
            );
        }
        Functions {
            handles: RwLock::new(handles),
            skipped: RwLock::new(skipped.into_iter().collect()),
            options: ServiceOptions::default(),
            eager: AtomicBool::new(false),
            shared: Some(service),
        }
    }

    fn get(&self, logical_id: &str) -> Option<Arc<FunctionHandle>> {
        self.handles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(logical_id)
            .cloned()
    }

    /// The logical ids of the runnable functions.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .handles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
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
            .cloned()
    }

    /// Invokes `logical_id` with `payload`, giving up after `timeout` (the function keeps
    /// running in the background, as behind API Gateway).
    pub async fn invoke(
        &self,
        logical_id: &str,
        payload: Bytes,
        timeout: Duration,
        trace_id: Option<String>,
    ) -> Result<InvokeResponse, InvokeFailure> {
        let Some(handle) = self.get(logical_id) else {
            let why = self
                .skipped_reason(logical_id)
                .unwrap_or_else(|| "the template has no such function".into());
            return Err(InvokeFailure::NotRunnable(format!("{logical_id}: {why}")));
        };
        let deadline = Instant::now() + timeout;
        let permit =
            match tokio::time::timeout_at(deadline, Arc::clone(&handle.permits).acquire_owned())
                .await
            {
                Ok(Ok(p)) => p,
                Ok(Err(_)) => {
                    return Err(InvokeFailure::Lambda(InvokeError::Service(
                        "the function is shutting down".into(),
                    )))
                }
                Err(_) => return Err(InvokeFailure::Timeout),
            };
        let name = handle.spec.name.clone();
        let task = tokio::spawn(async move {
            let _permit = permit;
            let mut delay = Duration::from_millis(1);
            loop {
                let mut req = InvokeRequest::new(name.clone(), payload.clone());
                req.trace_id.clone_from(&trace_id);
                match handle.service.invoke(req).await {
                    // An instance killed a moment ago may still hold its slot: wait briefly.
                    Err(InvokeError::TooManyRequests) if Instant::now() + delay < deadline => {
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_millis(20));
                    }
                    other => return other,
                }
            }
        });
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(Ok(resp))) => Ok(resp),
            Ok(Ok(Err(e))) => Err(InvokeFailure::Lambda(e)),
            Ok(Err(join)) => Err(InvokeFailure::Lambda(InvokeError::Service(format!(
                "the invocation task failed: {join}"
            )))),
            Err(_) => Err(InvokeFailure::Timeout),
        }
    }

    /// Starts one instance of every function (`--warm-containers EAGER`), now and whenever
    /// a function is recycled or reloaded.
    pub async fn prewarm_all(&self) -> Vec<String> {
        self.eager.store(true, Ordering::Relaxed);
        let handles: Vec<Arc<FunctionHandle>> = self
            .handles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let mut errors = Vec::new();
        let results =
            futures::future::join_all(handles.iter().map(|h| async move {
                (h.spec.name.clone(), h.service.prewarm(&h.spec.name).await)
            }))
            .await;
        for (name, r) in results {
            if let Err(e) = r {
                errors.push(format!("{name}: {e}"));
            }
        }
        errors
    }

    /// Replaces a function's service with a fresh one: its warm instances stop once their
    /// current invocations end, and the next request starts a new instance with the code
    /// as it is now.
    pub fn recycle(&self, logical_id: &str) -> bool {
        if self.shared.is_some() {
            return false;
        }
        let mut map = self.handles.write().unwrap_or_else(|p| p.into_inner());
        let Some(old) = map.get(logical_id) else {
            return false;
        };
        let fresh = new_handle(old.spec.clone(), &self.options);
        self.prewarm_in_background(&fresh);
        map.insert(logical_id.to_string(), fresh);
        true
    }

    fn prewarm_in_background(&self, h: &Arc<FunctionHandle>) {
        if !self.eager.load(Ordering::Relaxed) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let h = Arc::clone(h);
        rt.spawn(async move {
            if let Err(e) = h.service.prewarm(&h.spec.name).await {
                eprintln!("warning: {}: {e}", h.spec.name);
            }
        });
    }

    /// Applies a reloaded template: new and changed functions get a fresh service, removed
    /// ones are dropped, unchanged ones keep their warm instances. Returns the ids replaced.
    pub fn update(&self, specs: Vec<FunctionSpec>, skipped: Vec<(String, String)>) -> Vec<String> {
        if self.shared.is_some() {
            *self.skipped.write().unwrap_or_else(|p| p.into_inner()) =
                skipped.into_iter().collect();
            return Vec::new();
        }
        let mut changed = Vec::new();
        let mut map = self.handles.write().unwrap_or_else(|p| p.into_inner());
        let mut next = HashMap::new();
        for spec in specs {
            let id = spec.logical_id.clone();
            match map.remove(&id) {
                Some(h) if same_spec(&h.spec, &spec) => {
                    next.insert(id, h);
                }
                _ => {
                    changed.push(id.clone());
                    let h = new_handle(spec, &self.options);
                    self.prewarm_in_background(&h);
                    next.insert(id, h);
                }
            }
        }
        changed.extend(map.keys().cloned());
        *map = next;
        drop(map);
        *self.skipped.write().unwrap_or_else(|p| p.into_inner()) = skipped.into_iter().collect();
        changed
    }

    /// The code directories of the runnable functions, for the file watcher.
    pub fn code_dirs(&self) -> Vec<(String, std::path::PathBuf)> {
        self.handles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|h| (h.spec.logical_id.clone(), h.spec.code_dir.clone()))
            .collect()
    }

    /// Kills every sandbox.
    pub async fn shutdown(&self) {
        let handles: Vec<Arc<FunctionHandle>> = self
            .handles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        for h in handles {
            h.permits.close();
            if self.shared.is_none() {
                h.service.shutdown().await;
            }
        }
    }
}
