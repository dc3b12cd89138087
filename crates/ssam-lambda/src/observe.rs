//! What the service tells an observer (ssam's dashboard, tests) about its work: one
//! [`InvocationRecord`] per finished invocation, throttles, the asynchronous queue's life
//! (queued, retried, done, dropped with its payload) and stopped recursive loops, plus a
//! snapshot of each function's instances ([`FunctionState`]).
//!
//! Architecture invariant: observing never changes an invocation. Without an observer the
//! cost is one atomic load per invocation; records are built only when one is attached.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::Serialize;

use crate::outcome::FailureKind;

/// Who asked for an invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InvokeSource {
    /// A caller of the library itself (`ssam local invoke`, tests).
    #[default]
    Direct,
    /// Lambda's Invoke API (SDKs, `aws lambda invoke`).
    InvokeApi,
    /// An API Gateway route.
    Api {
        /// The API's logical id.
        api: String,
        method: String,
        /// The route as declared (`/items/{id}`).
        route: String,
        /// The request's path.
        path: String,
    },
    /// An S3 event notification.
    S3 {
        bucket: String,
        key: String,
        /// Without `s3:`, e.g. `ObjectCreated:Put`.
        event_name: String,
        /// The object event's sequencer, which links the event to this invocation.
        sequencer: String,
    },
    /// A replay of an earlier invocation (by its request id) from the dashboard.
    Replay { of: String },
    /// An invocation started from the dashboard.
    Dashboard,
}

/// How the caller waits for an invocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum InvocationType {
    #[default]
    RequestResponse,
    Event,
}

/// How an invocation ended, as the dashboard shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Success,
    /// The function's own error (`/invocation/{id}/error`).
    Error,
    Timeout,
    /// The runtime exited or was stopped at its MemorySize.
    Crash,
    InitError,
    ResponseTooLarge,
}

impl Status {
    pub fn of(failure: Option<FailureKind>) -> Self {
        match failure {
            None => Status::Success,
            Some(FailureKind::Function) => Status::Error,
            Some(FailureKind::Timeout) => Status::Timeout,
            Some(FailureKind::Crash) => Status::Crash,
            Some(FailureKind::Init) => Status::InitError,
            Some(FailureKind::ResponseTooLarge) => Status::ResponseTooLarge,
        }
    }
}

/// One finished invocation.
#[derive(Clone, Debug)]
pub struct InvocationRecord {
    /// The function's name.
    pub function: String,
    pub request_id: String,
    pub source: InvokeSource,
    pub invocation_type: InvocationType,
    /// 0 for the first attempt; 1 and 2 for an asynchronous invocation's retries.
    pub attempt: u32,
    pub started: SystemTime,
    pub duration: Duration,
    /// Set when the invocation started a new instance (a cold start).
    pub init_duration: Option<Duration>,
    pub status: Status,
    /// The event as the function received it.
    pub event: Bytes,
    /// The function's response, or the error document when it failed (empty for a
    /// streamed response).
    pub response: Bytes,
    /// The invocation's log, START to REPORT (its last 4 KB, as `X-Amz-Log-Type: Tail`).
    pub log: String,
    /// What ssam suggests for this failure (timeout, out of memory, oversize response,
    /// missing dependency).
    pub hint: Option<String>,
}

/// Something that happened to an asynchronous (Event) invocation.
#[derive(Clone, Debug)]
pub enum AsyncEvent {
    /// Accepted into the function's queue.
    Queued { function: String },
    /// An attempt failed; the next one starts after `delay`.
    Retrying {
        function: String,
        attempt: u32,
        delay: Duration,
        error: String,
    },
    /// Left the queue: succeeded, or dropped (see [`AsyncEvent::Dropped`]).
    Done { function: String },
    /// Every attempt failed, or the event got too old: the event is lost, as it would go
    /// to a dead-letter queue on AWS. Sent after [`AsyncEvent::Done`].
    Dropped {
        function: String,
        attempts: u32,
        error: String,
        payload: Bytes,
    },
    /// An S3 event was not delivered because it continued a recursive loop.
    LoopStopped {
        function: String,
        bucket: String,
        key: String,
        hops: u32,
    },
}

/// Receives what the Lambda service does. Calls come from the invocations' tasks: keep them
/// short and never block.
pub trait InvocationObserver: Send + Sync {
    fn invocation(&self, record: InvocationRecord);
    /// A synchronous invocation was refused (429) or gave up waiting for an instance.
    fn throttled(&self, _function: &str) {}
    fn async_event(&self, _event: AsyncEvent) {}
}

/// One function's instances right now.
#[derive(Clone, Debug, Serialize)]
pub struct FunctionState {
    pub name: String,
    pub logical_id: String,
    pub runtime: String,
    /// `native` or `docker`.
    pub sandbox: &'static str,
    pub code_dir: std::path::PathBuf,
    pub memory_mb: u32,
    pub timeout_ms: u64,
    /// Idle instances ready for the next invocation.
    pub warm: usize,
    /// Invocations running now.
    pub busy: usize,
    /// How many may run at once (ReservedConcurrentExecutions, else `--max-instances`).
    pub cap: u32,
    pub reserved_concurrency: Option<u32>,
}
