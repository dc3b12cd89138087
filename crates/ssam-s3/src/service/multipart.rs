//! Multipart uploads: create, upload parts, complete (concatenate, ETag, checksums),
//! abort, and the part and upload listings.

use super::object::Declared;
use super::*;

const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

fn invalid_part() -> S3Error {
    s3_error!(InvalidPart, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
}

pub(super) fn part_number(n: i32) -> S3Result<u32> {
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

/// The parts a completion names, checked as S3 checks them: the order of the whole list
/// first, then each part (uploaded, same ETag), then the sizes (all but the last at least
/// 5 MiB).
fn choose_parts(requested: Vec<CompletedPart>, up: &Upload) -> S3Result<Vec<PartInfo>> {
    if requested.is_empty() {
        return Err(s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema"
        ));
    }
    // A part listed twice in a row (a re-sent part) counts once, the later entry winning.
    let requested = requested
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
    Ok(chosen)
}

/// A multipart object's ETag: the MD5 of the parts' MD5s, then `-N`.
fn multipart_etag(parts: &[PartInfo]) -> S3Result<String> {
    let mut md5s = Md5::new();
    for p in parts {
        let bytes = hex::decode(&p.etag).map_err(internal)?;
        md5s.update(&bytes);
    }
    Ok(format!("{}-{}", hex::encode(md5s.finalize()), parts.len()))
}

/// A composite checksum the client declared must match the one computed (the `-N`
/// suffix aside).
fn check_declared_composite(
    declared: Option<&str>,
    composite: Option<&StoredChecksum>,
) -> S3Result<()> {
    if let (Some(d), Some(c)) = (declared, composite) {
        let bare = |v: &str| v.split('-').next().unwrap_or_default().to_owned();
        if bare(d) != bare(&c.value) {
            return Err(s3_error!(
                BadDigest,
                "The {} you specified did not match the calculated checksum.",
                c.algorithm
            ));
        }
    }
    Ok(())
}

/// The answer to a completion (and to its retries).
fn completed_output(
    bucket: &str,
    key: &str,
    done: &store::CompletedUpload,
) -> CompleteMultipartUploadOutput {
    let c = checksum_fields(done.checksum.as_ref());
    CompleteMultipartUploadOutput {
        bucket: Some(bucket.to_owned()),
        key: Some(key.to_owned()),
        location: Some(format!("/{bucket}/{key}")),
        e_tag: Some(etag_of(&done.etag)),
        // S3 names no version for writes to unversioned or suspended buckets.
        version_id: done.version_id.named().map(str::to_owned),
        checksum_crc32: c.checksum_crc32,
        checksum_crc32c: c.checksum_crc32c,
        checksum_crc64nvme: c.checksum_crc64nvme,
        checksum_sha1: c.checksum_sha1,
        checksum_sha256: c.checksum_sha256,
        checksum_type: c.checksum_type,
        ..Default::default()
    }
}

/// The disk side of a completion: the parts concatenated into one blob, committed as the
/// new version, the upload ended.
struct Assembly {
    tmp: std::path::PathBuf,
    key: String,
    upload_id: String,
    etag: String,
    size: u64,
    /// The composite checksum, when the upload has one.
    composite: Option<StoredChecksum>,
    pre: store::Preconditions,
}

impl Assembly {
    fn run(
        self,
        bucket: &store::Bucket,
        up: Upload,
        chosen: Vec<PartInfo>,
    ) -> S3Result<store::CompletedUpload> {
        let full_object_algo = up
            .checksum_algorithm
            .clone()
            .filter(|_| up.checksum_type.as_deref() == Some("FULL_OBJECT"));
        let part_checksums: Vec<String> = if chosen.iter().all(|p| p.checksum.is_some()) {
            chosen.iter().filter_map(|p| p.checksum.clone()).collect()
        } else {
            Vec::new()
        };
        let full = concatenate(bucket, &chosen, &self.tmp, full_object_algo.as_deref())?;
        let checksum = match (full, full_object_algo) {
            (Some(value), Some(algo)) => Some(StoredChecksum {
                algorithm: algo,
                value,
                kind: "FULL_OBJECT".into(),
            }),
            _ => self.composite,
        };
        let blob = bucket.adopt_blob(&self.tmp).map_err(internal)?;
        let obj = store::NewObject {
            key: self.key.clone(),
            body: store::ObjectBody::Blob(blob),
            size: self.size,
            etag: self.etag.clone(),
            meta: up.meta,
            tags: up.tags,
            checksum: checksum.clone(),
            parts: chosen.iter().map(|p| p.size).collect(),
            part_checksums,
        };
        let committed = bucket.put_version(obj, self.pre)?;
        let done = store::CompletedUpload {
            key: self.key,
            etag: self.etag,
            version_id: committed.version_id,
            checksum,
        };
        bucket.finish_upload(&self.upload_id, done.clone())?;
        Ok(done)
    }
}

/// Concatenates the parts into `tmp` (fsynced when durable); with `full_object_algo`,
/// also computes the object's full checksum (base64). Without one to compute, std's copy
/// uses copy_file_range and never touches the bytes.
fn concatenate(
    bucket: &store::Bucket,
    parts: &[PartInfo],
    tmp: &std::path::Path,
    full_object_algo: Option<&str>,
) -> S3Result<Option<String>> {
    use std::io::{Read, Write};
    let mut hasher = full_object_algo.and_then(body::checksum_hasher);
    let mut out = std::fs::File::create(tmp).map_err(internal)?;
    for p in parts {
        let mut f = std::fs::File::open(bucket.blob_path(&p.blob)).map_err(internal)?;
        match hasher.as_mut() {
            None => {
                std::io::copy(&mut f, &mut out).map_err(internal)?;
            }
            Some(h) => {
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
    if bucket.durable() {
        out.sync_all().map_err(internal)?;
    }
    Ok(match (hasher, full_object_algo) {
        (Some(h), Some(algo)) => body::checksum_value(&h.finalize(), algo).map(str::to_owned),
        _ => None,
    })
}

impl Service {
    pub(super) async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        check_key(&input.key)?;
        let bucket = self.store.bucket(&input.bucket)?;
        let (meta, tags) = write_meta(
            content_headers!(input),
            input.acl.as_ref(),
            input.tagging.as_deref(),
        )?;
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
        blocking(move || Ok(bucket.create_upload(up)?)).await?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(id),
            checksum_algorithm: algo.map(ChecksumAlgorithm::from),
            checksum_type: kind.map(ChecksumType::from),
            ..Default::default()
        }))
    }

    pub(super) async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let trailing = req.trailing_headers.clone();
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let part = part_number(input.part_number)?;
        let upload_algo = bucket
            .read(|st| {
                st.upload(&input.upload_id, &input.key)
                    .map(|up| up.checksum_algorithm.clone())
            })?
            .ok_or(StoreError::NoSuchUpload)?;
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
        let declared = Declared {
            content_length: input.content_length,
            content_md5: input.content_md5.as_deref(),
            algorithm: algo.as_deref(),
            expected: expected.as_deref(),
            trailing: trailing.as_ref(),
        };
        let (rec, checksum) = self.receive_checked(input.body, declared, 0).await?;
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
            Ok(bucket.add_part(&upload_id, part, PartInfo { blob, ..info })?)
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

    pub(super) async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let requested = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default();
        let up = match bucket.upload_or_completed(&input.upload_id, &input.key)? {
            Ok(up) => up,
            // Completing the same upload again answers as the first completion did.
            Err(done) => {
                return Ok(S3Response::new(completed_output(
                    &input.bucket,
                    &input.key,
                    &done,
                )))
            }
        };
        let chosen = choose_parts(requested, &up)?;
        let etag = multipart_etag(&chosen)?;
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
        check_declared_composite(declared.as_deref(), composite.as_ref())?;
        let assembly = Assembly {
            tmp: self.store.tmp_path(),
            key: input.key.clone(),
            upload_id: input.upload_id.clone(),
            etag: etag.clone(),
            size,
            composite,
            pre: write_preconditions(input.if_match, input.if_none_match),
        };
        let b2 = Arc::clone(&bucket);
        let done = blocking(move || assembly.run(&b2, up, chosen)).await?;
        self.emit(
            &req.extensions,
            Change {
                bucket: &input.bucket,
                key: &input.key,
                event: "ObjectCreated:CompleteMultipartUpload",
                size,
                etag: &etag,
                version_id: Some(&done.version_id),
            },
        );
        Ok(S3Response::new(completed_output(
            &input.bucket,
            &input.key,
            &done,
        )))
    }

    pub(super) async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let bucket = self.store.bucket(&req.input.bucket)?;
        let id = req.input.upload_id.clone();
        blocking(move || Ok(bucket.abort_upload(&id)?)).await?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    pub(super) async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let up = bucket.upload(&input.upload_id, &input.key)?;
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

    pub(super) async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        let bucket = self.store.bucket(&input.bucket)?;
        let max = input
            .max_uploads
            .map_or(1000, |m| usize::try_from(m).unwrap_or(1000).min(1000));
        let prefix = input.prefix.clone().unwrap_or_default();
        let mut all: Vec<Upload> = bucket.read(|st| {
            st.uploads()
                .filter(|u| u.key.starts_with(&prefix))
                .cloned()
                .collect()
        })?;
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
