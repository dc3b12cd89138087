//! What the dashboard has seen: the ring of invocations, per-function counters, the
//! asynchronous queue and recent object events. [`Recorder`] is the Lambda service's
//! observer; every change is also sent to the live pages (server-sent events) as one JSON
//! line, serialised only when a page listens.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::Serialize;
use ssam_lambda::{AsyncEvent, InvocationObserver, InvocationRecord, InvokeSource, Status};
use tokio::sync::broadcast;

use crate::model::{self, Summary};
use crate::ring::Ring;

/// Durations kept per function for p50/p99.
const DURATION_WINDOW: usize = 1000;
/// Dropped events and stopped loops kept per dashboard.
const ASYNC_KEPT: usize = 200;
/// Object events kept.
const OBJECT_EVENTS_KEPT: usize = 1000;

#[derive(Default)]
pub struct FunctionStats {
    pub invocations: u64,
    pub errors: u64,
    pub throttles: u64,
    pub cold_starts: u64,
    pub durations_ms: VecDeque<f64>,
    /// When the last cold start happened and how long its init took.
    pub last_cold: Option<(SystemTime, Duration)>,
    /// Asynchronous events accepted and not yet done.
    pub async_pending: i64,
    pub async_retries: u64,
    pub async_dropped: u64,
}

/// An asynchronous event that was given up on, with its payload.
#[derive(Clone, Serialize)]
pub struct Dropped {
    pub id: u64,
    pub function: String,
    pub attempts: u32,
    pub error: String,
    pub time_ms: f64,
    #[serde(skip)]
    pub payload: Bytes,
    pub payload_size: usize,
    pub payload_preview: String,
}

#[derive(Clone, Serialize)]
pub struct LoopStopped {
    pub function: String,
    pub bucket: String,
    pub key: String,
    pub hops: u32,
    pub time_ms: f64,
}

/// One object event as S3 reported it.
#[derive(Clone, Serialize)]
pub struct ObjectEventView {
    pub bucket: String,
    pub key: String,
    pub event_name: String,
    pub size: u64,
    pub etag: String,
    pub version_id: Option<String>,
    pub sequencer: String,
    pub time_ms: f64,
}

pub struct State {
    pub ring: Ring,
    pub stats: HashMap<String, FunctionStats>,
    pub dropped: VecDeque<Dropped>,
    pub loops: VecDeque<LoopStopped>,
    pub objects: VecDeque<ObjectEventView>,
    next_dropped: u64,
}

pub struct Recorder {
    state: Mutex<State>,
    live: broadcast::Sender<Arc<str>>,
}

/// A change pushed to live pages: `{"type": ..., "data": ...}`.
#[derive(Serialize)]
struct Push<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    data: T,
}

impl Recorder {
    pub fn new(history: usize, max_bytes: usize) -> Arc<Self> {
        let (live, _) = broadcast::channel(4096);
        Arc::new(Recorder {
            state: Mutex::new(State {
                ring: Ring::new(history, max_bytes),
                stats: HashMap::new(),
                dropped: VecDeque::new(),
                loops: VecDeque::new(),
                objects: VecDeque::new(),
                next_dropped: 1,
            }),
            live,
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.live.subscribe()
    }

    fn push<T: Serialize>(&self, kind: &str, data: T) {
        if self.live.receiver_count() == 0 {
            return;
        }
        if let Ok(json) = serde_json::to_string(&Push { kind, data }) {
            let _ = self.live.send(json.into());
        }
    }

    /// Changes the counters of `function`; its name is copied only the first time it is
    /// seen.
    fn update(state: &mut State, function: &str, change: impl FnOnce(&mut FunctionStats)) {
        match state.stats.get_mut(function) {
            Some(s) => change(s),
            None => change(state.stats.entry(function.to_string()).or_default()),
        }
    }

    /// Records an object event from the local S3.
    pub fn object_event(&self, ev: &ssam_s3::ObjectEvent) {
        let view = ObjectEventView {
            bucket: ev.bucket.clone(),
            key: ev.key.clone(),
            event_name: ev.event_name.clone(),
            size: ev.size,
            etag: ev.etag.clone(),
            version_id: ev.version_id.clone(),
            sequencer: ev.sequencer.clone(),
            time_ms: (ev.time.unix_timestamp_nanos() / 1_000_000) as f64,
        };
        {
            let mut st = self.lock();
            st.objects.push_back(view.clone());
            while st.objects.len() > OBJECT_EVENTS_KEPT {
                st.objects.pop_front();
            }
        }
        self.push("object", view);
    }
}

impl InvocationObserver for Recorder {
    fn invocation(&self, record: InvocationRecord) {
        let (entry, evicted) = {
            let mut st = self.lock();
            Self::update(&mut st, &record.function, |s| {
                s.invocations += 1;
                if record.status != Status::Success {
                    s.errors += 1;
                }
                if let Some(init) = record.init_duration {
                    s.cold_starts += 1;
                    s.last_cold = Some((record.started, init));
                }
                s.durations_ms
                    .push_back(record.duration.as_secs_f64() * 1000.0);
                if s.durations_ms.len() > DURATION_WINDOW {
                    s.durations_ms.pop_front();
                }
            });
            st.ring.push(record)
        };
        // The evicted invocations are freed here, outside the lock.
        drop(evicted);
        if self.live.receiver_count() > 0 {
            self.push("invocation", Summary::of(&entry));
        }
    }

    fn throttled(&self, function: &str) {
        Self::update(&mut self.lock(), function, |s| s.throttles += 1);
        self.push("throttle", function);
    }

    fn async_event(&self, event: AsyncEvent) {
        let mut st = self.lock();
        match event {
            AsyncEvent::Queued { function } => {
                Self::update(&mut st, &function, |s| s.async_pending += 1)
            }
            AsyncEvent::Done { function } => {
                Self::update(&mut st, &function, |s| s.async_pending -= 1)
            }
            AsyncEvent::Retrying { function, .. } => {
                Self::update(&mut st, &function, |s| s.async_retries += 1)
            }
            AsyncEvent::Dropped {
                function,
                attempts,
                error,
                payload,
            } => {
                Self::update(&mut st, &function, |s| s.async_dropped += 1);
                let id = st.next_dropped;
                st.next_dropped += 1;
                let d = Dropped {
                    id,
                    function,
                    attempts,
                    error,
                    time_ms: model::epoch_ms(SystemTime::now()),
                    payload_size: payload.len(),
                    payload_preview: model::preview(&payload, 4096).0,
                    payload,
                };
                st.dropped.push_back(d.clone());
                while st.dropped.len() > ASYNC_KEPT {
                    st.dropped.pop_front();
                }
                drop(st);
                self.push("dropped", d);
                return;
            }
            AsyncEvent::LoopStopped {
                function,
                bucket,
                key,
                hops,
            } => {
                let l = LoopStopped {
                    function,
                    bucket,
                    key,
                    hops,
                    time_ms: model::epoch_ms(SystemTime::now()),
                };
                st.loops.push_back(l.clone());
                while st.loops.len() > ASYNC_KEPT {
                    st.loops.pop_front();
                }
                drop(st);
                self.push("loop", l);
                return;
            }
        }
        drop(st);
        self.push("async", ());
    }
}

/// Whether an invocation was caused by the object event `(bucket, sequencer)`.
pub fn caused_by(source: &InvokeSource, bucket: &str, sequencer: &str) -> bool {
    matches!(source, InvokeSource::S3 { bucket: b, sequencer: s, .. } if b == bucket && s == sequencer)
}
