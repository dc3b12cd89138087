//! One execution environment: a sandbox process plus its Runtime API server, from init to
//! kill. An instance serves one invocation at a time; its owner is the pool (idle) or the
//! invocation running on it (busy).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};

use crate::extensions::{ExtFailure, ExtHub, ShutdownReason, SHUTDOWN_DEADLINE};
use crate::ids::{epoch_ms, log_stream_name};
use crate::logs::InstanceLog;
use crate::outcome::{
    error_doc, error_type_of, init_timeout_message, out_of_memory_message, Outcome,
};
use crate::runtime_api::{InitState, Invocation, RuntimeApi, RuntimeReply, StreamEvent};
use crate::sandbox::{self, ExitInfo, Launch, Sandbox};
use crate::spec::FunctionSpec;

/// Process ids of a pool's live sandboxes.
pub(crate) type Pids = Arc<std::sync::Mutex<std::collections::HashSet<u32>>>;

/// What [`Instance::start`] needs from the pool and the service.
pub(crate) struct StartWith<'a> {
    pub spec: &'a FunctionSpec,
    pub launch: &'a Launch,
    pub extra_env: &'a indexmap::IndexMap<String, String>,
    pub init_timeout: Duration,
    pub pids: &'a Pids,
    pub docker: &'a crate::spec::DockerOptions,
    pub containers: &'a crate::container::Containers,
    /// The service's cache (where a sandbox keeps the machine's `/tmp`).
    pub cache_dir: &'a std::path::Path,
}

/// Why an instance could not finish its init.
pub(crate) struct InitFailure {
    /// The error document the caller receives (JSON).
    pub body: Bytes,
    pub error_type: String,
    pub duration: Duration,
}

/// The end of one dispatched invocation, seen from the caller's side.
pub(crate) enum Ended {
    Done(Outcome),
    /// The runtime answered in streaming mode: chunks until the channel closes.
    Stream {
        content_type: Option<String>,
        chunks: mpsc::Receiver<StreamEvent>,
    },
}

/// One invocation as the instance hands it to its runtime.
#[derive(Clone)]
pub(crate) struct Job {
    pub request_id: String,
    pub payload: Bytes,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
}

pub(crate) struct Instance {
    pub sandbox: Sandbox,
    pub log: Arc<InstanceLog>,
    invocations: mpsc::Sender<Invocation>,
    /// The Runtime API server; taken by a graceful shutdown that still needs it.
    server: Option<tokio::task::JoinHandle<()>>,
    /// The Extensions API state (registered extensions, telemetry subscriptions).
    pub hub: Arc<ExtHub>,
    /// External extensions' processes, each its own process group.
    extensions: Vec<Sandbox>,
    /// What SHUTDOWN tells extensions when this instance goes.
    pub shutdown_reason: ShutdownReason,
    /// SHUTDOWN was delivered already ([`Instance::spin_down`]).
    told_shutdown: bool,
    /// Set on a cold start, reported on the first REPORT line, then cleared.
    pub init_duration: Option<Duration>,
    pub last_used: Instant,
    /// The last peak-RSS reading and when it was taken.
    peak_rss: Option<(Instant, u64)>,
    /// The pool generation the instance was started in (see `LambdaService::recycle`).
    pub generation: u64,
    /// What every invocation of this instance is bounded by (the function's settings).
    function_arn: String,
    timeout: Duration,
    memory_mb: u32,
}

impl Drop for Instance {
    /// Kills the runtime. Extensions subscribed to SHUTDOWN get it and up to
    /// [`SHUTDOWN_DEADLINE`] to finish (then they are killed too), as in Lambda's Shutdown phase.
    fn drop(&mut self) {
        let server = self.server.take();
        if self.hub.active() && !self.told_shutdown {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let deadline = epoch_ms() + SHUTDOWN_DEADLINE.as_millis() as u64;
                if self.hub.shutdown(self.shutdown_reason, deadline) {
                    let hub = Arc::clone(&self.hub);
                    let extensions = std::mem::take(&mut self.extensions);
                    // A container's extensions live in it: it is killed after them.
                    let container = self.sandbox.container.take();
                    let pid = self.sandbox.pid;
                    if container.is_some() {
                        self.sandbox.pid = 0;
                    } else {
                        self.sandbox.kill();
                    }
                    rt.spawn(async move {
                        let _ = tokio::time::timeout(SHUTDOWN_DEADLINE, hub.settled()).await;
                        drop(extensions);
                        if let Some(c) = container {
                            c.kill(pid);
                        }
                        if let Some(s) = server {
                            s.abort();
                        }
                    });
                    return;
                }
            }
        }
        self.sandbox.kill();
        if let Some(s) = server {
            s.abort();
        }
    }
}

/// Aborts the Runtime API server of an instance that failed to start.
struct ServerGuard(Option<tokio::task::JoinHandle<()>>);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.abort();
        }
    }
}

/// An extension's failure as the init error the caller gets (`Extension.*` types, as in the
/// Runtime Interface Emulator's `fatalerror.go`).
fn extension_failure(f: &ExtFailure, request_id: &str) -> String {
    match f.error_type {
        "Extension.InitError" => format!(
            "RequestId: {request_id} Error: extension {} failed to initialize: {}",
            f.name, f.detail
        ),
        "Extension.ExitError" => format!(
            "RequestId: {request_id} Error: extension {} exited with an error: {}",
            f.name, f.detail
        ),
        _ => format!(
            "RequestId: {request_id} Error: extension {} exited: {}",
            f.name, f.detail
        ),
    }
}

impl Instance {
    /// Starts a sandbox and waits until its runtime asks for work (or fails trying). A
    /// function's external extensions start first and must register before the runtime
    /// starts; init ends once the runtime and every extension have called next (Extensions
    /// API, "Init phase").
    pub(crate) async fn start(
        how: StartWith<'_>,
        log: Arc<InstanceLog>,
        request_id: &str,
    ) -> Result<Instance, InitFailure> {
        let StartWith {
            spec,
            launch,
            extra_env,
            init_timeout,
            pids,
            docker,
            containers,
            cache_dir,
        } = how;
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + init_timeout;
        let fail = |error_type: &str, message: String| InitFailure {
            body: error_doc(error_type, &message),
            error_type: error_type.to_string(),
            duration: started.elapsed(),
        };
        let bind = match launch {
            Launch::Native(_) => std::net::IpAddr::from([127, 0, 0, 1]),
            Launch::Container(c) => c.reach.bind,
        };
        let extension_paths: &[std::path::PathBuf] = match launch {
            Launch::Native(n) => &n.extensions,
            Launch::Container(_) => &[],
        };
        let extension_names: Vec<String> = match launch {
            Launch::Native(_) => extension_paths
                .iter()
                .map(|p| crate::extensions::name_of(p))
                .collect(),
            Launch::Container(c) => c.extensions.clone(),
        };
        let hub = ExtHub::new(
            extension_names,
            crate::extensions::FunctionInfo {
                name: spec.name.clone(),
                handler: spec.handler.clone(),
                account_id: spec.account_id.clone(),
            },
        );
        let api = RuntimeApi::start(bind, Arc::clone(&hub))
            .await
            .map_err(|e| {
                fail(
                    "Runtime.Unknown",
                    format!("could not bind the Runtime API: {e}"),
                )
            })?;
        let mut server = ServerGuard(Some(api.server));
        let mut extensions = Vec::new();
        let spawned = match launch {
            Launch::Native(native) => {
                let mut env = sandbox::environment(
                    spec,
                    api.addr,
                    &native.env,
                    extra_env,
                    &log_stream_name(),
                );
                let rules = crate::filesystem::rules(spec, &native.program, &env, cache_dir);
                if rules.tmp.is_some() {
                    // Lambda sets no TMPDIR: temporary files go to the function's own /tmp.
                    env.shift_remove("TMPDIR");
                }
                let mut shared_rules = rules;
                let mut runtime_rules: Option<crate::filesystem::Rules> = None;
                if hub.has_external() {
                    log.tap(Arc::clone(&hub.telemetry));
                    hub.telemetry.platform_init_start(&spec.name);
                    // The first extension makes the instance's namespaces; the others and
                    // the runtime enter them, so that all share one /tmp as on Lambda.
                    let mut first: Option<u32> = None;
                    for path in extension_paths {
                        let rules = match first {
                            Some(pid) => shared_rules.joining(pid),
                            None => std::mem::take(&mut shared_rules),
                        };
                        let ext = start_extension(path, spec, &rules, &env, &log, &hub, pids)
                            .map_err(|m| {
                                fail(
                                    "Extension.LaunchError",
                                    format!("RequestId: {request_id} Error: {m}"),
                                )
                            })?;
                        if first.is_none() {
                            crate::filesystem::settled(ext.pid).await;
                            first = Some(ext.pid);
                            shared_rules = rules;
                        }
                        extensions.push(ext);
                    }
                    if let Some(pid) = first {
                        runtime_rules = Some(shared_rules.joining(pid));
                    }
                    // Extension init: every extension registers before the runtime starts.
                    let registered = tokio::select! {
                        r = hub.registered() => Some(r),
                        _ = tokio::time::sleep_until(deadline) => None,
                    };
                    match registered {
                        Some(Ok(())) => {}
                        Some(Err(f)) => {
                            return Err(failed_extension(&f, &hub, &log, request_id, started))
                        }
                        None => {
                            return Err(fail(
                                "Extension.InitError",
                                format!(
                                    "{} (extensions not registered: {})",
                                    init_timeout_message(request_id, init_timeout),
                                    unregistered(&hub, extension_paths).join(", ")
                                ),
                            ))
                        }
                    }
                }
                let rules = runtime_rules.unwrap_or(shared_rules);
                Sandbox::spawn(native, &spec.code_dir, &rules, &env, &log)
            }
            Launch::Container(prepared) => {
                if hub.has_external() {
                    log.tap(Arc::clone(&hub.telemetry));
                    hub.telemetry.platform_init_start(&spec.name);
                    // The extensions run inside: their wrapper says when one exits.
                    let hub = Arc::downgrade(&hub);
                    log.watch_exit_lines(prepared.exit_marker.clone(), move |name, code| {
                        if let Some(hub) = hub.upgrade() {
                            let exit = ssam_docker::Exit {
                                code,
                                out_of_memory: false,
                            };
                            hub.process_exited(name, ExitInfo::from_container(&exit).text);
                        }
                    });
                }
                let env = crate::container::environment(
                    spec,
                    prepared.run.handler.as_deref(),
                    &api.addr.to_string(),
                    extra_env,
                    &prepared.reach,
                    &log_stream_name(),
                );
                crate::container::start(spec, prepared, env, docker, &log, containers).await
            }
        };
        let sandbox = match spawned {
            Ok(s) => s,
            Err(e) => return Err(fail(e.error_type, e.message)),
        };
        // Registered from the start, so a shutdown during init reaches it too; removed
        // once the process has been reaped.
        let pid = sandbox.pid;
        track_pid(pids, pid, sandbox.exit.clone());
        let mut instance = Instance {
            sandbox,
            log,
            invocations: api.invocations,
            server: server.0.take(),
            hub,
            extensions,
            shutdown_reason: ShutdownReason::Spindown,
            told_shutdown: false,
            init_duration: None,
            last_used: Instant::now(),
            peak_rss: None,
            generation: 0,
            function_arn: spec.arn(),
            timeout: crate::debug::timeout(spec),
            memory_mb: spec.memory_mb,
        };
        let mut init = api.init;
        let mut exit = instance.sandbox.exit.clone();
        let outcome = tokio::select! {
            r = async { init.wait_for(|s| *s != InitState::Pending).await.map(|s| s.clone()).ok() } => r,
            _ = wait_exited(&mut exit) => None,
            _ = tokio::time::sleep_until(deadline) => Some(InitState::Pending),
            // Over MemorySize while initialising (imports, globals): stopped as during an
            // invocation; dropping the instance kills its process group.
            _ = exceeds_memory(pid, spec.memory_mb) => {
                return Err(fail("Runtime.OutOfMemory", out_of_memory_message(request_id)));
            }
        };
        let telemetry = Arc::clone(&instance.hub.telemetry);
        match outcome {
            Some(InitState::Ready) => {
                if instance.hub.has_external() || instance.hub.active() {
                    telemetry.platform_init_runtime_done("success", None);
                    instance
                        .extensions_ready(deadline, request_id, init_timeout, started)
                        .await?;
                    for line in instance.hub.report_lines() {
                        instance.log.line(&line);
                    }
                    telemetry.platform_init_report("success", started.elapsed());
                }
                telemetry.end_init();
                instance.init_duration = Some(started.elapsed());
                Ok(instance)
            }
            Some(InitState::Failed { body, error_type }) => {
                let error_type = error_type
                    .or_else(|| error_type_of(&body))
                    .unwrap_or_else(|| "Runtime.Unknown".to_string());
                telemetry.platform_init_runtime_done("error", Some(&error_type));
                let body = if body.is_empty() {
                    error_doc(&error_type, "")
                } else {
                    body
                };
                Err(InitFailure {
                    body,
                    error_type,
                    duration: started.elapsed(),
                })
            }
            Some(InitState::Pending) => Err(fail(
                "Sandbox.Timedout",
                init_timeout_message(request_id, init_timeout),
            )),
            None => {
                let status = instance
                    .sandbox
                    .exit
                    .borrow()
                    .clone()
                    .unwrap_or_else(|| ExitInfo::new("unknown"));
                if status.out_of_memory {
                    return Err(fail(
                        "Runtime.OutOfMemory",
                        out_of_memory_message(request_id),
                    ));
                }
                Err(fail(
                    "Runtime.ExitError",
                    format!("RequestId: {request_id} Error: {}", status.describe()),
                ))
            }
        }
    }

    /// The rest of init once the runtime asked for work: every registered extension must call
    /// next too, within the init timeout.
    async fn extensions_ready(
        &mut self,
        deadline: tokio::time::Instant,
        request_id: &str,
        init_timeout: Duration,
        started: Instant,
    ) -> Result<(), InitFailure> {
        let mut exit = self.sandbox.exit.clone();
        // In a container the extensions start beside the runtime: they may register after
        // it asked for work.
        let hub = Arc::clone(&self.hub);
        let ready = tokio::select! {
            r = async { hub.registered().await?; hub.idle().await } => Some(r),
            _ = tokio::time::sleep_until(deadline) => None,
            _ = wait_exited(&mut exit) => Some(Ok(())),
        };
        match ready {
            Some(Ok(())) if !self.sandbox.exited() => Ok(()),
            Some(Ok(())) => {
                let status = self
                    .sandbox
                    .exit
                    .borrow()
                    .clone()
                    .unwrap_or_else(|| ExitInfo::new("unknown"));
                let message = format!("RequestId: {request_id} Error: {}", status.describe());
                Err(InitFailure {
                    body: error_doc("Runtime.ExitError", &message),
                    error_type: "Runtime.ExitError".into(),
                    duration: started.elapsed(),
                })
            }
            Some(Err(f)) => Err(failed_extension(
                &f, &self.hub, &self.log, request_id, started,
            )),
            None => {
                let message = format!(
                    "{} (extensions not ready: {})",
                    init_timeout_message(request_id, init_timeout),
                    self.hub.busy_names().join(", ")
                );
                self.log.line(&message);
                Err(InitFailure {
                    body: error_doc("Extension.InitError", &message),
                    error_type: "Extension.InitError".into(),
                    duration: started.elapsed(),
                })
            }
        }
    }

    /// Whether extensions are still working on the last invocation's INVOKE event.
    pub(crate) fn extensions_busy(&self) -> bool {
        self.hub.active() && self.hub.busy()
    }

    /// Sends SHUTDOWN to the extensions that want it and waits (at most
    /// [`SHUTDOWN_DEADLINE`]) until they are done; the instance is then dropped and killed.
    pub(crate) async fn spin_down(mut self, reason: ShutdownReason) {
        if self.hub.active() {
            let deadline = epoch_ms() + SHUTDOWN_DEADLINE.as_millis() as u64;
            if self.hub.shutdown(reason, deadline) {
                let _ = tokio::time::timeout(SHUTDOWN_DEADLINE, self.hub.settled()).await;
            }
        }
        // Told already: dropping kills without a second SHUTDOWN.
        self.told_shutdown = true;
    }

    /// Whether one of its external extensions exited while it was idle; the log says so
    /// (the instance is then dropped, and SHUTDOWN says `failure` to the others).
    pub(crate) fn extension_crashed(&mut self) -> bool {
        let Some((name, how)) = self.hub.exited_extension() else {
            return false;
        };
        self.log.line(&format!(
            "EXTENSION\tName: {name}\tState: Crashed ({how}); the execution environment is reset: the next invocation starts a new instance"
        ));
        self.shutdown_reason = ShutdownReason::Failure;
        true
    }

    /// Max Memory Used for a REPORT line. Reading `/proc/<pid>/status` costs ~15 µs, a
    /// noticeable share of a warm sub-millisecond invocation, so back-to-back short
    /// invocations reuse a reading younger than a second; anything longer reads afresh.
    pub(crate) fn max_memory_used_mb(&mut self, duration: Duration) -> u64 {
        if let Some((at, mb)) = self.peak_rss {
            if duration < Duration::from_millis(5) && at.elapsed() < Duration::from_secs(1) {
                return mb;
            }
        }
        // Extensions share the execution environment's memory.
        let mb = crate::logs::peak_rss_mb(self.sandbox.pid)
            + self
                .extensions
                .iter()
                .map(|e| crate::logs::peak_rss_mb(e.pid))
                .sum::<u64>();
        self.peak_rss = Some((Instant::now(), mb));
        mb
    }

    /// Hands one invocation to the runtime and waits for its answer, its exit, its Timeout
    /// or its MemorySize, whichever comes first. `Err` gives the job back when the runtime
    /// exited before it took it (it was on its way out when the instance was leased, e.g.
    /// after reporting an unhandled rejection): nothing of it ran.
    pub(crate) async fn dispatch(&mut self, job: Job) -> Result<Ended, Job> {
        let (reply_tx, reply_rx) = oneshot::channel();
        let request_id = job.request_id.clone();
        let taken = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let inv = Invocation {
            request_id: request_id.clone(),
            payload: job.payload.clone(),
            deadline_ms: epoch_ms() + self.timeout.as_millis() as u64,
            function_arn: self.function_arn.clone(),
            trace_id: job.trace_id.clone(),
            client_context: job.client_context.clone(),
            cognito_identity: job.cognito_identity.clone(),
            reply: reply_tx,
            taken: Arc::clone(&taken),
        };
        if self.hub.active() {
            self.hub.invoke(
                &request_id,
                inv.deadline_ms,
                &self.function_arn,
                &inv.trace_id,
            );
            self.hub
                .telemetry
                .platform_start(&request_id, &inv.trace_id);
        }
        let mut exit: watch::Receiver<Option<ExitInfo>> = self.sandbox.exit.clone();
        if self.invocations.send(inv).await.is_err() {
            let info = ExitInfo::new("runtime API closed");
            return Ok(Ended::Done(Outcome::exited(&request_id, &info)));
        }
        let sleep = tokio::time::sleep(self.timeout);
        tokio::pin!(sleep);
        let mut reply_rx = reply_rx;
        let reply = tokio::select! {
            biased;
            r = &mut reply_rx => match r {
                Ok(reply) => reply,
                // The Runtime API dropped the answer (the runtime broke off its post): the
                // process is on its way out, or will be killed as broken.
                Err(_) => {
                    let mut exit = self.sandbox.exit.clone();
                    let info = wait_exit(&mut exit, Duration::from_millis(500)).await;
                    return Ok(Ended::Done(Outcome::exited(&request_id, &info)));
                }
            },
            _ = wait_exited(&mut exit) => {
                // A runtime that answered and then exited still answered.
                match reply_rx.try_recv() {
                    Ok(reply) => reply,
                    Err(_) if !taken.load(std::sync::atomic::Ordering::Acquire) => {
                        return Err(job);
                    }
                    Err(_) => {
                        let info = self.sandbox.exit.borrow().clone().unwrap_or_else(|| ExitInfo::new("unknown"));
                        return Ok(Ended::Done(Outcome::exited(&request_id, &info)));
                    }
                }
            }
            _ = &mut sleep => return Ok(Ended::Done(Outcome::timed_out(&request_id, self.timeout))),
            _ = exceeds_memory(self.sandbox.pid, self.memory_mb) => {
                return Ok(Ended::Done(Outcome::out_of_memory(&request_id)));
            }
        };
        Ok(Ended::Done(match reply {
            RuntimeReply::Stream {
                content_type,
                chunks,
            } => {
                return Ok(Ended::Stream {
                    content_type,
                    chunks,
                })
            }
            RuntimeReply::Response { body, content_type } => Outcome::response(body, content_type),
            RuntimeReply::Error { body, error_type } => {
                Outcome::function_error(body, error_type.as_deref())
            }
            // The runtime got 413 for its buffered response: its exchange is broken.
            RuntimeReply::ResponseTooLarge { size } => Outcome::response_too_large(size, false),
        }))
    }
}

/// How often a running invocation's memory is checked against its MemorySize.
const MEMORY_CHECK: Duration = Duration::from_millis(20);

/// Resolves once the sandbox's processes hold more resident memory than `limit_mb`, as
/// Lambda stops a function that goes over its MemorySize. Checked every [`MEMORY_CHECK`],
/// the first time one period in, so short invocations never pay for a reading.
async fn exceeds_memory(pid: u32, limit_mb: u32) {
    let start = tokio::time::Instant::now() + MEMORY_CHECK;
    let mut tick = tokio::time::interval_at(start, MEMORY_CHECK);
    loop {
        tick.tick().await;
        if crate::logs::rss_mb(pid) > u64::from(limit_mb) {
            return;
        }
    }
}

/// Resolves once the process has exited (without holding a non-`Send` watch guard).
async fn wait_exited(exit: &mut watch::Receiver<Option<ExitInfo>>) {
    let _ = exit.wait_for(|e| e.is_some()).await;
}

async fn wait_exit(exit: &mut watch::Receiver<Option<ExitInfo>>, max: Duration) -> ExitInfo {
    match tokio::time::timeout(max, wait_exited(exit)).await {
        Ok(()) => exit
            .borrow()
            .clone()
            .unwrap_or_else(|| ExitInfo::new("unknown")),
        Err(_) => ExitInfo::new("the runtime broke off its response"),
    }
}

/// Keeps `pid` in the pool's registry of live sandbox processes until it has been reaped.
fn track_pid(pids: &Pids, pid: u32, mut exited: watch::Receiver<Option<ExitInfo>>) {
    pids.lock().unwrap_or_else(|p| p.into_inner()).insert(pid);
    let registry = Arc::clone(pids);
    tokio::spawn(async move {
        wait_exited(&mut exited).await;
        registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&pid);
    });
}

/// Starts one external extension with the runtime's environment, in its own process group;
/// its exit is reported to the hub (an extension that ends on its own crashed).
fn start_extension(
    path: &std::path::Path,
    spec: &FunctionSpec,
    rules: &crate::filesystem::Rules,
    env: &indexmap::IndexMap<String, String>,
    log: &Arc<InstanceLog>,
    hub: &Arc<ExtHub>,
    pids: &Pids,
) -> Result<Sandbox, String> {
    let name = crate::extensions::name_of(path);
    let ext = Sandbox::spawn_program(
        path,
        &[],
        &spec.code_dir,
        rules,
        env,
        log,
        crate::telemetry::Kind::Extension,
    )
    .map_err(|e| format!("extension {name}: {}", e.message))?;
    track_pid(pids, ext.pid, ext.exit.clone());
    let mut exited = ext.exit.clone();
    let hub = Arc::downgrade(hub);
    tokio::spawn(async move {
        wait_exited(&mut exited).await;
        let how = exited
            .borrow()
            .as_ref()
            .map(|e| e.text.clone())
            .unwrap_or_default();
        if let Some(hub) = hub.upgrade() {
            hub.process_exited(&name, how);
        }
    });
    Ok(ext)
}

/// External extensions that have not registered (for the init timeout's message).
fn unregistered(hub: &ExtHub, paths: &[std::path::PathBuf]) -> Vec<String> {
    let state = hub.snapshot();
    paths
        .iter()
        .map(|p| crate::extensions::name_of(p))
        .filter(|n| !state.exts.iter().any(|e| &e.name == n))
        .collect()
}

/// An extension failed init: the function's log says so as Lambda writes it, and the caller
/// gets the `Extension.*` error.
fn failed_extension(
    f: &ExtFailure,
    hub: &ExtHub,
    log: &InstanceLog,
    request_id: &str,
    started: Instant,
) -> InitFailure {
    for line in hub.report_lines() {
        log.line(&line);
    }
    let message = extension_failure(f, request_id);
    log.line(&message);
    log.line(f.error_type);
    InitFailure {
        body: error_doc(f.error_type, &message),
        error_type: f.error_type.to_string(),
        duration: started.elapsed(),
    }
}
