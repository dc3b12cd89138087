//! One invocation on a leased instance: a cold start when no instance was idle, the START
//! line, the dispatch to the runtime, then END/REPORT and the instance back to its pool (or
//! killed). Buffered invocations end here; streamed ones continue in [`crate::streaming`].

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::OwnedSemaphorePermit;

use crate::extensions::ShutdownReason;
use crate::instance::{Ended, InitFailure, Instance, Job, StartWith};
use crate::logs::{InstanceLog, Report};
use crate::observe::{InvocationRecord, InvocationType, Status};
use crate::outcome::{error_doc, FailureKind, Outcome};
use crate::pool::{Lease, Pool};
use crate::sandbox::{launch_for, Launch, LaunchError};
use crate::service::{InvokeRequest, InvokeResponse, LambdaService};
use crate::spec::SandboxKind;
use crate::streaming::collect_stream;

/// An invocation whose instance is ready and whose START line is written.
pub(crate) struct Running {
    /// Held until the instance is back in its pool, so a waiting caller finds it idle.
    pub permit: OwnedSemaphorePermit,
    pub inst: Instance,
    pub request_id: String,
    pub started: Instant,
}

impl LambdaService {
    /// Runs one invocation to its end and returns Lambda's answer.
    pub(crate) async fn run_buffered(
        &self,
        pool: &Arc<Pool>,
        lease: Lease,
        req: &InvokeRequest,
        payload: Bytes,
    ) -> InvokeResponse {
        let mut run = match self.begin(pool, lease, req).await {
            Ok(run) => run,
            Err(init_failed) => return init_failed,
        };
        let job = job(&run.request_id, req, payload);
        let outcome = match self.dispatch(pool, &mut run, job, req).await {
            Ok(Ended::Done(outcome)) => outcome,
            Ok(Ended::Stream {
                content_type,
                chunks,
            }) => collect_stream(chunks, content_type).await,
            Err(init_failed) => return init_failed,
        };
        self.finish(pool, run, outcome, req)
    }

    /// Hands `job` to the run's instance. A warm runtime that exited before it took the job
    /// ran nothing of it, so, as Lambda starts a new execution environment after its
    /// runtime exits, the job goes to a new instance (once); the answer is its init failure
    /// when that instance cannot start.
    pub(crate) async fn dispatch(
        &self,
        pool: &Arc<Pool>,
        run: &mut Running,
        job: Job,
        req: &InvokeRequest,
    ) -> Result<Ended, InvokeResponse> {
        let job = match run.inst.dispatch(job).await {
            Ok(ended) => return Ok(ended),
            Err(job) => job,
        };
        let inst = match self.start_instance(pool, &run.request_id).await {
            Ok(inst) => inst,
            Err(f) => return Err(self.init_failed(pool, f, &run.request_id, req)),
        };
        // The exited instance is dropped (and its sandbox reaped) here.
        run.inst = inst;
        run.inst.log.start(&run.request_id);
        Ok(match run.inst.dispatch(job).await {
            Ok(ended) => ended,
            Err(job) => {
                let info = run
                    .inst
                    .sandbox
                    .exit
                    .borrow()
                    .clone()
                    .unwrap_or_else(|| crate::sandbox::ExitInfo::new("unknown"));
                Ended::Done(Outcome::exited(&job.request_id, &info))
            }
        })
    }

    /// The instance for a lease (started when cold) with the START line written, or, when
    /// the instance failed to initialise, the finished invocation reporting it.
    pub(crate) async fn begin(
        &self,
        pool: &Arc<Pool>,
        lease: Lease,
        req: &InvokeRequest,
    ) -> Result<Running, InvokeResponse> {
        let request_id = crate::ids::request_id();
        let Lease { permit, warm } = lease;
        let inst = match warm {
            Some(inst) => inst,
            None => match self.start_instance(pool, &request_id).await {
                Ok(inst) => inst,
                Err(f) => return Err(self.init_failed(pool, f, &request_id, req)),
            },
        };
        inst.log.start(&request_id);
        Ok(Running {
            permit,
            inst,
            request_id,
            started: Instant::now(),
        })
    }

    /// END and REPORT lines, the log tail, and the instance back to the pool (or killed).
    /// When extensions are still working on the INVOKE event, the caller gets the runtime's
    /// answer now and the invocation ends (REPORT, the instance reusable) once every
    /// extension called next again, within the function's Timeout (Extensions API, "Invoke
    /// phase").
    pub(crate) fn finish(
        &self,
        pool: &Arc<Pool>,
        run: Running,
        outcome: Outcome,
        req: &InvokeRequest,
    ) -> InvokeResponse {
        let Running {
            permit,
            mut inst,
            request_id,
            started,
        } = run;
        for line in &outcome.log {
            inst.log.line(line);
        }
        let duration = started.elapsed();
        let init_duration = inst.init_duration.take();
        if inst.hub.active() {
            inst.hub.telemetry.platform_runtime_done(
                &request_id,
                telemetry_status(&outcome),
                duration,
                outcome.payload.len(),
            );
            inst.shutdown_reason = match outcome.failure {
                Some(FailureKind::Timeout) => ShutdownReason::Timeout,
                Some(FailureKind::Crash | FailureKind::Init) => ShutdownReason::Failure,
                _ => ShutdownReason::Spindown,
            };
            if outcome.keep_instance && inst.extensions_busy() {
                let resp = response(
                    outcome.clone(),
                    &request_id,
                    &inst.log,
                    req,
                    duration,
                    init_duration,
                );
                let ending = Ending {
                    pool: Arc::clone(pool),
                    observer: self.observer().cloned(),
                    closed: self.closed.load(Ordering::Acquire),
                    permit,
                    inst,
                    request_id,
                    started,
                    init_duration,
                    outcome,
                };
                pool.completing.fetch_add(1, Ordering::AcqRel);
                tokio::spawn(ending.after_extensions(req.clone()));
                return resp;
            }
        }
        let ending = Ending {
            pool: Arc::clone(pool),
            observer: self.observer().cloned(),
            closed: self.closed.load(Ordering::Acquire),
            permit,
            inst,
            request_id,
            started,
            init_duration,
            outcome,
        };
        ending.end(duration, req)
    }

    /// A new instance of the pool's function, initialised and waiting for work.
    pub(crate) async fn start_instance(
        &self,
        pool: &Arc<Pool>,
        request_id: &str,
    ) -> Result<Instance, InitFailure> {
        let launch = self.launch_of(pool).await.map_err(|e| InitFailure {
            body: error_doc(e.error_type, &e.message),
            error_type: e.error_type.to_string(),
            duration: Duration::ZERO,
        })?;
        let generation = pool.generation();
        let how = StartWith {
            spec: &pool.spec,
            launch: &launch,
            extra_env: &self.options.extra_env,
            init_timeout: crate::debug::init_timeout(&pool.spec, self.options.init_timeout),
            pids: &pool.pids,
            docker: &self.options.docker,
            containers: &self.containers,
            cache_dir: &self.cache_dir,
        };
        if let Some(d) = &pool.spec.debug {
            tracing::info!(
                "{}: starting an instance; it waits for its debugger on port {}",
                pool.spec.name,
                d.port
            );
        }
        let mut inst = Instance::start(how, self.instance_log(pool), request_id).await?;
        inst.generation = generation;
        Ok(inst)
    }

    /// How to start the pool's runtime, worked out once per generation: the interpreter and
    /// bootstrap of a native sandbox, or the image (built when missing or stale) of a
    /// container one. Concurrent cold starts wait for one preparation.
    pub(crate) async fn launch_of(&self, pool: &Arc<Pool>) -> Result<Arc<Launch>, LaunchError> {
        if let Some(l) = pool.cached_launch() {
            return Ok(l);
        }
        let _one = pool.preparing.lock().await;
        if let Some(l) = pool.cached_launch() {
            return Ok(l);
        }
        let generation = pool.generation();
        let launch = match &pool.spec.sandbox {
            // Working it out may run the interpreter (version check, boto3 install): keep
            // that off the async workers.
            SandboxKind::Native => {
                let (spec, dir) = (pool.spec.clone(), self.cache_dir.clone());
                let native = tokio::task::spawn_blocking(move || {
                    let mut launch = launch_for(&spec, &dir)?;
                    crate::debug::wrap_native(&spec, &mut launch, &dir)?;
                    Ok(launch)
                })
                .await
                .unwrap_or_else(|e| {
                    Err(LaunchError {
                        error_type: "Runtime.Unknown",
                        message: format!("could not prepare the runtime: {e}"),
                    })
                })?;
                if let Some(w) = &native.warning {
                    tracing::warn!("{}: {w}", pool.spec.name);
                }
                Launch::Native(native)
            }
            SandboxKind::Container(c) => {
                let docker = self.docker().await.map_err(|message| LaunchError {
                    error_type: "Runtime.Unknown",
                    message,
                })?;
                let force = self.options.docker.force_image_build
                    && !pool.forced_build.swap(true, Ordering::AcqRel);
                let log = self.instance_log(pool);
                Launch::Container(Box::new(
                    crate::container::prepare(
                        &pool.spec,
                        c,
                        &docker,
                        &self.options.docker,
                        force,
                        &log,
                        &self.cache_dir,
                    )
                    .await?,
                ))
            }
        };
        let launch = Arc::new(launch);
        pool.store_launch(generation, Arc::clone(&launch));
        Ok(launch)
    }

    pub(crate) fn instance_log(&self, pool: &Pool) -> Arc<InstanceLog> {
        InstanceLog::new(
            &pool.spec.name,
            self.options.print_logs,
            self.options.log_prefix,
            self.listener.clone(),
        )
    }

    /// The failed instance is gone; report as Lambda does, with a log of our own.
    fn init_failed(
        &self,
        pool: &Pool,
        f: InitFailure,
        request_id: &str,
        req: &InvokeRequest,
    ) -> InvokeResponse {
        let spec = &pool.spec;
        let log = self.instance_log(pool);
        log.start(request_id);
        let hint = crate::hints::init_hint(spec, &f.error_type, &f.body);
        if let Some(h) = &hint {
            tracing::info!("hint: {}: {h}", spec.name);
        }
        log.line(&format!(
            "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {}",
            f.duration.as_secs_f64() * 1000.0,
            f.error_type
        ));
        log.end(
            request_id,
            &Report {
                duration: Duration::ZERO,
                memory_mb: spec.memory_mb,
                max_memory_used_mb: 0,
                init_duration: Some(f.duration),
            },
        );
        let outcome = Outcome::init_failed(f.body);
        if let Some(o) = self.observer() {
            o.invocation(record(
                pool,
                req,
                request_id,
                &outcome,
                &log,
                (Duration::ZERO, Some(f.duration)),
                hint,
            ));
        }
        response(
            outcome,
            request_id,
            &log,
            req,
            Duration::ZERO,
            Some(f.duration),
        )
    }
}

/// What is left of an invocation once the runtime answered: END/REPORT, the observer, and
/// the instance back to its pool.
struct Ending {
    pool: Arc<Pool>,
    observer: Option<Arc<dyn crate::observe::InvocationObserver>>,
    closed: bool,
    permit: OwnedSemaphorePermit,
    inst: Instance,
    request_id: String,
    started: Instant,
    init_duration: Option<Duration>,
    outcome: Outcome,
}

impl Ending {
    /// Waits for the extensions to finish their INVOKE event (at most until the function's
    /// Timeout), then ends the invocation; an extension that fails or overruns costs the
    /// instance.
    async fn after_extensions(mut self, req: InvokeRequest) {
        let timeout = crate::debug::timeout(&self.pool.spec);
        let deadline = tokio::time::Instant::from_std(self.started + timeout);
        let waited = tokio::time::timeout_at(deadline, self.inst.hub.idle()).await;
        let rid = &self.request_id;
        match waited {
            Ok(Ok(())) => {}
            Ok(Err(f)) => {
                self.inst.log.line(&format!(
                    "RequestId: {rid} Error: extension {} ended: {}",
                    f.name, f.detail
                ));
                self.inst.log.line(f.error_type);
                self.outcome.keep_instance = false;
                self.inst.shutdown_reason = ShutdownReason::Failure;
            }
            Err(_) => {
                self.inst.log.line(&format!(
                    "{} {rid} Task timed out after {:.2} seconds (extensions still working: {})",
                    crate::ids::now_rfc3339(),
                    timeout.as_secs_f64(),
                    self.inst.hub.busy_names().join(", ")
                ));
                self.outcome.keep_instance = false;
                self.inst.shutdown_reason = ShutdownReason::Timeout;
            }
        }
        self.closed |= self.pool.is_closed();
        let pool = Arc::clone(&self.pool);
        let duration = self.started.elapsed();
        self.end(duration, &req);
        pool.completing.fetch_sub(1, Ordering::AcqRel);
    }

    /// END and REPORT, the observer's record, the instance released (or killed), and the
    /// caller's answer.
    fn end(self, duration: Duration, req: &InvokeRequest) -> InvokeResponse {
        let Ending {
            pool,
            observer,
            closed,
            permit,
            mut inst,
            request_id,
            init_duration,
            outcome,
            ..
        } = self;
        let report = Report {
            duration,
            memory_mb: pool.spec.memory_mb,
            // A sandbox is stopped at its MemorySize (see `Outcome::out_of_memory`), so, as
            // on Lambda, Max Memory Used never reads higher.
            max_memory_used_mb: inst
                .max_memory_used_mb(duration)
                .min(u64::from(pool.spec.memory_mb)),
            init_duration,
        };
        inst.log.end(&request_id, &report);
        if inst.hub.active() {
            inst.hub
                .telemetry
                .platform_report(&request_id, telemetry_status(&outcome), &report);
        }
        // What to change, when ssam can tell (Timeout, MemorySize, a full /tmp, ...): on the
        // console and in the observer's record.
        let hint = outcome
            .failure
            .and_then(|kind| crate::hints::failure_hint(&pool.spec, kind, &outcome.payload));
        if let Some(h) = &hint {
            tracing::info!("hint: {}: {h}", pool.spec.name);
        }
        let seen = observer.map(|o| {
            let r = record(
                &pool,
                req,
                &request_id,
                &outcome,
                &inst.log,
                (duration, init_duration),
                hint,
            );
            (o, r)
        });
        let keep = outcome.keep_instance;
        let resp = response(
            outcome,
            &request_id,
            &inst.log,
            req,
            duration,
            init_duration,
        );
        if keep && !closed {
            pool.release(inst);
        } else {
            drop(inst);
        }
        drop(permit);
        // The observer is told once the instance is free for the next invocation.
        if let Some((o, r)) = seen {
            o.invocation(r);
        }
        resp
    }
}

/// The `status` of `platform.runtimeDone` and `platform.report` (Telemetry API schema).
fn telemetry_status(outcome: &Outcome) -> &'static str {
    match outcome.failure {
        None => "success",
        Some(FailureKind::Function) => "error",
        Some(FailureKind::Timeout) => "timeout",
        Some(_) => "failure",
    }
}

/// What the instance hands its runtime for `req`.
pub(crate) fn job(request_id: &str, req: &InvokeRequest, payload: Bytes) -> Job {
    Job {
        request_id: request_id.to_string(),
        payload,
        trace_id: req
            .trace_id
            .clone()
            .unwrap_or_else(crate::ids::trace_header),
        client_context: req.client_context.clone(),
        cognito_identity: req.cognito_identity.clone(),
    }
}

/// What an observer is told about a finished invocation.
fn record(
    pool: &Pool,
    req: &InvokeRequest,
    request_id: &str,
    outcome: &Outcome,
    log: &InstanceLog,
    (duration, init_duration): (Duration, Option<Duration>),
    hint: Option<String>,
) -> InvocationRecord {
    let event = if req.payload.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else {
        req.payload.clone()
    };
    InvocationRecord {
        function: pool.spec.name.clone(),
        request_id: request_id.to_string(),
        source: req.source.clone(),
        invocation_type: if req.asynchronous {
            InvocationType::Event
        } else {
            InvocationType::RequestResponse
        },
        attempt: req.attempt,
        started: std::time::SystemTime::now()
            .checked_sub(duration + init_duration.unwrap_or_default())
            .unwrap_or(std::time::UNIX_EPOCH),
        duration,
        init_duration,
        status: Status::of(outcome.failure),
        event,
        response: outcome.payload.clone(),
        log: log.tail_text(),
        hint,
    }
}

pub(crate) fn response(
    outcome: Outcome,
    request_id: &str,
    log: &InstanceLog,
    req: &InvokeRequest,
    duration: Duration,
    init_duration: Option<Duration>,
) -> InvokeResponse {
    InvokeResponse {
        payload: outcome.payload,
        log_tail: req.log_tail.then(|| log.tail_base64()),
        executed_version: "$LATEST".to_string(),
        request_id: request_id.to_string(),
        failure: outcome.failure,
        content_type: outcome.content_type,
        duration,
        init_duration,
    }
}
