//! Objects: PUT, POST (browser forms), GET, HEAD, GetObjectAttributes, DELETE and
//! DeleteObjects, and how a received body becomes a committed version
//! ([`Service::store_received`] -> `store::Bucket::put_version`).

use super::*;
use crate::store::{Committed, DeleteIf, Deleted, Found, NewObject, ObjectBody, Removal};

/// Where a GET reads a body from.
enum Source {
    Blob(std::fs::File),
    Inline(store::InlineBody),
}

type BodyStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send + Sync>>;

/// The version a GET reads, with its body opened. A concurrent overwrite may delete the
/// blob between lookup and open: look again. An inline body is read through the journal
/// handle taken under the same lock, which stays valid even if compaction replaces the
/// journal meanwhile.
fn open_version(
    bucket: &store::Bucket,
    key: &str,
    id: Option<&VersionId>,
) -> S3Result<(Found, Source)> {
    let mut attempt = 0;
    loop {
        let found = bucket.find(key, id)?;
        if let Some(inline) = found.inline.clone() {
            return Ok((found, Source::Inline(inline)));
        }
        let path = bucket.blob_path(found.version.blob.as_deref().unwrap_or_default());
        match std::fs::File::open(&path) {
            Ok(f) => return Ok((found, Source::Blob(f))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempt < 3 => attempt += 1,
            Err(e) => return Err(internal(e)),
        }
    }
}

/// `len` bytes of a body from `start`, streamed.
fn body_stream(source: Source, start: u64, len: u64) -> S3Result<BodyStream> {
    Ok(match source {
        Source::Blob(mut file) => {
            if start > 0 {
                use std::io::Seek;
                file.seek(std::io::SeekFrom::Start(start))
                    .map_err(internal)?;
            }
            Box::pin(body::file_stream(file, len))
        }
        Source::Inline(inline) => {
            // Small (<= INLINE_MAX) and in the page cache: read it here.
            let bytes = inline.read(start, len).map_err(internal)?;
            Box::pin(futures::stream::once(async move { Ok(bytes) }))
        }
    })
}

/// The event S3 sends for what a delete did.
fn removal_event(r: Removal) -> &'static str {
    match r {
        Removal::Version => "ObjectRemoved:Delete",
        Removal::MarkerCreated => "ObjectRemoved:DeleteMarkerCreated",
    }
}

/// Deletes `key` (or a version of it) on the blocking side. A version id S3 could not
/// have minted is refused, except by a conditional delete, for which it names nothing.
pub(super) fn delete_key(
    bucket: &store::Bucket,
    key: &str,
    version_id: Option<&str>,
    cond: DeleteIf,
) -> S3Result<Deleted> {
    let id = match version_id.map(VersionId::parse) {
        None => None,
        Some(Some(id)) => Some(id),
        Some(None) if cond.is_empty() => {
            return Err(s3_error!(InvalidArgument, "Invalid version id specified"))
        }
        Some(None) => return Ok(Deleted::nothing(None)),
    };
    Ok(bucket.delete(key, id, cond)?)
}

impl Service {
    pub(super) async fn receive_into(
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

    /// Receives an upload's body and checks it against what the client declared
    /// (Content-Length, Content-MD5, a checksum); a body that fails a check is discarded.
    pub(super) async fn receive_checked(
        &self,
        body: Option<StreamingBlob>,
        declared: Declared<'_>,
        inline_max: usize,
    ) -> S3Result<(Received, Option<StoredChecksum>)> {
        let rec = self
            .receive_into(body, declared.algorithm, inline_max)
            .await?;
        if let Some(len) = declared.content_length {
            if u64::try_from(len).ok() != Some(rec.size) {
                rec.discard();
                return Err(s3_error!(IncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header."));
            }
        }
        let verified = verify_body(
            &rec,
            declared.content_md5,
            declared.algorithm,
            declared.expected,
            declared.trailing,
        );
        match verified {
            Ok(checksum) => Ok((rec, checksum)),
            Err(e) => {
                rec.discard();
                Err(e)
            }
        }
    }

    /// Adopts a received body and commits it as a new version of `obj.key`.
    pub(super) async fn store_received(
        &self,
        bucket: Arc<store::Bucket>,
        rec: Received,
        obj: impl FnOnce(ObjectBody) -> NewObject + Send + 'static,
        pre: store::Preconditions,
    ) -> S3Result<Committed> {
        blocking(move || {
            if let Some(data) = rec.data {
                return Ok(bucket.put_version(obj(ObjectBody::Inline(data)), pre)?);
            }
            let blob = match bucket.adopt_blob(&rec.tmp) {
                Ok(b) => b,
                Err(e) => {
                    rec.discard();
                    return Err(internal(e));
                }
            };
            Ok(bucket.put_version(obj(ObjectBody::Blob(blob)), pre)?)
        })
        .await
    }
}

/// What a client declared about an upload's body, checked once the body has arrived.
pub(super) struct Declared<'a> {
    pub content_length: Option<i64>,
    pub content_md5: Option<&'a str>,
    pub algorithm: Option<&'a str>,
    pub expected: Option<&'a str>,
    pub trailing: Option<&'a s3s::TrailingHeaders>,
}

impl Service {
    pub(super) async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let trailing = req.trailing_headers.clone();
        let input = req.input;
        check_key(&input.key)?;
        let bucket = self.store.bucket(&input.bucket)?;
        let (meta, tags) = write_meta(
            content_headers!(input),
            input.acl.as_ref(),
            input.tagging.as_deref(),
        )?;
        let (algo, expected) = declared_checksum(
            input.checksum_algorithm.as_ref(),
            input.checksum_crc32.as_ref(),
            input.checksum_crc32c.as_ref(),
            input.checksum_crc64nvme.as_ref(),
            input.checksum_sha1.as_ref(),
            input.checksum_sha256.as_ref(),
        );
        let declared = Declared {
            content_length: input.content_length,
            content_md5: input.content_md5.as_deref(),
            algorithm: algo.as_deref(),
            expected: expected.as_deref(),
            trailing: trailing.as_ref(),
        };
        let (rec, checksum) = self
            .receive_checked(input.body, declared, store::INLINE_MAX)
            .await?;
        let etag = hex::encode(rec.md5);
        let size = rec.size;
        let key = input.key.clone();
        let (e2, c2) = (etag.clone(), checksum.clone());
        let pre = write_preconditions(input.if_match, input.if_none_match);
        let committed = self
            .store_received(
                Arc::clone(&bucket),
                rec,
                move |body| NewObject {
                    key,
                    body,
                    size,
                    etag: e2,
                    meta,
                    tags,
                    checksum: c2,
                    parts: Vec::new(),
                    part_checksums: Vec::new(),
                },
                pre,
            )
            .await?;
        self.emit(
            &req.extensions,
            Change {
                bucket: &input.bucket,
                key: &input.key,
                event: "ObjectCreated:Put",
                size,
                etag: &etag,
                version_id: Some(&committed.version_id),
            },
        );
        let c = checksum_fields(checksum.as_ref());
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(etag_of(&etag)),
            // S3 names no version for writes to unversioned or suspended buckets.
            version_id: committed.version_id.named().map(str::to_owned),
            checksum_crc32: c.checksum_crc32,
            checksum_crc32c: c.checksum_crc32c,
            checksum_crc64nvme: c.checksum_crc64nvme,
            checksum_sha1: c.checksum_sha1,
            checksum_sha256: c.checksum_sha256,
            checksum_type: c.checksum_type,
            ..Default::default()
        }))
    }

    pub(super) async fn post_object(
        &self,
        req: S3Request<PostObjectInput>,
    ) -> S3Result<S3Response<PostObjectOutput>> {
        let input = req.input;
        check_key(&input.key)?;
        let bucket = self.store.bucket(&input.bucket)?;
        let (meta, tags) = write_meta(
            content_headers!(input),
            input.acl.as_ref(),
            input.tagging.as_deref(),
        )?;
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
        let committed = self
            .store_received(
                Arc::clone(&bucket),
                rec,
                move |body| NewObject {
                    key,
                    body,
                    size,
                    etag: e2,
                    meta,
                    tags,
                    checksum: None,
                    parts: Vec::new(),
                    part_checksums: Vec::new(),
                },
                store::Preconditions::default(),
            )
            .await?;
        self.emit(
            &req.extensions,
            Change {
                bucket: &input.bucket,
                key: &input.key,
                event: "ObjectCreated:Post",
                size,
                etag: &etag,
                version_id: Some(&committed.version_id),
            },
        );
        Ok(S3Response::new(PostObjectOutput {
            e_tag: Some(etag_of(&etag)),
            // S3 names no version for writes to unversioned or suspended buckets.
            version_id: committed.version_id.named().map(str::to_owned),
            ..Default::default()
        }))
    }

    pub(super) async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let vid = parse_version_id(input.version_id.as_deref())?;
        let (found, source) = open_version(&bucket, &input.key, vid.as_ref())?;
        let (v, versioning) = (found.version, found.versioning);
        check_read_conditions(
            &v,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let Window {
            start,
            len,
            content_range,
            parts_count,
        } = read_window(&v, input.range.as_ref(), input.part_number)?;
        let stream = body_stream(source, start, len)?;
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

    pub(super) async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let found = bucket.find(
            &input.key,
            parse_version_id(input.version_id.as_deref())?.as_ref(),
        )?;
        let (v, versioning) = (found.version, found.versioning);
        check_read_conditions(
            &v,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let Window {
            len,
            content_range,
            parts_count,
            ..
        } = read_window(&v, input.range.as_ref(), input.part_number)?;
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

    pub(super) async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let found = bucket.find(
            &input.key,
            parse_version_id(input.version_id.as_deref())?.as_ref(),
        )?;
        let (v, versioning) = (found.version, found.versioning);
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

    pub(super) async fn delete_object(
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
        let d = blocking(move || delete_key(&b2, &key, vid.as_deref(), cond)).await?;
        self.emit_removal(&req.extensions, &req.input.bucket, &req.input.key, &d);
        Ok(S3Response::new(DeleteObjectOutput {
            delete_marker: d.delete_marker.then_some(true),
            version_id: d.version_id.map(String::from),
            ..Default::default()
        }))
    }

    pub(super) async fn delete_objects(
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
                    let r = delete_key(&b2, &o.key, o.version_id.as_deref(), cond);
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
                    self.emit_removal(&req.extensions, &req.input.bucket, &o.key, &d);
                    if !quiet {
                        deleted.push(DeletedObject {
                            key: Some(o.key),
                            version_id: o.version_id.clone(),
                            delete_marker: d.delete_marker.then_some(true),
                            delete_marker_version_id: if d.delete_marker && o.version_id.is_none() {
                                d.version_id.map(String::from)
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

    /// The event of a delete that removed something.
    fn emit_removal(&self, ext: &http::Extensions, bucket: &str, key: &str, d: &Deleted) {
        if let Some(removal) = d.removal {
            self.emit(
                ext,
                Change {
                    bucket,
                    key,
                    event: removal_event(removal),
                    size: 0,
                    etag: "",
                    version_id: d.version_id.as_ref(),
                },
            );
        }
    }
}
