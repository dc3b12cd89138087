//! The S3 operations: `s3s::S3` implemented over the [`Store`].
//!
//! s3s parses requests, checks signatures and writes XML; this module decides what each
//! operation does to the store, and answers with the error codes S3 uses. Every write
//! that touches the disk runs on the blocking pool; the bucket mutex is only held for
//! in-memory work and the journal append.
//!
//! The `impl S3` below is a table: each operation is an inherent method of [`Service`]
//! (which takes precedence over the trait method of the same name) in the module of its
//! area: `bucket.rs`, `bucket_meta.rs`, `object.rs` (PUT, GET, DELETE), `copy.rs`,
//! `object_meta.rs`, `list.rs`, `multipart.rs`. What a write does to the store
//! (versions, delete markers, journal records) is the store's (`store/objects.rs`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use s3s::dto::*;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, S3};
use tokio::sync::broadcast;

use crate::body::{self, Received};
use crate::md5::Md5;
use crate::store::{
    self, version_header, BucketConfig, ObjectMeta, PartInfo, Store, StoreError, StoredChecksum,
    Upload, Version, VersionId, Versioning,
};
use crate::ObjectEvent;

mod bucket;
mod bucket_meta;
mod checksum;
mod conditions;
mod copy;
mod dto;
mod list;
mod multipart;
mod object;
mod object_meta;

use checksum::*;
use conditions::*;
use dto::*;

pub(crate) use dto::to_xml;

/// The peer address of a request, put in the request extensions by the server.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The request's `X-Amzn-Trace-Id`, carried to the object events it causes.
#[derive(Clone, Debug)]
pub struct TraceHeader(pub String);

/// The request's `x-amz-request-id`, minted once by the server: the client gets it in the
/// answer's headers and the object events the request causes carry the same id.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

impl RequestId {
    /// A fresh id in S3's format (16 upper-case hex digits).
    pub fn new() -> Self {
        Self(store::new_id()[..16].to_uppercase())
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

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
            // S3 says in a header whether a delete marker hides the key, and which.
            StoreError::NoCurrentVersion { delete_marker } => {
                let mut e = no_such_key();
                let mut h = http::HeaderMap::new();
                let marker = if delete_marker.is_some() { "true" } else { "false" };
                h.insert("x-amz-delete-marker", http::HeaderValue::from_static(marker));
                if let Some(val) = delete_marker
                    .and_then(|id| http::HeaderValue::from_str(id.as_str()).ok())
                {
                    h.insert("x-amz-version-id", val);
                }
                e.set_headers(h);
                e
            }
            StoreError::NoSuchKey => no_such_key(),
            StoreError::NoSuchVersion => {
                s3_error!(NoSuchVersion, "The specified version does not exist.")
            }
            StoreError::VersionIsDeleteMarker => {
                let mut e = s3_error!(
                    MethodNotAllowed,
                    "The specified method is not allowed against this resource."
                );
                let mut h = http::HeaderMap::new();
                h.insert("x-amz-delete-marker", http::HeaderValue::from_static("true"));
                e.set_headers(h);
                e
            }
            StoreError::PreconditionFailed => precondition_failed(),
            StoreError::NoSuchUpload => s3_error!(NoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."),
            StoreError::Io(e) => internal(e),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> S3Error {
    tracing::error!(error = %e, "internal error");
    S3Error::with_message(S3ErrorCode::InternalError, e.to_string())
}

fn no_such_key() -> S3Error {
    s3_error!(NoSuchKey, "The specified key does not exist.")
}

fn precondition_failed() -> S3Error {
    s3_error!(
        PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold"
    )
}

/// A version id from a request; S3 refuses ids it could never have minted.
fn parse_version_id(id: Option<&str>) -> S3Result<Option<VersionId>> {
    id.map(|s| {
        VersionId::parse(s)
            .ok_or_else(|| s3_error!(InvalidArgument, "Invalid version id specified"))
    })
    .transpose()
}

/// Runs disk work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> S3Result<T> + Send + 'static,
) -> S3Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
}

/// Changes a bucket's configuration and saves it, on the blocking pool.
async fn update_config(
    b: Arc<store::Bucket>,
    change: impl FnOnce(&mut BucketConfig) + Send + 'static,
) -> S3Result<()> {
    blocking(move || Ok(b.update_config(change)?)).await
}

/// What happened to an object, for [`Service::emit`].
struct Change<'a> {
    bucket: &'a str,
    key: &'a str,
    /// S3's event name without `s3:`, e.g. `ObjectCreated:Put`.
    event: &'a str,
    size: u64,
    etag: &'a str,
    version_id: Option<&'a VersionId>,
}

#[async_trait::async_trait]
impl S3 for Service {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.create_bucket(req).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.head_bucket(req).await
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.list_buckets(req).await
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        self.delete_bucket(req).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.get_bucket_location(req).await
    }

    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        self.get_bucket_versioning(req).await
    }

    async fn put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        self.put_bucket_versioning(req).await
    }

    async fn put_bucket_cors(
        &self,
        req: S3Request<PutBucketCorsInput>,
    ) -> S3Result<S3Response<PutBucketCorsOutput>> {
        self.put_bucket_cors(req).await
    }

    async fn get_bucket_cors(
        &self,
        req: S3Request<GetBucketCorsInput>,
    ) -> S3Result<S3Response<GetBucketCorsOutput>> {
        self.get_bucket_cors(req).await
    }

    async fn delete_bucket_cors(
        &self,
        req: S3Request<DeleteBucketCorsInput>,
    ) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
        self.delete_bucket_cors(req).await
    }

    async fn put_bucket_tagging(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        self.put_bucket_tagging(req).await
    }

    async fn get_bucket_tagging(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        self.get_bucket_tagging(req).await
    }

    async fn delete_bucket_tagging(
        &self,
        req: S3Request<DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        self.delete_bucket_tagging(req).await
    }

    async fn put_bucket_notification_configuration(
        &self,
        req: S3Request<PutBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        self.put_bucket_notification_configuration(req).await
    }

    async fn get_bucket_notification_configuration(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        self.get_bucket_notification_configuration(req).await
    }

    async fn get_bucket_acl(
        &self,
        req: S3Request<GetBucketAclInput>,
    ) -> S3Result<S3Response<GetBucketAclOutput>> {
        self.get_bucket_acl(req).await
    }

    async fn put_bucket_acl(
        &self,
        req: S3Request<PutBucketAclInput>,
    ) -> S3Result<S3Response<PutBucketAclOutput>> {
        self.put_bucket_acl(req).await
    }

    async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        self.get_bucket_policy(req).await
    }

    async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        self.put_bucket_policy(req).await
    }

    async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        self.delete_bucket_policy(req).await
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        self.put_object(req).await
    }

    async fn post_object(
        &self,
        req: S3Request<PostObjectInput>,
    ) -> S3Result<S3Response<PostObjectOutput>> {
        self.post_object(req).await
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.get_object(req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.head_object(req).await
    }

    async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        self.get_object_attributes(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.delete_object(req).await
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        self.delete_objects(req).await
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        self.copy_object(req).await
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        self.get_object_tagging(req).await
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        self.put_object_tagging(req).await
    }

    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        self.delete_object_tagging(req).await
    }

    async fn get_object_acl(
        &self,
        req: S3Request<GetObjectAclInput>,
    ) -> S3Result<S3Response<GetObjectAclOutput>> {
        self.get_object_acl(req).await
    }

    async fn put_object_acl(
        &self,
        req: S3Request<PutObjectAclInput>,
    ) -> S3Result<S3Response<PutObjectAclOutput>> {
        self.put_object_acl(req).await
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        self.list_objects(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.list_objects_v2(req).await
    }

    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        self.list_object_versions(req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.create_multipart_upload(req).await
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.upload_part(req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        self.upload_part_copy(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.complete_multipart_upload(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.abort_multipart_upload(req).await
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        self.list_parts(req).await
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        self.list_multipart_uploads(req).await
    }
}

impl Service {
    /// Publishes an object event (when anyone listens), with the request's id, peer and
    /// trace header.
    fn emit(&self, ext: &http::Extensions, change: Change<'_>) {
        if self.events.receiver_count() == 0 {
            return;
        }
        let seq = self.sequencer.fetch_add(1, Ordering::Relaxed);
        let request_id = ext.get::<RequestId>().cloned().unwrap_or_default();
        let _ = self.events.send(ObjectEvent {
            bucket: change.bucket.to_owned(),
            key: change.key.to_owned(),
            event_name: change.event.to_owned(),
            size: change.size,
            etag: change.etag.to_owned(),
            version_id: change
                .version_id
                .and_then(VersionId::named)
                .map(str::to_owned),
            sequencer: format!("{seq:016X}"),
            source_ip: ext.get::<ClientAddr>().map(|a| a.0.ip()),
            request_id: request_id.0,
            time: time::OffsetDateTime::now_utc(),
            trace_id: ext.get::<TraceHeader>().map(|t| t.0.clone()),
        });
    }
}
