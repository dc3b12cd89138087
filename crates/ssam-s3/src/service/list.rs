//! Listings: ListObjects v1 and v2, ListObjectVersions (keys walked in order from the
//! sorted index, common prefixes skipped as a whole).

use super::*;

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

/// One entry of a listing: a key (with its versions) or a common prefix.
pub(super) enum Entry<'a> {
    Key(&'a String, &'a Vec<Version>),
    Prefix(String),
}

/// Walks keys under `prefix` after `after` (exclusive), folding keys that contain
/// `delimiter` after the prefix into common prefixes. Calls `visit` for each entry until it
/// returns false. Skips whole common prefixes at once, so a delimiter listing does not
/// touch every key below each prefix. Returns how many index entries it examined.
pub(super) fn walk<'a>(
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
pub(super) fn past_prefix(prefix: &str) -> Option<String> {
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
pub(super) struct Listing {
    pub(super) objects: Vec<(String, Version)>,
    pub(super) prefixes: Vec<String>,
    pub(super) truncated: bool,
    pub(super) last: Option<String>,
}

pub(super) fn list_latest(
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
