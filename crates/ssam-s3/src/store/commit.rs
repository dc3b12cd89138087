//! Group commit: mutations queue for the bucket's lock; whoever holds it runs them all,
//! writes their records to the journal in one write and answers them after one shared
//! fsync, taken outside the lock.

use std::fs::File;
use std::io;

use super::bucket::{Bucket, BucketState};
use super::journal::{stage, Record, COMPACT_MIN_DEAD_BYTES, COMPACT_MIN_RECORDS};

/// Called with the outcome of the fsync that made a job's records durable.
type Done = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A queued mutation: runs under the state lock, returns its records (already validated)
/// and how to answer once they are durable, or `None` when it answered already (an error).
pub(super) type Job = Box<dyn FnOnce(&mut BucketState) -> Option<(Vec<Record>, Done)> + Send>;

/// A batch written to the journal, waiting for its fsync.
struct Batch {
    dones: Vec<Done>,
    freed: Vec<String>,
    /// A handle on the journal to fsync outside the lock.
    sync: Option<File>,
}

impl Bucket {
    /// Appends records to the journal (fsynced), then applies them to the index. Returns
    /// the blobs the records made unreferenced; the caller deletes them after unlocking.
    pub(super) fn commit(
        &self,
        state: &mut BucketState,
        records: Vec<Record>,
    ) -> io::Result<Vec<String>> {
        if let Some(why) = &state.broken {
            return Err(io::Error::other(why.clone()));
        }
        let mut buf = Vec::new();
        let freed = stage(state, &mut buf, records)?;
        self.flush(state, &buf)?;
        Ok(freed)
    }

    /// Runs `f` under the state lock and makes its records durable, sharing the journal
    /// fsync with every mutation queued meanwhile (group commit). `f` sees the effects of
    /// the mutations committed before it, batch or not, so its checks (conditional writes,
    /// versioning) hold. Blobs the records made unreferenced are deleted.
    pub(super) fn mutate<T, E, F>(&self, f: F) -> io::Result<Result<T, E>>
    where
        F: FnOnce(&mut BucketState) -> Result<(Vec<Record>, T), E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel::<io::Result<Result<T, E>>>();
        let job: Job = Box::new(move |st: &mut BucketState| match f(st) {
            Err(e) => {
                let _ = tx.send(Ok(Err(e)));
                None
            }
            Ok((records, value)) => {
                let done: Done = Box::new(move |res: Result<(), String>| {
                    let _ = tx.send(res.map(|()| Ok(value)).map_err(io::Error::other));
                });
                Some((records, done))
            }
        });
        self.queue
            .lock()
            .map_err(|_| io::Error::other("commit queue poisoned"))?
            .push(job);
        let batch = {
            let mut st = self.lock()?;
            let jobs = std::mem::take(
                &mut *self
                    .queue
                    .lock()
                    .map_err(|_| io::Error::other("commit queue poisoned"))?,
            );
            self.run_batch(&mut st, jobs)
        };
        // The fsync runs without the lock, so reads (and the next batch's writes) go on
        // meanwhile; the batch's writers are answered only once it returns.
        if let Some(batch) = batch {
            let res = match &batch.sync {
                Some(journal) if self.durable => journal.sync_data().map_err(|e| e.to_string()),
                _ => Ok(()),
            };
            if let Err(e) = &res {
                tracing::error!(bucket = %self.name, error = %e, "journal fsync failed; restart to recover");
                if let Ok(mut st) = self.lock() {
                    st.broken = Some(format!(
                        "bucket {} journal fsync failed ({e}); restart ssam",
                        self.name
                    ));
                }
            }
            for done in batch.dones {
                done(res.clone());
            }
            // On failure the blobs may still be referenced by what is on disk.
            if res.is_ok() {
                self.drop_blobs(&batch.freed);
            }
        }
        // Our job ran in this batch or in one whose lock we waited for; either way it is
        // answered (possibly by that batch's fsync, which may still be running).
        rx.recv()
            .map_err(|_| io::Error::other("commit abandoned"))?
    }

    /// Runs queued jobs under the lock: each sees the ones before it; their records are
    /// written to the journal (not yet fsynced). `None` when there was nothing to run.
    fn run_batch(&self, st: &mut BucketState, jobs: Vec<Job>) -> Option<Batch> {
        if jobs.is_empty() {
            return None;
        }
        let mut buf = Vec::new();
        let mut dones = Vec::new();
        let mut freed = Vec::new();
        for job in jobs {
            let Some((records, done)) = job(st) else {
                continue;
            };
            if let Some(why) = &st.broken {
                done(Err(why.clone()));
                continue;
            }
            match stage(st, &mut buf, records) {
                Ok(f) => {
                    freed.extend(f);
                    dones.push(done);
                }
                Err(e) => done(Err(e.to_string())),
            }
        }
        if let Err(e) = self.write_journal(st, &buf) {
            let e = e.to_string();
            for done in dones {
                done(Err(e.clone()));
            }
            return None;
        }
        let sync = if buf.is_empty() {
            None
        } else {
            st.journal.try_clone().ok()
        };
        if !buf.is_empty() && sync.is_none() {
            // Cannot get a handle to fsync: do it here, under the lock.
            let res = if self.durable {
                st.journal.sync_data().map_err(|e| e.to_string())
            } else {
                Ok(())
            };
            for done in dones {
                done(res.clone());
            }
            return None;
        }
        Some(Batch { dones, freed, sync })
    }

    /// Writes staged bytes and fsyncs, under the lock (the rare direct commits).
    fn flush(&self, state: &mut BucketState, buf: &[u8]) -> io::Result<()> {
        self.write_journal(state, buf)?;
        if self.durable && !buf.is_empty() {
            if let Err(e) = state.journal.sync_data() {
                state.broken = Some(format!(
                    "bucket {} journal fsync failed ({e}); restart ssam",
                    self.name
                ));
                return Err(e);
            }
        }
        Ok(())
    }

    /// Appends staged bytes to the journal (no fsync); on failure marks the bucket broken
    /// (see `broken`). Compacts when the journal has grown wasteful.
    fn write_journal(&self, state: &mut BucketState, buf: &[u8]) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let res = self.write_at_end(state, buf);
        if let Err(e) = res {
            tracing::error!(bucket = %self.name, error = %e, "journal write failed; restart to recover");
            state.broken = Some(format!(
                "bucket {} journal write failed ({e}); restart ssam",
                self.name
            ));
            return Err(e);
        }
        state.journal_len += buf.len() as u64;
        let many_records = state.journal_records > COMPACT_MIN_RECORDS
            && state.journal_records > 2 * state.live_versions;
        let much_dead = state.dead_inline_bytes > COMPACT_MIN_DEAD_BYTES
            && state.dead_inline_bytes > state.journal_len / 2;
        if many_records || much_dead {
            // Compaction failing leaves the long journal in place, which is still correct.
            if let Err(err) = self.compact(state) {
                tracing::warn!(bucket = %self.name, %err, "journal compaction failed");
            }
        }
        Ok(())
    }
}
