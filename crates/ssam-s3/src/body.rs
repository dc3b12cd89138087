//! Request and response bodies: receiving an upload into a temp file while hashing it, and
//! streaming a stored blob (or a byte range of it) back.
//!
//! Bodies are never held whole in memory: the network side hands chunks to a blocking
//! writer thread over a bounded channel (back-pressure), and that thread hashes, writes and
//! finally fsyncs the file.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::md5::Md5;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use s3s::checksum::ChecksumHasher;
use s3s::dto::{Checksum, StreamingBlob};
use s3s::{S3Error, S3ErrorCode, S3Result};

/// Network chunks are batched (not copied) to at least this size before a write.
const WRITE_CHUNK: usize = 256 * 1024;
/// Size of the chunks a GET streams.
const READ_CHUNK: usize = 1024 * 1024;
/// How many chunks a GET reads ahead of the network.
const READ_AHEAD: usize = 4;

/// A body received: small ones in memory (`data`), others into `tmp`, fsynced.
pub struct Received {
    pub data: Option<Bytes>,
    pub tmp: PathBuf,
    pub size: u64,
    pub md5: [u8; 16],
    pub checksum: Option<Checksum>,
}

/// Removes the temp file if the upload is abandoned before it is adopted.
impl Received {
    pub fn discard(&self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// A hasher for one `x-amz-checksum-*` algorithm name.
pub fn checksum_hasher(algorithm: &str) -> Option<ChecksumHasher> {
    let mut h = ChecksumHasher::default();
    match algorithm.to_ascii_uppercase().as_str() {
        "CRC32" => h.crc32 = Some(Default::default()),
        "CRC32C" => h.crc32c = Some(Default::default()),
        "CRC64NVME" => h.crc64nvme = Some(Default::default()),
        "SHA1" => h.sha1 = Some(Default::default()),
        "SHA256" => h.sha256 = Some(Default::default()),
        _ => return None,
    }
    Some(h)
}

/// The value of `algorithm` in a computed checksum.
pub fn checksum_value<'a>(c: &'a Checksum, algorithm: &str) -> Option<&'a str> {
    match algorithm.to_ascii_uppercase().as_str() {
        "CRC32" => c.checksum_crc32.as_deref(),
        "CRC32C" => c.checksum_crc32c.as_deref(),
        "CRC64NVME" => c.checksum_crc64nvme.as_deref(),
        "SHA1" => c.checksum_sha1.as_deref(),
        "SHA256" => c.checksum_sha256.as_deref(),
        _ => None,
    }
}

/// The error a body stream failed with: s3s's own (signature, sha256 mismatch) when it is
/// one, else `IncompleteBody` (the client went away or sent less than it announced).
fn stream_error(err: &(dyn std::error::Error + 'static)) -> S3Error {
    if let Some(e) = err.downcast_ref::<S3Error>() {
        let mut out = S3Error::new(e.code().clone());
        if let Some(m) = e.message() {
            out.set_message(m.to_owned());
        }
        return out;
    }
    S3Error::with_message(
        S3ErrorCode::IncompleteBody,
        format!("the request body could not be read: {err}"),
    )
}

/// Network chunks in batches of about WRITE_CHUNK bytes, shared by the hashing and the
/// writing thread, never copied.
type Batch = std::sync::Arc<Vec<Bytes>>;

/// The MD5 (and checksum) thread of a large body.
fn spawn_hashing(
    mut hrx: tokio::sync::mpsc::Receiver<Batch>,
    hasher: Option<ChecksumHasher>,
) -> tokio::task::JoinHandle<([u8; 16], Option<Checksum>)> {
    tokio::task::spawn_blocking(move || {
        let mut md5 = Md5::new();
        let mut hasher = hasher;
        while let Some(batch) = hrx.blocking_recv() {
            for chunk in batch.iter() {
                md5.update(chunk);
                if let Some(h) = hasher.as_mut() {
                    h.update(chunk);
                }
            }
        }
        let digest = md5.finalize();
        (digest, hasher.map(ChecksumHasher::finalize))
    })
}

/// The writer thread of a large body: writes batches to `path`; returns the size.
fn spawn_writer(
    path: PathBuf,
    mut wrx: tokio::sync::mpsc::Receiver<Batch>,
    durable: bool,
) -> tokio::task::JoinHandle<io::Result<u64>> {
    tokio::task::spawn_blocking(move || -> io::Result<u64> {
        let mut f = File::create(&path)?;
        let mut flusher = EarlyFlush::default();
        let mut n = 0u64;
        while let Some(batch) = wrx.blocking_recv() {
            let mut slices: Vec<io::IoSlice<'_>> =
                batch.iter().map(|c| io::IoSlice::new(c)).collect();
            let mut rest: &mut [io::IoSlice<'_>] = &mut slices;
            while !rest.is_empty() {
                let w = f.write_vectored(rest)?;
                if w == 0 {
                    return Err(io::ErrorKind::WriteZero.into());
                }
                io::IoSlice::advance_slices(&mut rest, w);
            }
            n += batch.iter().map(|c| c.len() as u64).sum::<u64>();
            if durable {
                flusher.written(&f, n)?;
            }
        }
        if durable {
            flusher.finish()?;
            f.sync_all()?;
        }
        Ok(n)
    })
}

/// Receives `body`, computing MD5 and (when asked) one checksum on the way. A body of at
/// most `inline_max` bytes stays in memory (it will be stored inline in the journal);
/// a larger one streams into `tmp`, fsynced.
pub async fn receive(
    tmp: PathBuf,
    body: Option<StreamingBlob>,
    algorithm: Option<&str>,
    inline_max: usize,
    durable: bool,
) -> S3Result<Received> {
    let hasher = match algorithm {
        Some(a) => Some(checksum_hasher(a).ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                format!("unsupported checksum algorithm {a}"),
            )
        })?),
        None => None,
    };
    let mut body = body;
    let mut head = BytesMut::new();
    let mut more = false;
    if let Some(b) = body.as_mut() {
        while let Some(item) = b.next().await {
            let chunk = item.map_err(|e| stream_error(e.as_ref()))?;
            head.extend_from_slice(&chunk);
            if head.len() > inline_max {
                more = true;
                break;
            }
        }
    }
    if !more {
        let data = head.freeze();
        let md5 = Md5::digest(&data);
        let checksum = hasher.map(|mut h| {
            h.update(&data);
            h.finalize()
        });
        return Ok(Received {
            size: data.len() as u64,
            data: Some(data),
            tmp,
            md5,
            checksum,
        });
    }

    // A large body: the network side, an MD5/checksum thread and a writer thread run side
    // by side (MD5, ~750 MB/s on one core, is the slowest stage). Network chunks travel in
    // batches of about WRITE_CHUNK bytes, shared by both threads, never copied.
    let (wtx, wrx) = tokio::sync::mpsc::channel::<Batch>(8);
    let (htx, hrx) = tokio::sync::mpsc::channel::<Batch>(8);
    let hashing = spawn_hashing(hrx, hasher);
    let writer = spawn_writer(tmp.clone(), wrx, durable);
    let mut failure = None;
    let mut batched = head.len();
    let mut batch = vec![head.freeze()];
    let mut closed = false;
    if let Some(mut body) = body {
        loop {
            if batched >= WRITE_CHUNK {
                let full: Batch = std::sync::Arc::new(std::mem::take(&mut batch));
                batched = 0;
                if htx.send(full.clone()).await.is_err() || wtx.send(full).await.is_err() {
                    closed = true;
                    break;
                }
            }
            match body.next().await {
                Some(Ok(chunk)) => {
                    batched += chunk.len();
                    batch.push(chunk);
                }
                Some(Err(err)) => {
                    failure = Some(stream_error(err.as_ref()));
                    break;
                }
                None => break,
            }
        }
    }
    if failure.is_none() && !closed && !batch.is_empty() {
        let last: Batch = std::sync::Arc::new(batch);
        let _ = htx.send(last.clone()).await;
        let _ = wtx.send(last).await;
    }
    drop((htx, wtx));
    let internal = |e: String| S3Error::with_message(S3ErrorCode::InternalError, e);
    let written = writer.await.map_err(|e| internal(e.to_string()));
    let hashed = hashing.await.map_err(|e| internal(e.to_string()));
    let discard = || {
        let _ = std::fs::remove_file(&tmp);
    };
    if let Some(err) = failure {
        discard();
        return Err(err);
    }
    match (written, hashed) {
        (Ok(Ok(size)), Ok((md5, checksum))) => Ok(Received {
            data: None,
            tmp,
            size,
            md5,
            checksum,
        }),
        (Ok(Err(e)), _) => {
            discard();
            Err(internal(format!("writing the body: {e}")))
        }
        (Err(e), _) | (_, Err(e)) => {
            discard();
            Err(e)
        }
    }
}

/// Gets a large upload's bytes to the disk while it is still arriving: every
/// [`FLUSH_EVERY`] bytes a helper thread (started at the first of them) `fdatasync`s the
/// file through its own handle, so the `fsync` that acknowledges the upload waits only for
/// the last stretch instead of the whole body.
#[derive(Default)]
struct EarlyFlush {
    helper: Option<(
        std::sync::mpsc::Sender<()>,
        std::thread::JoinHandle<io::Result<()>>,
    )>,
    flushed_at: u64,
}

/// How many bytes an upload writes between two early flushes.
const FLUSH_EVERY: u64 = 8 * 1024 * 1024;

impl EarlyFlush {
    /// `n` bytes of `file` are written so far.
    fn written(&mut self, file: &File, n: u64) -> io::Result<()> {
        if n - self.flushed_at < FLUSH_EVERY {
            return Ok(());
        }
        self.flushed_at = n;
        if self.helper.is_none() {
            let file = file.try_clone()?;
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let thread = std::thread::Builder::new()
                .name("ssam-s3-flush".into())
                .spawn(move || -> io::Result<()> {
                    while rx.recv().is_ok() {
                        // Requests that piled up during a flush are served by one.
                        while rx.try_recv().is_ok() {}
                        file.sync_data()?;
                    }
                    Ok(())
                })?;
            self.helper = Some((tx, thread));
        }
        if let Some((tx, _)) = &self.helper {
            // A helper that stopped on an error reports it in `finish`.
            let _ = tx.send(());
        }
        Ok(())
    }

    /// Waits for the flushes under way; a failed one fails the upload.
    fn finish(self) -> io::Result<()> {
        let Some((tx, thread)) = self.helper else {
            return Ok(());
        };
        drop(tx);
        thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the flush thread panicked")))
    }
}

/// Copies `len` bytes at `offset` of `src` into a new file `tmp`, hashing them (UploadPartCopy).
pub fn copy_range(src: &Path, offset: u64, len: u64, tmp: &Path) -> io::Result<([u8; 16], u64)> {
    let mut from = File::open(src)?;
    from.seek(SeekFrom::Start(offset))?;
    let mut from = from.take(len);
    let mut to = File::create(tmp)?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut n = 0u64;
    loop {
        let r = from.read(&mut buf)?;
        if r == 0 {
            break;
        }
        md5.update(&buf[..r]);
        to.write_all(&buf[..r])?;
        n += r as u64;
    }
    to.sync_all()?;
    Ok((md5.finalize(), n))
}

/// Streams `len` bytes of an open file from its current position: a blocking reader reads
/// 1 MiB chunks up to [`READ_AHEAD`] ahead of the network, so the disk (or page cache) copy
/// of one chunk overlaps the socket write of the previous. The reader stops when the
/// response is dropped (the client went away).
pub fn file_stream(
    file: File,
    len: u64,
) -> impl Stream<Item = io::Result<Bytes>> + Send + Sync + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        let mut file = file;
        let mut remaining = len;
        while remaining > 0 {
            let n = usize::try_from(remaining.min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
            // read_to_end fills spare capacity without zeroing it first.
            let mut buf = Vec::with_capacity(n);
            let chunk = match (&mut file).take(n as u64).read_to_end(&mut buf) {
                Ok(got) if got == n => Ok(Bytes::from(buf)),
                Ok(_) => Err(io::ErrorKind::UnexpectedEof.into()),
                Err(e) => Err(e),
            };
            let failed = chunk.is_err();
            if tx.blocking_send(chunk).is_err() || failed {
                return;
            }
            remaining -= n as u64;
        }
    });
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}
