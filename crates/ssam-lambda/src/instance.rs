//! One execution environment: a sandbox process plus its Runtime API server, from init to
//! kill. An instance serves one invocation at a time; its owner is the pool (idle) or the
//! invocation running on it (busy).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};

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
    server: tokio::task::JoinHandle<()>,
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
    fn drop(&mut self) {
        self.sandbox.kill();
        self.server.abort();
    }
}

impl Instance {
    /// Starts a sandbox and waits until its runtime asks for work (or fails trying).
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
        } = how;
        let started = Instant::now();
        let fail = |error_type: &str, message: String| InitFailure {
            body: error_doc(error_type, &message),
            error_type: error_type.to_string(),
            duration: started.elapsed(),
        };
        let bind = match launch {
            Launch::Native(_) => std::net::IpAddr::from([127, 0, 0, 1]),
            Launch::Container(c) => c.reach.bind,
        };
        let api = RuntimeApi::start(bind).await.map_err(|e| {
            fail(
                "Runtime.Unknown",
                format!("could not bind the Runtime API: {e}"),
            )
        })?;
        let spawned = match launch {
            Launch::Native(native) => {
                let mut env = sandbox::environment(
                    spec,
                    api.addr,
                    &native.env,
                    extra_env,
                    &log_stream_name(),
                );
                let rules = crate::filesystem::rules(
                    spec,
                    &native.program,
                    &env,
                    &crate::bootstrap::default_cache_dir(),
                );
                if rules.tmp.is_some() {
                    // Lambda sets no TMPDIR: temporary files go to the function's own /tmp.
                    env.shift_remove("TMPDIR");
                }
                Sandbox::spawn(native, &spec.code_dir, &rules, &env, &log)
            }
            Launch::Container(prepared) => {
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
            Err(e) => {
                api.server.abort();
                return Err(fail(e.error_type, e.message));
            }
        };
        // Registered from the start, so a shutdown during init reaches it too; removed
        // once the process has been reaped.
        let pid = sandbox.pid;
        pids.lock().unwrap_or_else(|p| p.into_inner()).insert(pid);
        let registry = Arc::clone(pids);
        let mut exited = sandbox.exit.clone();
        tokio::spawn(async move {
            wait_exited(&mut exited).await;
            registry
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&pid);
        });
        let mut instance = Instance {
            sandbox,
            log,
            invocations: api.invocations,
            server: api.server,
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
            _ = tokio::time::sleep(init_timeout) => Some(InitState::Pending),
            // Over MemorySize while initialising (imports, globals): stopped as during an
            // invocation; dropping the instance kills its process group.
            _ = exceeds_memory(pid, spec.memory_mb) => {
                return Err(fail("Runtime.OutOfMemory", out_of_memory_message(request_id)));
            }
        };
        match outcome {
            Some(InitState::Ready) => {
                instance.init_duration = Some(started.elapsed());
                Ok(instance)
            }
            Some(InitState::Failed { body, error_type }) => {
                let error_type = error_type
                    .or_else(|| error_type_of(&body))
                    .unwrap_or_else(|| "Runtime.Unknown".to_string());
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

    /// Max Memory Used for a REPORT line. Reading `/proc/<pid>/status` costs ~15 µs, a
    /// noticeable share of a warm sub-millisecond invocation, so back-to-back short
    /// invocations reuse a reading younger than a second; anything longer reads afresh.
    pub(crate) fn max_memory_used_mb(&mut self, duration: Duration) -> u64 {
        if let Some((at, mb)) = self.peak_rss {
            if duration < Duration::from_millis(5) && at.elapsed() < Duration::from_secs(1) {
                return mb;
            }
        }
        let mb = crate::logs::peak_rss_mb(self.sandbox.pid);
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
