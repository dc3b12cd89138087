//! The journal: its record format, replay at start (torn tails and CRC checks), staging
//! records into bytes and applying them to the index, the zeros kept past its end, and
//! compaction. See the store's module docs for why it is shaped this way.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::bucket::{Bucket, BucketState};
use super::{fs, fsync_dir, Version, VersionId};

/// Dead inline bytes beyond which (and beyond half the journal) the journal is rewritten.
pub(super) const COMPACT_MIN_DEAD_BYTES: u64 = 64 * 1024 * 1024;
/// Journal records beyond which (and beyond twice the live versions) the journal is rewritten.
pub(super) const COMPACT_MIN_RECORDS: u64 = 10_000;
/// Zeros kept past the end of a durable journal (see the module docs): as much as the
/// journal holds, from 64 KiB to 1 MiB, so a bucket written rarely costs little disk and a
/// busy one extends its file (a slower fsync) once per MiB.
fn journal_room(journal_len: u64) -> u64 {
    journal_len.clamp(64 * 1024, 1024 * 1024)
}

/// A journal line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op")]
pub(super) enum Record {
    /// Adds a version as the newest of its key (replacing one with the same id), or, with
    /// `in_place`, replaces the version with that id where it stands (tag updates).
    #[serde(rename = "put")]
    Put {
        key: String,
        v: Box<Version>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        in_place: bool,
        /// The body, written right after this line (`v.size` bytes and a newline); replay
        /// sets `v.inline_at` to where they start.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        data_follows: bool,
        /// CRC-32 (ISO-HDLC, as zlib) of the inline body; replay drops a body that does not
        /// match, and what follows, as torn. Journals written before it existed lack it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        crc: Option<u32>,
        #[serde(skip)]
        data: Option<bytes::Bytes>,
    },
    /// Removes one version permanently.
    #[serde(rename = "del")]
    Del { key: String, id: VersionId },
}

impl Record {
    /// Adds `v` as the newest version of `key`; `data` is its body, stored inline.
    pub(super) fn put(key: String, v: Version, data: Option<bytes::Bytes>) -> Self {
        Self::Put {
            key,
            v: Box::new(v),
            in_place: false,
            data_follows: data.is_some(),
            crc: None,
            data,
        }
    }

    /// Replaces the version with `v`'s id where it stands.
    pub(super) fn put_in_place(key: String, v: Version) -> Self {
        Self::Put {
            key,
            v: Box::new(v),
            in_place: true,
            data_follows: false,
            crc: None,
            data: None,
        }
    }
}

/// What replaying a journal rebuilt.
pub(super) struct Replayed {
    pub(super) objects: BTreeMap<String, Vec<Version>>,
    pub(super) records: u64,
    /// The length of the journal's good records; what followed has been cut off.
    pub(super) good_len: u64,
    /// The journal, opened for writing.
    pub(super) journal: File,
}

/// Replays the journal of bucket `name` into an index, cutting off a torn tail.
pub(super) fn replay(name: &str, journal_path: &Path) -> io::Result<Replayed> {
    let mut objects: BTreeMap<String, Vec<Version>> = BTreeMap::new();
    let mut records = 0u64;
    let mut good_len = 0u64;
    {
        let f = OpenOptions::new()
            .read(true)
            .create(true)
            .append(true)
            .open(journal_path)?;
        let mut reader = BufReader::new(f);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 {
                break;
            }
            // A line without its newline, or one that does not parse, is a write torn
            // by a crash: it was never acknowledged, so it and anything after it go.
            if line.last() != Some(&b'\n') {
                break;
            }
            let Ok(mut rec) = serde_json::from_slice::<Record>(&line) else {
                tracing::warn!(bucket = %name, "journal: dropping an unreadable record and what follows");
                break;
            };
            let mut consumed = n as u64;
            if let Record::Put {
                v,
                data_follows: true,
                crc,
                ..
            } = &mut rec
            {
                // The body and its newline must be complete and match the CRC, or the
                // write was torn.
                let want = v.size + 1;
                let mut body = Vec::new();
                let got = io::Read::read_to_end(&mut io::Read::take(&mut reader, want), &mut body)?
                    as u64;
                if got != want || body.pop() != Some(b'\n') {
                    break;
                }
                if crc.is_some_and(|c| c != crc32(&body)) {
                    tracing::warn!(bucket = %name, "journal: dropping a torn inline body and what follows");
                    break;
                }
                v.inline_at = Some(good_len + n as u64);
                consumed += want;
            }
            apply(&mut objects, rec);
            records += 1;
            good_len += consumed;
        }
    }
    let journal = OpenOptions::new()
        .read(true)
        .write(true)
        .open(journal_path)?;
    // What follows the last good record (a torn write, the zeros kept for growth) goes.
    if journal.metadata()?.len() != good_len {
        journal.set_len(good_len)?;
        journal.sync_all()?;
    }
    Ok(Replayed {
        objects,
        records,
        good_len,
        journal,
    })
}

impl Bucket {
    /// Writes `buf` at the journal's end. A durable journal first grows by `buf` and
    /// [`journal_room`] zeros when its room is used up, so most writes overwrite zeros.
    pub(super) fn write_at_end(&self, state: &mut BucketState, buf: &[u8]) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let end = state.journal_len + buf.len() as u64;
        if self.durable && end > state.journal_alloc {
            let alloc = end + journal_room(end);
            let zeros = vec![0u8; 64 * 1024];
            // `buf` itself covers [journal_len, end); the zeros go from there.
            let mut at = end;
            while at < alloc {
                let n = (alloc - at).min(zeros.len() as u64);
                if let Err(e) = state.journal.write_all_at(&zeros[..n as usize], at) {
                    // The room is an optimisation: a full disk must not refuse a record
                    // that itself still fits.
                    tracing::warn!(bucket = %self.name, error = %e, "no room kept past the journal's end");
                    break;
                }
                at += n;
            }
            state.journal_alloc = at;
        }
        state.journal.write_all_at(buf, state.journal_len)?;
        state.journal_alloc = state.journal_alloc.max(end);
        Ok(())
    }

    /// Rewrites the journal as one `put` per live version (atomically replaced).
    pub(super) fn compact(&self, state: &mut BucketState) -> io::Result<()> {
        let path = self.dir.join("journal");
        let tmp = self.dir.join("journal.compact");
        let old_reader = Arc::clone(&state.reader);
        let mut written = 0u64;
        {
            let mut w = io::BufWriter::new(File::create(&tmp)?);
            for (key, versions) in state.objects.iter_mut() {
                for v in versions.iter_mut().rev() {
                    let body = match v.inline_at {
                        Some(at) => Some(read_at(&old_reader, at, v.size)?),
                        None => None,
                    };
                    let r = Record::Put {
                        key: key.clone(),
                        v: Box::new(Version {
                            inline_at: None,
                            ..v.clone()
                        }),
                        in_place: false,
                        data_follows: body.is_some(),
                        crc: body.as_deref().map(crc32),
                        data: None,
                    };
                    let line = serde_json::to_vec(&r).map_err(io::Error::other)?;
                    w.write_all(&line)?;
                    w.write_all(b"\n")?;
                    written += line.len() as u64 + 1;
                    if let Some(body) = body {
                        v.inline_at = Some(written);
                        w.write_all(&body)?;
                        w.write_all(b"\n")?;
                        written += body.len() as u64 + 1;
                    }
                }
            }
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        fsync_dir(&self.dir)?;
        state.journal = OpenOptions::new().read(true).write(true).open(&path)?;
        state.reader = Arc::new(File::open(&path)?);
        state.journal_len = written;
        state.journal_alloc = written;
        state.journal_records = state.live_versions;
        state.dead_inline_bytes = 0;
        Ok(())
    }
}

/// Serializes records into `buf` (inline bodies after their line, offsets relative to the
/// journal's current end) and applies them to the index, so later mutations in the same
/// batch see them. Nobody else sees them before the batch's fsync: the lock is held.
pub(super) fn stage(
    state: &mut BucketState,
    buf: &mut Vec<u8>,
    records: Vec<Record>,
) -> io::Result<Vec<String>> {
    let mut records = records;
    for r in &mut records {
        let body = match r {
            Record::Put {
                data_follows: true,
                data,
                crc,
                ..
            } => {
                let body = data
                    .take()
                    .ok_or_else(|| io::Error::other("inline record without its body"))?;
                *crc = Some(crc32(&body));
                Some(body)
            }
            _ => None,
        };
        serde_json::to_writer(&mut *buf, r).map_err(io::Error::other)?;
        buf.push(b'\n');
        if let (Some(body), Record::Put { v, .. }) = (body, r) {
            v.inline_at = Some(state.journal_len + buf.len() as u64);
            buf.extend_from_slice(&body);
            buf.push(b'\n');
        }
    }
    let mut freed = Vec::new();
    for r in records {
        state.journal_records += 1;
        freed.extend(apply_counting(state, r));
    }
    Ok(freed)
}

/// CRC-32 (ISO-HDLC) of an inline body.
pub(super) fn crc32(data: &[u8]) -> u32 {
    // The 32-bit algorithm's value fits in 32 bits.
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32
}

/// Reads `len` bytes at `at` (positioned read: the handle is shared).
pub(super) fn read_at(f: &File, at: u64, len: u64) -> io::Result<bytes::Bytes> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; usize::try_from(len).map_err(io::Error::other)?];
    f.read_exact_at(&mut buf, at)?;
    Ok(bytes::Bytes::from(buf))
}

fn apply_counting(state: &mut BucketState, rec: Record) -> Vec<String> {
    let (freed, delta, dead) = apply(&mut state.objects, rec);
    state.live_versions = state.live_versions.saturating_add_signed(delta);
    state.dead_inline_bytes += dead;
    freed
}

/// Applies one record to the index; returns the blobs it dropped, the change in the number
/// of live versions, and the inline bytes it made dead.
pub(super) fn apply(
    objects: &mut BTreeMap<String, Vec<Version>>,
    rec: Record,
) -> (Vec<String>, i64, u64) {
    let mut freed = Vec::new();
    let mut delta = 0i64;
    let mut dead = 0u64;
    let mut drop_old = |old: Version, new: Option<&Version>, freed: &mut Vec<String>| {
        if let Some(b) = old.blob {
            if new.and_then(|n| n.blob.as_deref()) != Some(b.as_str()) {
                freed.push(b);
            }
        }
        if old.inline_at.is_some() && new.and_then(|n| n.inline_at) != old.inline_at {
            dead += old.size;
        }
    };
    match rec {
        Record::Put {
            key, v, in_place, ..
        } => {
            let v = *v;
            let versions = objects.entry(key).or_default();
            if let Some(pos) = versions.iter().position(|x| x.id == v.id) {
                let old = if in_place {
                    std::mem::replace(&mut versions[pos], v.clone())
                } else {
                    versions.remove(pos)
                };
                drop_old(old, Some(&v), &mut freed);
                if !in_place {
                    versions.insert(0, v);
                }
            } else {
                versions.insert(0, v);
                delta += 1;
            }
        }
        Record::Del { key, id } => {
            if let Some(versions) = objects.get_mut(&key) {
                if let Some(pos) = versions.iter().position(|x| x.id == id) {
                    let old = versions.remove(pos);
                    delta -= 1;
                    drop_old(old, None, &mut freed);
                }
                if versions.is_empty() {
                    objects.remove(&key);
                }
            }
        }
    }
    (freed, delta, dead)
}
