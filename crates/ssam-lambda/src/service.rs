//! The Lambda service: a registry of functions, one instance pool each, and the invocation
//! lifecycle (limits, cold/warm starts, timeouts, crashes, logs, async retries).
//!
//! Architecture invariant: an instance serves at most one invocation at a time, and every
//! instance is owned either by its pool's idle list or by the invocation running on it, so
//! dropping it (timeout, crash, shutdown) always kills its process group.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::sync::{mpsc, Notify};

use crate::error::InvokeError;
use crate::instance::{
    error_doc, out_of_memory_message, Dispatch, InitFailure, Instance, SlotGuard, StartWith,
};
use crate::limits::{ASYNC_REQUEST_MAX, RESPONSE_MAX, SYNC_REQUEST_MAX};
use crate::logs::{InstanceLog, LogListener, Report};
use crate::runtime_api::{RuntimeReply, StreamEvent};
use crate::sandbox::{launch_for, Launch, LaunchError};
use crate::spec::{FunctionSpec, ServiceOptions};

/// One invocation request, whatever front door it came through.
#[derive(Clone, Debug, Default)]
pub struct InvokeRequest {
    /// Function name, or its ARN (optionally with `:$LATEST`).
    pub function: String,
    /// The event: a JSON document (empty means `{}`).
    pub payload: Bytes,
    /// The client context JSON (the Invoke API's `X-Amz-Client-Context`, base64-decoded).
    pub client_context: Option<String>,
    /// The Cognito identity JSON.
    pub cognito_identity: Option<String>,
    /// Return the last 4 KB of the invocation's log.
    pub log_tail: bool,
    /// X-Ray trace header; one is generated when absent.
    pub trace_id: Option<String>,
}

impl InvokeRequest {
    pub fn new(function: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        InvokeRequest {
            function: function.into(),
            payload: payload.into(),
            ..Default::default()
        }
    }
}

/// Why a function's invocation failed, beyond the `errorType` in the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The runtime reported the error (`/invocation/{id}/error`).
    Function,
    /// The runtime failed to initialise (import error, `/init/error`, exit during init).
    Init,
    /// The function ran past its Timeout and was killed.
    Timeout,
    /// The runtime process exited while handling the invocation.
    Crash,
    /// The response was over Lambda's 6 MB limit.
    ResponseTooLarge,
}

/// The result of a synchronous invocation.
#[derive(Clone, Debug)]
pub struct InvokeResponse {
    /// The function's result, or its error document when `function_error` is set.
    pub payload: Bytes,
    /// `Unhandled` when the invocation failed (the `X-Amz-Function-Error` header).
    pub function_error: Option<String>,
    /// Base64 of the last 4 KB of the log, when asked for.
    pub log_tail: Option<String>,
    pub executed_version: String,
    pub request_id: String,
    /// What kind of failure, when `function_error` is set.
    pub failure: Option<FailureKind>,
    /// The runtime's Content-Type for the response, when it sent one.
    pub content_type: Option<String>,
    pub duration: Duration,
    /// Set when the invocation started a new instance.
    pub init_duration: Option<Duration>,
}

/// The result of an invocation whose body is consumed as a stream.
pub struct InvokeStream {
    pub request_id: String,
    pub executed_version: String,
    pub content_type: Option<String>,
    /// Chunks of the response, then possibly one [`StreamEvent::Error`]; ends when closed.
    pub body: mpsc::Receiver<StreamEvent>,
    /// The invocation's outcome once the stream has ended (failure kind, log tail; its
    /// payload is empty for a streamed response).
    pub done: tokio::sync::oneshot::Receiver<InvokeResponse>,
}

/// One function's instances.
struct Pool {
    spec: FunctionSpec,
    /// Idle instances, most recently used last.
    idle: Mutex<Vec<Instance>>,
    /// Instances alive (idle, busy or starting) count against the concurrency limit.
    live: Mutex<u32>,
    /// Signalled when an instance becomes idle or a slot frees up.
    freed: Notify,
    /// How to start the runtime, worked out once.
    launch: Mutex<Option<Arc<Launch>>>,
    /// Process ids of live sandboxes (registered at spawn), so shutdown reaches starting
    /// and busy ones too.
    pids: crate::instance::Pids,
    /// Bumped by [`LambdaService::recycle`]: instances started before are not reused.
    generation: std::sync::atomic::AtomicU64,
}

enum Lease {
    Warm(Instance),
    Cold(SlotGuard),
}

impl Pool {
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Instance>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A warm instance, or a slot for a new one, or None at the concurrency limit.
    fn try_lease(self: &Arc<Self>) -> Option<Lease> {
        loop {
            let inst = self.lock_idle().pop();
            match inst {
                // An instance that died while idle is dropped here, freeing its slot.
                Some(inst)
                    if inst.sandbox.exited()
                        || inst.generation != self.generation.load(Ordering::Relaxed) =>
                {
                    continue
                }
                Some(inst) => return Some(Lease::Warm(inst)),
                None => break,
            }
        }
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if *live >= self.spec.concurrency_limit() {
            return None;
        }
        *live += 1;
        drop(live);
        let pool = Arc::downgrade(self);
        Some(Lease::Cold(SlotGuard::new(move || {
            if let Some(pool) = pool.upgrade() {
                let mut live = pool.live.lock().unwrap_or_else(|p| p.into_inner());
                *live = live.saturating_sub(1);
                drop(live);
                pool.freed.notify_one();
            }
        })))
    }

    /// Like [`Pool::try_lease`], but waits for a slot instead of failing (async invokes).
    async fn lease_wait(self: &Arc<Self>, closed: &AtomicBool) -> Option<Lease> {
        loop {
            let notified = self.freed.notified();
            if let Some(l) = self.try_lease() {
                return Some(l);
            }
            if closed.load(Ordering::Relaxed) {
                return None;
            }
            // A missed wakeup only delays: re-check at least every 50 ms.
            let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
        }
    }

    fn release(&self, mut inst: Instance) {
        if inst.sandbox.exited() || inst.generation != self.generation.load(Ordering::Relaxed) {
            return;
        }
        inst.last_used = Instant::now();
        self.lock_idle().push(inst);
        self.freed.notify_one();
    }

    fn launch(&self, cache_dir: &std::path::Path) -> Result<Arc<Launch>, LaunchError> {
        let mut slot = self.launch.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = slot.as_ref() {
            return Ok(Arc::clone(l));
        }
        let l = Arc::new(launch_for(&self.spec, cache_dir)?);
        if let Some(w) = &l.warning {
            eprintln!("warning: {}: {w}", self.spec.name);
        }
        *slot = Some(Arc::clone(&l));
        Ok(l)
    }
}

/// The registry of functions and their instance pools.
pub struct LambdaService {
    pools: Vec<Arc<Pool>>,
    /// Function name and logical id → index in `pools`.
    by_name: HashMap<String, usize>,
    options: ServiceOptions,
    cache_dir: std::path::PathBuf,
    listener: Option<Arc<dyn LogListener>>,
    closed: AtomicBool,
}

/// How an invocation ended, before it is turned into a response.
struct Finished {
    payload: Bytes,
    content_type: Option<String>,
    failure: Option<FailureKind>,
}

impl LambdaService {
    pub fn new(functions: Vec<FunctionSpec>, options: ServiceOptions) -> Arc<Self> {
        Self::with_listener(functions, options, None)
    }

    /// Like [`LambdaService::new`], with every log line also sent to `listener`.
    pub fn with_listener(
        functions: Vec<FunctionSpec>,
        options: ServiceOptions,
        listener: Option<Arc<dyn LogListener>>,
    ) -> Arc<Self> {
        let mut by_name = HashMap::new();
        let pools: Vec<Arc<Pool>> = functions
            .into_iter()
            .enumerate()
            .map(|(i, spec)| {
                by_name.entry(spec.logical_id.clone()).or_insert(i);
                by_name.insert(spec.name.clone(), i);
                Arc::new(Pool {
                    spec,
                    idle: Mutex::new(Vec::new()),
                    live: Mutex::new(0),
                    freed: Notify::new(),
                    launch: Mutex::new(None),
                    pids: Arc::new(Mutex::new(HashSet::new())),
                    generation: std::sync::atomic::AtomicU64::new(0),
                })
            })
            .collect();
        let cache_dir = options
            .cache_dir
            .clone()
            .unwrap_or_else(crate::bootstrap::default_cache_dir);
        let service = Arc::new(LambdaService {
            pools,
            by_name,
            options,
            cache_dir,
            listener,
            closed: AtomicBool::new(false),
        });
        if let (Some(idle), Ok(rt)) = (
            service.options.idle_timeout,
            tokio::runtime::Handle::try_current(),
        ) {
            rt.spawn(reap_idle(Arc::downgrade(&service), idle));
        }
        service
    }

    /// The functions this service runs.
    pub fn functions(&self) -> impl Iterator<Item = &FunctionSpec> {
        self.pools.iter().map(|p| &p.spec)
    }

    /// Finds a function by name, logical id or ARN (`:$LATEST` qualifier allowed).
    pub fn function(&self, name_or_arn: &str) -> Option<&FunctionSpec> {
        self.pool(name_or_arn).ok().map(|p| &p.spec)
    }

    /// Like [`LambdaService::function`], with Lambda's 404 when there is no such function.
    pub fn resolve(&self, name_or_arn: &str) -> Result<&FunctionSpec, InvokeError> {
        self.pool(name_or_arn).map(|p| &p.spec)
    }

    fn pool(&self, name_or_arn: &str) -> Result<&Arc<Pool>, InvokeError> {
        let (name, qualifier) = split_function_ref(name_or_arn);
        let found = self.by_name.get(name).and_then(|i| self.pools.get(*i));
        match (found, qualifier) {
            (Some(pool), None) => Ok(pool),
            (Some(pool), Some("$LATEST")) => Ok(pool),
            (Some(pool), Some(q)) => Err(InvokeError::ResourceNotFound {
                arn: format!("{}:{q}", pool.spec.arn()),
            }),
            (None, _) => {
                let (region, account) = self
                    .pools
                    .first()
                    .map(|p| (p.spec.region.clone(), p.spec.account_id.clone()))
                    .unwrap_or_else(|| {
                        (
                            crate::spec::DEFAULT_REGION.to_string(),
                            crate::spec::DEFAULT_ACCOUNT_ID.to_string(),
                        )
                    });
                let arn = if name_or_arn.starts_with("arn:") {
                    name_or_arn.to_string()
                } else {
                    format!("arn:aws:lambda:{region}:{account}:function:{name_or_arn}")
                };
                Err(InvokeError::ResourceNotFound { arn })
            }
        }
    }

    /// Checks a request as Lambda does before running anything.
    fn check(&self, req: &InvokeRequest, limit: usize) -> Result<(&Arc<Pool>, Bytes), InvokeError> {
        let pool = self.pool(&req.function)?;
        if req.payload.len() > limit {
            let err = InvokeError::RequestTooLarge {
                size: req.payload.len(),
                limit,
                operation: "InvokeFunction",
            };
            eprintln!(
                "error: {}: request payload of {} bytes refused: {err}\n  hint: {}",
                pool.spec.name,
                req.payload.len(),
                crate::limits::OVERSIZE_HINT
            );
            return Err(err);
        }
        let payload = if req.payload.iter().all(u8::is_ascii_whitespace) {
            Bytes::from_static(b"{}")
        } else {
            serde_json::from_slice::<serde::de::IgnoredAny>(&req.payload).map_err(|e| {
                InvokeError::InvalidRequestContent(format!(
                    "Could not parse request body into json: {e}"
                ))
            })?;
            req.payload.clone()
        };
        if self.closed.load(Ordering::Relaxed) {
            return Err(InvokeError::Service(
                "the Lambda service is shutting down".into(),
            ));
        }
        Ok((pool, payload))
    }

    /// A synchronous (RequestResponse) invocation. Dropping the future abandons the
    /// invocation and kills the instance running it; spawn it to let it finish regardless.
    pub async fn invoke(&self, req: InvokeRequest) -> Result<InvokeResponse, InvokeError> {
        let (pool, payload) = self.check(&req, SYNC_REQUEST_MAX)?;
        let lease = pool.try_lease().ok_or(InvokeError::TooManyRequests)?;
        self.run(pool, lease, req, payload).await
    }

    /// An asynchronous (Event) invocation: queued, run in the background with Lambda's
    /// retries on function errors; waits for a free instance rather than throttling.
    pub async fn invoke_async(self: &Arc<Self>, req: InvokeRequest) -> Result<(), InvokeError> {
        let (pool, payload) = self.check(&req, ASYNC_REQUEST_MAX)?;
        let pool = Arc::clone(pool);
        let service = Arc::clone(self);
        tokio::spawn(async move {
            let retries = pool.spec.max_async_retries;
            let mut delay = service.options.async_retry_delay;
            let queued = tokio::time::Instant::now();
            let mut last_error = String::from("no attempt ran");
            for attempt in 0..=retries {
                // EventInvokeConfig MaximumEventAgeInSeconds: an event that waited too long
                // (retries included) is dropped, never run late.
                if queued.elapsed() > pool.spec.max_event_age {
                    last_error = format!(
                        "the event is older than MaximumEventAgeInSeconds ({} s)",
                        pool.spec.max_event_age.as_secs()
                    );
                    break;
                }
                let Some(lease) = pool.lease_wait(&service.closed).await else {
                    return;
                };
                let mut req = req.clone();
                req.log_tail = false;
                match service.run(&pool, lease, req, payload.clone()).await {
                    Ok(resp) if resp.function_error.is_none() => return,
                    Ok(resp) => {
                        last_error = String::from_utf8_lossy(&resp.payload).into_owned();
                        if attempt < retries {
                            eprintln!(
                                "{}: asynchronous invocation failed; retry {} of {retries} in {:.1} s",
                                pool.spec.name,
                                attempt + 1,
                                delay.as_secs_f64()
                            );
                            tokio::time::sleep(delay).await;
                            delay *= 2;
                        }
                    }
                    Err(e) => {
                        last_error = e.to_string();
                        break;
                    }
                }
            }
            if service.closed.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            // Nothing is lost silently: the event is printed so it can be replayed
            // (`ssam local invoke -e`), as a dead-letter queue would keep it on AWS.
            let event = String::from_utf8_lossy(&payload);
            let shown: String = event.chars().take(4096).collect();
            let cut = if shown.len() < event.len() {
                " (first 4 KB)"
            } else {
                ""
            };
            eprintln!(
                "{}: asynchronous invocation dropped after {} attempt(s): {}\n  event{cut}: {shown}",
                pool.spec.name,
                retries + 1,
                last_error.trim()
            );
        });
        Ok(())
    }

    /// A synchronous invocation whose response is consumed as a stream (response streaming
    /// functions stream; others yield their whole payload as one chunk).
    pub async fn invoke_stream(
        self: &Arc<Self>,
        req: InvokeRequest,
    ) -> Result<InvokeStream, InvokeError> {
        let (pool, payload) = self.check(&req, SYNC_REQUEST_MAX)?;
        let lease = pool.try_lease().ok_or(InvokeError::TooManyRequests)?;
        let pool = Arc::clone(pool);
        let service = Arc::clone(self);
        let (head_tx, head_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let _ = service
                .run_inner(&pool, lease, req, payload, Some(head_tx))
                .await;
        });
        head_rx
            .await
            .map_err(|_| InvokeError::Service("the invocation ended without a response".into()))
    }

    /// Starts one instance of `function` ahead of its first invocation (`--warm-containers EAGER`).
    pub async fn prewarm(&self, function: &str) -> Result<(), InvokeError> {
        let pool = self.pool(function)?;
        let slot = match pool.try_lease() {
            Some(Lease::Cold(slot)) => slot,
            Some(Lease::Warm(inst)) => {
                pool.release(inst);
                return Ok(());
            }
            None => return Ok(()),
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        match self.start_instance(pool, slot, &request_id).await {
            Ok(mut inst) => {
                // Its init happened ahead of time, as with provisioned concurrency: the first
                // REPORT has no Init Duration.
                if let Some(d) = inst.init_duration.take() {
                    inst.log.line(&format!(
                        "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: success",
                        d.as_secs_f64() * 1000.0
                    ));
                }
                pool.release(inst);
                Ok(())
            }
            Err(f) => Err(InvokeError::Service(format!(
                "{}: init failed: {}",
                pool.spec.name,
                String::from_utf8_lossy(&f.body)
            ))),
        }
    }

    /// Stops using the function's current instances: idle ones are killed now, busy ones when
    /// their invocation ends, so the next invocation starts with the code as it is now (hot
    /// reload). The runtime choice is worked out again too.
    pub fn recycle(&self, name_or_arn: &str) -> Result<(), InvokeError> {
        let pool = self.pool(name_or_arn)?;
        pool.generation.fetch_add(1, Ordering::Relaxed);
        *pool.launch.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let idle: Vec<Instance> = std::mem::take(&mut *pool.lock_idle());
        drop(idle);
        Ok(())
    }

    /// Kills every sandbox (idle and busy) and refuses new invocations.
    pub async fn shutdown(&self) {
        self.kill_all();
        // Let the exit watchers reap the processes before the runtime goes away.
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until
            && self
                .pools
                .iter()
                .any(|p| !p.pids.lock().unwrap_or_else(|e| e.into_inner()).is_empty())
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Sends SIGKILL to every sandbox's process group and refuses new invocations, without
    /// waiting for the processes to be reaped (for a process about to exit anyway, such as
    /// `ssam local invoke`: SIGKILL cannot be ignored, so nothing is left behind).
    pub fn kill_all(&self) {
        self.closed.store(true, Ordering::Relaxed);
        for pool in &self.pools {
            let idle: Vec<Instance> = std::mem::take(&mut *pool.lock_idle());
            drop(idle);
            let pids: Vec<u32> = pool
                .pids
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .copied()
                .collect();
            for pid in pids {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }

    async fn start_instance(
        &self,
        pool: &Arc<Pool>,
        slot: SlotGuard,
        request_id: &str,
    ) -> Result<Instance, InitFailure> {
        let cached = pool
            .launch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let launch = match cached {
            Some(l) => Ok(l),
            // Working it out may run the interpreter (version check, boto3 install): keep
            // that off the async workers.
            None => {
                let (pool, dir) = (Arc::clone(pool), self.cache_dir.clone());
                tokio::task::spawn_blocking(move || pool.launch(&dir))
                    .await
                    .unwrap_or_else(|e| {
                        Err(LaunchError {
                            error_type: "Runtime.Unknown",
                            message: format!("could not prepare the runtime: {e}"),
                        })
                    })
            }
        };
        let launch = launch.map_err(|e| InitFailure {
            body: error_doc(e.error_type, &e.message),
            error_type: e.error_type.to_string(),
            duration: Duration::ZERO,
        })?;
        let log = InstanceLog::new(
            &pool.spec.name,
            self.options.print_logs,
            self.options.log_prefix,
            self.listener.clone(),
        );
        let generation = pool.generation.load(Ordering::Relaxed);
        let how = StartWith {
            spec: &pool.spec,
            launch: &launch,
            extra_env: &self.options.extra_env,
            init_timeout: self.options.init_timeout,
            pids: &pool.pids,
        };
        let mut inst = Instance::start(how, log, slot, request_id).await?;
        inst.generation = generation;
        Ok(inst)
    }

    async fn run(
        &self,
        pool: &Arc<Pool>,
        lease: Lease,
        req: InvokeRequest,
        payload: Bytes,
    ) -> Result<InvokeResponse, InvokeError> {
        self.run_inner(pool, lease, req, payload, None).await
    }

    /// Runs one invocation on a leased instance (starting it when cold) and finishes it:
    /// END/REPORT lines, the instance back to the pool or killed.
    async fn run_inner(
        &self,
        pool: &Arc<Pool>,
        lease: Lease,
        req: InvokeRequest,
        payload: Bytes,
        stream_to: Option<tokio::sync::oneshot::Sender<InvokeStream>>,
    ) -> Result<InvokeResponse, InvokeError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let spec = &pool.spec;
        let mut inst = match lease {
            Lease::Warm(inst) => inst,
            Lease::Cold(slot) => match self.start_instance(pool, slot, &request_id).await {
                Ok(inst) => inst,
                Err(f) => {
                    // The failed instance is gone; report as Lambda does, with a log of our own.
                    let log = InstanceLog::new(
                        &spec.name,
                        self.options.print_logs,
                        self.options.log_prefix,
                        self.listener.clone(),
                    );
                    log.start(&request_id);
                    if let Some(h) = crate::hints::init_hint(spec, &f.error_type, &f.body) {
                        eprintln!("hint: {}: {h}", spec.name);
                    }
                    log.line(&format!(
                        "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {}",
                        f.duration.as_secs_f64() * 1000.0,
                        f.error_type
                    ));
                    log.end(
                        &request_id,
                        &Report {
                            duration: Duration::ZERO,
                            memory_mb: spec.memory_mb,
                            max_memory_used_mb: 0,
                            init_duration: Some(f.duration),
                        },
                    );
                    let finished = Finished {
                        payload: f.body,
                        content_type: Some("application/json".into()),
                        failure: Some(FailureKind::Init),
                    };
                    let resp = response(
                        finished,
                        &request_id,
                        &log,
                        &req,
                        Duration::ZERO,
                        Some(f.duration),
                    );
                    if let Some(tx) = stream_to {
                        let _ = tx.send(stream_of(&resp));
                    }
                    return Ok(resp);
                }
            },
        };
        inst.log.start(&request_id);
        let started = Instant::now();
        let trace_id = req.trace_id.clone().unwrap_or_else(new_trace_id);
        let dispatched = inst
            .dispatch(
                request_id.clone(),
                payload,
                spec.arn(),
                spec.timeout,
                spec.memory_mb,
                trace_id,
                req.client_context.clone(),
                req.cognito_identity.clone(),
            )
            .await;
        let mut keep = true;
        let finished = match dispatched {
            Dispatch::Reply(RuntimeReply::Response { body, content_type }) => Finished {
                payload: body,
                content_type,
                failure: None,
            },
            Dispatch::Reply(RuntimeReply::Error { body, error_type }) => Finished {
                payload: if body.is_empty() {
                    error_doc(error_type.as_deref().unwrap_or("Unknown"), "")
                } else {
                    body
                },
                content_type: Some("application/json".into()),
                failure: Some(FailureKind::Function),
            },
            Dispatch::Reply(RuntimeReply::ResponseTooLarge { size }) => {
                keep = false;
                let msg = match size {
                    Some(n) => format!(
                        "Response payload size ({n} bytes) exceeded maximum allowed payload size ({RESPONSE_MAX} bytes)."
                    ),
                    None => format!(
                        "Response payload size exceeded maximum allowed payload size ({RESPONSE_MAX} bytes)."
                    ),
                };
                inst.log.line(&msg);
                Finished {
                    payload: error_doc("Function.ResponseSizeTooLarge", &msg),
                    content_type: Some("application/json".into()),
                    failure: Some(FailureKind::ResponseTooLarge),
                }
            }
            Dispatch::Reply(RuntimeReply::Stream {
                content_type,
                chunks,
            }) => match stream_to {
                Some(tx) => {
                    return Ok(self
                        .forward_stream(
                            pool,
                            inst,
                            &request_id,
                            started,
                            content_type,
                            chunks,
                            tx,
                            &req,
                        )
                        .await);
                }
                None => collect_stream(chunks, content_type).await,
            },
            Dispatch::Timeout => {
                keep = false;
                let msg = format!(
                    "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                    spec.timeout.as_secs_f64()
                );
                inst.log.line(&format!(
                    "{} {request_id} Task timed out after {:.2} seconds",
                    now_rfc3339(),
                    spec.timeout.as_secs_f64()
                ));
                Finished {
                    payload: error_doc("Sandbox.Timedout", &msg),
                    content_type: Some("application/json".into()),
                    failure: Some(FailureKind::Timeout),
                }
            }
            Dispatch::OutOfMemory => {
                keep = false;
                let msg = out_of_memory_message(&request_id);
                inst.log.line(&msg);
                inst.log.line("Runtime.OutOfMemory");
                Finished {
                    payload: error_doc("Runtime.OutOfMemory", &msg),
                    content_type: Some("application/json".into()),
                    failure: Some(FailureKind::Crash),
                }
            }
            Dispatch::Exited(info) => {
                keep = false;
                let msg = format!("RequestId: {request_id} Error: {}", info.describe());
                inst.log.line(&msg);
                inst.log.line("Runtime.ExitError");
                Finished {
                    payload: error_doc("Runtime.ExitError", &msg),
                    content_type: Some("application/json".into()),
                    failure: Some(FailureKind::Crash),
                }
            }
        };
        let resp = self.finish(pool, inst, keep, &request_id, started, finished, &req);
        if let Some(tx) = stream_to {
            let _ = tx.send(stream_of(&resp));
        }
        Ok(resp)
    }

    /// Passes a streamed response on to the caller chunk by chunk, bounded by the function's
    /// Timeout, then finishes the invocation once the runtime has ended its stream.
    #[allow(clippy::too_many_arguments)]
    async fn forward_stream(
        &self,
        pool: &Arc<Pool>,
        inst: Instance,
        request_id: &str,
        started: Instant,
        content_type: Option<String>,
        mut chunks: mpsc::Receiver<StreamEvent>,
        to: tokio::sync::oneshot::Sender<InvokeStream>,
        req: &InvokeRequest,
    ) -> InvokeResponse {
        let (tx, rx) = mpsc::channel(16);
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let _ = to.send(InvokeStream {
            request_id: request_id.to_string(),
            executed_version: "$LATEST".into(),
            content_type: content_type.clone(),
            body: rx,
            done: done_rx,
        });
        let deadline = tokio::time::Instant::from_std(started + pool.spec.timeout);
        let mut failure = None;
        loop {
            match tokio::time::timeout_at(deadline, chunks.recv()).await {
                // A caller that went away does not stop the function: keep draining.
                Ok(Some(ev)) => {
                    if matches!(ev, StreamEvent::Error { .. }) {
                        failure = Some(FailureKind::Function);
                    }
                    let _ = tx.send(ev).await;
                }
                Ok(None) => break,
                Err(_) => {
                    failure = Some(FailureKind::Timeout);
                    let msg = format!(
                        "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                        pool.spec.timeout.as_secs_f64()
                    );
                    inst.log.line(&msg);
                    let _ = tx
                        .send(StreamEvent::Error {
                            error_type: "Sandbox.Timedout".into(),
                            body: error_doc("Sandbox.Timedout", &msg),
                        })
                        .await;
                    break;
                }
            }
        }
        let keep = failure != Some(FailureKind::Timeout);
        let finished = Finished {
            payload: Bytes::new(),
            content_type,
            failure,
        };
        let resp = self.finish(pool, inst, keep, request_id, started, finished, req);
        // The caller may still hold the body: close it before reporting the end.
        drop(tx);
        let _ = done_tx.send(resp.clone());
        resp
    }

    /// END and REPORT lines, the log tail, and the instance back to the pool (or killed).
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        pool: &Arc<Pool>,
        mut inst: Instance,
        keep: bool,
        request_id: &str,
        started: Instant,
        finished: Finished,
        req: &InvokeRequest,
    ) -> InvokeResponse {
        let duration = started.elapsed();
        let init_duration = inst.init_duration.take();
        let report = Report {
            duration,
            memory_mb: pool.spec.memory_mb,
            // A sandbox is stopped at its MemorySize (see `Dispatch::OutOfMemory`), so, as on
            // Lambda, Max Memory Used never reads higher.
            max_memory_used_mb: inst
                .max_memory_used_mb(duration)
                .min(u64::from(pool.spec.memory_mb)),
            init_duration,
        };
        inst.log.end(request_id, &report);
        let resp = response(
            finished,
            request_id,
            &inst.log,
            req,
            duration,
            init_duration,
        );
        if keep && !self.closed.load(Ordering::Relaxed) {
            pool.release(inst);
        } else {
            drop(inst);
        }
        resp
    }
}

fn response(
    finished: Finished,
    request_id: &str,
    log: &InstanceLog,
    req: &InvokeRequest,
    duration: Duration,
    init_duration: Option<Duration>,
) -> InvokeResponse {
    InvokeResponse {
        payload: finished.payload,
        function_error: finished.failure.map(|_| "Unhandled".to_string()),
        log_tail: req.log_tail.then(|| log.tail_base64()),
        executed_version: "$LATEST".to_string(),
        request_id: request_id.to_string(),
        failure: finished.failure,
        content_type: finished.content_type,
        duration,
        init_duration,
    }
}

/// A buffered response as a one-chunk stream (or an error event).
fn stream_of(resp: &InvokeResponse) -> InvokeStream {
    let (tx, rx) = mpsc::channel(1);
    let event = if resp.function_error.is_some() {
        StreamEvent::Error {
            error_type: error_type_in(&resp.payload).unwrap_or_else(|| "Unhandled".into()),
            body: resp.payload.clone(),
        }
    } else {
        StreamEvent::Chunk(resp.payload.clone())
    };
    let _ = tx.try_send(event);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let _ = done_tx.send(resp.clone());
    InvokeStream {
        request_id: resp.request_id.clone(),
        executed_version: resp.executed_version.clone(),
        content_type: resp.content_type.clone(),
        body: rx,
        done: done_rx,
    }
}

fn error_type_in(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(rename = "errorType")]
        error_type: Option<String>,
    }
    serde_json::from_slice::<Doc>(body).ok()?.error_type
}

/// Buffers a streamed response for a caller that wants the whole payload.
async fn collect_stream(
    mut chunks: mpsc::Receiver<StreamEvent>,
    content_type: Option<String>,
) -> Finished {
    let mut buf = BytesMut::new();
    let mut too_large = false;
    while let Some(ev) = chunks.recv().await {
        match ev {
            StreamEvent::Chunk(c) => {
                if buf.len() + c.len() > RESPONSE_MAX {
                    too_large = true;
                } else if !too_large {
                    buf.extend_from_slice(&c);
                }
            }
            StreamEvent::Error { error_type, body } => {
                let payload = if body.is_empty() {
                    error_doc(&error_type, "")
                } else {
                    body
                };
                return Finished {
                    payload,
                    content_type: Some("application/json".into()),
                    failure: Some(FailureKind::Function),
                };
            }
        }
    }
    if too_large {
        let msg = format!(
            "Response payload size exceeded maximum allowed payload size ({RESPONSE_MAX} bytes)."
        );
        return Finished {
            payload: error_doc("Function.ResponseSizeTooLarge", &msg),
            content_type: Some("application/json".into()),
            failure: Some(FailureKind::ResponseTooLarge),
        };
    }
    Finished {
        payload: buf.freeze(),
        content_type,
        failure: None,
    }
}

/// `name`, `name:qualifier`, `arn:aws:lambda:region:account:function:name[:qualifier]`, or
/// the partial ARN `account:function:name[:qualifier]`.
fn split_function_ref(s: &str) -> (&str, Option<&str>) {
    let rest = match s.find(":function:") {
        Some(i) => &s[i + ":function:".len()..],
        None => s,
    };
    match rest.split_once(':') {
        Some((n, q)) => (n, Some(q)),
        None => (rest, None),
    }
}

/// `Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=0`, as X-Ray formats it.
fn new_trace_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &a[..24],
        &b[..16]
    )
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Stops instances idle for longer than `idle`.
async fn reap_idle(service: Weak<LambdaService>, idle: Duration) {
    let period = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
    loop {
        tokio::time::sleep(period).await;
        let Some(service) = service.upgrade() else {
            return;
        };
        if service.closed.load(Ordering::Relaxed) {
            return;
        }
        for pool in &service.pools {
            let stale: Vec<Instance> = {
                let mut list = pool.lock_idle();
                let (old, fresh): (Vec<_>, Vec<_>) = std::mem::take(&mut *list)
                    .into_iter()
                    .partition(|i| i.last_used.elapsed() >= idle || i.sandbox.exited());
                *list = fresh;
                old
            };
            drop(stale);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_refs() {
        assert_eq!(split_function_ref("Fn"), ("Fn", None));
        assert_eq!(split_function_ref("Fn:$LATEST"), ("Fn", Some("$LATEST")));
        assert_eq!(
            split_function_ref("arn:aws:lambda:us-east-1:123456789012:function:Fn"),
            ("Fn", None)
        );
        assert_eq!(
            split_function_ref("arn:aws:lambda:us-east-1:123456789012:function:Fn:prod"),
            ("Fn", Some("prod"))
        );
        assert_eq!(split_function_ref("123456789012:function:Fn"), ("Fn", None));
    }

    #[test]
    fn trace_id_shape() {
        let t = new_trace_id();
        assert!(t.starts_with("Root=1-"));
        assert!(t.ends_with(";Sampled=0"));
    }
}
