//! Listings: ListObjects v1 and v2, ListObjectVersions (keys walked in order from the
//! sorted index, common prefixes skipped as a whole).

use super::*;
use crate::store::Entry;

/// S3's `encoding-type=url`: everything but unreserved characters and `/` is escaped.
pub(super) const URL_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

pub(super) fn maybe_encode(s: String, encode: bool) -> String {
    if encode {
        percent_encoding::utf8_percent_encode(&s, URL_ENCODE).to_string()
    } else {
        s
    }
}

/// A listing of latest versions (ListObjects v1 and v2).
pub(super) struct Listing {
    pub(super) objects: Vec<(String, Version)>,
    pub(super) prefixes: Vec<String>,
    pub(super) truncated: bool,
    pub(super) last: Option<String>,
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
    st.walk(prefix, delimiter, after, |e| {
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

pub(super) fn max_keys(v: Option<i32>) -> S3Result<usize> {
    match v {
        None => Ok(1000),
        Some(n) if n < 0 => Err(s3_error!(
            InvalidArgument,
            "Argument maxKeys must be an integer between 0 and 2147483647"
        )),
        Some(n) => Ok(usize::try_from(n).unwrap_or(1000).min(1000)),
    }
}

pub(super) fn object_dto(key: String, v: &Version, with_owner: bool) -> Object {
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

impl Service {
    pub(super) async fn list_objects(
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
        let listing = bucket.read(|st| {
            list_latest(
                st,
                &prefix,
                input.delimiter.as_deref(),
                input.marker.as_deref().filter(|m| !m.is_empty()),
                max,
            )
        })?;
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

    pub(super) async fn list_objects_v2(
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
        let listing = bucket.read(|st| {
            list_latest(
                st,
                &prefix,
                input.delimiter.as_deref(),
                after.as_deref(),
                max,
            )
        })?;
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

    pub(super) async fn list_object_versions(
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
        let mut out = VersionListing::new(max, encode);
        if max > 0 {
            bucket.read(|st| {
                out.walk(
                    st,
                    &prefix,
                    input.delimiter.as_deref(),
                    key_marker,
                    vid_marker,
                )
            })?;
        }
        let VersionListing {
            versions,
            markers,
            prefixes,
            truncated,
            next,
            ..
        } = out;
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
}

/// A ListObjectVersions page being filled.
struct VersionListing {
    max: usize,
    encode: bool,
    count: usize,
    versions: Vec<ObjectVersion>,
    markers: Vec<DeleteMarkerEntry>,
    prefixes: Vec<String>,
    truncated: bool,
    /// The last entry listed: a key and version, or a common prefix.
    next: Option<(String, Option<String>)>,
}

impl VersionListing {
    fn new(max: usize, encode: bool) -> Self {
        Self {
            max,
            encode,
            count: 0,
            versions: Vec::new(),
            markers: Vec::new(),
            prefixes: Vec::new(),
            truncated: false,
            next: None,
        }
    }

    /// Lists from the markers on until the page is full.
    fn walk(
        &mut self,
        st: &store::BucketState,
        prefix: &str,
        delimiter: Option<&str>,
        key_marker: Option<String>,
        vid_marker: Option<String>,
    ) {
        // With a version-id marker, the marker key itself still has versions to show.
        let (after, resume_in) = match (key_marker, vid_marker) {
            // Start at the key itself: walk from the key just below it.
            (Some(k), Some(v)) => (st.key_before(&k).map(str::to_owned), Some((k, v))),
            (Some(k), None) => (Some(k), None),
            _ => (None, None),
        };
        st.walk(prefix, delimiter, after.as_deref(), |e| match e {
            Entry::Prefix(p) => {
                if self.count == self.max {
                    self.truncated = true;
                    return false;
                }
                self.next = Some((p.clone(), None));
                self.prefixes.push(p);
                self.count += 1;
                true
            }
            Entry::Key(k, vs) => {
                let mut skip_until = None;
                if let Some((rk, rv)) = &resume_in {
                    if rk == k {
                        skip_until = Some(rv.as_str());
                    } else if k < rk {
                        return true;
                    }
                }
                self.key(k, vs, skip_until)
            }
        });
    }

    /// Lists the versions of `key` (after version `skip_until`); false when the page is full.
    fn key(&mut self, key: &str, versions: &[Version], skip_until: Option<&str>) -> bool {
        let mut skipping = skip_until.is_some();
        for (i, v) in versions.iter().enumerate() {
            if skipping {
                if Some(v.id.as_str()) == skip_until {
                    skipping = false;
                }
                continue;
            }
            if self.count == self.max {
                self.truncated = true;
                return false;
            }
            let listed_key = Some(maybe_encode(key.to_owned(), self.encode));
            if v.delete_marker {
                self.markers.push(DeleteMarkerEntry {
                    key: listed_key,
                    version_id: Some(v.id.to_string()),
                    is_latest: Some(i == 0),
                    last_modified: Some(ts(v.modified_ms)),
                    owner: Some(owner()),
                });
            } else {
                self.versions.push(ObjectVersion {
                    key: listed_key,
                    version_id: Some(v.id.to_string()),
                    is_latest: Some(i == 0),
                    last_modified: Some(ts(v.modified_ms)),
                    e_tag: Some(etag_of(&v.etag)),
                    size: Some(i64::try_from(v.size).unwrap_or(i64::MAX)),
                    storage_class: Some(ObjectVersionStorageClass::from_static(
                        ObjectVersionStorageClass::STANDARD,
                    )),
                    owner: Some(owner()),
                    checksum_algorithm: v
                        .checksum
                        .as_ref()
                        .map(|c| vec![ChecksumAlgorithm::from(c.algorithm.clone())]),
                    checksum_type: v
                        .checksum
                        .as_ref()
                        .map(|c| ChecksumType::from(c.kind.clone())),
                    ..Default::default()
                });
            }
            self.next = Some((key.to_owned(), Some(v.id.to_string())));
            self.count += 1;
        }
        true
    }
}
