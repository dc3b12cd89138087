//! The S3 operations: `s3s::S3` implemented over the [`Store`].
//!
//! s3s parses requests, checks signatures and writes XML; this module decides what each
//! operation does to the store, and answers with the error codes S3 uses. Every write
//! that touches the disk runs on the blocking pool; the bucket mutex is only held for
//! in-memory work and the journal append.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::md5::Md5;
use base64::Engine as _;
use s3s::dto::*;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, S3};
use tokio::sync::broadcast;

use crate::body::{self, Received};
use crate::store::{
    self, BucketConfig, ObjectMeta, PartInfo, Record, Store, StoreError, StoredChecksum, Upload,
    Version, Versioning,
};
use crate::ObjectEvent;

/// The peer address of a request, put in the request extensions by the server.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The request's `X-Amzn-Trace-Id`, carried to the object events it causes.
#[derive(Clone, Debug)]
pub struct TraceHeader(pub String);

const OWNER_ID: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
const OWNER_NAME: &str = "ssam";
const MAX_KEY_LEN: usize = 1024;
const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// The S3 service over a store.
pub struct Service {
    store: Arc<Store>,
    events: broadcast::Sender<ObjectEvent>,
    region: String,
    sequencer: AtomicU64,
}

impl Service {
    pub fn new(store: Arc<Store>, events: broadcast::Sender<ObjectEvent>, region: String) -> Self {
        let start = u64::try_from(store::now_ms()).unwrap_or(0) << 20;
        Self {
            store,
            events,
            region,
            sequencer: AtomicU64::new(start),
        }
    }
}

impl From<StoreError> for S3Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchBucket => {
                s3_error!(NoSuchBucket, "The specified bucket does not exist")
            }
            StoreError::BucketExists => {
                s3_error!(BucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it.")
            }
            StoreError::BucketNotEmpty => s3_error!(
                BucketNotEmpty,
                "The bucket you tried to delete is not empty"
            ),
            StoreError::InvalidBucketName => {
                s3_error!(InvalidBucketName, "The specified bucket is not valid.")
            }
            StoreError::Io(e) => internal(e),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> S3Error {
    tracing::error!(error = %e, "internal error");
    S3Error::with_message(S3ErrorCode::InternalError, e.to_string())
}

/// Changes a bucket's configuration and saves it, on the blocking pool.
async fn update_config(
    b: Arc<store::Bucket>,
    change: impl FnOnce(&mut BucketConfig) + Send + 'static,
) -> S3Result<()> {
    blocking(move || {
        let mut st = b.lock().map_err(internal)?;
        change(&mut st.config);
        b.save_config(&st).map_err(internal)
    })
    .await
}

/// Runs disk work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> S3Result<T> + Send + 'static,
) -> S3Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
}

fn ts(ms: i64) -> Timestamp {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Timestamp::from(t)
}

/// Seconds since the epoch of a timestamp (HTTP dates have second precision).
fn ts_secs(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

fn etag_of(s: &str) -> ETag {
    ETag::Strong(s.to_owned())
}

fn owner() -> Owner {
    Owner {
        display_name: Some(OWNER_NAME.into()),
        id: Some(OWNER_ID.into()),
    }
}

fn no_such_key() -> S3Error {
    s3_error!(NoSuchKey, "The specified key does not exist.")
}

fn check_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_LEN {
        return Err(s3_error!(KeyTooLongError, "Your key is too long"));
    }
    if key.is_empty() {
        return Err(s3_error!(InvalidArgument, "The key must not be empty"));
    }
    Ok(())
}

// The nine content fields every write operation (put, post, copy, create-multipart) carries.
#[allow(clippy::too_many_arguments)]
fn meta_from(
    content_type: Option<String>,
    content_encoding: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    cache_control: Option<String>,
    expires: Option<Timestamp>,
    storage_class: Option<StorageClass>,
    website_redirect: Option<String>,
    metadata: Option<Metadata>,
) -> S3Result<ObjectMeta> {
    let expires = match expires {
        Some(t) => {
            let mut buf = Vec::new();
            t.format(TimestampFormat::HttpDate, &mut buf)
                .map_err(internal)?;
            Some(String::from_utf8_lossy(&buf).into_owned())
        }
        None => None,
    };
    if let Some(sc) = &storage_class {
        const KNOWN: [&str; 8] = [
            "STANDARD",
            "REDUCED_REDUNDANCY",
            "STANDARD_IA",
            "ONEZONE_IA",
            "INTELLIGENT_TIERING",
            "GLACIER",
            "DEEP_ARCHIVE",
            "GLACIER_IR",
        ];
        if !KNOWN.contains(&sc.as_str()) {
            return Err(s3_error!(
                InvalidStorageClass,
                "The storage class you specified is not valid"
            ));
        }
    }
    Ok(ObjectMeta {
        content_type,
        content_encoding,
        content_disposition,
        content_language,
        cache_control,
        expires,
        storage_class: storage_class
            .map(|s| s.as_str().to_owned())
            .filter(|s| s != "STANDARD"),
        website_redirect,
        acl: None,
        user: metadata
            .map(|m| m.into_iter().collect())
            .unwrap_or_default(),
    })
}

fn expires_ts(meta: &ObjectMeta) -> Option<Timestamp> {
    meta.expires
        .as_deref()
        .and_then(|s| Timestamp::parse(TimestampFormat::HttpDate, s).ok())
}

/// Parses `k=v&k2=v2` (the `x-amz-tagging` header and POST field).
fn parse_tagging_header(s: &str) -> S3Result<Vec<(String, String)>> {
    let mut tags = Vec::new();
    for pair in s.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec = |x: &str| {
            percent_encoding::percent_decode_str(&x.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        tags.push((dec(k), dec(v)));
    }
    validate_tags(&tags)?;
    tags.sort();
    Ok(tags)
}

fn validate_tags(tags: &[(String, String)]) -> S3Result<()> {
    if tags.len() > 10 {
        return Err(s3_error!(
            InvalidTag,
            "Object tags cannot be greater than 10"
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(s3_error!(
                InvalidTag,
                "The TagKey you have provided is invalid"
            ));
        }
        if v.chars().count() > 256 {
            return Err(s3_error!(
                InvalidTag,
                "The TagValue you have provided is too long"
            ));
        }
        if !seen.insert(k) {
            return Err(s3_error!(
                InvalidTag,
                "Cannot provide multiple Tags with the same key"
            ));
        }
    }
    Ok(())
}

fn tags_to_dto(tags: &[(String, String)]) -> TagSet {
    tags.iter()
        .map(|(k, v)| Tag {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect()
}

fn tags_from_dto(set: TagSet) -> Vec<(String, String)> {
    set.into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect()
}

/// The checksum a request declared: algorithm and, when sent in a header, its value.
fn declared_checksum(
    algorithm: Option<&ChecksumAlgorithm>,
    crc32: Option<&String>,
    crc32c: Option<&String>,
    crc64: Option<&String>,
    sha1: Option<&String>,
    sha256: Option<&String>,
) -> (Option<String>, Option<String>) {
    for (name, v) in [
        ("CRC32", crc32),
        ("CRC32C", crc32c),
        ("CRC64NVME", crc64),
        ("SHA1", sha1),
        ("SHA256", sha256),
    ] {
        if let Some(v) = v {
            return (Some(name.to_owned()), Some(v.clone()));
        }
    }
    (algorithm.map(|a| a.as_str().to_ascii_uppercase()), None)
}

/// Checks Content-MD5 and a declared checksum against what was received.
fn verify_body(
    rec: &Received,
    content_md5: Option<&str>,
    algo: Option<&str>,
    expected: Option<&str>,
    trailing: Option<&s3s::TrailingHeaders>,
) -> S3Result<Option<StoredChecksum>> {
    if let Some(md5) = content_md5 {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(md5.trim()) else {
            return Err(s3_error!(
                InvalidDigest,
                "The Content-MD5 you specified was invalid."
            ));
        };
        if bytes.len() != 16 {
            return Err(s3_error!(
                InvalidDigest,
                "The Content-MD5 you specified was invalid."
            ));
        }
        if bytes != rec.md5 {
            return Err(s3_error!(
                BadDigest,
                "The Content-MD5 you specified did not match what we received."
            ));
        }
    }
    let Some(algo) = algo else { return Ok(None) };
    let Some(computed) = rec
        .checksum
        .as_ref()
        .and_then(|c| body::checksum_value(c, algo))
    else {
        return Ok(None);
    };
    // A checksum sent as a trailer (aws-chunked uploads) arrives after the body.
    let from_trailer = trailing.and_then(|t| {
        t.read(|h| {
            h.get(format!("x-amz-checksum-{}", algo.to_ascii_lowercase()))
                .and_then(|v| v.to_str().ok().map(str::to_owned))
        })
        .flatten()
    });
    if let Some(exp) = expected.map(str::to_owned).or(from_trailer) {
        if exp != computed {
            return Err(s3_error!(
                BadDigest,
                "The {} you specified did not match the calculated checksum.",
                algo
            ));
        }
    }
    Ok(Some(StoredChecksum {
        algorithm: algo.to_owned(),
        value: computed.to_owned(),
        kind: "FULL_OBJECT".into(),
    }))
}

fn checksum_fields(c: Option<&StoredChecksum>) -> Checksum {
    let mut out = Checksum::default();
    if let Some(c) = c {
        let v = Some(c.value.clone());
        match c.algorithm.as_str() {
            "CRC32" => out.checksum_crc32 = v,
            "CRC32C" => out.checksum_crc32c = v,
            "CRC64NVME" => out.checksum_crc64nvme = v,
            "SHA1" => out.checksum_sha1 = v,
            "SHA256" => out.checksum_sha256 = v,
            _ => {}
        }
        out.checksum_type = Some(ChecksumType::from(c.kind.clone()));
    }
    out
}

/// What a conditional read decides.
fn check_read_conditions(
    v: &Version,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let modified = v.modified_ms.div_euclid(1000);
    let matches = |c: &ETagCondition| match c {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == v.etag,
    };
    if let Some(c) = if_match {
        if !matches(c) {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ));
        }
    } else if let Some(t) = if_unmodified_since {
        if modified > ts_secs(t) {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ));
        }
    }
    // A 304 still carries the validators, as S3's does.
    let not_modified = || {
        let mut e = S3Error::with_message(S3ErrorCode::NotModified, "Not Modified");
        let mut h = http::HeaderMap::new();
        if let Ok(val) = http::HeaderValue::from_str(&format!("\"{}\"", v.etag)) {
            h.insert(http::header::ETAG, val);
        }
        let mut buf = Vec::new();
        if ts(v.modified_ms)
            .format(TimestampFormat::HttpDate, &mut buf)
            .is_ok()
        {
            if let Ok(val) = http::HeaderValue::from_bytes(&buf) {
                h.insert(http::header::LAST_MODIFIED, val);
            }
        }
        e.set_headers(h);
        e
    };
    if let Some(c) = if_none_match {
        if matches(c) {
            return Err(not_modified());
        }
    } else if let Some(t) = if_modified_since {
        if modified <= ts_secs(t) {
            return Err(not_modified());
        }
    }
    Ok(())
}

/// Finds a version of a key: the latest (which must not be a delete marker) or a given id.
fn find_version(
    state: &store::BucketState,
    key: &str,
    version_id: Option<&str>,
) -> S3Result<Version> {
    let versions = state.objects.get(key);
    match version_id {
        None => {
            let v = versions.and_then(|vs| vs.first()).ok_or_else(|| {
                let mut e = no_such_key();
                let mut h = http::HeaderMap::new();
                h.insert(
                    "x-amz-delete-marker",
                    http::HeaderValue::from_static("false"),
                );
                e.set_headers(h);
                e
            })?;
            if v.delete_marker {
                let mut e = no_such_key();
                let mut h = http::HeaderMap::new();
                h.insert(
                    "x-amz-delete-marker",
                    http::HeaderValue::from_static("true"),
                );
                if let Ok(val) = http::HeaderValue::from_str(&v.id) {
                    h.insert("x-amz-version-id", val);
                }
                e.set_headers(h);
                return Err(e);
            }
            Ok(v.clone())
        }
        Some(id) => {
            let v = versions
                .and_then(|vs| vs.iter().find(|v| v.id == id))
                .ok_or_else(|| {
                    if id == "null" || store::valid_id(id) {
                        s3_error!(NoSuchVersion, "The specified version does not exist.")
                    } else {
                        s3_error!(InvalidArgument, "Invalid version id specified")
                    }
                })?;
            if v.delete_marker {
                let mut e = s3_error!(
                    MethodNotAllowed,
                    "The specified method is not allowed against this resource."
                );
                let mut h = http::HeaderMap::new();
                h.insert(
                    "x-amz-delete-marker",
                    http::HeaderValue::from_static("true"),
                );
                e.set_headers(h);
                return Err(e);
            }
            Ok(v.clone())
        }
    }
}

fn version_header(state_versioning: Versioning, id: &str) -> Option<String> {
    match state_versioning {
        Versioning::Unversioned if id == "null" => None,
        _ => Some(id.to_owned()),
    }
}

/// A new object version to commit.
struct NewObject {
    key: String,
    /// The adopted blob, unless `data` holds a small body to store inline.
    blob: String,
    data: Option<bytes::Bytes>,
    size: u64,
    etag: String,
    meta: ObjectMeta,
    tags: Vec<(String, String)>,
    checksum: Option<StoredChecksum>,
    parts: Vec<u64>,
    part_checksums: Vec<String>,
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
}

/// Commits a new version (blob already adopted, or inline `data`) through the bucket's
/// group commit. Returns (version id, versioning state, modified ms).
fn commit_object(bucket: &store::Bucket, obj: NewObject) -> S3Result<(String, Versioning, i64)> {
    let blob_to_drop = obj.data.is_none().then(|| obj.blob.clone());
    let result = bucket
        .mutate(move |st: &mut store::BucketState| {
            let current = st
                .objects
                .get(&obj.key)
                .and_then(|v| v.first())
                .filter(|v| !v.delete_marker);
            let precondition = |ok: bool| {
                if ok {
                    Ok(())
                } else {
                    Err(s3_error!(
                        PreconditionFailed,
                        "At least one of the pre-conditions you specified did not hold"
                    ))
                }
            };
            if let Some(c) = &obj.if_none_match {
                precondition(match c {
                    ETagCondition::Any => current.is_none(),
                    ETagCondition::ETag(e) => current.is_none_or(|v| v.etag != e.value()),
                })?;
            }
            if let Some(c) = &obj.if_match {
                match current {
                    None => return Err(no_such_key()),
                    Some(v) => precondition(match c {
                        ETagCondition::Any => true,
                        ETagCondition::ETag(e) => v.etag == e.value(),
                    })?,
                }
            }
            let versioning = st.config.versioning;
            let id = if versioning == Versioning::Enabled {
                store::new_id()
            } else {
                "null".to_owned()
            };
            let modified_ms = store::now_ms();
            let inline = obj.data.is_some();
            let v = Version {
                id: id.clone(),
                blob: (!inline).then_some(obj.blob),
                inline_at: None,
                delete_marker: false,
                size: obj.size,
                etag: obj.etag,
                modified_ms,
                meta: obj.meta,
                tags: obj.tags,
                checksum: obj.checksum,
                parts: obj.parts,
                part_checksums: obj.part_checksums,
            };
            let record = Record::Put {
                key: obj.key,
                v: Box::new(v),
                in_place: false,
                data_follows: inline,
                crc: None,
                data: obj.data,
            };
            Ok((vec![record], (id, versioning, modified_ms)))
        })
        .map_err(internal)?;
    if result.is_err() {
        if let Some(b) = blob_to_drop {
            bucket.drop_blobs(&[b]);
        }
    }
    result
}

/// Outcome of deleting one key.
struct Deleted {
    version_id: Option<String>,
    delete_marker: bool,
    event: Option<&'static str>,
}

/// Conditions of a conditional delete (`If-Match`, `x-amz-if-match-last-modified-time`,
/// `x-amz-if-match-size`), checked against the version that would be deleted.
#[derive(Default, Clone)]
struct DeleteIf {
    etag: Option<String>,
    modified_secs: Option<i64>,
    size: Option<i64>,
}

impl DeleteIf {
    fn is_empty(&self) -> bool {
        self.etag.is_none() && self.modified_secs.is_none() && self.size.is_none()
    }

    fn holds(&self, v: &Version) -> bool {
        self.etag
            .as_deref()
            .is_none_or(|e| e == "*" || e.trim_matches('"') == v.etag)
            && self
                .modified_secs
                .is_none_or(|t| t == v.modified_ms.div_euclid(1000))
            && self
                .size
                .is_none_or(|n| u64::try_from(n).ok() == Some(v.size))
    }
}

fn delete_one(
    bucket: &store::Bucket,
    key: &str,
    version_id: Option<&str>,
    cond: &DeleteIf,
) -> S3Result<Deleted> {
    let (key, version_id, cond) = (key.to_owned(), version_id.map(str::to_owned), cond.clone());
    bucket
        .mutate(
            move |st: &mut store::BucketState| -> S3Result<(Vec<Record>, Deleted)> {
                let (key, version_id, cond) = (key.as_str(), version_id.as_deref(), &cond);
                let versioning = st.config.versioning;
                if !cond.is_empty() {
                    // A missing object is not an error for a conditional delete, and nothing is written;
                    // a present version (a delete marker too) must match.
                    let target = match version_id {
                        Some(id) => st
                            .objects
                            .get(key)
                            .and_then(|vs| vs.iter().find(|v| v.id == id)),
                        None => st.objects.get(key).and_then(|vs| vs.first()),
                    };
                    let Some(v) = target else {
                        return Ok((
                            Vec::new(),
                            Deleted {
                                version_id: None,
                                delete_marker: false,
                                event: None,
                            },
                        ));
                    };
                    {
                        if !cond.holds(v) {
                            return Err(s3_error!(
                                PreconditionFailed,
                                "At least one of the pre-conditions you specified did not hold"
                            ));
                        }
                    }
                }
                let (records, out) = match version_id {
                    Some(id) => {
                        if id != "null" && !store::valid_id(id) {
                            return Err(s3_error!(InvalidArgument, "Invalid version id specified"));
                        }
                        let found = st
                            .objects
                            .get(key)
                            .and_then(|vs| vs.iter().find(|v| v.id == id));
                        match found {
                            Some(v) => {
                                let marker = v.delete_marker;
                                (
                                    vec![Record::Del {
                                        key: key.to_owned(),
                                        id: id.to_owned(),
                                    }],
                                    Deleted {
                                        version_id: Some(id.to_owned()),
                                        delete_marker: marker,
                                        event: Some("ObjectRemoved:Delete"),
                                    },
                                )
                            }
                            None => (
                                Vec::new(),
                                Deleted {
                                    version_id: Some(id.to_owned()),
                                    delete_marker: false,
                                    event: None,
                                },
                            ),
                        }
                    }
                    None => match versioning {
                        Versioning::Unversioned => {
                            if st.objects.contains_key(key) {
                                (
                                    vec![Record::Del {
                                        key: key.to_owned(),
                                        id: "null".into(),
                                    }],
                                    Deleted {
                                        version_id: None,
                                        delete_marker: false,
                                        event: Some("ObjectRemoved:Delete"),
                                    },
                                )
                            } else {
                                (
                                    Vec::new(),
                                    Deleted {
                                        version_id: None,
                                        delete_marker: false,
                                        event: None,
                                    },
                                )
                            }
                        }
                        Versioning::Enabled | Versioning::Suspended => {
                            let id = if versioning == Versioning::Enabled {
                                store::new_id()
                            } else {
                                "null".to_owned()
                            };
                            let v = Version {
                                id: id.clone(),
                                blob: None,
                                delete_marker: true,
                                size: 0,
                                etag: String::new(),
                                modified_ms: store::now_ms(),
                                meta: ObjectMeta::default(),
                                tags: Vec::new(),
                                checksum: None,
                                parts: Vec::new(),
                                part_checksums: Vec::new(),
                                inline_at: None,
                            };
                            (
                                vec![Record::Put {
                                    key: key.to_owned(),
                                    v: Box::new(v),
                                    in_place: false,
                                    data_follows: false,
                                    crc: None,
                                    data: None,
                                }],
                                Deleted {
                                    version_id: Some(id),
                                    delete_marker: true,
                                    event: Some("ObjectRemoved:DeleteMarkerCreated"),
                                },
                            )
                        }
                    },
                };
                Ok((records, out))
            },
        )
        .map_err(internal)?
}

/// S3's `encoding-type=url`: everything but unreserved characters and `/` is escaped.
const URL_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn maybe_encode(s: String, encode: bool) -> String {
    if encode {
        percent_encoding::utf8_percent_encode(&s, URL_ENCODE).to_string()
    } else {
        s
    }
}

/// One entry of a listing: a key (with its versions) or a common prefix.
enum Entry<'a> {
    Key(&'a String, &'a Vec<Version>),
    Prefix(String),
}

/// Walks keys under `prefix` after `after` (exclusive), folding keys that contain
/// `delimiter` after the prefix into common prefixes. Calls `visit` for each entry until it
/// returns false. Skips whole common prefixes at once, so a delimiter listing does not
/// touch every key below each prefix. Returns how many index entries it examined.
fn walk<'a>(
    objects: &'a BTreeMap<String, Vec<Version>>,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    mut visit: impl FnMut(Entry<'a>) -> bool,
) -> usize {
    let delimiter = delimiter.filter(|d| !d.is_empty());
    let mut examined = 0;
    let mut lower: Bound<String> = match after {
        Some(a) if a >= prefix => Bound::Excluded(a.to_owned()),
        _ => Bound::Included(prefix.to_owned()),
    };
    'outer: loop {
        let mut range = objects.range::<String, _>((lower.clone(), Bound::Unbounded));
        loop {
            let Some((key, versions)) = range.next() else {
                break 'outer;
            };
            examined += 1;
            if !key.starts_with(prefix) {
                break 'outer;
            }
            if let Some(d) = delimiter {
                if let Some(i) = key[prefix.len()..].find(d) {
                    let cp = key[..prefix.len() + i + d.len()].to_owned();
                    if after == Some(cp.as_str()) {
                        // The marker was this common prefix: it has been returned already.
                    } else if !visit(Entry::Prefix(cp.clone())) {
                        break 'outer;
                    }
                    match past_prefix(&cp) {
                        Some(next) => lower = Bound::Included(next),
                        None => break 'outer,
                    }
                    continue 'outer;
                }
            }
            if !visit(Entry::Key(key, versions)) {
                break 'outer;
            }
        }
    }
    examined
}

/// The smallest string greater than every string that starts with `prefix` (None when no
/// string is: `prefix` is all U+10FFFF). Keys compare by code point, as UTF-8 bytes do.
fn past_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // The next scalar value (skipping the surrogate gap); U+10FFFF has none.
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A listing of latest versions (ListObjects v1 and v2).
struct Listing {
    objects: Vec<(String, Version)>,
    prefixes: Vec<String>,
    truncated: bool,
    last: Option<String>,
}

fn list_latest(
    st: &store::BucketState,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    max: usize,
) -> Listing {
    let mut out = Listing {
        objects: Vec::new(),
        prefixes: Vec::new(),
        truncated: false,
        last: None,
    };
    if max == 0 {
        return out;
    }
    let mut count = 0usize;
    walk(&st.objects, prefix, delimiter, after, |e| {
        match e {
            Entry::Key(k, vs) => {
                let Some(v) = vs.first().filter(|v| !v.delete_marker) else {
                    return true;
                };
                if count == max {
                    out.truncated = true;
                    return false;
                }
                out.objects.push((k.clone(), v.clone()));
                out.last = Some(k.clone());
            }
            Entry::Prefix(p) => {
                if count == max {
                    out.truncated = true;
                    return false;
                }
                out.last = Some(p.clone());
                out.prefixes.push(p);
            }
        }
        count += 1;
        true
    });
    out
}

fn max_keys(v: Option<i32>) -> S3Result<usize> {
    match v {
        None => Ok(1000),
        Some(n) if n < 0 => Err(s3_error!(
            InvalidArgument,
            "Argument maxKeys must be an integer between 0 and 2147483647"
        )),
        Some(n) => Ok(usize::try_from(n).unwrap_or(1000).min(1000)),
    }
}

fn object_dto(key: String, v: &Version, with_owner: bool) -> Object {
    Object {
        key: Some(key),
        e_tag: Some(etag_of(&v.etag)),
        last_modified: Some(ts(v.modified_ms)),
        size: Some(i64::try_from(v.size).unwrap_or(i64::MAX)),
        storage_class: Some(ObjectStorageClass::from(
            v.meta
                .storage_class
                .clone()
                .unwrap_or_else(|| "STANDARD".into()),
        )),
        owner: with_owner.then(owner),
        checksum_algorithm: v
            .checksum
            .as_ref()
            .map(|c| vec![ChecksumAlgorithm::from(c.algorithm.clone())]),
        checksum_type: v
            .checksum
            .as_ref()
            .map(|c| ChecksumType::from(c.kind.clone())),
        ..Default::default()
    }
}

fn cors_config_from_xml(xml: &str) -> Option<CORSConfiguration> {
    let mut d = s3s::xml::Deserializer::new(xml.as_bytes());
    <CORSConfiguration as s3s::xml::Deserialize>::deserialize(&mut d).ok()
}

pub(crate) fn to_xml<T: s3s::xml::Serialize>(v: &T) -> S3Result<String> {
    let mut buf = Vec::new();
    let mut s = s3s::xml::Serializer::new(&mut buf);
    v.serialize(&mut s).map_err(internal)?;
    String::from_utf8(buf).map_err(internal)
}

fn from_xml<T: for<'a> s3s::xml::Deserialize<'a>>(xml: &str) -> S3Result<T> {
    let mut d = s3s::xml::Deserializer::new(xml.as_bytes());
    T::deserialize(&mut d).map_err(internal)
}

/// Parses `bytes=a-b` of `x-amz-copy-source-range`.
fn parse_copy_range(s: &str, size: u64) -> S3Result<(u64, u64)> {
    let bad = || {
        s3_error!(InvalidArgument, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
    };
    let r = s.strip_prefix("bytes=").ok_or_else(bad)?;
    let (a, b) = r.split_once('-').ok_or_else(bad)?;
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    if a > b {
        return Err(bad());
    }
    if b >= size {
        return Err(s3_error!(
            InvalidRange,
            "The requested range is not satisfiable"
        ));
    }
    Ok((a, b - a + 1))
}

impl Service {
    async fn receive_into(
        &self,
        body: Option<StreamingBlob>,
        algorithm: Option<&str>,
        inline_max: usize,
    ) -> S3Result<Received> {
        body::receive(
            self.store.tmp_path(),
            body,
            algorithm,
            inline_max,
            self.store.durable(),
        )
        .await
    }

    /// Adopts a received body and commits it as a new version of `obj.key`.
    async fn store_received(
        &self,
        bucket: Arc<store::Bucket>,
        rec: Received,
        obj: impl FnOnce(String) -> NewObject + Send + 'static,
    ) -> S3Result<(String, Versioning, i64)> {
        blocking(move || {
            if let Some(data) = rec.data {
                let mut o = obj(String::new());
                o.data = Some(data);
                return commit_object(&bucket, o);
            }
            let blob = match bucket.adopt_blob(&rec.tmp) {
                Ok(b) => b,
                Err(e) => {
                    rec.discard();
                    return Err(internal(e));
                }
            };
            commit_object(&bucket, obj(blob))
        })
        .await
    }

    fn copy_source(src: &CopySource) -> S3Result<(String, String, Option<String>)> {
        match src {
            CopySource::Bucket {
                bucket,
                key,
                version_id,
            } => Ok((
                bucket.to_string(),
                key.to_string(),
                version_id.as_ref().map(|v| v.to_string()),
            )),
            _ => Err(s3_error!(
                NotImplemented,
                "access point copy sources are not supported"
            )),
        }
    }
}

#[async_trait::async_trait]
impl S3 for Service {
    // ----- buckets -------------------------------------------------------------------

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let input = req.input;
        let region = match input
            .create_bucket_configuration
            .and_then(|c| c.location_constraint)
        {
            Some(lc) => {
                let lc = lc.as_str().to_owned();
                if lc == "us-east-1" {
                    return Err(s3_error!(
                        InvalidLocationConstraint,
                        "The specified location-constraint is not valid"
                    ));
                }
                lc
            }
            None => self.region.clone(),
        };
        // us-east-1 answers a re-create of your own bucket with 200 (other regions: 409).
        if region == "us-east-1" && self.store.bucket(&input.bucket).is_ok() {
            return Ok(S3Response::new(CreateBucketOutput {
                location: Some(format!("/{}", input.bucket)),
            }));
        }
        let versioning = if input.object_lock_enabled_for_bucket == Some(true) {
            Versioning::Enabled
        } else {
            Versioning::Unversioned
        };
        let config = BucketConfig {
            created_ms: store::now_ms(),
            region,
            versioning,
            acl: input.acl.as_ref().map(|a| a.as_str().to_owned()),
            ..Default::default()
        };
        let store = Arc::clone(&self.store);
        let name = input.bucket.clone();
        blocking(move || {
            store
                .create_bucket(&name, config)
                .map(|_| ())
                .map_err(S3Error::from)
        })
        .await?;
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{}", input.bucket)),
        }))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let region = b.lock().map_err(internal)?.config.region.clone();
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(region),
            ..Default::default()
        }))
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let max = input
            .max_buckets
            .map_or(10_000, |m| usize::try_from(m).unwrap_or(10_000));
        let mut buckets = Vec::new();
        let mut next = None;
        for (name, cfg) in self.store.list_buckets() {
            if !name.starts_with(&prefix)
                || input
                    .continuation_token
                    .as_ref()
                    .is_some_and(|t| name.as_str() <= t.as_str())
            {
                continue;
            }
            if buckets.len() == max {
                next = buckets.last().and_then(|b: &Bucket| b.name.clone());
                break;
            }
            buckets.push(Bucket {
                name: Some(name),
                creation_date: Some(ts(cfg.created_ms)),
                bucket_region: Some(cfg.region),
            });
        }
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(owner()),
            prefix: input.prefix,
            continuation_token: next,
        }))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let store = Arc::clone(&self.store);
        let name = req.input.bucket;
        blocking(move || store.delete_bucket(&name).map_err(S3Error::from)).await?;
        Ok(S3Response::new(DeleteBucketOutput {}))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let region = b.lock().map_err(internal)?.config.region.clone();
        // us-east-1 is the one region S3 reports as an empty constraint.
        let lc = (region != "us-east-1" && !region.is_empty())
            .then(|| BucketLocationConstraint::from(region));
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: lc,
        }))
    }

    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let v = b.lock().map_err(internal)?.config.versioning;
        let status = match v {
            Versioning::Unversioned => None,
            Versioning::Enabled => Some(BucketVersioningStatus::from_static(
                BucketVersioningStatus::ENABLED,
            )),
            Versioning::Suspended => Some(BucketVersioningStatus::from_static(
                BucketVersioningStatus::SUSPENDED,
            )),
        };
        Ok(S3Response::new(GetBucketVersioningOutput {
            status,
            mfa_delete: None,
        }))
    }

    async fn put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let new = match req.input.versioning_configuration.status.as_ref().map(BucketVersioningStatus::as_str) {
            Some("Enabled") => Versioning::Enabled,
            Some("Suspended") => Versioning::Suspended,
            _ => return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")),
        };
        update_config(b, move |c| c.versioning = new).await?;
        Ok(S3Response::new(PutBucketVersioningOutput {}))
    }

    async fn put_bucket_cors(
        &self,
        req: S3Request<PutBucketCorsInput>,
    ) -> S3Result<S3Response<PutBucketCorsOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let xml = to_xml(&req.input.cors_configuration)?;
        update_config(b, move |c| c.cors_xml = Some(xml)).await?;
        Ok(S3Response::new(PutBucketCorsOutput {}))
    }

    async fn get_bucket_cors(
        &self,
        req: S3Request<GetBucketCorsInput>,
    ) -> S3Result<S3Response<GetBucketCorsOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let xml = b.lock().map_err(internal)?.config.cors_xml.clone();
        let cfg = xml
            .as_deref()
            .and_then(cors_config_from_xml)
            .ok_or_else(|| {
                s3_error!(
                    NoSuchCORSConfiguration,
                    "The CORS configuration does not exist"
                )
            })?;
        Ok(S3Response::new(GetBucketCorsOutput {
            cors_rules: Some(cfg.cors_rules),
        }))
    }

    async fn delete_bucket_cors(
        &self,
        req: S3Request<DeleteBucketCorsInput>,
    ) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        update_config(b, move |c| c.cors_xml = None).await?;
        Ok(S3Response::new(DeleteBucketCorsOutput {}))
    }

    async fn put_bucket_tagging(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let tags = tags_from_dto(req.input.tagging.tag_set.clone());
        if tags.len() > 50 {
            return Err(s3_error!(
                InvalidTag,
                "Bucket tag count cannot be greater than 50"
            ));
        }
        validate_tags_bucket(&tags)?;
        let xml = to_xml(&req.input.tagging)?;
        update_config(b, move |c| c.tagging_xml = Some(xml)).await?;
        Ok(S3Response::new(PutBucketTaggingOutput {}))
    }

    async fn get_bucket_tagging(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let xml = b.lock().map_err(internal)?.config.tagging_xml.clone();
        let Some(xml) = xml else {
            return Err(s3_error!(NoSuchTagSet, "The TagSet does not exist"));
        };
        let t: Tagging = from_xml(&xml)?;
        Ok(S3Response::new(GetBucketTaggingOutput {
            tag_set: t.tag_set,
        }))
    }

    async fn delete_bucket_tagging(
        &self,
        req: S3Request<DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        update_config(b, move |c| c.tagging_xml = None).await?;
        Ok(S3Response::new(DeleteBucketTaggingOutput {}))
    }

    async fn put_bucket_notification_configuration(
        &self,
        req: S3Request<PutBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let xml = to_xml(&req.input.notification_configuration)?;
        update_config(b, move |c| c.notification_xml = Some(xml)).await?;
        Ok(S3Response::new(PutBucketNotificationConfigurationOutput {}))
    }

    async fn get_bucket_notification_configuration(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let xml = b.lock().map_err(internal)?.config.notification_xml.clone();
        let cfg: NotificationConfiguration = match xml {
            Some(x) => from_xml(&x)?,
            None => NotificationConfiguration::default(),
        };
        Ok(S3Response::new(GetBucketNotificationConfigurationOutput {
            event_bridge_configuration: cfg.event_bridge_configuration,
            lambda_function_configurations: cfg.lambda_function_configurations,
            queue_configurations: cfg.queue_configurations,
            topic_configurations: cfg.topic_configurations,
        }))
    }

    async fn get_bucket_acl(
        &self,
        req: S3Request<GetBucketAclInput>,
    ) -> S3Result<S3Response<GetBucketAclOutput>> {
        self.store.bucket(&req.input.bucket)?;
        Ok(S3Response::new(GetBucketAclOutput {
            owner: Some(owner()),
            grants: Some(vec![full_control()]),
        }))
    }

    async fn put_bucket_acl(
        &self,
        req: S3Request<PutBucketAclInput>,
    ) -> S3Result<S3Response<PutBucketAclOutput>> {
        // Canned ACLs are kept: they decide what anonymous requests may do. Grants are
        // accepted and ignored (a local S3 has one user).
        let b = self.store.bucket(&req.input.bucket)?;
        if let Some(acl) = req.input.acl.as_ref().map(|a| a.as_str().to_owned()) {
            update_config(b, move |c| c.acl = Some(acl)).await?;
        }
        Ok(S3Response::new(PutBucketAclOutput {}))
    }

    async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let p = b.lock().map_err(internal)?.config.policy.clone();
        match p {
            Some(policy) => Ok(S3Response::new(GetBucketPolicyOutput {
                policy: Some(policy),
            })),
            None => Err(s3_error!(
                NoSuchBucketPolicy,
                "The bucket policy does not exist"
            )),
        }
    }

    async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        let policy = req.input.policy;
        update_config(b, move |c| c.policy = Some(policy)).await?;
        Ok(S3Response::new(PutBucketPolicyOutput {}))
    }

    async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        let b = self.store.bucket(&req.input.bucket)?;
        update_config(b, move |c| c.policy = None).await?;
        Ok(S3Response::new(DeleteBucketPolicyOutput {}))
    }

    // ----- objects -------------------------------------------------------------------

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let trailing = req.trailing_headers.clone();
        let input = req.input;
        check_key(&input.key)?;
        let bucket = self.store.bucket(&input.bucket)?;
        let mut meta = meta_from(
            input.content_type.map(|c| c.to_string()),
            input.content_encoding,
            input.content_disposition,
            input.content_language,
            input.cache_control,
            input.expires,
            input.storage_class,
            input.website_redirect_location,
            input.metadata,
        )?;
        meta.acl = input.acl.as_ref().map(|a| a.as_str().to_owned());
        let tags = match &input.tagging {
            Some(t) => parse_tagging_header(t)?,
            None => Vec::new(),
        };
        let (algo, expected) = declared_checksum(
            input.checksum_algorithm.as_ref(),
            input.checksum_crc32.as_ref(),
            input.checksum_crc32c.as_ref(),
            input.checksum_crc64nvme.as_ref(),
            input.checksum_sha1.as_ref(),
            input.checksum_sha256.as_ref(),
        );
        let rec = self
            .receive_into(input.body, algo.as_deref(), store::INLINE_MAX)
            .await?;
        if let Some(len) = input.content_length {
            if u64::try_from(len).ok() != Some(rec.size) {
                rec.discard();
                return Err(s3_error!(IncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header."));
            }
        }
        let checksum = match verify_body(
            &rec,
            input.content_md5.as_deref(),
            algo.as_deref(),
            expected.as_deref(),
            trailing.as_ref(),
        ) {
            Ok(c) => c,
            Err(e) => {
                rec.discard();
                return Err(e);
            }
        };
        let etag = hex::encode(rec.md5);
        let size = rec.size;
        let key = input.key.clone();
        let (e2, c2) = (etag.clone(), checksum.clone());
        let (if_match, if_none_match) = (input.if_match, input.if_none_match);
        let (id, versioning, _) = self
            .store_received(Arc::clone(&bucket), rec, move |blob| NewObject {
                key,
                blob,
                data: None,
                size,
                etag: e2,
                meta,
                tags,
                checksum: c2,
                parts: Vec::new(),
                part_checksums: Vec::new(),
                if_match,
                if_none_match,
            })
            .await?;
        let vid = version_header(versioning, &id);
        self.emit_put(
            &req.extensions,
            &input.bucket,
            &input.key,
            "ObjectCreated:Put",
            size,
            &etag,
            vid.as_deref(),
        );
        let c = checksum_fields(checksum.as_ref());
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(etag_of(&etag)),
            // S3 names no version for writes to unversioned or suspended buckets.
            version_id: vid.filter(|v| v != "null"),
            checksum_crc32: c.checksum_crc32,
            checksum_crc32c: c.checksum_crc32c,
            checksum_crc64nvme: c.checksum_crc64nvme,
            checksum_sha1: c.checksum_sha1,
            checksum_sha256: c.checksum_sha256,
            checksum_type: c.checksum_type,
            ..Default::default()
        }))
    }

    async fn post_object(
        &self,
        req: S3Request<PostObjectInput>,
    ) -> S3Result<S3Response<PostObjectOutput>> {
        let input = req.input;
        check_key(&input.key)?;
        let bucket = self.store.bucket(&input.bucket)?;
        let mut meta = meta_from(
            input.content_type.map(|c| c.to_string()),
            input.content_encoding,
            input.content_disposition,
            input.content_language,
            input.cache_control,
            input.expires,
            input.storage_class,
            input.website_redirect_location,
            input.metadata,
        )?;
        meta.acl = input.acl.as_ref().map(|a| a.as_str().to_owned());
        let tags = match &input.tagging {
            Some(t) => parse_tagging_header(t)?,
            None => Vec::new(),
        };
        let rec = self
            .receive_into(input.body, None, store::INLINE_MAX)
            .await?;
        if let Some((min, max)) = input.policy.as_ref().and_then(|p| p.content_length_range()) {
            if rec.size < min {
                rec.discard();
                return Err(s3_error!(
                    EntityTooSmall,
                    "Your proposed upload is smaller than the minimum allowed size"
                ));
            }
            if rec.size > max {
                rec.discard();
                return Err(s3_error!(
                    EntityTooLarge,
                    "Your proposed upload exceeds the maximum allowed size"
                ));
            }
        }
        let etag = hex::encode(rec.md5);
        let size = rec.size;
        let key = input.key.clone();
        let e2 = etag.clone();
        let (id, versioning, _) = self
            .store_received(Arc::clone(&bucket), rec, move |blob| NewObject {
                key,
                blob,
                data: None,
                size,
                etag: e2,
                meta,
                tags,
                checksum: None,
                parts: Vec::new(),
                part_checksums: Vec::new(),
                if_match: None,
                if_none_match: None,
            })
            .await?;
        let vid = version_header(versioning, &id);
        self.emit_put(
            &req.extensions,
            &input.bucket,
            &input.key,
            "ObjectCreated:Post",
            size,
            &etag,
            vid.as_deref(),
        );
        Ok(S3Response::new(PostObjectOutput {
            e_tag: Some(etag_of(&etag)),
            // S3 names no version for writes to unversioned or suspended buckets.
            version_id: vid.filter(|v| v != "null"),
            ..Default::default()
        }))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        // A concurrent overwrite may delete the blob between lookup and open: look again.
        // An inline body is read through the journal handle taken under the same lock, which
        // stays valid even if compaction replaces the journal meanwhile.
        let mut attempt = 0;
        let (v, versioning, source) = loop {
            let (v, versioning, inline) = {
                let st = bucket.lock().map_err(internal)?;
                let v = find_version(&st, &input.key, input.version_id.as_deref())?;
                let inline = store::Bucket::inline_handle(&st, &v);
                (v, st.config.versioning, inline)
            };
            if let Some(handle) = inline {
                break (v, versioning, Err(handle));
            }
            let path = bucket.blob_path(v.blob.as_deref().unwrap_or_default());
            match std::fs::File::open(&path) {
                Ok(f) => break (v, versioning, Ok(f)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempt < 3 => attempt += 1,
                Err(e) => return Err(internal(e)),
            }
        };
        check_read_conditions(
            &v,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let (start, len, content_range, parts_count) =
            read_window(&v, input.range.as_ref(), input.part_number)?;
        type BodyStream = std::pin::Pin<
            Box<dyn futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send + Sync>,
        >;
        let stream: BodyStream = match source {
            Ok(mut file) => {
                if start > 0 {
                    use std::io::Seek;
                    file.seek(std::io::SeekFrom::Start(start))
                        .map_err(internal)?;
                }
                Box::pin(body::file_stream(file, len))
            }
            Err((journal, at)) => {
                // Small (<= INLINE_MAX) and in the page cache: read it here.
                let bytes = store::read_at(&journal, at + start, len).map_err(internal)?;
                Box::pin(futures::stream::once(async move { Ok(bytes) }))
            }
        };
        let c = response_checksum(
            &v,
            input.part_number,
            input
                .checksum_mode
                .as_ref()
                .is_some_and(|m| m.as_str() == "ENABLED")
                && input.range.is_none(),
        );
        let meta = &v.meta;
        let output = GetObjectOutput {
            body: Some(StreamingBlob::wrap(stream)),
            content_length: Some(i64::try_from(len).unwrap_or(i64::MAX)),
            content_range,
            accept_ranges: Some("bytes".into()),
            e_tag: Some(etag_of(&v.etag)),
            last_modified: Some(ts(v.modified_ms)),
            content_type: Some(
                input
                    .response_content_type
                    .map(|c| c.to_string())
                    .or_else(|| meta.content_type.clone())
                    .unwrap_or_else(|| "binary/octet-stream".into())
                    .parse()
                    .map_err(internal)?,
            ),
            content_encoding: input
                .response_content_encoding
                .or_else(|| meta.content_encoding.clone()),
            content_disposition: input
                .response_content_disposition
                .or_else(|| meta.content_disposition.clone()),
            content_language: input
                .response_content_language
                .or_else(|| meta.content_language.clone()),
            cache_control: input
                .response_cache_control
                .or_else(|| meta.cache_control.clone()),
            expires: input.response_expires.or_else(|| expires_ts(meta)),
            metadata: (!meta.user.is_empty()).then(|| meta.user.clone().into_iter().collect()),
            storage_class: meta.storage_class.clone().map(StorageClass::from),
            website_redirect_location: meta.website_redirect.clone(),
            version_id: version_header(versioning, &v.id),
            tag_count: (!v.tags.is_empty()).then(|| i32::try_from(v.tags.len()).unwrap_or(0)),
            parts_count,
            checksum_crc32: c.checksum_crc32,
            checksum_crc32c: c.checksum_crc32c,
            checksum_crc64nvme: c.checksum_crc64nvme,
            checksum_sha1: c.checksum_sha1,
            checksum_sha256: c.checksum_sha256,
            checksum_type: c.checksum_type,
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let (v, versioning) = {
            let st = bucket.lock().map_err(internal)?;
            (
                find_version(&st, &input.key, input.version_id.as_deref())?,
                st.config.versioning,
            )
        };
        check_read_conditions(
            &v,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let (_, len, content_range, parts_count) =
            read_window(&v, input.range.as_ref(), input.part_number)?;
        let c = response_checksum(
            &v,
            input.part_number,
            input
                .checksum_mode
                .as_ref()
                .is_some_and(|m| m.as_str() == "ENABLED"),
        );
        let meta = &v.meta;
        let tag_count = v.tags.len();
        let mut resp = S3Response::new(HeadObjectOutput {
            content_length: Some(i64::try_from(len).unwrap_or(i64::MAX)),
            content_range,
            accept_ranges: Some("bytes".into()),
            e_tag: Some(etag_of(&v.etag)),
            last_modified: Some(ts(v.modified_ms)),
            content_type: Some(
                meta.content_type
                    .clone()
                    .unwrap_or_else(|| "binary/octet-stream".into())
                    .parse()
                    .map_err(internal)?,
            ),
            content_encoding: meta.content_encoding.clone(),
            content_disposition: meta.content_disposition.clone(),
            content_language: meta.content_language.clone(),
            cache_control: meta.cache_control.clone(),
            expires: expires_ts(meta),
            metadata: (!meta.user.is_empty()).then(|| meta.user.clone().into_iter().collect()),
            storage_class: meta.storage_class.clone().map(StorageClass::from),
            website_redirect_location: meta.website_redirect.clone(),
            version_id: version_header(versioning, &v.id),
            parts_count,
            checksum_crc32: c.checksum_crc32,
            checksum_crc32c: c.checksum_crc32c,
            checksum_crc64nvme: c.checksum_crc64nvme,
            checksum_sha1: c.checksum_sha1,
            checksum_sha256: c.checksum_sha256,
            checksum_type: c.checksum_type,
            ..Default::default()
        });
        if tag_count > 0 {
            resp.headers
                .insert("x-amz-tagging-count", http::HeaderValue::from(tag_count));
        }
        Ok(resp)
    }

    async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let (v, versioning) = {
            let st = bucket.lock().map_err(internal)?;
            (
                find_version(&st, &input.key, input.version_id.as_deref())?,
                st.config.versioning,
            )
        };
        let want = |name: &str| {
            input
                .object_attributes
                .iter()
                .flat_map(|a| a.as_str().split(','))
                .any(|a| a.trim().eq_ignore_ascii_case(name))
        };
        let parts = (want("ObjectParts") && !v.parts.is_empty()).then(|| {
            let max = input
                .max_parts
                .map_or(1000, |m| usize::try_from(m).unwrap_or(1000).min(1000));
            let marker = input
                .part_number_marker
                .and_then(|m| usize::try_from(m).ok())
                .unwrap_or(0);
            let algo = v.checksum.as_ref().map(|c| c.algorithm.clone());
            let listed: Vec<ObjectPart> = v
                .parts
                .iter()
                .enumerate()
                .skip(marker)
                .take(max)
                .map(|(i, size)| {
                    let c = checksum_fields(
                        v.part_checksums
                            .get(i)
                            .zip(algo.as_ref())
                            .map(|(val, a)| StoredChecksum {
                                algorithm: a.clone(),
                                value: val.clone(),
                                kind: String::new(),
                            })
                            .as_ref(),
                    );
                    ObjectPart {
                        part_number: Some(i32::try_from(i + 1).unwrap_or(i32::MAX)),
                        size: Some(i64::try_from(*size).unwrap_or(i64::MAX)),
                        checksum_crc32: c.checksum_crc32,
                        checksum_crc32c: c.checksum_crc32c,
                        checksum_crc64nvme: c.checksum_crc64nvme,
                        checksum_sha1: c.checksum_sha1,
                        checksum_sha256: c.checksum_sha256,
                    }
                })
                .collect();
            let last = marker + listed.len();
            let truncated = last < v.parts.len();
            GetObjectAttributesParts {
                total_parts_count: Some(i32::try_from(v.parts.len()).unwrap_or(i32::MAX)),
                part_number_marker: Some(i32::try_from(marker).unwrap_or(0)),
                next_part_number_marker: Some(i32::try_from(last).unwrap_or(0)),
                max_parts: Some(i32::try_from(max).unwrap_or(1000)),
                is_truncated: Some(truncated),
                parts: Some(listed),
            }
        });
        Ok(S3Response::new(GetObjectAttributesOutput {
            e_tag: want("ETag").then(|| etag_of(&v.etag)),
            object_size: want("ObjectSize").then(|| i64::try_from(v.size).unwrap_or(i64::MAX)),
            storage_class: want("StorageClass").then(|| {
                StorageClass::from(
                    v.meta
                        .storage_class
                        .clone()
                        .unwrap_or_else(|| "STANDARD".into()),
                )
            }),
            checksum: (want("Checksum") && v.checksum.is_some())
                .then(|| checksum_fields(v.checksum.as_ref())),
            object_parts: parts,
            last_modified: Some(ts(v.modified_ms)),
            version_id: version_header(versioning, &v.id),
            ..Default::default()
        }))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let key = req.input.key.clone();
        let vid = req.input.version_id.clone();
        let b2 = Arc::clone(&bucket);
        let cond = DeleteIf {
            etag: req.input.if_match.as_ref().map(|c| match c {
                ETagCondition::Any => "*".to_owned(),
                ETagCondition::ETag(e) => e.value().to_owned(),
            }),
            modified_secs: req.input.if_match_last_modified_time.as_ref().map(ts_secs),
            size: req.input.if_match_size,
        };
        let d = blocking(move || delete_one(&b2, &key, vid.as_deref(), &cond)).await?;
        if let Some(ev) = d.event {
            self.emit_put(
                &req.extensions,
                &req.input.bucket,
                &req.input.key,
                ev,
                0,
                "",
                d.version_id.as_deref(),
            );
        }
        Ok(S3Response::new(DeleteObjectOutput {
            delete_marker: d.delete_marker.then_some(true),
            version_id: d.version_id,
            ..Default::default()
        }))
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let objects = req.input.delete.objects.clone();
        if objects.len() > 1000 {
            return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
        }
        let quiet = req.input.delete.quiet == Some(true);
        let b2 = Arc::clone(&bucket);
        let results = blocking(move || {
            Ok(objects
                .into_iter()
                .map(|o| {
                    let cond = DeleteIf {
                        etag: o.e_tag.as_ref().map(|e| e.value().to_owned()),
                        modified_secs: o.last_modified_time.as_ref().map(ts_secs),
                        size: o.size,
                    };
                    let r = delete_one(&b2, &o.key, o.version_id.as_deref(), &cond);
                    (o, r)
                })
                .collect::<Vec<_>>())
        })
        .await?;
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for (o, r) in results {
            match r {
                Ok(d) => {
                    if let Some(ev) = d.event {
                        self.emit_put(
                            &req.extensions,
                            &req.input.bucket,
                            &o.key,
                            ev,
                            0,
                            "",
                            d.version_id.as_deref(),
                        );
                    }
                    if !quiet {
                        deleted.push(DeletedObject {
                            key: Some(o.key),
                            version_id: o.version_id.clone(),
                            delete_marker: d.delete_marker.then_some(true),
                            delete_marker_version_id: if d.delete_marker && o.version_id.is_none() {
                                d.version_id
                            } else {
                                None
                            },
                        });
                    }
                }
                Err(e) => errors.push(Error {
                    code: Some(e.code().as_str().to_owned()),
                    key: Some(o.key),
                    message: e.message().map(str::to_owned),
                    version_id: o.version_id,
                }),
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            errors: (!errors.is_empty()).then_some(errors),
            ..Default::default()
        }))
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let input = req.input;
        check_key(&input.key)?;
        let (src_bucket_name, src_key, src_vid) = Self::copy_source(&input.copy_source)?;
        let src_bucket = self.store.bucket(&src_bucket_name)?;
        let dst_bucket = self.store.bucket(&input.bucket)?;
        let src = {
            let st = src_bucket.lock().map_err(internal)?;
            find_version(&st, &src_key, src_vid.as_deref())?
        };
        // Copy preconditions answer 412, never 304.
        let pf = || {
            s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            )
        };
        let src_mod = src.modified_ms.div_euclid(1000);
        let etag_ok = |c: &ETagCondition| match c {
            ETagCondition::Any => true,
            ETagCondition::ETag(e) => e.value() == src.etag,
        };
        if let Some(c) = &input.copy_source_if_match {
            if !etag_ok(c) {
                return Err(pf());
            }
        } else if let Some(t) = &input.copy_source_if_unmodified_since {
            if src_mod > ts_secs(t) {
                return Err(pf());
            }
        }
        if let Some(c) = &input.copy_source_if_none_match {
            if etag_ok(c) {
                return Err(pf());
            }
        } else if let Some(t) = &input.copy_source_if_modified_since {
            if src_mod <= ts_secs(t) {
                return Err(pf());
            }
        }
        let replace_meta = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == "REPLACE");
        let replace_tags = input
            .tagging_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == "REPLACE");
        let same = src_bucket_name == input.bucket && src_key == input.key && src_vid.is_none();
        if same
            && !replace_meta
            && input.storage_class.is_none()
            && input.website_redirect_location.is_none()
        {
            return Err(s3_error!(
                InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            ));
        }
        let meta = if replace_meta {
            meta_from(
                input.content_type.map(|c| c.to_string()),
                input.content_encoding,
                input.content_disposition,
                input.content_language,
                input.cache_control,
                input.expires,
                input.storage_class,
                input.website_redirect_location,
                input.metadata,
            )?
        } else {
            let mut m = src.meta.clone();
            if let Some(sc) = input.storage_class {
                m.storage_class = Some(sc.as_str().to_owned()).filter(|s| s != "STANDARD");
            }
            if input.website_redirect_location.is_some() {
                m.website_redirect = input.website_redirect_location;
            }
            m
        };
        let mut meta = meta;
        meta.acl = input.acl.as_ref().map(|a| a.as_str().to_owned());
        let tags = if replace_tags {
            match &input.tagging {
                Some(t) => parse_tagging_header(t)?,
                None => Vec::new(),
            }
        } else {
            src.tags.clone()
        };
        let src_blob = src.blob.clone().unwrap_or_default();
        let (sb, db) = (Arc::clone(&src_bucket), Arc::clone(&dst_bucket));
        let key = input.key.clone();
        let etag = src.etag.clone();
        let src2 = src.clone();
        let src_key_for_copy = src_key.clone();
        let (id, versioning, modified) = blocking(move || {
            // Inline bodies are copied as bytes; blob bodies as a hard link.
            let (blob, data) = if src2.inline_at.is_some() {
                (
                    String::new(),
                    Some(read_inline_version(&sb, &src_key_for_copy, &src2.id)?),
                )
            } else {
                (db.link_blob(&sb, &src_blob).map_err(internal)?, None)
            };
            commit_object(
                &db,
                NewObject {
                    key,
                    blob,
                    data,
                    size: src2.size,
                    etag: src2.etag,
                    meta,
                    tags,
                    checksum: src2.checksum,
                    parts: src2.parts,
                    part_checksums: src2.part_checksums,
                    if_match: None,
                    if_none_match: None,
                },
            )
        })
        .await?;
        let vid = version_header(versioning, &id);
        self.emit_put(
            &req.extensions,
            &input.bucket,
            &input.key,
            "ObjectCreated:Copy",
            src.size,
            &etag,
            vid.as_deref(),
        );
        let c = checksum_fields(src.checksum.as_ref());
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag_of(&etag)),
                last_modified: Some(ts(modified)),
                checksum_crc32: c.checksum_crc32,
                checksum_crc32c: c.checksum_crc32c,
                checksum_crc64nvme: c.checksum_crc64nvme,
                checksum_sha1: c.checksum_sha1,
                checksum_sha256: c.checksum_sha256,
                checksum_type: c.checksum_type,
            }),
            // S3 names no version for writes to unversioned or suspended buckets.
            version_id: vid.filter(|v| v != "null"),
            copy_source_version_id: src_vid.or_else(|| (src.id != "null").then(|| src.id.clone())),
            ..Default::default()
        }))
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let (v, versioning) = {
            let st = bucket.lock().map_err(internal)?;
            (
                find_version(&st, &req.input.key, req.input.version_id.as_deref())?,
                st.config.versioning,
            )
        };
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set: tags_to_dto(&v.tags),
            version_id: version_header(versioning, &v.id),
        }))
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let tags = tags_from_dto(req.input.tagging.tag_set.clone());
        validate_tags(&tags)?;
        let (key, vid) = (req.input.key.clone(), req.input.version_id.clone());
        let id = blocking(move || set_tags(&bucket, &key, vid.as_deref(), tags)).await?;
        Ok(S3Response::new(PutObjectTaggingOutput { version_id: id }))
    }

    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let (key, vid) = (req.input.key.clone(), req.input.version_id.clone());
        let id = blocking(move || set_tags(&bucket, &key, vid.as_deref(), Vec::new())).await?;
        Ok(S3Response::new(DeleteObjectTaggingOutput {
            version_id: id,
        }))
    }

    async fn get_object_acl(
        &self,
        req: S3Request<GetObjectAclInput>,
    ) -> S3Result<S3Response<GetObjectAclOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        {
            let st = bucket.lock().map_err(internal)?;
            find_version(&st, &req.input.key, req.input.version_id.as_deref())?;
        }
        Ok(S3Response::new(GetObjectAclOutput {
            owner: Some(owner()),
            grants: Some(vec![full_control()]),
            ..Default::default()
        }))
    }

    async fn put_object_acl(
        &self,
        req: S3Request<PutObjectAclInput>,
    ) -> S3Result<S3Response<PutObjectAclOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let (key, vid) = (req.input.key.clone(), req.input.version_id.clone());
        let acl = req.input.acl.as_ref().map(|a| a.as_str().to_owned());
        blocking(move || {
            let mut st = bucket.lock().map_err(internal)?;
            let mut v = find_version(&st, &key, vid.as_deref())?;
            if acl.is_some() {
                v.meta.acl = acl;
                bucket
                    .commit(
                        &mut st,
                        vec![Record::Put {
                            key,
                            v: Box::new(v),
                            in_place: true,
                            data_follows: false,
                            crc: None,
                            data: None,
                        }],
                    )
                    .map_err(internal)?;
            }
            Ok(())
        })
        .await?;
        Ok(S3Response::new(PutObjectAclOutput::default()))
    }

    // ----- listing -------------------------------------------------------------------

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let max = max_keys(input.max_keys)?;
        let encode = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == "url");
        let prefix = input.prefix.clone().unwrap_or_default();
        let listing = {
            let st = bucket.lock().map_err(internal)?;
            list_latest(
                &st,
                &prefix,
                input.delimiter.as_deref(),
                input.marker.as_deref().filter(|m| !m.is_empty()),
                max,
            )
        };
        let next_marker = (listing.truncated && input.delimiter.is_some())
            .then(|| listing.last.clone())
            .flatten();
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            // S3 does not encode the v1 Prefix element (botocore does not decode it either).
            prefix: Some(prefix),
            marker: Some(maybe_encode(input.marker.unwrap_or_default(), encode)),
            max_keys: Some(i32::try_from(max).unwrap_or(1000)),
            is_truncated: Some(listing.truncated),
            contents: Some(
                listing
                    .objects
                    .into_iter()
                    .map(|(k, v)| object_dto(maybe_encode(k, encode), &v, true))
                    .collect(),
            ),
            common_prefixes: Some(
                listing
                    .prefixes
                    .into_iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(maybe_encode(p, encode)),
                    })
                    .collect(),
            ),
            delimiter: input
                .delimiter
                .filter(|d| !d.is_empty())
                .map(|d| maybe_encode(d, encode)),
            next_marker: next_marker.map(|m| maybe_encode(m, encode)),
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let max = max_keys(input.max_keys)?;
        let encode = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == "url");
        let prefix = input.prefix.clone().unwrap_or_default();
        let after = match &input.continuation_token {
            Some(t) => Some(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(t)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        s3_error!(
                            InvalidArgument,
                            "The continuation token provided is incorrect"
                        )
                    })?,
            ),
            None => input.start_after.clone().filter(|s| !s.is_empty()),
        };
        let listing = {
            let st = bucket.lock().map_err(internal)?;
            list_latest(
                &st,
                &prefix,
                input.delimiter.as_deref(),
                after.as_deref(),
                max,
            )
        };
        let with_owner = input.fetch_owner == Some(true);
        let key_count = listing.objects.len() + listing.prefixes.len();
        let next = (listing.truncated)
            .then(|| {
                listing
                    .last
                    .as_ref()
                    .map(|l| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(l.as_bytes()))
            })
            .flatten();
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(maybe_encode(prefix, encode)),
            max_keys: Some(i32::try_from(max).unwrap_or(1000)),
            key_count: Some(i32::try_from(key_count).unwrap_or(i32::MAX)),
            continuation_token: input.continuation_token,
            is_truncated: Some(listing.truncated),
            next_continuation_token: next,
            contents: Some(
                listing
                    .objects
                    .into_iter()
                    .map(|(k, v)| object_dto(maybe_encode(k, encode), &v, with_owner))
                    .collect(),
            ),
            common_prefixes: Some(
                listing
                    .prefixes
                    .into_iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(maybe_encode(p, encode)),
                    })
                    .collect(),
            ),
            delimiter: input
                .delimiter
                .filter(|d| !d.is_empty())
                .map(|d| maybe_encode(d, encode)),
            encoding_type: input.encoding_type,
            start_after: input.start_after.map(|s| maybe_encode(s, encode)),
            ..Default::default()
        }))
    }

    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let max = max_keys(input.max_keys)?;
        let encode = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == "url");
        let prefix = input.prefix.clone().unwrap_or_default();
        let key_marker = input.key_marker.clone().filter(|k| !k.is_empty());
        let vid_marker = input.version_id_marker.clone().filter(|v| !v.is_empty());
        let mut versions = Vec::new();
        let mut markers = Vec::new();
        let mut prefixes = Vec::new();
        let mut truncated = false;
        let mut next: Option<(String, Option<String>)> = None;
        {
            let st = bucket.lock().map_err(internal)?;
            let mut count = 0usize;
            // With a version-id marker, the marker key itself still has versions to show.
            let (after, resume_in) = match (&key_marker, &vid_marker) {
                (Some(k), Some(v)) => {
                    // Start at the key itself: walk from the key just below it.
                    let lower = st
                        .objects
                        .range::<String, _>((Bound::Unbounded, Bound::Excluded(k.clone())))
                        .next_back()
                        .map(|(key, _)| key.clone());
                    (lower, Some((k.clone(), v.clone())))
                }
                (Some(k), None) => (Some(k.clone()), None),
                _ => (None, None),
            };
            if max > 0 {
                walk(
                    &st.objects,
                    &prefix,
                    input.delimiter.as_deref(),
                    after.as_deref(),
                    |e| {
                        match e {
                            Entry::Prefix(p) => {
                                if count == max {
                                    truncated = true;
                                    return false;
                                }
                                next = Some((p.clone(), None));
                                prefixes.push(p);
                                count += 1;
                            }
                            Entry::Key(k, vs) => {
                                let mut skip_until = None;
                                if let Some((rk, rv)) = &resume_in {
                                    if rk == k {
                                        skip_until = Some(rv.clone());
                                    } else if k < rk {
                                        return true;
                                    }
                                }
                                let mut skipping = skip_until.is_some();
                                for (i, v) in vs.iter().enumerate() {
                                    if skipping {
                                        if Some(&v.id) == skip_until.as_ref() {
                                            skipping = false;
                                        }
                                        continue;
                                    }
                                    if count == max {
                                        truncated = true;
                                        return false;
                                    }
                                    if v.delete_marker {
                                        markers.push(DeleteMarkerEntry {
                                            key: Some(maybe_encode(k.clone(), encode)),
                                            version_id: Some(v.id.clone()),
                                            is_latest: Some(i == 0),
                                            last_modified: Some(ts(v.modified_ms)),
                                            owner: Some(owner()),
                                        });
                                    } else {
                                        versions.push(ObjectVersion {
                                            key: Some(maybe_encode(k.clone(), encode)),
                                            version_id: Some(v.id.clone()),
                                            is_latest: Some(i == 0),
                                            last_modified: Some(ts(v.modified_ms)),
                                            e_tag: Some(etag_of(&v.etag)),
                                            size: Some(i64::try_from(v.size).unwrap_or(i64::MAX)),
                                            storage_class: Some(
                                                ObjectVersionStorageClass::from_static(
                                                    ObjectVersionStorageClass::STANDARD,
                                                ),
                                            ),
                                            owner: Some(owner()),
                                            checksum_algorithm: v.checksum.as_ref().map(|c| {
                                                vec![ChecksumAlgorithm::from(c.algorithm.clone())]
                                            }),
                                            checksum_type: v
                                                .checksum
                                                .as_ref()
                                                .map(|c| ChecksumType::from(c.kind.clone())),
                                            ..Default::default()
                                        });
                                    }
                                    next = Some((k.clone(), Some(v.id.clone())));
                                    count += 1;
                                }
                            }
                        }
                        true
                    },
                );
            }
        }
        let (nk, nv) = if truncated {
            next.map_or((None, None), |(k, v)| (Some(k), v))
        } else {
            (None, None)
        };
        Ok(S3Response::new(ListObjectVersionsOutput {
            name: Some(input.bucket),
            prefix: Some(maybe_encode(prefix, encode)),
            key_marker: Some(input.key_marker.unwrap_or_default()),
            version_id_marker: Some(input.version_id_marker.unwrap_or_default()),
            max_keys: Some(i32::try_from(max).unwrap_or(1000)),
            is_truncated: Some(truncated),
            versions: Some(versions),
            delete_markers: Some(markers),
            common_prefixes: Some(
                prefixes
                    .into_iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(maybe_encode(p, encode)),
                    })
                    .collect(),
            ),
            delimiter: input.delimiter.filter(|d| !d.is_empty()),
            next_key_marker: nk.map(|k| maybe_encode(k, encode)),
            next_version_id_marker: nv,
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }

    // ----- multipart -----------------------------------------------------------------

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        check_key(&input.key)?;
        let bucket = self.store.bucket(&input.bucket)?;
        let mut meta = meta_from(
            input.content_type.map(|c| c.to_string()),
            input.content_encoding,
            input.content_disposition,
            input.content_language,
            input.cache_control,
            input.expires,
            input.storage_class,
            input.website_redirect_location,
            input.metadata,
        )?;
        meta.acl = input.acl.as_ref().map(|a| a.as_str().to_owned());
        let tags = match &input.tagging {
            Some(t) => parse_tagging_header(t)?,
            None => Vec::new(),
        };
        let algo = input
            .checksum_algorithm
            .as_ref()
            .map(|a| a.as_str().to_ascii_uppercase());
        if let Some(a) = &algo {
            if body::checksum_hasher(a).is_none() {
                return Err(s3_error!(
                    InvalidRequest,
                    "unsupported checksum algorithm {}",
                    a
                ));
            }
        }
        let kind = input
            .checksum_type
            .as_ref()
            .map(|t| t.as_str().to_owned())
            .or_else(|| algo.as_ref().map(|_| "COMPOSITE".to_owned()));
        let up = Upload {
            id: store::new_id(),
            key: input.key.clone(),
            initiated_ms: store::now_ms(),
            meta,
            tags,
            checksum_algorithm: algo.clone(),
            checksum_type: kind.clone(),
            parts: BTreeMap::new(),
        };
        let id = up.id.clone();
        blocking(move || {
            bucket.save_upload(&up).map_err(internal)?;
            bucket
                .lock()
                .map_err(internal)?
                .uploads
                .insert(up.id.clone(), up);
            Ok(())
        })
        .await?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(id),
            checksum_algorithm: algo.map(ChecksumAlgorithm::from),
            checksum_type: kind.map(ChecksumType::from),
            ..Default::default()
        }))
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let trailing = req.trailing_headers.clone();
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let part = part_number(input.part_number)?;
        let upload_algo = {
            let st = bucket.lock().map_err(internal)?;
            let up = st
                .uploads
                .get(&input.upload_id)
                .filter(|u| u.key == input.key)
                .ok_or_else(no_such_upload)?;
            up.checksum_algorithm.clone()
        };
        let (algo, expected) = declared_checksum(
            input.checksum_algorithm.as_ref(),
            input.checksum_crc32.as_ref(),
            input.checksum_crc32c.as_ref(),
            input.checksum_crc64nvme.as_ref(),
            input.checksum_sha1.as_ref(),
            input.checksum_sha256.as_ref(),
        );
        let algo = algo.or(upload_algo);
        // Parts are always files: completion concatenates them.
        let rec = self.receive_into(input.body, algo.as_deref(), 0).await?;
        if let Some(len) = input.content_length {
            if u64::try_from(len).ok() != Some(rec.size) {
                rec.discard();
                return Err(s3_error!(IncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header."));
            }
        }
        let checksum = match verify_body(
            &rec,
            input.content_md5.as_deref(),
            algo.as_deref(),
            expected.as_deref(),
            trailing.as_ref(),
        ) {
            Ok(c) => c,
            Err(e) => {
                rec.discard();
                return Err(e);
            }
        };
        let etag = hex::encode(rec.md5);
        let info = PartInfo {
            blob: String::new(),
            size: rec.size,
            etag: etag.clone(),
            modified_ms: store::now_ms(),
            checksum: checksum.as_ref().map(|c| c.value.clone()),
        };
        let upload_id = input.upload_id.clone();
        blocking(move || {
            let blob = bucket.adopt_blob(&rec.tmp).map_err(internal)?;
            add_part(&bucket, &upload_id, part, PartInfo { blob, ..info })
        })
        .await?;
        let c = checksum_fields(checksum.as_ref());
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(etag_of(&etag)),
            checksum_crc32: c.checksum_crc32,
            checksum_crc32c: c.checksum_crc32c,
            checksum_crc64nvme: c.checksum_crc64nvme,
            checksum_sha1: c.checksum_sha1,
            checksum_sha256: c.checksum_sha256,
            ..Default::default()
        }))
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let part = part_number(input.part_number)?;
        {
            let st = bucket.lock().map_err(internal)?;
            st.uploads
                .get(&input.upload_id)
                .filter(|u| u.key == input.key)
                .ok_or_else(no_such_upload)?;
        }
        let (sbn, skey, svid) = Self::copy_source(&input.copy_source)?;
        let src_bucket = self.store.bucket(&sbn)?;
        let src = {
            let st = src_bucket.lock().map_err(internal)?;
            find_version(&st, &skey, svid.as_deref())?
        };
        let pf = || {
            s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            )
        };
        if let Some(ETagCondition::ETag(e)) = &input.copy_source_if_match {
            if e.value() != src.etag {
                return Err(pf());
            }
        }
        if let Some(ETagCondition::ETag(e)) = &input.copy_source_if_none_match {
            if e.value() == src.etag {
                return Err(pf());
            }
        }
        let (offset, len) = match &input.copy_source_range {
            Some(r) => parse_copy_range(r, src.size)?,
            None => (0, src.size),
        };
        let src_path = src_bucket.blob_path(src.blob.as_deref().unwrap_or_default());
        let tmp = self.store.tmp_path();
        let upload_id = input.upload_id.clone();
        let b2 = Arc::clone(&bucket);
        let (sb, inline_src) = (
            Arc::clone(&src_bucket),
            src.inline_at.map(|_| (skey.clone(), src.id.clone())),
        );
        let (etag, modified) = blocking(move || {
            let (md5, n) = match inline_src {
                Some((k, id)) => {
                    // A part is always a file: write the inline source's range into one.
                    let data = read_inline_version(&sb, &k, &id)?;
                    let range = usize::try_from(offset).map_err(internal)?
                        ..usize::try_from(offset + len).map_err(internal)?;
                    let slice = data.get(range).ok_or_else(|| {
                        s3_error!(InvalidRange, "The requested range is not satisfiable")
                    })?;
                    let mut f = std::fs::File::create(&tmp).map_err(internal)?;
                    std::io::Write::write_all(&mut f, slice).map_err(internal)?;
                    f.sync_all().map_err(internal)?;
                    (Md5::digest(slice), len)
                }
                None => body::copy_range(&src_path, offset, len, &tmp).map_err(internal)?,
            };
            let blob = b2.adopt_blob(&tmp).map_err(internal)?;
            let etag = hex::encode(md5);
            let modified = store::now_ms();
            add_part(
                &b2,
                &upload_id,
                part,
                PartInfo {
                    blob,
                    size: n,
                    etag: etag.clone(),
                    modified_ms: modified,
                    checksum: None,
                },
            )?;
            Ok((etag, modified))
        })
        .await?;
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(etag_of(&etag)),
                last_modified: Some(ts(modified)),
                ..Default::default()
            }),
            copy_source_version_id: svid,
            ..Default::default()
        }))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let requested = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default();
        let found = {
            let st = bucket.lock().map_err(internal)?;
            match st
                .uploads
                .get(&input.upload_id)
                .filter(|u| u.key == input.key)
            {
                Some(up) => Ok(up.clone()),
                None => Err(st
                    .completed
                    .get(&input.upload_id)
                    .filter(|c| c.0 == input.key)
                    .cloned()),
            }
        };
        let up = match found {
            Ok(up) => up,
            // Completing the same upload again answers as the first completion did.
            Err(Some((_, etag, vid, checksum))) => {
                let c = checksum_fields(checksum.as_ref());
                return Ok(S3Response::new(CompleteMultipartUploadOutput {
                    bucket: Some(input.bucket.clone()),
                    key: Some(input.key.clone()),
                    location: Some(format!("/{}/{}", input.bucket, input.key)),
                    e_tag: Some(etag_of(&etag)),
                    version_id: (vid != "null").then_some(vid),
                    checksum_crc32: c.checksum_crc32,
                    checksum_crc32c: c.checksum_crc32c,
                    checksum_crc64nvme: c.checksum_crc64nvme,
                    checksum_sha1: c.checksum_sha1,
                    checksum_sha256: c.checksum_sha256,
                    checksum_type: c.checksum_type,
                    ..Default::default()
                }));
            }
            Err(None) => return Err(no_such_upload()),
        };
        if requested.is_empty() {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        }
        // S3 checks the order of the whole list first, then each part, then the sizes.
        let mut requested = requested;
        // A part listed twice in a row (a re-sent part) counts once, the later entry winning.
        requested = requested
            .into_iter()
            .fold(Vec::new(), |mut acc: Vec<CompletedPart>, p| {
                match acc.last_mut() {
                    Some(last) if last.part_number == p.part_number => *last = p,
                    _ => acc.push(p),
                }
                acc
            });
        if requested
            .windows(2)
            .any(|w| w[0].part_number.unwrap_or(0) > w[1].part_number.unwrap_or(0))
        {
            return Err(s3_error!(
                InvalidPartOrder,
                "The list of parts was not in ascending order. Parts must be ordered by part number."
            ));
        }
        let mut chosen: Vec<PartInfo> = Vec::with_capacity(requested.len());
        for p in &requested {
            let info = p
                .part_number
                .and_then(|n| u32::try_from(n).ok())
                .and_then(|n| up.parts.get(&n))
                .ok_or_else(invalid_part)?;
            if let Some(e) = &p.e_tag {
                if e.value().trim_matches('"') != info.etag {
                    return Err(invalid_part());
                }
            }
            chosen.push(info.clone());
        }
        if chosen.iter().rev().skip(1).any(|p| p.size < MIN_PART_SIZE) {
            return Err(s3_error!(
                EntityTooSmall,
                "Your proposed upload is smaller than the minimum allowed object size."
            ));
        }
        let mut md5s = Md5::new();
        for p in &chosen {
            let bytes = hex::decode(&p.etag).map_err(internal)?;
            md5s.update(&bytes);
        }
        let etag = format!("{}-{}", hex::encode(md5s.finalize()), chosen.len());
        let size: u64 = chosen.iter().map(|p| p.size).sum();
        let composite = multipart_checksum(&up, &chosen);
        let (_, declared) = declared_checksum(
            None,
            input.checksum_crc32.as_ref(),
            input.checksum_crc32c.as_ref(),
            input.checksum_crc64nvme.as_ref(),
            input.checksum_sha1.as_ref(),
            input.checksum_sha256.as_ref(),
        );
        if let (Some(d), Some(c)) = (declared.as_deref(), composite.as_ref()) {
            let bare = |v: &str| v.split('-').next().unwrap_or_default().to_owned();
            if bare(d) != bare(&c.value) {
                return Err(s3_error!(
                    BadDigest,
                    "The {} you specified did not match the calculated checksum.",
                    c.algorithm
                ));
            }
        }
        let full_object_algo = up
            .checksum_algorithm
            .clone()
            .filter(|_| up.checksum_type.as_deref() == Some("FULL_OBJECT"));
        let part_checksums: Vec<String> = if chosen.iter().all(|p| p.checksum.is_some()) {
            chosen.iter().filter_map(|p| p.checksum.clone()).collect()
        } else {
            Vec::new()
        };
        let tmp = self.store.tmp_path();
        let b2 = Arc::clone(&bucket);
        let (key, upload_id) = (input.key.clone(), input.upload_id.clone());
        let e2 = etag.clone();
        let (if_match, if_none_match) = (input.if_match, input.if_none_match);
        let (id, versioning, checksum) = blocking(move || {
            // Concatenate into one blob, fsync, then commit. Without a full-object checksum
            // to compute, std's copy uses copy_file_range and never touches the bytes.
            let mut hasher = full_object_algo.as_deref().and_then(body::checksum_hasher);
            {
                let mut out = std::fs::File::create(&tmp).map_err(internal)?;
                for p in &chosen {
                    let mut f = std::fs::File::open(b2.blob_path(&p.blob)).map_err(internal)?;
                    match hasher.as_mut() {
                        None => {
                            std::io::copy(&mut f, &mut out).map_err(internal)?;
                        }
                        Some(h) => {
                            use std::io::{Read, Write};
                            let mut buf = vec![0u8; 1 << 20];
                            loop {
                                let n = f.read(&mut buf).map_err(internal)?;
                                if n == 0 {
                                    break;
                                }
                                h.update(&buf[..n]);
                                out.write_all(&buf[..n]).map_err(internal)?;
                            }
                        }
                    }
                }
                if b2.durable {
                    out.sync_all().map_err(internal)?;
                }
            }
            let checksum = match (hasher, full_object_algo) {
                (Some(h), Some(algo)) => {
                    body::checksum_value(&h.finalize(), &algo).map(|v| StoredChecksum {
                        algorithm: algo.clone(),
                        value: v.to_owned(),
                        kind: "FULL_OBJECT".into(),
                    })
                }
                _ => composite,
            };
            let blob = b2.adopt_blob(&tmp).map_err(internal)?;
            let (id, versioning, _) = commit_object(
                &b2,
                NewObject {
                    key: key.clone(),
                    blob,
                    data: None,
                    size,
                    etag: e2.clone(),
                    meta: up.meta.clone(),
                    tags: up.tags.clone(),
                    checksum: checksum.clone(),
                    parts: chosen.iter().map(|p| p.size).collect(),
                    part_checksums,
                    if_match,
                    if_none_match,
                },
            )?;
            let removed = {
                let mut st = b2.lock().map_err(internal)?;
                // Bounded: only a retry shortly after completion needs the answer again.
                if st.completed.len() >= 10_000 {
                    st.completed.clear();
                }
                st.completed
                    .insert(upload_id.clone(), (key, e2, id.clone(), checksum.clone()));
                st.uploads.remove(&upload_id)
            };
            b2.remove_upload_file(&upload_id).map_err(internal)?;
            if let Some(removed) = removed {
                let blobs: Vec<String> = removed.parts.values().map(|p| p.blob.clone()).collect();
                b2.drop_blobs(&blobs);
            }
            Ok((id, versioning, checksum))
        })
        .await?;
        let vid = version_header(versioning, &id);
        self.emit_put(
            &req.extensions,
            &input.bucket,
            &input.key,
            "ObjectCreated:CompleteMultipartUpload",
            size,
            &etag,
            vid.as_deref(),
        );
        let c = checksum_fields(checksum.as_ref());
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            e_tag: Some(etag_of(&etag)),
            // S3 names no version for writes to unversioned or suspended buckets.
            version_id: vid.filter(|v| v != "null"),
            checksum_crc32: c.checksum_crc32,
            checksum_crc32c: c.checksum_crc32c,
            checksum_crc64nvme: c.checksum_crc64nvme,
            checksum_sha1: c.checksum_sha1,
            checksum_sha256: c.checksum_sha256,
            checksum_type: c.checksum_type,
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let id = req.input.upload_id.clone();
        blocking(move || {
            let removed = bucket
                .lock()
                .map_err(internal)?
                .uploads
                .remove(&id)
                .ok_or_else(no_such_upload)?;
            bucket.remove_upload_file(&id).map_err(internal)?;
            let blobs: Vec<String> = removed.parts.values().map(|p| p.blob.clone()).collect();
            bucket.drop_blobs(&blobs);
            Ok(())
        })
        .await?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let up = {
            let st = bucket.lock().map_err(internal)?;
            st.uploads
                .get(&input.upload_id)
                .filter(|u| u.key == input.key)
                .cloned()
                .ok_or_else(no_such_upload)?
        };
        let max = input
            .max_parts
            .map_or(1000, |m| usize::try_from(m).unwrap_or(1000).min(1000));
        let marker = input
            .part_number_marker
            .and_then(|m| u32::try_from(m).ok())
            .unwrap_or(0);
        let mut parts = Vec::new();
        let mut truncated = false;
        for (n, p) in up.parts.range(marker.saturating_add(1)..) {
            if parts.len() == max {
                truncated = true;
                break;
            }
            let c = checksum_fields(
                p.checksum
                    .as_ref()
                    .zip(up.checksum_algorithm.as_ref())
                    .map(|(v, a)| StoredChecksum {
                        algorithm: a.clone(),
                        value: v.clone(),
                        kind: String::new(),
                    })
                    .as_ref(),
            );
            parts.push(Part {
                part_number: Some(i32::try_from(*n).unwrap_or(0)),
                e_tag: Some(etag_of(&p.etag)),
                size: Some(i64::try_from(p.size).unwrap_or(i64::MAX)),
                last_modified: Some(ts(p.modified_ms)),
                checksum_crc32: c.checksum_crc32,
                checksum_crc32c: c.checksum_crc32c,
                checksum_crc64nvme: c.checksum_crc64nvme,
                checksum_sha1: c.checksum_sha1,
                checksum_sha256: c.checksum_sha256,
            });
        }
        let next = parts.last().and_then(|p| p.part_number);
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(input.upload_id),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: truncated.then_some(next).flatten(),
            max_parts: Some(i32::try_from(max).unwrap_or(1000)),
            is_truncated: Some(truncated),
            parts: Some(parts),
            owner: Some(owner()),
            initiator: Some(Initiator {
                display_name: Some(OWNER_NAME.into()),
                id: Some(OWNER_ID.into()),
            }),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            checksum_algorithm: up.checksum_algorithm.map(ChecksumAlgorithm::from),
            checksum_type: up.checksum_type.map(ChecksumType::from),
            ..Default::default()
        }))
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let max = input
            .max_uploads
            .map_or(1000, |m| usize::try_from(m).unwrap_or(1000).min(1000));
        let prefix = input.prefix.clone().unwrap_or_default();
        let mut all: Vec<Upload> = {
            let st = bucket.lock().map_err(internal)?;
            st.uploads
                .values()
                .filter(|u| u.key.starts_with(&prefix))
                .cloned()
                .collect()
        };
        all.sort_by(|a, b| {
            (a.key.as_str(), a.initiated_ms, a.id.as_str()).cmp(&(
                b.key.as_str(),
                b.initiated_ms,
                b.id.as_str(),
            ))
        });
        let key_marker = input.key_marker.clone().filter(|k| !k.is_empty());
        let id_marker = input.upload_id_marker.clone().filter(|k| !k.is_empty());
        let mut uploads = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let mut truncated = false;
        let mut next = (None, None);
        let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
        let mut past_marker = key_marker.is_none();
        for u in all {
            if !past_marker {
                let km = key_marker.as_deref().unwrap_or_default();
                match u.key.as_str().cmp(km) {
                    std::cmp::Ordering::Less => continue,
                    std::cmp::Ordering::Equal => {
                        if let Some(idm) = &id_marker {
                            if &u.id == idm {
                                past_marker = true;
                            }
                        }
                        continue;
                    }
                    std::cmp::Ordering::Greater => past_marker = true,
                }
            }
            if let Some(d) = &delimiter {
                if let Some(i) = u.key[prefix.len()..].find(d.as_str()) {
                    let cp = u.key[..prefix.len() + i + d.len()].to_owned();
                    if prefixes.last() != Some(&cp) {
                        if uploads.len() + prefixes.len() == max {
                            truncated = true;
                            break;
                        }
                        prefixes.push(cp);
                    }
                    continue;
                }
            }
            if uploads.len() + prefixes.len() == max {
                truncated = true;
                break;
            }
            next = (Some(u.key.clone()), Some(u.id.clone()));
            uploads.push(MultipartUpload {
                key: Some(u.key),
                upload_id: Some(u.id),
                initiated: Some(ts(u.initiated_ms)),
                owner: Some(owner()),
                initiator: Some(Initiator {
                    display_name: Some(OWNER_NAME.into()),
                    id: Some(OWNER_ID.into()),
                }),
                storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                checksum_algorithm: u.checksum_algorithm.map(ChecksumAlgorithm::from),
                ..Default::default()
            });
        }
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: input.prefix,
            delimiter: input.delimiter.filter(|d| !d.is_empty()),
            key_marker: input.key_marker,
            upload_id_marker: input.upload_id_marker,
            max_uploads: Some(i32::try_from(max).unwrap_or(1000)),
            is_truncated: Some(truncated),
            next_key_marker: truncated.then_some(next.0).flatten(),
            next_upload_id_marker: truncated.then_some(next.1).flatten(),
            uploads: Some(uploads),
            common_prefixes: Some(
                prefixes
                    .into_iter()
                    .map(|p| CommonPrefix { prefix: Some(p) })
                    .collect(),
            ),
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }
}

impl Service {
    #[allow(clippy::too_many_arguments)]
    fn emit_put(
        &self,
        ext: &http::Extensions,
        bucket: &str,
        key: &str,
        name: &str,
        size: u64,
        etag: &str,
        vid: Option<&str>,
    ) {
        if self.events.receiver_count() == 0 {
            return;
        }
        let seq = self.sequencer.fetch_add(1, Ordering::Relaxed);
        let _ = self.events.send(ObjectEvent {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            event_name: name.to_owned(),
            size,
            etag: etag.to_owned(),
            version_id: vid.filter(|v| *v != "null").map(str::to_owned),
            sequencer: format!("{seq:016X}"),
            source_ip: ext.get::<ClientAddr>().map(|a| a.0.ip()),
            request_id: store::new_id()[..16].to_uppercase(),
            time: time::OffsetDateTime::now_utc(),
            trace_id: ext.get::<TraceHeader>().map(|t| t.0.clone()),
        });
    }
}

fn validate_tags_bucket(tags: &[(String, String)]) -> S3Result<()> {
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(s3_error!(
                InvalidTag,
                "The TagKey or TagValue you have provided is invalid"
            ));
        }
    }
    Ok(())
}

fn full_control() -> Grant {
    Grant {
        grantee: Some(Grantee {
            display_name: Some(OWNER_NAME.into()),
            id: Some(OWNER_ID.into()),
            type_: Type::from_static(Type::CANONICAL_USER),
            email_address: None,
            uri: None,
        }),
        permission: Some(Permission::from_static(Permission::FULL_CONTROL)),
    }
}

fn no_such_upload() -> S3Error {
    s3_error!(NoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}

fn invalid_part() -> S3Error {
    s3_error!(InvalidPart, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
}

fn part_number(n: i32) -> S3Result<u32> {
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive"
            )
        })
}

/// The body of one inline version, looked up again under the lock (compaction may have
/// moved it since the caller looked).
fn read_inline_version(bucket: &store::Bucket, key: &str, id: &str) -> S3Result<bytes::Bytes> {
    let st = bucket.lock().map_err(internal)?;
    let v = st
        .objects
        .get(key)
        .and_then(|vs| vs.iter().find(|v| v.id == id))
        .ok_or_else(no_such_key)?;
    bucket.read_inline(&st, v).map_err(internal)
}

fn add_part(bucket: &store::Bucket, upload_id: &str, part: u32, info: PartInfo) -> S3Result<()> {
    let mut st = bucket.lock().map_err(internal)?;
    let Some(up) = st.uploads.get_mut(upload_id) else {
        drop(st);
        bucket.drop_blobs(&[info.blob]);
        return Err(no_such_upload());
    };
    let old = up.parts.insert(part, info);
    let snapshot = up.clone();
    bucket.save_upload(&snapshot).map_err(internal)?;
    drop(st);
    if let Some(old) = old {
        bucket.drop_blobs(&[old.blob]);
    }
    Ok(())
}

/// The composite checksum of a multipart object (checksum of the part checksums, `-N`).
fn multipart_checksum(up: &Upload, parts: &[PartInfo]) -> Option<StoredChecksum> {
    let algo = up.checksum_algorithm.as_ref()?;
    if up.checksum_type.as_deref() == Some("FULL_OBJECT") {
        return None;
    }
    let mut h = body::checksum_hasher(algo)?;
    for p in parts {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(p.checksum.as_ref()?)
            .ok()?;
        h.update(&raw);
    }
    let c = h.finalize();
    let v = body::checksum_value(&c, algo)?;
    Some(StoredChecksum {
        algorithm: algo.clone(),
        value: format!("{v}-{}", parts.len()),
        kind: "COMPOSITE".into(),
    })
}

fn set_tags(
    bucket: &store::Bucket,
    key: &str,
    vid: Option<&str>,
    tags: Vec<(String, String)>,
) -> S3Result<Option<String>> {
    let mut st = bucket.lock().map_err(internal)?;
    let mut v = find_version(&st, key, vid)?;
    v.tags = tags;
    let id = v.id.clone();
    let versioning = st.config.versioning;
    bucket
        .commit(
            &mut st,
            vec![Record::Put {
                key: key.to_owned(),
                v: Box::new(v),
                in_place: true,
                data_follows: false,
                crc: None,
                data: None,
            }],
        )
        .map_err(internal)?;
    Ok(version_header(versioning, &id))
}

/// The checksum headers of a GET/HEAD: a part's own checksum for `partNumber` reads of a
/// multipart object (sent unasked, as S3 does), else the object's when `ChecksumMode=ENABLED`.
fn response_checksum(v: &Version, part: Option<i32>, enabled: bool) -> Checksum {
    if let (Some(n), Some(c)) = (part, v.checksum.as_ref()) {
        let idx = usize::try_from(n).ok().and_then(|n| n.checked_sub(1));
        if let Some(value) = idx.and_then(|i| v.part_checksums.get(i)) {
            return checksum_fields(Some(&StoredChecksum {
                algorithm: c.algorithm.clone(),
                value: value.clone(),
                kind: c.kind.clone(),
            }));
        }
    }
    if enabled {
        checksum_fields(v.checksum.as_ref())
    } else {
        Checksum::default()
    }
}

/// The bytes a GET/HEAD returns: (start, length, Content-Range, parts count).
fn read_window(
    v: &Version,
    range: Option<&Range>,
    part: Option<i32>,
) -> S3Result<(u64, u64, Option<String>, Option<i32>)> {
    if let Some(n) = part {
        let parts = if v.parts.is_empty() {
            vec![v.size]
        } else {
            v.parts.clone()
        };
        let idx = usize::try_from(n)
            .ok()
            .filter(|i| *i >= 1 && *i <= parts.len())
            .ok_or_else(|| {
                let mut e = S3Error::with_message(
                    S3ErrorCode::InvalidPart,
                    "The requested partnumber is not satisfiable",
                );
                e.set_status_code(http::StatusCode::BAD_REQUEST);
                e
            })?;
        let start: u64 = parts[..idx - 1].iter().sum();
        let len = parts[idx - 1];
        let cr = (len > 0).then(|| format!("bytes {}-{}/{}", start, start + len - 1, v.size));
        return Ok((
            start,
            len,
            cr,
            Some(i32::try_from(parts.len()).unwrap_or(i32::MAX)),
        ));
    }
    match range {
        None => Ok((0, v.size, None, None)),
        Some(r) => {
            let r = r
                .check(v.size)
                .map_err(|_| s3_error!(InvalidRange, "The requested range is not satisfiable"))?;
            let len = r.end - r.start;
            Ok((
                r.start,
                len,
                Some(format!(
                    "bytes {}-{}/{}",
                    r.start,
                    r.end.saturating_sub(1),
                    v.size
                )),
                None,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn obj(size: u64) -> Version {
        Version {
            id: "null".into(),
            blob: None,
            inline_at: Some(0),
            delete_marker: false,
            size,
            etag: String::new(),
            modified_ms: 0,
            meta: ObjectMeta::default(),
            tags: Vec::new(),
            checksum: None,
            parts: Vec::new(),
            part_checksums: Vec::new(),
        }
    }

    /// The index is a sorted map: a prefix or delimiter listing among 100k keys examines
    /// only what it returns (common prefixes are skipped over, not walked).
    #[test]
    fn listing_a_prefix_among_100k_keys_is_a_range_scan() {
        let mut objects = BTreeMap::new();
        for i in 0..100_000u64 {
            objects.insert(format!("dir{:02}/file{i:06}", i % 100), vec![obj(i)]);
        }
        let mut prefixes = Vec::new();
        let examined = walk(&objects, "", Some("/"), None, |e| {
            if let Entry::Prefix(p) = e {
                prefixes.push(p);
            }
            true
        });
        assert_eq!(prefixes.len(), 100);
        assert_eq!(prefixes[7], "dir07/");
        assert_eq!(examined, 100, "one index entry per common prefix");
        let mut keys = 0;
        let examined = walk(
            &objects,
            "dir07/",
            Some("/"),
            Some("dir07/file050000"),
            |e| {
                if let Entry::Key(..) = e {
                    keys += 1;
                }
                keys < 1000
            },
        );
        assert_eq!(keys, 500, "keys after the marker in dir07/");
        assert_eq!(
            examined, 501,
            "the 500 keys and the first key past the prefix"
        );
    }

    /// A common prefix is skipped as a whole even when keys below it contain U+10FFFF
    /// (the highest code point, once used as the skip bound).
    #[test]
    fn common_prefixes_are_listed_once_whatever_the_keys_hold() {
        let mut objects = BTreeMap::new();
        for (i, key) in [
            "a/1",
            "a/\u{10FFFF}",
            "a/\u{10FFFF}z",
            "b",
            "\u{10FFFF}/x",
            "\u{10FFFF}/y",
        ]
        .into_iter()
        .enumerate()
        {
            objects.insert(key.to_owned(), vec![obj(i as u64)]);
        }
        let mut seen = Vec::new();
        walk(&objects, "", Some("/"), None, |e| {
            seen.push(match e {
                Entry::Prefix(p) => format!("prefix {p}"),
                Entry::Key(k, _) => format!("key {k}"),
            });
            true
        });
        assert_eq!(seen, ["prefix a/", "key b", "prefix \u{10FFFF}/"]);
        assert_eq!(super::past_prefix("a/").as_deref(), Some("a0"));
        assert_eq!(super::past_prefix("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(super::past_prefix("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(super::past_prefix("\u{10FFFF}"), None);
    }
}
