//! The object store on disk: buckets, object versions, multipart uploads.
//!
//! Layout under the data directory:
//!
//! ```text
//! tmp/                      bodies being received; never referenced, wiped at start
//! buckets/<name>/bucket.json  bucket settings (replaced atomically)
//! buckets/<name>/journal      JSON lines, only ever added to: the sorted index is rebuilt
//!                             from it; small bodies (<= INLINE_MAX) follow their line
//!                             inline; a zero-filled tail (durable store) is room to grow
//! buckets/<name>/blobs/<id>   object bodies, named by a random id (never by the key)
//! buckets/<name>/uploads/<upload-id>.json  in-progress multipart uploads
//! ```
//!
//! Architecture invariant: an object key is only ever data (in the journal and in memory),
//! never part of a path, so no key can reach outside the data directory.
//!
//! Durability: a body is written to `tmp/`, fsynced, renamed into `blobs/` (and the
//! directory fsynced), and only then is a journal record appended and fsynced. A crash
//! before the journal append leaves an unreferenced blob that the next start deletes; a
//! torn last journal line is cut off at the next start. Only after the journal fsync does
//! the handler answer, so an acknowledged write survives `kill -9`.
//!
//! Small objects skip the blob file: their bytes are appended to the journal right after
//! their record, so a small PUT costs one append and one fsync instead of four fsyncs
//! (file, directory, journal). Reads `pread` them from the journal. Concurrent writers
//! share one journal fsync (group commit, see [`Bucket::mutate`]). An ephemeral store skips
//! the fsyncs; its writes stay atomic.
//!
//! The durable journal keeps zeros past its end ([`journal_room`]) and writes records over
//! them: an `fdatasync` that does not change the file's size has no metadata to commit
//! (a 4 KiB write + fdatasync took 107 us instead of 145 us appending, on this project's
//! machine). Writes over zeros may reach the disk in any order after a crash, so an inline
//! body carries its CRC-32 in its record: a line that does not parse (zeros where text
//! should be) or a body whose CRC does not match ends the journal, as a torn append did.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde::{Deserialize, Serialize};

/// Bodies up to this size are stored inline in the journal.
pub const INLINE_MAX: usize = 32 * 1024;
/// Dead inline bytes beyond which (and beyond half the journal) the journal is rewritten.
const COMPACT_MIN_DEAD_BYTES: u64 = 64 * 1024 * 1024;
/// Zeros kept past the end of a durable journal (see the module docs): as much as the
/// journal holds, from 64 KiB to 1 MiB, so a bucket written rarely costs little disk and a
/// busy one extends its file (a slower fsync) once per MiB.
fn journal_room(journal_len: u64) -> u64 {
    journal_len.clamp(64 * 1024, 1024 * 1024)
}
/// Journal records beyond which (and beyond twice the live versions) the journal is rewritten.
const COMPACT_MIN_RECORDS: u64 = 10_000;

/// Content headers and user metadata stored with an object version.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// The `Expires` header as an HTTP date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_redirect: Option<String>,
    /// The canned ACL the object was written with (`public-read`, ...); decides anonymous reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user: BTreeMap<String, String>,
}

/// A checksum an object was stored with (`x-amz-checksum-*`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredChecksum {
    /// `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1` or `SHA256`.
    pub algorithm: String,
    /// Base64, with a `-N` suffix for composite multipart checksums.
    pub value: String,
    /// `FULL_OBJECT` or `COMPOSITE`.
    pub kind: String,
}

/// One version of a key: an object or a delete marker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    /// `"null"` for objects written while versioning was off or suspended.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_marker: bool,
    pub size: u64,
    /// Without quotes; `md5-N` for multipart objects.
    pub etag: String,
    /// Unix time in milliseconds.
    pub modified_ms: i64,
    #[serde(default)]
    pub meta: ObjectMeta,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<StoredChecksum>,
    /// Part sizes when the object came from a multipart upload.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<u64>,
    /// Offset in the journal of the body of an inline object (`blob` is then `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_at: Option<u64>,
    /// Part checksums (base64) when the object came from a multipart upload with checksums.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub part_checksums: Vec<String>,
}

/// Bucket versioning state.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum Versioning {
    #[default]
    Unversioned,
    Enabled,
    Suspended,
}

/// Settings of a bucket, kept in `bucket.json`. Sub-resources are stored as the XML S3
/// took them in, so they round-trip exactly.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BucketConfig {
    pub created_ms: i64,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub versioning: Versioning,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_xml: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagging_xml: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_xml: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The bucket's canned ACL; decides anonymous listing and writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<String>,
}

/// One uploaded part of a multipart upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartInfo {
    pub blob: String,
    pub size: u64,
    pub etag: String,
    pub modified_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// An in-progress multipart upload (persisted as `uploads/<id>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub key: String,
    pub initiated_ms: i64,
    #[serde(default)]
    pub meta: ObjectMeta,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    #[serde(default)]
    pub parts: BTreeMap<u32, PartInfo>,
}

/// A journal line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op")]
pub enum Record {
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
    Del { key: String, id: String },
}

/// Store errors; the protocol layer maps them to S3 error codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the specified bucket does not exist")]
    NoSuchBucket,
    #[error("the bucket already exists and is owned by you")]
    BucketExists,
    #[error("the bucket is not empty")]
    BucketNotEmpty,
    #[error("invalid bucket name")]
    InvalidBucketName,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The in-memory state of one bucket, guarded by its mutex.
pub struct BucketState {
    pub config: BucketConfig,
    /// Key -> versions, newest first. A `BTreeMap` so prefix listing is a range scan.
    pub objects: BTreeMap<String, Vec<Version>>,
    pub uploads: BTreeMap<String, Upload>,
    journal: File,
    /// A read handle on the journal for inline bodies; replaced (not closed) by compaction,
    /// so a reader holding the old one still reads valid bytes.
    reader: Arc<File>,
    journal_len: u64,
    /// The journal file's size: `journal_len` plus the zeros kept past it.
    journal_alloc: u64,
    dead_inline_bytes: u64,
    journal_records: u64,
    live_versions: u64,
    /// Set when a journal write or fsync failed: the index may hold records the disk does
    /// not, so further writes are refused until a restart replays the journal.
    broken: Option<String>,
    /// Uploads completed since start: id -> (key, etag, version id, checksum). S3 answers a repeated
    /// CompleteMultipartUpload with the same result.
    pub completed:
        std::collections::HashMap<String, (String, String, String, Option<StoredChecksum>)>,
}

/// A bucket on disk.
pub struct Bucket {
    pub name: String,
    /// False for an ephemeral store: it is deleted at shutdown, so surviving a machine
    /// crash buys nothing and the fsyncs are skipped (writes stay atomic).
    pub durable: bool,
    dir: PathBuf,
    state: Mutex<BucketState>,
    /// Mutations waiting for the state lock; whoever holds it commits them all with one
    /// fsync (group commit), so concurrent writers share the journal's fsync.
    queue: Mutex<Vec<Job>>,
}

/// Called with the outcome of the fsync that made a job's records durable.
type Done = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A queued mutation: runs under the state lock, returns its records (already validated)
/// and how to answer once they are durable, or `None` when it answered already (an error).
type Job = Box<dyn FnOnce(&mut BucketState) -> Option<(Vec<Record>, Done)> + Send>;

/// A batch written to the journal, waiting for its fsync.
struct Batch {
    dones: Vec<Done>,
    freed: Vec<String>,
    /// A handle on the journal to fsync outside the lock.
    sync: Option<File>,
}

/// The whole store.
pub struct Store {
    durable: bool,
    root: PathBuf,
    tmp: PathBuf,
    buckets: RwLock<BTreeMap<String, Arc<Bucket>>>,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A fresh random id for blobs, uploads and version ids.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `bytes` to `path` atomically: temp file in the same directory, fsync, rename,
/// fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("path without parent"))?;
    let tmp = dir.join(format!(".tmp-{}", new_id()));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    fsync_dir(dir)
}

/// Bucket names become directory names, so only S3's DNS-style names are accepted here
/// (s3s validates them first; this is the store's own guard).
fn valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
        && !name.contains(".-")
        && !name.contains("-.")
}

/// Upload ids are ours (hex); anything else is not an upload, and never a path.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Store {
    /// Opens (or creates) the store at `root`, replaying every bucket's journal.
    pub fn open(root: &Path, durable: bool) -> Result<Self, StoreError> {
        let root = root.to_path_buf();
        let tmp = root.join("tmp");
        let buckets_dir = root.join("buckets");
        fs::create_dir_all(&buckets_dir)?;
        // Whatever is in tmp/ was never acknowledged.
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        let mut buckets = BTreeMap::new();
        for entry in fs::read_dir(&buckets_dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !valid_bucket_name(&name) || !entry.path().join("bucket.json").exists() {
                continue;
            }
            let bucket = Bucket::load(name.clone(), entry.path(), durable)?;
            buckets.insert(name, Arc::new(bucket));
        }
        Ok(Self {
            durable,
            root,
            tmp,
            buckets: RwLock::new(buckets),
        })
    }

    /// Whether writes are fsynced (false for an ephemeral store).
    pub fn durable(&self) -> bool {
        self.durable
    }

    /// Where request bodies are received before they are committed.
    pub fn tmp_path(&self) -> PathBuf {
        self.tmp.join(new_id())
    }

    pub fn bucket(&self, name: &str) -> Result<Arc<Bucket>, StoreError> {
        let map = self
            .buckets
            .read()
            .map_err(|_| io::Error::other("bucket map poisoned"))?;
        map.get(name).cloned().ok_or(StoreError::NoSuchBucket)
    }

    pub fn list_buckets(&self) -> Vec<(String, BucketConfig)> {
        let Ok(map) = self.buckets.read() else {
            return Vec::new();
        };
        map.values()
            .filter_map(|b| b.lock().ok().map(|s| (b.name.clone(), s.config.clone())))
            .collect()
    }

    /// Creates a bucket directory atomically (built in `tmp/`, then renamed into place).
    pub fn create_bucket(
        &self,
        name: &str,
        config: BucketConfig,
    ) -> Result<Arc<Bucket>, StoreError> {
        if !valid_bucket_name(name) {
            return Err(StoreError::InvalidBucketName);
        }
        let mut map = self
            .buckets
            .write()
            .map_err(|_| io::Error::other("bucket map poisoned"))?;
        if map.contains_key(name) {
            return Err(StoreError::BucketExists);
        }
        let staging = self.tmp.join(format!("bucket-{}", new_id()));
        fs::create_dir_all(staging.join("blobs"))?;
        fs::create_dir_all(staging.join("uploads"))?;
        File::create(staging.join("journal"))?.sync_all()?;
        write_atomic(
            &staging.join("bucket.json"),
            &serde_json::to_vec_pretty(&config).map_err(io::Error::other)?,
        )?;
        fsync_dir(&staging)?;
        let dir = self.root.join("buckets").join(name);
        fs::rename(&staging, &dir)?;
        fsync_dir(&self.root.join("buckets"))?;
        let bucket = Arc::new(Bucket::load(name.to_owned(), dir, self.durable)?);
        map.insert(name.to_owned(), Arc::clone(&bucket));
        Ok(bucket)
    }

    /// Deletes an empty bucket: renamed out of `buckets/` first, so it vanishes atomically.
    pub fn delete_bucket(&self, name: &str) -> Result<(), StoreError> {
        let mut map = self
            .buckets
            .write()
            .map_err(|_| io::Error::other("bucket map poisoned"))?;
        let bucket = map.get(name).cloned().ok_or(StoreError::NoSuchBucket)?;
        {
            let state = bucket.lock()?;
            if !state.objects.is_empty() {
                return Err(StoreError::BucketNotEmpty);
            }
        }
        let trash = self.tmp.join(format!("trash-{}", new_id()));
        fs::rename(&bucket.dir, &trash)?;
        fsync_dir(&self.root.join("buckets"))?;
        map.remove(name);
        drop(map);
        // Failing to free the space is not the client's problem; the next start wipes tmp/.
        let _ = fs::remove_dir_all(&trash);
        Ok(())
    }
}

impl Bucket {
    fn load(name: String, dir: PathBuf, durable: bool) -> Result<Self, StoreError> {
        let config: BucketConfig = serde_json::from_slice(&fs::read(dir.join("bucket.json"))?)
            .map_err(io::Error::other)?;
        let journal_path = dir.join("journal");
        let mut objects: BTreeMap<String, Vec<Version>> = BTreeMap::new();
        let mut records = 0u64;
        let mut good_len = 0u64;
        {
            let f = OpenOptions::new()
                .read(true)
                .create(true)
                .append(true)
                .open(&journal_path)?;
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
                    let got =
                        io::Read::read_to_end(&mut io::Read::take(&mut reader, want), &mut body)?
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
            .open(&journal_path)?;
        // What follows the last good record (a torn write, the zeros kept for growth) goes.
        if journal.metadata()?.len() != good_len {
            journal.set_len(good_len)?;
            journal.sync_all()?;
        }
        let live_versions = objects.values().map(|v| v.len() as u64).sum();
        let reader = Arc::new(File::open(&journal_path)?);

        let mut uploads = BTreeMap::new();
        let uploads_dir = dir.join("uploads");
        fs::create_dir_all(&uploads_dir)?;
        for entry in fs::read_dir(&uploads_dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match fs::read(&path).map(|b| serde_json::from_slice::<Upload>(&b)) {
                Ok(Ok(up)) if valid_id(&up.id) => {
                    uploads.insert(up.id.clone(), up);
                }
                _ => {
                    let _ = fs::remove_file(&path);
                }
            }
        }

        // Blobs nobody references are bodies whose commit never happened.
        let mut referenced: HashSet<String> = HashSet::new();
        for v in objects.values().flatten() {
            if let Some(b) = &v.blob {
                referenced.insert(b.clone());
            }
        }
        for up in uploads.values() {
            for p in up.parts.values() {
                referenced.insert(p.blob.clone());
            }
        }
        let blobs = dir.join("blobs");
        fs::create_dir_all(&blobs)?;
        for entry in fs::read_dir(&blobs)? {
            let entry = entry?;
            let fname = entry.file_name().to_string_lossy().into_owned();
            if !referenced.contains(&fname) {
                let _ = fs::remove_file(entry.path());
            }
        }

        let state = BucketState {
            config,
            objects,
            uploads,
            journal,
            reader,
            journal_len: good_len,
            journal_alloc: good_len,
            dead_inline_bytes: 0,
            journal_records: records,
            live_versions,
            broken: None,
            completed: std::collections::HashMap::new(),
        };
        Ok(Self {
            name,
            durable,
            dir,
            state: Mutex::new(state),
            queue: Mutex::new(Vec::new()),
        })
    }

    pub fn lock(&self) -> io::Result<MutexGuard<'_, BucketState>> {
        self.state
            .lock()
            .map_err(|_| io::Error::other("bucket state poisoned"))
    }

    pub fn blob_path(&self, blob: &str) -> PathBuf {
        self.dir.join("blobs").join(blob)
    }

    /// Moves a fully written, fsynced body from `tmp/` into `blobs/` under a fresh name.
    pub fn adopt_blob(&self, tmp: &Path) -> io::Result<String> {
        let id = new_id();
        fs::rename(tmp, self.blob_path(&id))?;
        if self.durable {
            fsync_dir(&self.dir.join("blobs"))?;
        }
        Ok(id)
    }

    /// A new blob with the same bytes (a hard link: blobs are never modified in place).
    pub fn link_blob(&self, from: &Bucket, blob: &str) -> io::Result<String> {
        let id = new_id();
        let dst = self.blob_path(&id);
        if fs::hard_link(from.blob_path(blob), &dst).is_err() {
            let tmp = dst.with_extension("copying");
            fs::copy(from.blob_path(blob), &tmp)?;
            File::open(&tmp)?.sync_all()?;
            fs::rename(&tmp, &dst)?;
        }
        fsync_dir(&self.dir.join("blobs"))?;
        Ok(id)
    }

    /// Deletes blobs no longer referenced. Failures only leak space until the next start.
    pub fn drop_blobs(&self, blobs: &[String]) {
        for b in blobs {
            let _ = fs::remove_file(self.blob_path(b));
        }
    }

    pub fn save_config(&self, state: &BucketState) -> io::Result<()> {
        write_atomic(
            &self.dir.join("bucket.json"),
            &serde_json::to_vec_pretty(&state.config).map_err(io::Error::other)?,
        )
    }

    pub fn save_upload(&self, up: &Upload) -> io::Result<()> {
        write_atomic(
            &self.dir.join("uploads").join(format!("{}.json", up.id)),
            &serde_json::to_vec(up).map_err(io::Error::other)?,
        )
    }

    pub fn remove_upload_file(&self, id: &str) -> io::Result<()> {
        match fs::remove_file(self.dir.join("uploads").join(format!("{id}.json"))) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => fsync_dir(&self.dir.join("uploads")),
        }
    }

    /// Appends records to the journal (fsynced), then applies them to the index. Returns
    /// the blobs the records made unreferenced; the caller deletes them after unlocking.
    pub fn commit(&self, state: &mut BucketState, records: Vec<Record>) -> io::Result<Vec<String>> {
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
    pub fn mutate<T, E, F>(&self, f: F) -> io::Result<Result<T, E>>
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

    /// Writes `buf` at the journal's end. A durable journal first grows by `buf` and
    /// [`journal_room`] zeros when its room is used up, so most writes overwrite zeros.
    fn write_at_end(&self, state: &mut BucketState, buf: &[u8]) -> io::Result<()> {
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

    /// The body of an inline version, read from the journal.
    pub fn read_inline(&self, state: &BucketState, v: &Version) -> io::Result<bytes::Bytes> {
        let at = v
            .inline_at
            .ok_or_else(|| io::Error::other("not an inline object"))?;
        read_at(&state.reader, at, v.size)
    }

    /// A handle and offset to read an inline body after unlocking.
    pub fn inline_handle(state: &BucketState, v: &Version) -> Option<(Arc<File>, u64)> {
        v.inline_at.map(|at| (Arc::clone(&state.reader), at))
    }

    /// Rewrites the journal as one `put` per live version (atomically replaced).
    fn compact(&self, state: &mut BucketState) -> io::Result<()> {
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
fn stage(
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
fn crc32(data: &[u8]) -> u32 {
    // The 32-bit algorithm's value fits in 32 bits.
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32
}

/// Reads `len` bytes at `at` (positioned read: the handle is shared).
pub fn read_at(f: &File, at: u64, len: u64) -> io::Result<bytes::Bytes> {
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
fn apply(objects: &mut BTreeMap<String, Vec<Version>>, rec: Record) -> (Vec<String>, i64, u64) {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn version(id: &str, blob: &str) -> Version {
        Version {
            id: id.into(),
            blob: Some(blob.into()),
            delete_marker: false,
            size: 1,
            etag: "x".into(),
            modified_ms: 0,
            meta: ObjectMeta::default(),
            tags: vec![],
            checksum: None,
            parts: vec![],
            part_checksums: vec![],
            inline_at: None,
        }
    }

    /// A PUT of `body` stored inline in the journal.
    fn inline_put(key: &str, body: impl AsRef<[u8]>) -> Record {
        let body = bytes::Bytes::copy_from_slice(body.as_ref());
        let mut v = version("null", "unused");
        v.blob = None;
        v.size = body.len() as u64;
        Record::Put {
            key: key.into(),
            v: Box::new(v),
            in_place: false,
            data_follows: true,
            crc: None,
            data: Some(body),
        }
    }

    #[test]
    fn journal_replays_and_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), true).unwrap();
            let b = store.create_bucket("bkt", BucketConfig::default()).unwrap();
            let mut st = b.lock().unwrap();
            b.commit(
                &mut st,
                vec![Record::Put {
                    key: "a/../../x".into(),
                    v: Box::new(version("null", "b1")),
                    in_place: false,
                    data_follows: false,
                    crc: None,
                    data: None,
                }],
            )
            .unwrap();
            b.commit(
                &mut st,
                vec![Record::Put {
                    key: "k".into(),
                    v: Box::new(version("null", "b2")),
                    in_place: false,
                    data_follows: false,
                    crc: None,
                    data: None,
                }],
            )
            .unwrap();
        }
        let journal = dir.path().join("buckets/bkt/journal");
        let mut f = OpenOptions::new().append(true).open(&journal).unwrap();
        f.write_all(b"{\"op\":\"put\",\"key\":\"torn").unwrap();
        drop(f);
        let store = Store::open(dir.path(), true).unwrap();
        let b = store.bucket("bkt").unwrap();
        let st = b.lock().unwrap();
        assert_eq!(
            st.objects.keys().collect::<Vec<_>>(),
            vec!["a/../../x", "k"]
        );
        assert!(fs::read_to_string(&journal).unwrap().ends_with("}\n"));
    }

    #[test]
    fn inline_bodies_survive_replay_compaction_and_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), true).unwrap();
            let b = store.create_bucket("bkt", BucketConfig::default()).unwrap();
            let mut st = b.lock().unwrap();
            b.commit(
                &mut st,
                vec![
                    inline_put("a", b"first\nwith newline"),
                    inline_put("b", b""),
                ],
            )
            .unwrap();
            b.commit(&mut st, vec![inline_put("a", b"second")]).unwrap();
            let v = st.objects["a"][0].clone();
            assert_eq!(&b.read_inline(&st, &v).unwrap()[..], b"second");
        }
        // A torn inline record (line written, body cut short) is dropped at the next start.
        let journal = dir.path().join("buckets/bkt/journal");
        let mut f = OpenOptions::new().append(true).open(&journal).unwrap();
        f.write_all(b"{\"op\":\"put\",\"key\":\"c\",\"v\":{\"id\":\"null\",\"size\":100,\"etag\":\"x\",\"modified_ms\":0},\"data_follows\":true}\nshort").unwrap();
        drop(f);
        let store = Store::open(dir.path(), true).unwrap();
        let b = store.bucket("bkt").unwrap();
        let mut st = b.lock().unwrap();
        assert_eq!(st.objects.keys().collect::<Vec<_>>(), vec!["a", "b"]);
        b.compact(&mut st).unwrap();
        for (k, want) in [("a", &b"second"[..]), ("b", &b""[..])] {
            let v = st.objects[k][0].clone();
            assert_eq!(&b.read_inline(&st, &v).unwrap()[..], want);
        }
        drop(st);
        drop(store);
        let store = Store::open(dir.path(), true).unwrap();
        let b = store.bucket("bkt").unwrap();
        let st = b.lock().unwrap();
        let v = st.objects["a"][0].clone();
        assert_eq!(&b.read_inline(&st, &v).unwrap()[..], b"second");
    }

    /// A durable journal is written over zeros kept past its end; after a crash those
    /// writes may be on disk in part, in any order. Replay keeps what is whole (its CRC
    /// matches), drops a body with a zeroed block or a line with zeros in it, and cuts the
    /// file back to its last good record.
    #[test]
    fn writes_over_the_zero_tail_are_kept_whole_or_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("buckets/bkt/journal");
        {
            let store = Store::open(dir.path(), true).unwrap();
            let b = store.create_bucket("bkt", BucketConfig::default()).unwrap();
            let mut st = b.lock().unwrap();
            b.commit(&mut st, vec![inline_put("a", b"alpha")]).unwrap();
            assert_eq!(
                fs::metadata(&journal).unwrap().len(),
                st.journal_len + 64 * 1024,
                "the durable journal keeps room past its end"
            );
        }
        let logical = |bytes: &[u8]| bytes.iter().position(|&b| b == 0).unwrap() as u64;
        let record = |key: &str, body: &[u8]| {
            let line = format!(
                "{{\"op\":\"put\",\"key\":\"{key}\",\"v\":{{\"id\":\"null\",\"size\":{},\"etag\":\"x\",\"modified_ms\":0}},\"data_follows\":true,\"crc\":{}}}\n",
                body.len(),
                crc32(body)
            );
            [line.as_bytes(), body, b"\n"].concat()
        };
        use std::os::unix::fs::FileExt;
        // A whole record written over the zeros (its fsync never answered, or did): kept.
        let body = vec![7u8; 9000];
        let end = logical(&fs::read(&journal).unwrap());
        let f = OpenOptions::new().write(true).open(&journal).unwrap();
        f.write_all_at(&record("b", &body), end).unwrap();
        drop(f);
        {
            let store = Store::open(dir.path(), true).unwrap();
            let b = store.bucket("bkt").unwrap();
            let st = b.lock().unwrap();
            assert_eq!(st.objects.keys().collect::<Vec<_>>(), vec!["a", "b"]);
            let v = st.objects["b"][0].clone();
            assert_eq!(&b.read_inline(&st, &v).unwrap()[..], &body[..]);
            assert_eq!(fs::metadata(&journal).unwrap().len(), st.journal_len);
        }
        // A record whose body's middle block never reached the disk: CRC mismatch, dropped
        // with what follows.
        let good_len = fs::metadata(&journal).unwrap().len();
        let mut torn = record("c", &body);
        let body_at = torn.len() - 1 - body.len();
        torn[body_at + 4096..body_at + 8192].fill(0);
        torn.extend(record("d", b"after"));
        let f = OpenOptions::new().write(true).open(&journal).unwrap();
        f.write_all_at(&torn, good_len).unwrap();
        drop(f);
        {
            let store = Store::open(dir.path(), true).unwrap();
            let b = store.bucket("bkt").unwrap();
            let st = b.lock().unwrap();
            assert_eq!(st.objects.keys().collect::<Vec<_>>(), vec!["a", "b"]);
            assert_eq!(fs::metadata(&journal).unwrap().len(), good_len);
        }
        // A line with zeros inside (its first block lost): dropped.
        let mut torn = record("e", b"body");
        torn[..8].fill(0);
        let f = OpenOptions::new().write(true).open(&journal).unwrap();
        f.write_all_at(&torn, good_len).unwrap();
        drop(f);
        let store = Store::open(dir.path(), true).unwrap();
        let b = store.bucket("bkt").unwrap();
        let mut st = b.lock().unwrap();
        assert_eq!(st.objects.keys().collect::<Vec<_>>(), vec!["a", "b"]);
        // And the journal goes on from there.
        b.commit(&mut st, vec![inline_put("f", b"fine")]).unwrap();
        drop(st);
        drop(store);
        let store = Store::open(dir.path(), true).unwrap();
        let b = store.bucket("bkt").unwrap();
        let st = b.lock().unwrap();
        assert_eq!(st.objects.keys().collect::<Vec<_>>(), vec!["a", "b", "f"]);
        let v = st.objects["f"][0].clone();
        assert_eq!(&b.read_inline(&st, &v).unwrap()[..], b"fine");
    }

    #[test]
    fn overwrite_frees_the_old_blob() {
        let mut m = BTreeMap::new();
        apply(
            &mut m,
            Record::Put {
                key: "k".into(),
                v: Box::new(version("null", "b1")),
                in_place: false,
                data_follows: false,
                crc: None,
                data: None,
            },
        );
        let (freed, _, _) = apply(
            &mut m,
            Record::Put {
                key: "k".into(),
                v: Box::new(version("null", "b2")),
                in_place: false,
                data_follows: false,
                crc: None,
                data: None,
            },
        );
        assert_eq!(freed, vec!["b1".to_string()]);
        let (freed, _, _) = apply(
            &mut m,
            Record::Del {
                key: "k".into(),
                id: "null".into(),
            },
        );
        assert_eq!(freed, vec!["b2".to_string()]);
        assert!(m.is_empty());
    }

    #[test]
    fn bucket_names_cannot_be_paths() {
        for bad in ["..", "../etc", "a/b", "ab", "A-B-C", "x..y"] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
        assert!(valid_bucket_name("help-me-sam"));
    }
}
