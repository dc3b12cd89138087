//! The last N invocations, bounded twice: by count (`--dashboard-history`) and by the bytes
//! their events, responses and logs hold, so memory stays flat however many invocations
//! run and however large their payloads are.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use ssam_lambda::InvocationRecord;

/// Payloads up to this size are copied into an allocation of their own when kept. A small
/// response is often a slice of the connection's read buffer (hyper's, 8 KB and more):
/// keeping the slice would keep the whole buffer alive and make the connection allocate a
/// new one for every request.
const COMPACT_UP_TO: usize = 64 * 1024;

/// `b` in an allocation of exactly its size (small payloads only, see [`COMPACT_UP_TO`]).
fn compact(b: Bytes) -> Bytes {
    if b.is_empty() || b.len() > COMPACT_UP_TO {
        b
    } else {
        Bytes::copy_from_slice(&b)
    }
}

/// One kept invocation with the id the dashboard knows it by (increasing from 1).
#[derive(Debug)]
pub struct Entry {
    pub id: u64,
    pub record: InvocationRecord,
}

impl Entry {
    /// Bytes this entry keeps alive beyond its fixed size.
    pub fn weight(&self) -> usize {
        let r = &self.record;
        r.event.len() + r.response.len() + r.log.len() + r.function.len() + 256
    }
}

pub struct Ring {
    entries: VecDeque<Arc<Entry>>,
    max_entries: usize,
    max_bytes: usize,
    bytes: usize,
    next_id: u64,
}

impl Ring {
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Ring {
            entries: VecDeque::with_capacity(max_entries.min(4096)),
            max_entries: max_entries.max(1),
            max_bytes,
            bytes: 0,
            next_id: 1,
        }
    }

    /// Keeps `record`, dropping the oldest entries past either bound; returns the entry and
    /// the dropped ones (for the caller to free once it let go of its lock).
    pub fn push(&mut self, mut record: InvocationRecord) -> (Arc<Entry>, Vec<Arc<Entry>>) {
        record.event = compact(record.event);
        record.response = compact(record.response);
        let entry = Arc::new(Entry {
            id: self.next_id,
            record,
        });
        self.next_id += 1;
        self.bytes += entry.weight();
        self.entries.push_back(Arc::clone(&entry));
        let mut dropped = Vec::new();
        while self.entries.len() > self.max_entries
            || (self.bytes > self.max_bytes && self.entries.len() > 1)
        {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.weight();
                dropped.push(old);
            }
        }
        (entry, dropped)
    }

    pub fn get(&self, id: u64) -> Option<Arc<Entry>> {
        // Ids increase by one, so the position is known unless entries were dropped
        // (they leave from the front only).
        let first = self.entries.front()?.id;
        let i = usize::try_from(id.checked_sub(first)?).ok()?;
        self.entries.get(i).filter(|e| e.id == id).cloned()
    }

    pub fn find_request(&self, request_id: &str) -> Option<Arc<Entry>> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.record.request_id == request_id)
            .cloned()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Arc<Entry>> {
        self.entries.iter()
    }

    /// How many invocations it keeps at most (`--dashboard-history`).
    pub fn capacity(&self) -> usize {
        self.max_entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use ssam_lambda::{InvocationType, InvokeSource, Status};
    use std::time::{Duration, SystemTime};

    fn record(event: usize) -> InvocationRecord {
        InvocationRecord {
            function: "F".into(),
            request_id: "r".into(),
            source: InvokeSource::Direct,
            invocation_type: InvocationType::RequestResponse,
            attempt: 0,
            started: SystemTime::now(),
            duration: Duration::from_millis(1),
            init_duration: None,
            status: Status::Success,
            event: Bytes::from(vec![b'x'; event]),
            response: Bytes::new(),
            log: String::new(),
            hint: None,
        }
    }

    #[test]
    fn count_bound_keeps_the_newest() {
        let mut ring = Ring::new(10, usize::MAX);
        for _ in 0..100_000 {
            ring.push(record(10));
        }
        assert_eq!(ring.len(), 10);
        assert!(ring.get(99_990).is_none());
        assert_eq!(ring.get(99_991).map(|e| e.id), Some(99_991));
        assert_eq!(ring.get(100_000).map(|e| e.id), Some(100_000));
        assert!(ring.get(100_001).is_none());
    }

    #[test]
    fn byte_bound_drops_old_large_payloads() {
        let mut ring = Ring::new(1000, 1_000_000);
        for _ in 0..50 {
            ring.push(record(100_000));
        }
        assert!(ring.bytes() <= 1_000_000, "{}", ring.bytes());
        assert!(ring.len() < 10);
        // One payload larger than the whole budget is still kept, alone.
        ring.push(record(2_000_000));
        assert_eq!(ring.len(), 1);
    }

    #[test]
    fn small_payloads_are_kept_in_their_own_allocation() {
        let mut ring = Ring::new(10, usize::MAX);
        // A small response sliced out of a connection's large read buffer.
        let buffer = Bytes::from(vec![b'r'; 8192]);
        let response = buffer.slice(100..120);
        let large = Bytes::from(vec![b'e'; COMPACT_UP_TO + 1]);
        let mut r = record(0);
        r.response = response.clone();
        r.event = large.clone();
        let (kept, dropped) = ring.push(r);
        assert!(dropped.is_empty());
        assert_eq!(kept.record.response, response);
        assert_ne!(kept.record.response.as_ptr(), response.as_ptr(), "copied");
        // Large payloads are their own allocation already: not copied again.
        assert_eq!(kept.record.event.as_ptr(), large.as_ptr());
    }
}
