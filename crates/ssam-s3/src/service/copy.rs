//! Copies: CopyObject and UploadPartCopy (copy sources, their conditions and ranges).

use super::multipart::part_number;
use super::*;

/// Parses `bytes=a-b` of `x-amz-copy-source-range`.
pub(super) fn parse_copy_range(s: &str, size: u64) -> S3Result<(u64, u64)> {
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
    pub(super) fn copy_source(src: &CopySource) -> S3Result<(String, String, Option<String>)> {
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

/// Commits a copy of version `src` of `src_bucket` as `key` in `dst`: an inline body is
/// copied as bytes, a blob as a hard link.
fn copy_version(
    src_bucket: &store::Bucket,
    src_key: &str,
    src: Version,
    dst: &store::Bucket,
    key: String,
    (meta, tags): (ObjectMeta, Vec<(String, String)>),
) -> S3Result<store::Committed> {
    let body = if src.inline_at.is_some() {
        store::ObjectBody::Inline(src_bucket.read_inline_version(src_key, &src.id)?)
    } else {
        let blob = src.blob.as_deref().unwrap_or_default();
        store::ObjectBody::Blob(dst.link_blob(src_bucket, blob).map_err(internal)?)
    };
    let obj = store::NewObject {
        key,
        body,
        size: src.size,
        etag: src.etag,
        meta,
        tags,
        checksum: src.checksum,
        parts: src.parts,
        part_checksums: src.part_checksums,
    };
    Ok(dst.put_version(obj, store::Preconditions::default())?)
}

impl Service {
    pub(super) async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let input = req.input;
        check_key(&input.key)?;
        let (src_bucket_name, src_key, src_vid) = Self::copy_source(&input.copy_source)?;
        let src_bucket = self.store.bucket(&src_bucket_name)?;
        let dst_bucket = self.store.bucket(&input.bucket)?;
        let src = src_bucket
            .find(&src_key, parse_version_id(src_vid.as_deref())?.as_ref())?
            .version;
        check_copy_source_conditions(&src, &input)?;
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
            meta_from(content_headers!(input))?
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
        let (sb, db) = (Arc::clone(&src_bucket), Arc::clone(&dst_bucket));
        let key = input.key.clone();
        let etag = src.etag.clone();
        let src2 = src.clone();
        let src_key_for_copy = src_key.clone();
        let committed =
            blocking(move || copy_version(&sb, &src_key_for_copy, src2, &db, key, (meta, tags)))
                .await?;
        self.emit(
            &req.extensions,
            Change {
                bucket: &input.bucket,
                key: &input.key,
                event: "ObjectCreated:Copy",
                size: src.size,
                etag: &etag,
                version_id: Some(&committed.version_id),
            },
        );
        let c = checksum_fields(src.checksum.as_ref());
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag_of(&etag)),
                last_modified: Some(ts(committed.modified_ms)),
                checksum_crc32: c.checksum_crc32,
                checksum_crc32c: c.checksum_crc32c,
                checksum_crc64nvme: c.checksum_crc64nvme,
                checksum_sha1: c.checksum_sha1,
                checksum_sha256: c.checksum_sha256,
                checksum_type: c.checksum_type,
            }),
            // S3 names no version for writes to unversioned or suspended buckets.
            version_id: committed.version_id.named().map(str::to_owned),
            copy_source_version_id: src_vid.or_else(|| src.id.named().map(str::to_owned)),
            ..Default::default()
        }))
    }

    pub(super) async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let part = part_number(input.part_number)?;
        if !bucket.read(|st| st.upload(&input.upload_id, &input.key).is_some())? {
            return Err(StoreError::NoSuchUpload.into());
        }
        let (sbn, skey, svid) = Self::copy_source(&input.copy_source)?;
        let src_bucket = self.store.bucket(&sbn)?;
        let src = src_bucket
            .find(&skey, parse_version_id(svid.as_deref())?.as_ref())?
            .version;
        if let Some(ETagCondition::ETag(e)) = &input.copy_source_if_match {
            if e.value() != src.etag {
                return Err(precondition_failed());
            }
        }
        if let Some(ETagCondition::ETag(e)) = &input.copy_source_if_none_match {
            if e.value() == src.etag {
                return Err(precondition_failed());
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
                    let data = sb.read_inline_version(&k, &id)?;
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
            let info = PartInfo {
                blob,
                size: n,
                etag: etag.clone(),
                modified_ms: modified,
                checksum: None,
            };
            b2.add_part(&upload_id, part, info)?;
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
}
