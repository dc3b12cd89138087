//! Objects: PUT, POST (browser forms), GET, HEAD, GetObjectAttributes, DELETE and
//! DeleteObjects, and how a received body becomes a committed version.

use super::*;

/// Finds a version of a key: the latest (which must not be a delete marker) or a given id.
pub(super) fn find_version(
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

/// A new object version to commit.
pub(super) struct NewObject {
    pub(super) key: String,
    /// The adopted blob, unless `data` holds a small body to store inline.
    pub(super) blob: String,
    pub(super) data: Option<bytes::Bytes>,
    pub(super) size: u64,
    pub(super) etag: String,
    pub(super) meta: ObjectMeta,
    pub(super) tags: Vec<(String, String)>,
    pub(super) checksum: Option<StoredChecksum>,
    pub(super) parts: Vec<u64>,
    pub(super) part_checksums: Vec<String>,
    pub(super) if_match: Option<ETagCondition>,
    pub(super) if_none_match: Option<ETagCondition>,
}

/// Commits a new version (blob already adopted, or inline `data`) through the bucket's
/// group commit. Returns (version id, versioning state, modified ms).
pub(super) fn commit_object(
    bucket: &store::Bucket,
    obj: NewObject,
) -> S3Result<(String, Versioning, i64)> {
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

pub(super) fn delete_one(
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

    /// Adopts a received body and commits it as a new version of `obj.key`.
    pub(super) async fn store_received(
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

    pub(super) async fn post_object(
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

    pub(super) async fn get_object(
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

    pub(super) async fn head_object(
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

    pub(super) async fn get_object_attributes(
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
}
