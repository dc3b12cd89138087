//! One bucket on disk: its in-memory state (index, uploads, settings) behind one mutex,
//! loading it at start, blob files, `bucket.json`, and multipart uploads.
//!
//! The state's fields are private to the store: the protocol layer reads it through
//! [`Bucket::read`] and changes it only through the operations here and in `objects.rs`,
//! so every change to an object goes through the journal.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::commit::Job;
use super::journal;
use super::{
    fsync_dir, new_id, valid_id, write_atomic, BucketConfig, CompletedUpload, PartInfo, StoreError,
    Upload, Version,
};

/// Uploads completed since start that a repeated CompleteMultipartUpload can still get
/// the answer of; only a retry shortly after completion needs it.
const COMPLETED_KEPT: usize = 10_000;

/// The in-memory state of one bucket, guarded by its mutex.
pub struct BucketState {
    pub(super) config: BucketConfig,
    /// Key -> versions, newest first. A `BTreeMap` so prefix listing is a range scan.
    pub(super) objects: BTreeMap<String, Vec<Version>>,
    pub(super) uploads: BTreeMap<String, Upload>,
    pub(super) journal: File,
    /// A read handle on the journal for inline bodies; replaced (not closed) by compaction,
    /// so a reader holding the old one still reads valid bytes.
    pub(super) reader: Arc<File>,
    pub(super) journal_len: u64,
    /// The journal file's size: `journal_len` plus the zeros kept past it.
    pub(super) journal_alloc: u64,
    pub(super) dead_inline_bytes: u64,
    pub(super) journal_records: u64,
    pub(super) live_versions: u64,
    /// Set when a journal write or fsync failed: the index may hold records the disk does
    /// not, so further writes are refused until a restart replays the journal.
    pub(super) broken: Option<String>,
    /// Uploads completed since start, by upload id. S3 answers a repeated
    /// CompleteMultipartUpload with the same result.
    pub(super) completed: HashMap<String, CompletedUpload>,
}

/// A bucket on disk.
pub struct Bucket {
    pub(super) name: String,
    /// False for an ephemeral store: it is deleted at shutdown, so surviving a machine
    /// crash buys nothing and the fsyncs are skipped (writes stay atomic).
    pub(super) durable: bool,
    pub(super) dir: PathBuf,
    state: Mutex<BucketState>,
    /// Mutations waiting for the state lock; whoever holds it commits them all with one
    /// fsync (group commit), so concurrent writers share the journal's fsync.
    pub(super) queue: Mutex<Vec<Job>>,
}

impl Bucket {
    /// Loads a bucket: settings, the index replayed from the journal, the uploads in
    /// progress; deletes blobs nothing references.
    pub(super) fn load(name: String, dir: PathBuf, durable: bool) -> Result<Self, StoreError> {
        let config: BucketConfig = serde_json::from_slice(&fs::read(dir.join("bucket.json"))?)
            .map_err(io::Error::other)?;
        let journal_path = dir.join("journal");
        let replayed = journal::replay(&name, &journal_path)?;
        let objects = replayed.objects;
        let live_versions = objects.values().map(|v| v.len() as u64).sum();
        let reader = Arc::new(File::open(&journal_path)?);
        let uploads = load_uploads(&dir.join("uploads"))?;
        drop_unreferenced_blobs(&dir.join("blobs"), &objects, &uploads)?;
        let state = BucketState {
            config,
            objects,
            uploads,
            journal: replayed.journal,
            reader,
            journal_len: replayed.good_len,
            journal_alloc: replayed.good_len,
            dead_inline_bytes: 0,
            journal_records: replayed.records,
            live_versions,
            broken: None,
            completed: HashMap::new(),
        };
        Ok(Self {
            name,
            durable,
            dir,
            state: Mutex::new(state),
            queue: Mutex::new(Vec::new()),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether writes are fsynced (false in an ephemeral store).
    pub fn durable(&self) -> bool {
        self.durable
    }

    pub(super) fn lock(&self) -> io::Result<MutexGuard<'_, BucketState>> {
        self.state
            .lock()
            .map_err(|_| io::Error::other("bucket state poisoned"))
    }

    /// Runs `f` on the bucket's state under its lock (keep it short: writers wait).
    pub fn read<T>(&self, f: impl FnOnce(&BucketState) -> T) -> Result<T, StoreError> {
        Ok(f(&*self.lock()?))
    }

    // ----- blobs ---------------------------------------------------------------------

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

    // ----- settings ------------------------------------------------------------------

    /// The bucket's settings, as they are now.
    pub fn config(&self) -> Result<BucketConfig, StoreError> {
        Ok(self.lock()?.config.clone())
    }

    /// Changes the bucket's settings and saves them (`bucket.json`, replaced atomically).
    pub fn update_config(&self, change: impl FnOnce(&mut BucketConfig)) -> Result<(), StoreError> {
        let mut st = self.lock()?;
        change(&mut st.config);
        write_atomic(
            &self.dir.join("bucket.json"),
            &serde_json::to_vec_pretty(&st.config).map_err(io::Error::other)?,
        )?;
        Ok(())
    }

    // ----- multipart uploads ---------------------------------------------------------

    /// Starts an upload: saved to `uploads/<id>.json` first, then known in memory.
    pub fn create_upload(&self, up: Upload) -> Result<(), StoreError> {
        self.save_upload(&up)?;
        self.lock()?.uploads.insert(up.id.clone(), up);
        Ok(())
    }

    /// The upload `id` of `key`, as it is now.
    pub fn upload(&self, id: &str, key: &str) -> Result<Upload, StoreError> {
        self.read(|st| st.upload(id, key).cloned())?
            .ok_or(StoreError::NoSuchUpload)
    }

    /// The upload `id` of `key`, or, when it was completed since start, how it completed.
    pub fn upload_or_completed(
        &self,
        id: &str,
        key: &str,
    ) -> Result<Result<Upload, CompletedUpload>, StoreError> {
        let st = self.lock()?;
        if let Some(up) = st.upload(id, key) {
            return Ok(Ok(up.clone()));
        }
        match st.completed.get(id).filter(|c| c.key == key) {
            Some(done) => Ok(Err(done.clone())),
            None => Err(StoreError::NoSuchUpload),
        }
    }

    /// Records part `n` of upload `id` (its blob already adopted), replacing (and deleting)
    /// a part uploaded before under the same number.
    pub fn add_part(&self, id: &str, n: u32, info: PartInfo) -> Result<(), StoreError> {
        let mut st = self.lock()?;
        let Some(up) = st.uploads.get_mut(id) else {
            drop(st);
            self.drop_blobs(&[info.blob]);
            return Err(StoreError::NoSuchUpload);
        };
        let old = up.parts.insert(n, info);
        let snapshot = up.clone();
        self.save_upload(&snapshot)?;
        drop(st);
        if let Some(old) = old {
            self.drop_blobs(&[old.blob]);
        }
        Ok(())
    }

    /// Ends upload `id` after its object was committed: remembers the answer for retries,
    /// forgets the upload and deletes its parts.
    pub fn finish_upload(&self, id: &str, done: CompletedUpload) -> Result<(), StoreError> {
        let removed = {
            let mut st = self.lock()?;
            if st.completed.len() >= COMPLETED_KEPT {
                st.completed.clear();
            }
            st.completed.insert(id.to_owned(), done);
            st.uploads.remove(id)
        };
        self.remove_upload_file(id)?;
        if let Some(removed) = removed {
            self.drop_parts(&removed);
        }
        Ok(())
    }

    /// Aborts upload `id`, deleting its parts.
    pub fn abort_upload(&self, id: &str) -> Result<(), StoreError> {
        let removed = self
            .lock()?
            .uploads
            .remove(id)
            .ok_or(StoreError::NoSuchUpload)?;
        self.remove_upload_file(id)?;
        self.drop_parts(&removed);
        Ok(())
    }

    fn drop_parts(&self, up: &Upload) {
        let blobs: Vec<String> = up.parts.values().map(|p| p.blob.clone()).collect();
        self.drop_blobs(&blobs);
    }

    fn save_upload(&self, up: &Upload) -> io::Result<()> {
        write_atomic(
            &self.dir.join("uploads").join(format!("{}.json", up.id)),
            &serde_json::to_vec(up).map_err(io::Error::other)?,
        )
    }

    fn remove_upload_file(&self, id: &str) -> io::Result<()> {
        match fs::remove_file(self.dir.join("uploads").join(format!("{id}.json"))) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => fsync_dir(&self.dir.join("uploads")),
        }
    }

    /// The body of an inline version, read from the journal.
    pub(super) fn read_inline(&self, state: &BucketState, v: &Version) -> io::Result<bytes::Bytes> {
        let at = v
            .inline_at
            .ok_or_else(|| io::Error::other("not an inline object"))?;
        journal::read_at(&state.reader, at, v.size)
    }
}

impl BucketState {
    /// The bucket's settings.
    pub fn config(&self) -> &BucketConfig {
        &self.config
    }

    /// The upload `id` when it is of `key`.
    pub fn upload(&self, id: &str, key: &str) -> Option<&Upload> {
        self.uploads.get(id).filter(|u| u.key == key)
    }

    /// Uploads in progress, by id.
    pub fn uploads(&self) -> impl Iterator<Item = &Upload> {
        self.uploads.values()
    }
}

/// Reads `uploads/*.json`; a file that does not parse (a torn write) is deleted.
fn load_uploads(dir: &Path) -> io::Result<BTreeMap<String, Upload>> {
    let mut uploads = BTreeMap::new();
    fs::create_dir_all(dir)?;
    for entry in fs::read_dir(dir)? {
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
    Ok(uploads)
}

/// Blobs nobody references are bodies whose commit never happened.
fn drop_unreferenced_blobs(
    blobs: &Path,
    objects: &BTreeMap<String, Vec<Version>>,
    uploads: &BTreeMap<String, Upload>,
) -> io::Result<()> {
    let mut referenced: HashSet<&str> = HashSet::new();
    for v in objects.values().flatten() {
        if let Some(b) = &v.blob {
            referenced.insert(b);
        }
    }
    for up in uploads.values() {
        for p in up.parts.values() {
            referenced.insert(&p.blob);
        }
    }
    fs::create_dir_all(blobs)?;
    for entry in fs::read_dir(blobs)? {
        let entry = entry?;
        let fname = entry.file_name().to_string_lossy().into_owned();
        if !referenced.contains(fname.as_str()) {
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(())
}
