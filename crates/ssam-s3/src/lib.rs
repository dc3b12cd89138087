//! Local S3: durable object store on disk and the S3 protocol.
//!
//! - [`store`]: buckets, versions and multipart uploads on disk. A per-bucket journal is
//!   the source of truth (small bodies inline, larger ones as blob files); the sorted index
//!   in memory is rebuilt from it at start. Writes are group-committed.
//! - [`service`]: the S3 operations (`s3s::S3`) on top of the store.
//! - [`server`]: accepting connections (TCP_NODELAY), the two auth modes, virtual hosts,
//!   CORS, request ids; `chunked` unframes `aws-chunked` bodies in the default mode.
//!
//! Architecture invariants: an object key is data, never part of a path; a write is
//! acknowledged only after its journal record is durable (except `--ephemeral`); nothing
//! in a request path panics.
//!
//! The rest of ssam uses [`S3Server::start`] and [`RunningS3`]; object events for S3
//! notifications come from [`RunningS3::subscribe`].

mod body;
mod chunked;
mod cors;
mod md5;
/// The one owner of every local bucket, as the S3 API (canonical user id) and S3 event
/// notifications (the owner's principal id, a shorter form on AWS too) name it.
pub mod owner {
    /// Canonical user id (ListBuckets, ACLs, object owners).
    pub const CANONICAL_ID: &str =
        "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
    pub const DISPLAY_NAME: &str = "ssam";
    /// `ownerIdentity.principalId` of an S3 event record.
    pub const PRINCIPAL_ID: &str = "A3NL1KOZZKExample";
}

pub mod server;
pub mod service;
pub mod store;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

pub use server::{RunningS3, S3Server};

/// How a local S3 is started.
#[derive(Debug, Clone)]
pub struct S3Config {
    pub host: IpAddr,
    /// 0 picks a free port (see [`RunningS3::local_addr`]).
    pub port: u16,
    /// Where buckets live; ignored when `ephemeral`.
    pub data_dir: PathBuf,
    /// A temporary store, deleted at shutdown.
    pub ephemeral: bool,
    /// Verify every signature against `credentials` (otherwise any access key is accepted,
    /// as LocalStack does, but presigned URLs still expire).
    pub strict_auth: bool,
    /// `(access key, secret key)` pairs.
    pub credentials: Vec<(String, String)>,
    /// Buckets created at start when absent.
    pub buckets: Vec<BucketSpec>,
    /// The region buckets report when created without a location constraint.
    pub region: String,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 4566,
            data_dir: PathBuf::from(".ssam/s3"),
            ephemeral: false,
            strict_auth: false,
            credentials: vec![("test".into(), "test".into())],
            buckets: Vec::new(),
            region: "us-east-1".into(),
        }
    }
}

/// A bucket that must exist when the service starts (e.g. `AWS::S3::Bucket` in a template).
#[derive(Debug, Clone, Default)]
pub struct BucketSpec {
    pub name: String,
    pub versioning: bool,
    pub cors: Option<Vec<CorsRule>>,
}

/// One CORS rule, as in `AWS::S3::Bucket` `CorsConfiguration.CorsRules`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsRule {
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<i32>,
}

/// Something happened to an object; the shape S3 event notifications are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    pub bucket: String,
    pub key: String,
    /// Without the `s3:` prefix, e.g. `ObjectCreated:Put`, `ObjectRemoved:DeleteMarkerCreated`.
    pub event_name: String,
    pub size: u64,
    /// Without quotes; empty for deletions.
    pub etag: String,
    pub version_id: Option<String>,
    /// Hex, increasing: orders events for the same key.
    pub sequencer: String,
    pub source_ip: Option<IpAddr>,
    pub request_id: String,
    pub time: time::OffsetDateTime,
    /// The request's `X-Amzn-Trace-Id` (AWS SDKs inside a function send the invocation's
    /// trace header): Lambda's recursive loop detection follows its `Lineage`.
    pub trace_id: Option<String>,
}

/// Errors starting the service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the data directory {path}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: store::StoreError,
    },
    #[error("cannot create bucket {name}")]
    Bucket {
        name: String,
        #[source]
        source: store::StoreError,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
