//! The values the store keeps: object versions and their metadata, bucket settings,
//! multipart uploads, and what the object operations take and answer.
//!
//! Everything here that is serialized (journal records, `bucket.json`, `uploads/*.json`)
//! keeps the form older data directories were written in.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A version id: `null` for objects written while versioning was off or suspended (S3's
/// own name for them), else a random hex id. Serialized as the string S3 shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum VersionId {
    Null,
    Id(String),
}

impl VersionId {
    /// A fresh id for a version written while versioning is enabled.
    pub fn fresh() -> Self {
        Self::Id(super::new_id())
    }

    /// A version id a client sent; `None` when it cannot be one of ours (S3 answers
    /// `InvalidArgument` for those).
    pub fn parse(s: &str) -> Option<Self> {
        if s == "null" {
            Some(Self::Null)
        } else if super::valid_id(s) {
            Some(Self::Id(s.to_owned()))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Null => "null",
            Self::Id(id) => id,
        }
    }

    /// The id S3 names in answers and events: none for the null version.
    pub fn named(&self) -> Option<&str> {
        match self {
            Self::Null => None,
            Self::Id(id) => Some(id),
        }
    }

    /// The version written next: a fresh id when versioning is enabled, else the null
    /// version (which replaces the previous null version).
    pub fn for_write(versioning: Versioning) -> Self {
        if versioning == Versioning::Enabled {
            Self::fresh()
        } else {
            Self::Null
        }
    }
}

impl From<String> for VersionId {
    fn from(s: String) -> Self {
        if s == "null" {
            Self::Null
        } else {
            Self::Id(s)
        }
    }
}

impl From<&str> for VersionId {
    fn from(s: &str) -> Self {
        Self::from(s.to_owned())
    }
}

impl From<VersionId> for String {
    fn from(v: VersionId) -> Self {
        match v {
            VersionId::Null => "null".to_owned(),
            VersionId::Id(id) => id,
        }
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// [`VersionId::Null`] for objects written while versioning was off or suspended.
    pub id: VersionId,
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

/// The answer to a completed multipart upload, kept so a repeated
/// CompleteMultipartUpload gets the same one (S3 answers retries that way).
#[derive(Debug, Clone)]
pub struct CompletedUpload {
    pub key: String,
    pub etag: String,
    pub version_id: VersionId,
    pub checksum: Option<StoredChecksum>,
}

/// Where a new version's body is.
#[derive(Debug)]
pub enum ObjectBody {
    /// A blob already adopted into the bucket's `blobs/`.
    Blob(String),
    /// A small body, stored inline in the journal.
    Inline(bytes::Bytes),
}

/// A new object version to commit.
#[derive(Debug)]
pub struct NewObject {
    pub key: String,
    pub body: ObjectBody,
    pub size: u64,
    pub etag: String,
    pub meta: ObjectMeta,
    pub tags: Vec<(String, String)>,
    pub checksum: Option<StoredChecksum>,
    pub parts: Vec<u64>,
    pub part_checksums: Vec<String>,
}

/// An ETag condition of a conditional write (`If-Match`, `If-None-Match`).
#[derive(Debug, Clone)]
pub enum EtagMatch {
    /// `*`: any current object.
    Any,
    /// This ETag, without quotes.
    Etag(String),
}

impl EtagMatch {
    pub fn matches(&self, etag: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Etag(e) => e == etag,
        }
    }
}

/// The conditions of a conditional write, checked against the current version under the
/// bucket's lock.
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    pub if_match: Option<EtagMatch>,
    pub if_none_match: Option<EtagMatch>,
}

/// What committing a new version answered.
#[derive(Debug, Clone)]
pub struct Committed {
    pub version_id: VersionId,
    /// The bucket's versioning when the version was written.
    pub versioning: Versioning,
    pub modified_ms: i64,
}

/// Conditions of a conditional delete (`If-Match`, `x-amz-if-match-last-modified-time`,
/// `x-amz-if-match-size`), checked against the version that would be deleted.
#[derive(Debug, Default, Clone)]
pub struct DeleteIf {
    /// `*` or an ETag (quotes allowed).
    pub etag: Option<String>,
    pub modified_secs: Option<i64>,
    pub size: Option<i64>,
}

impl DeleteIf {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.modified_secs.is_none() && self.size.is_none()
    }

    pub fn holds(&self, v: &Version) -> bool {
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

/// What a delete removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// A version (or, unversioned, the object) is gone.
    Version,
    /// A delete marker became the latest version.
    MarkerCreated,
}

/// Outcome of deleting one key.
#[derive(Debug, Clone)]
pub struct Deleted {
    pub version_id: Option<VersionId>,
    pub delete_marker: bool,
    /// `None` when nothing was written (no such key or version).
    pub removal: Option<Removal>,
}

impl Deleted {
    pub fn nothing(version_id: Option<VersionId>) -> Self {
        Self {
            version_id,
            delete_marker: false,
            removal: None,
        }
    }
}

/// A version read from the index, with what answering for it needs.
#[derive(Debug, Clone)]
pub struct Found {
    pub version: Version,
    /// The bucket's versioning (decides whether the null version is named).
    pub versioning: Versioning,
    /// Where an inline body is, read without the lock.
    pub inline: Option<InlineBody>,
}

impl Found {
    /// The `x-amz-version-id` of a read: none for the null version of a bucket that was
    /// never versioned.
    pub fn version_header(&self) -> Option<String> {
        version_header(self.versioning, &self.version.id)
    }
}

/// The `x-amz-version-id` of an answer about `id`: S3 names the null version only in
/// buckets that have (or had) versioning.
pub fn version_header(versioning: Versioning, id: &VersionId) -> Option<String> {
    match (versioning, id) {
        (Versioning::Unversioned, VersionId::Null) => None,
        _ => Some(id.to_string()),
    }
}

/// An inline body: a handle on the journal (which compaction replaces but never closes)
/// and where the body starts.
#[derive(Debug, Clone)]
pub struct InlineBody {
    pub(super) file: std::sync::Arc<std::fs::File>,
    pub(super) at: u64,
}

impl InlineBody {
    /// `len` bytes from `offset` into the body.
    pub fn read(&self, offset: u64, len: u64) -> std::io::Result<bytes::Bytes> {
        super::journal::read_at(&self.file, self.at + offset, len)
    }
}
