//! One function's instances and the one place that decides how many may run at once.
//!
//! Admission is a permit per in-flight invocation (a tokio `Semaphore` holding the
//! function's cap): a caller takes a permit, then pops an idle instance or starts one, and
//! holds the permit in its [`Lease`] until the invocation ends. An instance is started only
//! when none is idle, so live instances never outnumber permits. The cap is the function's
//! ReservedConcurrentExecutions when it declares one (over it, a synchronous invoke is
//! throttled with 429 as on Lambda) and ssam's local instance cap (`--max-instances`)
//! otherwise (over it, callers wait for an instance as Lambda's account-wide concurrency
//! would absorb them).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::error::InvokeError;
use crate::instance::{Instance, Pids};
use crate::sandbox::Launch;
use crate::spec::FunctionSpec;

/// One function's instances.
pub(crate) struct Pool {
    pub spec: FunctionSpec,
    /// One permit per invocation that may be in flight.
    permits: Arc<Semaphore>,
    cap: u32,
    /// Idle instances, most recently used last.
    idle: Mutex<Vec<Instance>>,
    /// How to start the runtime, worked out once per generation (with the generation).
    launch: Mutex<Option<(u64, Arc<Launch>)>>,
    /// Held while the launch is worked out (an image build can take minutes), so concurrent
    /// cold starts wait for one preparation instead of each building.
    pub preparing: tokio::sync::Mutex<()>,
    /// Whether `--force-image-build` has had its one forced build.
    pub forced_build: std::sync::atomic::AtomicBool,
    /// Process ids of live sandboxes (registered at spawn), so shutdown reaches starting
    /// and busy ones too.
    pub pids: Pids,
    /// Bumped by [`Pool::recycle`]: instances started before are not reused.
    generation: AtomicU64,
    /// Invocations answered whose extensions are still working on their INVOKE event
    /// (see `invocation.rs`), so a shutdown can wait for their instances.
    pub completing: std::sync::atomic::AtomicUsize,
}

/// The right to run one invocation: a permit, and the warm instance to run it on (`None`:
/// start one).
pub(crate) struct Lease {
    pub permit: OwnedSemaphorePermit,
    pub warm: Option<Instance>,
}

impl Pool {
    /// A pool for `spec`, capped at its ReservedConcurrentExecutions, else at `max_instances`.
    pub fn new(spec: FunctionSpec, max_instances: u32) -> Self {
        // A debugged function has one debug port, so one instance (as SAM CLI runs it).
        let cap = match spec.debug {
            Some(_) => 1,
            None => spec.reserved_concurrency.unwrap_or(max_instances).max(1),
        };
        Pool {
            spec,
            permits: Arc::new(Semaphore::new(cap as usize)),
            cap,
            idle: Mutex::new(Vec::new()),
            launch: Mutex::new(None),
            preparing: tokio::sync::Mutex::new(()),
            forced_build: std::sync::atomic::AtomicBool::new(false),
            pids: Arc::new(Mutex::new(Default::default())),
            generation: AtomicU64::new(0),
            completing: Default::default(),
        }
    }

    /// How many invocations may run at once.
    pub fn cap(&self) -> u32 {
        self.cap
    }

    /// Idle instances now.
    pub fn idle_count(&self) -> usize {
        self.lock_idle().len()
    }

    /// Invocations holding a permit now.
    pub fn busy(&self) -> usize {
        (self.cap as usize).saturating_sub(self.permits.available_permits())
    }

    fn lock_idle(&self) -> MutexGuard<'_, Vec<Instance>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lease_with(&self, permit: OwnedSemaphorePermit) -> Lease {
        let current = self.generation.load(Ordering::Relaxed);
        let warm = loop {
            let next = self.lock_idle().pop();
            match next {
                // An instance that died while idle, or belongs to older code, is dropped
                // (killed) here.
                Some(inst) if inst.sandbox.exited() || inst.generation != current => continue,
                // An extension crashed while the instance was idle: Lambda resets the
                // execution environment, so the next invocation starts a new one.
                Some(mut inst) => {
                    if !inst.extension_crashed() {
                        break Some(inst);
                    }
                }
                None => break None,
            }
        };
        Lease { permit, warm }
    }

    /// A lease now, or Lambda's throttle when every permit is taken.
    pub fn try_lease(&self) -> Result<Lease, InvokeError> {
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(p) => Ok(self.lease_with(p)),
            Err(TryAcquireError::NoPermits) => Err(self.throttled()),
            Err(TryAcquireError::Closed) => Err(shutting_down()),
        }
    }

    /// Waits for a lease; `None` once the pool is closed.
    pub async fn lease(&self) -> Option<Lease> {
        let permit = Arc::clone(&self.permits).acquire_owned().await.ok()?;
        Some(self.lease_with(permit))
    }

    /// How a synchronous invocation is admitted: throttled at once over a reserved limit,
    /// otherwise queued until an instance frees up, for at most `wait`.
    pub async fn admit(&self, wait: Duration) -> Result<Lease, InvokeError> {
        if self.spec.reserved_concurrency.is_some() {
            return self.try_lease();
        }
        match tokio::time::timeout(wait, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(p)) => Ok(self.lease_with(p)),
            Ok(Err(_)) => Err(shutting_down()),
            Err(_) => Err(self.throttled()),
        }
    }

    fn throttled(&self) -> InvokeError {
        match self.spec.reserved_concurrency {
            Some(_) => InvokeError::TooManyRequests,
            None => InvokeError::InstanceCapReached { cap: self.cap },
        }
    }

    /// An instance whose invocation ended, back to the idle list (unless it exited or
    /// belongs to older code: dropping it kills it).
    pub fn release(&self, mut inst: Instance) {
        if inst.sandbox.exited() || inst.generation != self.generation() {
            return;
        }
        inst.last_used = Instant::now();
        self.lock_idle().push(inst);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// Stops reusing the current instances: idle ones are killed now, busy ones when their
    /// invocation ends; the runtime choice is worked out again.
    pub fn recycle(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
        drop(std::mem::take(&mut *self.lock_idle()));
    }

    /// Whether [`Pool::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.permits.is_closed()
    }

    /// Takes the idle instances out (to shut them down gracefully).
    pub fn take_idle(&self) -> Vec<Instance> {
        std::mem::take(&mut *self.lock_idle())
    }

    /// Refuses new leases (waiters get `None` or an error) and kills the idle instances.
    pub fn close(&self) {
        self.permits.close();
        drop(std::mem::take(&mut *self.lock_idle()));
    }

    /// Kills idle instances unused for `idle` (or already exited).
    pub fn reap(&self, idle: Duration) {
        let stale: Vec<Instance> = {
            let mut list = self.lock_idle();
            let (old, fresh): (Vec<_>, Vec<_>) = std::mem::take(&mut *list)
                .into_iter()
                .partition(|i| i.last_used.elapsed() >= idle || i.sandbox.exited());
            *list = fresh;
            old
        };
        drop(stale);
    }

    /// The cached way to start this function's runtime, if worked out for the current
    /// generation.
    pub fn cached_launch(&self) -> Option<Arc<Launch>> {
        let current = self.generation();
        self.launch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|(g, _)| *g == current)
            .map(|(_, l)| Arc::clone(l))
    }

    /// Caches `launch`, worked out in `generation` (a recycle since then makes it stale).
    pub fn store_launch(&self, generation: u64, launch: Arc<Launch>) {
        *self.launch.lock().unwrap_or_else(|p| p.into_inner()) = Some((generation, launch));
    }

    /// Whether any sandbox of this pool is still alive.
    pub fn has_live_sandboxes(&self) -> bool {
        !self
            .pids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// SIGKILL to every sandbox's process group (idle, busy and starting).
    pub fn kill_all(&self) {
        drop(std::mem::take(&mut *self.lock_idle()));
        let pids: Vec<u32> = self
            .pids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .copied()
            .collect();
        for pid in pids {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
            // A container's first process need not lead a process group.
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

fn shutting_down() -> InvokeError {
    InvokeError::Service("the Lambda service is shutting down".into())
}

/// The local instance cap when `--max-instances` is not given: enough for a load test's
/// bursts, few enough that cold-starting them all stays bearable on the machine's cores.
pub fn default_max_instances() -> u32 {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(2);
    (cores * 4).clamp(8, 64)
}
