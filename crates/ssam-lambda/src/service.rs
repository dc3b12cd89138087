//! The Lambda service: the registry of functions (by name, logical id or ARN) and the public
//! ways to invoke them. Admission lives in [`crate::pool`], one invocation's life in
//! [`crate::invocation`], streaming in [`crate::streaming`], Event invocations in
//! [`crate::async_invoke`], Lambda's messages in [`crate::outcome`].
//!
//! Architecture invariant: an instance serves at most one invocation at a time, and every
//! instance is owned either by its pool's idle list or by the invocation running on it, so
//! dropping it (timeout, crash, shutdown) always kills its process group.
//!
//! Architecture invariant: the service detaches invocations itself. A caller that stops
//! waiting (a client that hangs up, an API Gateway integration timeout) never aborts the
//! function nor kills its instance: the function runs to its end, as on Lambda.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::error::InvokeError;
use crate::limits::{ASYNC_REQUEST_MAX, SYNC_REQUEST_MAX};
use crate::logs::LogListener;
use crate::observe::{AsyncEvent, FunctionState, InvocationObserver, InvokeSource};
use crate::outcome::FailureKind;
use crate::pool::Pool;
use crate::runtime_api::StreamEvent;
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
    /// The payload was serialised by ssam itself (API Gateway and S3 events), so it is not
    /// parsed again to check that it is JSON; payloads from users are.
    pub payload_is_json: bool,
    /// Who asked (shown by an [`InvocationObserver`]; never changes the invocation).
    pub source: InvokeSource,
    /// Which attempt of an asynchronous invocation this is (0 for the first).
    pub(crate) attempt: u32,
    /// Set for asynchronous (Event) invocations.
    pub(crate) asynchronous: bool,
}

impl InvokeRequest {
    /// A request whose payload comes from a user (checked to be JSON).
    pub fn new(function: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        InvokeRequest {
            function: function.into(),
            payload: payload.into(),
            ..Default::default()
        }
    }

    /// A request whose payload ssam serialised itself (an event it built).
    pub fn event(function: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        InvokeRequest {
            payload_is_json: true,
            ..InvokeRequest::new(function, payload)
        }
    }
}

/// The result of a synchronous invocation.
#[derive(Clone, Debug)]
pub struct InvokeResponse {
    /// The function's result, or its error document when `failure` is set.
    pub payload: Bytes,
    /// Base64 of the last 4 KB of the log, when asked for.
    pub log_tail: Option<String>,
    pub executed_version: String,
    pub request_id: String,
    /// What kind of failure, when the invocation failed.
    pub failure: Option<FailureKind>,
    /// The runtime's Content-Type for the response, when it sent one.
    pub content_type: Option<String>,
    pub duration: Duration,
    /// Set when the invocation started a new instance.
    pub init_duration: Option<Duration>,
}

impl InvokeResponse {
    /// `Unhandled` when the invocation failed: the Invoke API's `X-Amz-Function-Error`.
    pub fn function_error(&self) -> Option<&'static str> {
        self.failure.map(|_| "Unhandled")
    }
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

/// The functions and their pools; replaced as a whole when the template is reloaded.
#[derive(Default)]
struct Registry {
    pools: Vec<Arc<Pool>>,
    /// Function name and logical id → index in `pools`.
    by_name: HashMap<String, usize>,
}

impl Registry {
    fn new(pools: Vec<Arc<Pool>>) -> Self {
        let mut by_name = HashMap::new();
        for (i, p) in pools.iter().enumerate() {
            by_name.entry(p.spec.logical_id.clone()).or_insert(i);
            by_name.insert(p.spec.name.clone(), i);
        }
        Registry { pools, by_name }
    }
}

/// The registry of functions and their instance pools.
pub struct LambdaService {
    registry: RwLock<Arc<Registry>>,
    pub(crate) options: ServiceOptions,
    pub(crate) cache_dir: std::path::PathBuf,
    pub(crate) listener: Option<Arc<dyn LogListener>>,
    /// Told about every finished invocation, once attached ([`LambdaService::observe`]).
    observer: std::sync::OnceLock<Arc<dyn InvocationObserver>>,
    pub(crate) closed: AtomicBool,
    /// The Docker engine, connected on first use (only container sandboxes need it).
    docker: tokio::sync::OnceCell<Result<ssam_docker::Docker, String>>,
    /// Containers not yet removed, so shutdown can wait for them.
    pub(crate) containers: crate::container::Containers,
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
        let pools = functions
            .into_iter()
            .map(|spec| Arc::new(Pool::new(spec, options.max_instances)))
            .collect();
        let cache_dir = options
            .cache_dir
            .clone()
            .unwrap_or_else(crate::bootstrap::default_cache_dir);
        let service = Arc::new(LambdaService {
            registry: RwLock::new(Arc::new(Registry::new(pools))),
            options,
            cache_dir,
            listener,
            observer: std::sync::OnceLock::new(),
            closed: AtomicBool::new(false),
            docker: tokio::sync::OnceCell::new(),
            containers: Default::default(),
        });
        if let (Some(idle), Ok(rt)) = (
            service.options.idle_timeout,
            tokio::runtime::Handle::try_current(),
        ) {
            rt.spawn(reap_idle(Arc::downgrade(&service), idle));
        }
        service
    }

    /// The Docker engine, connected on first use. The first connection also removes the
    /// containers an ssam that was killed left behind. When no engine answers, the error says
    /// what was tried; native functions are not affected.
    pub async fn docker(&self) -> Result<ssam_docker::Docker, String> {
        self.docker
            .get_or_init(|| async {
                let docker = ssam_docker::Docker::connect()
                    .await
                    .map_err(|e| e.to_string())?;
                match docker.remove_orphans(crate::container::is_live_ssam).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("removed {n} container(s) left by an earlier ssam"),
                    Err(e) => tracing::warn!("cannot clear earlier ssam containers: {e}"),
                }
                Ok(docker)
            })
            .await
            .clone()
    }

    /// Makes one function ready for its next cold start (a container function's image
    /// rebuilt after its context changed), so that invocation does not wait for the build.
    pub async fn prepare(&self, name_or_arn: &str) -> Result<(), String> {
        let pool = self.pool(name_or_arn).map_err(|e| e.to_string())?;
        self.launch_of(&pool)
            .await
            .map(|_| ())
            .map_err(|e| e.message)
    }

    /// Makes every function that needs preparing ready before its first invocation: images
    /// built when missing or stale, present when named; Python dependencies installed from
    /// a `requirements.txt`. Returns one line per function that is not ready.
    pub async fn prepare_functions(&self) -> Vec<String> {
        let pools: Vec<Arc<Pool>> = self
            .registry()
            .pools
            .iter()
            .filter(|p| {
                matches!(p.spec.sandbox, crate::spec::SandboxKind::Container(_))
                    || crate::deps::has_manifest(&p.spec)
            })
            .cloned()
            .collect();
        if pools.is_empty() {
            self.remove_orphans_quietly();
            return Vec::new();
        }
        let mut failed = Vec::new();
        // One at a time: builds share the engine, and their output reads better unmixed.
        for pool in pools {
            if let Err(e) = self.launch_of(&pool).await {
                failed.push(format!("{}: {}", pool.spec.name, e.message));
            }
        }
        failed
    }

    /// Without container functions, containers an earlier ssam left behind are still
    /// removed, in the background and without a word when no engine answers.
    fn remove_orphans_quietly(&self) {
        let Ok(docker_host) = ssam_docker::socket_path_from_env() else {
            return;
        };
        if !std::path::Path::new(&docker_host).exists() {
            return;
        }
        tokio::spawn(async move {
            if let Ok(docker) = ssam_docker::Docker::connect().await {
                if let Ok(n @ 1..) = docker.remove_orphans(crate::container::is_live_ssam).await {
                    tracing::info!("removed {n} container(s) left by an earlier ssam");
                }
            }
        });
    }

    /// Attaches the observer told about every invocation from now on (one per service);
    /// false when one is attached already.
    pub fn observe(&self, observer: Arc<dyn InvocationObserver>) -> bool {
        self.observer.set(observer).is_ok()
    }

    /// The attached observer, if any (front doors report what happens before an invocation,
    /// such as a stopped recursive loop, through it).
    pub fn observer(&self) -> Option<&Arc<dyn InvocationObserver>> {
        self.observer.get()
    }

    /// Whether an observer is attached: front doors skip describing the source otherwise.
    pub fn observed(&self) -> bool {
        self.observer.get().is_some()
    }

    /// Each function's runtime, sandbox and instances right now.
    pub fn function_states(&self) -> Vec<FunctionState> {
        self.registry()
            .pools
            .iter()
            .map(|p| {
                let s = &p.spec;
                FunctionState {
                    name: s.name.clone(),
                    logical_id: s.logical_id.clone(),
                    runtime: s.runtime.clone(),
                    sandbox: match s.sandbox {
                        crate::spec::SandboxKind::Native => "native",
                        crate::spec::SandboxKind::Container(_) => "docker",
                    },
                    code_dir: s.code_dir.clone(),
                    memory_mb: s.memory_mb,
                    timeout_ms: s.timeout.as_millis() as u64,
                    warm: p.idle_count(),
                    busy: p.busy(),
                    cap: p.cap(),
                    reserved_concurrency: s.reserved_concurrency,
                }
            })
            .collect()
    }

    /// Tells the observer a synchronous invocation of `pool`'s function was refused.
    fn note_throttle<T>(&self, pool: &Pool, r: Result<T, InvokeError>) -> Result<T, InvokeError> {
        if let (
            Err(InvokeError::TooManyRequests | InvokeError::InstanceCapReached { .. }),
            Some(o),
        ) = (&r, self.observer())
        {
            o.throttled(&pool.spec.name);
        }
        r
    }

    fn registry(&self) -> Arc<Registry> {
        Arc::clone(&self.registry.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The functions this service runs.
    pub fn functions(&self) -> Vec<FunctionSpec> {
        self.registry()
            .pools
            .iter()
            .map(|p| p.spec.clone())
            .collect()
    }

    /// Finds a function by name, logical id or ARN (`:$LATEST` qualifier allowed).
    pub fn function(&self, name_or_arn: &str) -> Option<FunctionSpec> {
        self.pool(name_or_arn).ok().map(|p| p.spec.clone())
    }

    /// The name Lambda knows a function by (its FunctionName, else its logical id), without
    /// copying the whole spec: for front doors that look a function up per request.
    pub fn name_of(&self, name_or_arn: &str) -> Option<String> {
        self.pool(name_or_arn).ok().map(|p| p.spec.name.clone())
    }

    /// Like [`LambdaService::function`], with Lambda's 404 when there is no such function.
    pub fn resolve(&self, name_or_arn: &str) -> Result<FunctionSpec, InvokeError> {
        self.pool(name_or_arn).map(|p| p.spec.clone())
    }

    /// How many invocations of the function may run at once (its reserved concurrency, else
    /// the local instance cap).
    pub fn concurrency_cap(&self, name_or_arn: &str) -> Option<u32> {
        self.pool(name_or_arn).ok().map(|p| p.cap())
    }

    /// Whether the function runs under a debugger (`--debug-port`): front doors then wait
    /// for it as long as the debugger holds it.
    pub fn is_debugged(&self, name_or_arn: &str) -> bool {
        self.pool(name_or_arn).is_ok_and(|p| p.spec.debug.is_some())
    }

    fn pool(&self, name_or_arn: &str) -> Result<Arc<Pool>, InvokeError> {
        let reg = self.registry();
        let (name, qualifier) = split_function_ref(name_or_arn);
        let found = reg.by_name.get(name).and_then(|i| reg.pools.get(*i));
        match (found, qualifier) {
            (Some(pool), None | Some("$LATEST")) => Ok(Arc::clone(pool)),
            (Some(pool), Some(q)) => Err(InvokeError::ResourceNotFound {
                arn: format!("{}:{q}", pool.spec.arn()),
            }),
            (None, _) => {
                let (region, account) = reg
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
    fn check(&self, req: &InvokeRequest, limit: usize) -> Result<(Arc<Pool>, Bytes), InvokeError> {
        let pool = self.pool(&req.function)?;
        if req.payload.len() > limit {
            let err = InvokeError::RequestTooLarge {
                size: req.payload.len(),
                limit,
                operation: "InvokeFunction",
            };
            tracing::error!(
                "{}: request payload of {} bytes refused: {err}\n  hint: {}",
                pool.spec.name,
                req.payload.len(),
                crate::limits::OVERSIZE_HINT
            );
            return Err(err);
        }
        let payload = if req.payload.iter().all(u8::is_ascii_whitespace) {
            Bytes::from_static(b"{}")
        } else {
            if !req.payload_is_json {
                check_json(&req.payload)?;
            }
            req.payload.clone()
        };
        if self.closed.load(Ordering::Acquire) {
            return Err(InvokeError::Service(
                "the Lambda service is shutting down".into(),
            ));
        }
        Ok((pool, payload))
    }

    /// A synchronous (RequestResponse) invocation. Over a ReservedConcurrentExecutions limit
    /// it is throttled (429); otherwise it waits for a free instance, at most the function's
    /// Timeout. Dropping the future stops the wait but never the invocation once it runs.
    pub async fn invoke(
        self: &Arc<Self>,
        req: InvokeRequest,
    ) -> Result<InvokeResponse, InvokeError> {
        self.invoke_waiting(req, None).await
    }

    /// Like [`LambdaService::invoke`], waiting at most `max_wait` (instead of the function's
    /// Timeout) for a free instance when the function has no reserved limit: API Gateway
    /// waits as long as its integration timeout.
    pub async fn invoke_waiting(
        self: &Arc<Self>,
        req: InvokeRequest,
        max_wait: Option<Duration>,
    ) -> Result<InvokeResponse, InvokeError> {
        let (pool, payload) = self.check(&req, SYNC_REQUEST_MAX)?;
        let lease = self.note_throttle(
            &pool,
            pool.admit(max_wait.unwrap_or(crate::debug::timeout(&pool.spec)))
                .await,
        )?;
        let service = Arc::clone(self);
        tokio::spawn(async move { service.run_buffered(&pool, lease, &req, payload).await })
            .await
            .map_err(|e| InvokeError::Service(format!("the invocation failed: {e}")))
    }

    /// An asynchronous (Event) invocation: queued, run in the background with Lambda's
    /// retries on function errors; waits for a free instance rather than throttling.
    pub async fn invoke_async(self: &Arc<Self>, req: InvokeRequest) -> Result<(), InvokeError> {
        let (pool, payload) = self.check(&req, ASYNC_REQUEST_MAX)?;
        if let Some(o) = self.observer() {
            o.async_event(AsyncEvent::Queued {
                function: pool.spec.name.clone(),
            });
        }
        tokio::spawn(Arc::clone(self).run_async(pool, req, payload));
        Ok(())
    }

    /// A synchronous invocation whose response is consumed as a stream (response streaming
    /// functions stream; others yield their whole payload as one chunk).
    pub async fn invoke_stream(
        self: &Arc<Self>,
        req: InvokeRequest,
    ) -> Result<InvokeStream, InvokeError> {
        let (pool, payload) = self.check(&req, SYNC_REQUEST_MAX)?;
        let lease =
            self.note_throttle(&pool, pool.admit(crate::debug::timeout(&pool.spec)).await)?;
        let service = Arc::clone(self);
        let (head_tx, head_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            service
                .run_streaming(&pool, lease, &req, payload, head_tx)
                .await;
        });
        head_rx
            .await
            .map_err(|_| InvokeError::Service("the invocation ended without a response".into()))
    }

    /// Starts one instance of `function` ahead of its first invocation (`--warm-containers EAGER`).
    pub async fn prewarm(&self, function: &str) -> Result<(), InvokeError> {
        let pool = self.pool(function)?;
        // A debugged instance waits for its debugger: started ahead, it would hold up the
        // start of every other function until one attaches.
        if pool.spec.debug.is_some() {
            return Ok(());
        }
        let Ok(lease) = pool.try_lease() else {
            return Ok(());
        };
        if let Some(inst) = lease.warm {
            pool.release(inst);
            return Ok(());
        }
        let request_id = crate::ids::request_id();
        match self.start_instance(&pool, &request_id).await {
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

    /// Starts one instance of every function at once (`--warm-containers EAGER`); returns
    /// what failed, one line per function.
    pub async fn prewarm_all(&self) -> Vec<String> {
        let names: Vec<String> = self.functions().into_iter().map(|s| s.name).collect();
        let results = futures::future::join_all(
            names
                .iter()
                .map(|n| async move { (n, self.prewarm(n).await) }),
        )
        .await;
        results
            .into_iter()
            .filter_map(|(name, r)| r.err().map(|e| format!("{name}: {e}")))
            .collect()
    }

    /// Stops using the function's current instances: idle ones are killed now, busy ones when
    /// their invocation ends, so the next invocation starts with the code as it is now (hot
    /// reload). The runtime choice is worked out again too.
    pub fn recycle(&self, name_or_arn: &str) -> Result<(), InvokeError> {
        self.pool(name_or_arn)?.recycle();
        Ok(())
    }

    /// Serves a new set of functions (a reloaded template): unchanged functions keep their
    /// pool and warm instances; new and changed ones get a fresh pool; the instances of
    /// changed and removed ones stop once their invocations end. Returns the logical ids of
    /// the functions added, changed or removed.
    pub fn update(&self, specs: Vec<FunctionSpec>) -> Vec<String> {
        let mut reg = self.registry.write().unwrap_or_else(|p| p.into_inner());
        let mut old: HashMap<String, Arc<Pool>> = reg
            .pools
            .iter()
            .map(|p| (p.spec.logical_id.clone(), Arc::clone(p)))
            .collect();
        let mut changed = Vec::new();
        let mut pools = Vec::new();
        for spec in specs {
            match old.remove(&spec.logical_id) {
                Some(p) if p.spec == spec => pools.push(p),
                previous => {
                    if let Some(p) = previous {
                        p.recycle();
                    }
                    changed.push(spec.logical_id.clone());
                    pools.push(Arc::new(Pool::new(spec, self.options.max_instances)));
                }
            }
        }
        for (id, p) in old {
            p.recycle();
            changed.push(id);
        }
        *reg = Arc::new(Registry::new(pools));
        changed
    }

    /// Kills every sandbox (idle and busy), removes every container, and refuses new
    /// invocations.
    pub async fn shutdown(&self) {
        self.spin_down().await;
        self.kill_all();
        // Let the exit watchers reap the processes before the runtime goes away.
        let until = Instant::now() + Duration::from_millis(500);
        let reg = self.registry();
        while Instant::now() < until && reg.pools.iter().any(|p| p.has_live_sandboxes()) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Removing a container takes the engine a moment each.
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until && !self.containers.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Lambda's Shutdown phase for every idle instance: extensions subscribed to SHUTDOWN get
    /// it and up to 2 s to finish (invocations whose extensions are still finishing are waited
    /// for as long). Returns at once when no instance has extensions.
    pub async fn spin_down(&self) {
        let reg = self.registry();
        let until = Instant::now() + crate::extensions::SHUTDOWN_DEADLINE;
        while Instant::now() < until
            && reg
                .pools
                .iter()
                .any(|p| p.completing.load(Ordering::Acquire) > 0)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let idle: Vec<_> = reg.pools.iter().flat_map(|p| p.take_idle()).collect();
        futures::future::join_all(
            idle.into_iter()
                .map(|i| i.spin_down(crate::extensions::ShutdownReason::Spindown)),
        )
        .await;
    }

    /// Sends SIGKILL to every sandbox's process group and refuses new invocations, without
    /// waiting for the processes to be reaped (for a process about to exit anyway, such as
    /// `ssam local invoke`: SIGKILL cannot be ignored, so nothing is left behind).
    pub fn kill_all(&self) {
        self.closed.store(true, Ordering::Release);
        for pool in &self.registry().pools {
            pool.close();
            pool.kill_all();
        }
    }
}

/// Lambda's check that a user's payload is a JSON document.
pub fn check_json(payload: &[u8]) -> Result<(), InvokeError> {
    serde_json::from_slice::<serde::de::IgnoredAny>(payload)
        .map(|_| ())
        .map_err(|e| {
            InvokeError::InvalidRequestContent(format!(
                "Could not parse request body into json: {e}"
            ))
        })
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

/// Stops instances idle for longer than `idle`.
async fn reap_idle(service: Weak<LambdaService>, idle: Duration) {
    let period = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
    loop {
        tokio::time::sleep(period).await;
        let Some(service) = service.upgrade() else {
            return;
        };
        if service.closed.load(Ordering::Acquire) {
            return;
        }
        for pool in &service.registry().pools {
            pool.reap(idle);
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
}
