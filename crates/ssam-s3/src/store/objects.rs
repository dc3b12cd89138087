//! Object versions: the version a read gets (the current one or a given id), committing
//! a new version (conditional writes; the null version a write replaces when versioning is
//! off or suspended), deletes and delete markers, in-place changes (tags, ACL), and walking
//! the sorted index for listings. Every change is a journal record, made here.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use super::bucket::{Bucket, BucketState};
use super::journal::Record;
use super::{
    now_ms, Committed, DeleteIf, Deleted, Found, InlineBody, NewObject, ObjectBody, ObjectMeta,
    Preconditions, Removal, StoreError, Version, VersionId, Versioning,
};

impl BucketState {
    /// The versions of `key`, newest first (none when the key is absent).
    pub fn versions(&self, key: &str) -> &[Version] {
        self.objects.get(key).map_or(&[], Vec::as_slice)
    }

    /// The latest version of `key` unless it is a delete marker.
    pub fn current(&self, key: &str) -> Option<&Version> {
        self.versions(key).first().filter(|v| !v.delete_marker)
    }

    fn version(&self, key: &str, id: &VersionId) -> Option<&Version> {
        self.versions(key).iter().find(|v| v.id == *id)
    }

    /// The version a read of `key` gets: version `id`, or the latest, which must not be a
    /// delete marker.
    pub fn lookup(&self, key: &str, id: Option<&VersionId>) -> Result<&Version, StoreError> {
        match id {
            None => {
                let v = self
                    .versions(key)
                    .first()
                    .ok_or(StoreError::NoCurrentVersion {
                        delete_marker: None,
                    })?;
                if v.delete_marker {
                    return Err(StoreError::NoCurrentVersion {
                        delete_marker: Some(v.id.clone()),
                    });
                }
                Ok(v)
            }
            Some(id) => {
                let v = self.version(key, id).ok_or(StoreError::NoSuchVersion)?;
                if v.delete_marker {
                    return Err(StoreError::VersionIsDeleteMarker);
                }
                Ok(v)
            }
        }
    }

    /// Walks the index in key order; see [`walk`].
    pub fn walk<'a>(
        &'a self,
        prefix: &str,
        delimiter: Option<&str>,
        after: Option<&str>,
        visit: impl FnMut(Entry<'a>) -> bool,
    ) -> usize {
        walk(&self.objects, prefix, delimiter, after, visit)
    }

    /// The greatest key below `key`.
    pub fn key_before(&self, key: &str) -> Option<&str> {
        self.objects
            .range::<str, _>((Bound::Unbounded, Bound::Excluded(key)))
            .next_back()
            .map(|(k, _)| k.as_str())
    }

    fn found(&self, version: Version) -> Found {
        let inline = version.inline_at.map(|at| InlineBody {
            file: Arc::clone(&self.reader),
            at,
        });
        Found {
            version,
            versioning: self.config.versioning,
            inline,
        }
    }

    /// What deleting `key` (or its version `id`) writes and answers; see [`Bucket::delete`].
    fn plan_delete(
        &self,
        key: &str,
        id: Option<VersionId>,
        cond: &DeleteIf,
    ) -> Result<(Vec<Record>, Deleted), StoreError> {
        if !cond.is_empty() {
            // A missing object is not an error for a conditional delete, and nothing is
            // written; a present version (a delete marker too) must match.
            let target = match &id {
                Some(id) => self.version(key, id),
                None => self.versions(key).first(),
            };
            let Some(v) = target else {
                return Ok((Vec::new(), Deleted::nothing(None)));
            };
            if !cond.holds(v) {
                return Err(StoreError::PreconditionFailed);
            }
        }
        let key = key.to_owned();
        if let Some(id) = id {
            let Some(v) = self.version(&key, &id) else {
                return Ok((Vec::new(), Deleted::nothing(Some(id))));
            };
            let deleted = Deleted {
                version_id: Some(id.clone()),
                delete_marker: v.delete_marker,
                removal: Some(Removal::Version),
            };
            return Ok((vec![Record::Del { key, id }], deleted));
        }
        match self.config.versioning {
            Versioning::Unversioned if self.objects.contains_key(&key) => Ok((
                vec![Record::Del {
                    key,
                    id: VersionId::Null,
                }],
                Deleted {
                    version_id: None,
                    delete_marker: false,
                    removal: Some(Removal::Version),
                },
            )),
            Versioning::Unversioned => Ok((Vec::new(), Deleted::nothing(None))),
            versioning => {
                let id = VersionId::for_write(versioning);
                let marker = delete_marker(id.clone());
                Ok((
                    vec![Record::put(key, marker, None)],
                    Deleted {
                        version_id: Some(id),
                        delete_marker: true,
                        removal: Some(Removal::MarkerCreated),
                    },
                ))
            }
        }
    }
}

impl Bucket {
    /// The version a read of `key` gets (see [`BucketState::lookup`]), with the bucket's
    /// versioning and, for an inline body, where to read it.
    pub fn find(&self, key: &str, id: Option<&VersionId>) -> Result<Found, StoreError> {
        let st = self.lock()?;
        let v = st.lookup(key, id)?.clone();
        Ok(st.found(v))
    }

    /// Commits a new version of `obj.key` through the group commit, once `pre` holds for
    /// the current version. Versioning enabled: a fresh version id; off or suspended: the
    /// null version, replacing the previous null version. On refusal, the new blob goes.
    pub fn put_version(&self, obj: NewObject, pre: Preconditions) -> Result<Committed, StoreError> {
        let blob_to_drop = match &obj.body {
            ObjectBody::Blob(b) => Some(b.clone()),
            ObjectBody::Inline(_) => None,
        };
        let result = self.mutate(move |st: &mut BucketState| {
            check_preconditions(st.current(&obj.key), &pre)?;
            let versioning = st.config.versioning;
            let id = VersionId::for_write(versioning);
            let modified_ms = now_ms();
            let (blob, data) = match obj.body {
                ObjectBody::Blob(b) => (Some(b), None),
                ObjectBody::Inline(d) => (None, Some(d)),
            };
            let v = Version {
                id: id.clone(),
                blob,
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
            let committed = Committed {
                version_id: id,
                versioning,
                modified_ms,
            };
            Ok((vec![Record::put(obj.key, v, data)], committed))
        })?;
        if result.is_err() {
            if let Some(b) = blob_to_drop {
                self.drop_blobs(&[b]);
            }
        }
        result
    }

    /// Deletes `key` as S3 does: version `id` permanently when given; else the object
    /// (versioning off) or by adding a delete marker (versioning enabled or suspended).
    /// A conditional delete (`cond`) checks the version it would delete.
    pub fn delete(
        &self,
        key: &str,
        id: Option<VersionId>,
        cond: DeleteIf,
    ) -> Result<Deleted, StoreError> {
        let key = key.to_owned();
        self.mutate(move |st: &mut BucketState| st.plan_delete(&key, id, &cond))?
    }

    /// Changes the version a read of `key` gets (tags, ACL) where it stands, durably.
    pub fn update_version(
        &self,
        key: &str,
        id: Option<&VersionId>,
        change: impl FnOnce(&mut Version),
    ) -> Result<Found, StoreError> {
        let mut st = self.lock()?;
        let mut v = st.lookup(key, id)?.clone();
        change(&mut v);
        let found = st.found(v.clone());
        self.commit(&mut st, vec![Record::put_in_place(key.to_owned(), v)])?;
        Ok(found)
    }

    /// The body of inline version `id` of `key`, looked up again under the lock
    /// (compaction may have moved it since the caller looked).
    pub fn read_inline_version(
        &self,
        key: &str,
        id: &VersionId,
    ) -> Result<bytes::Bytes, StoreError> {
        let st = self.lock()?;
        let v = st.version(key, id).ok_or(StoreError::NoSuchKey)?;
        Ok(self.read_inline(&st, v)?)
    }
}

/// `If-None-Match` and `If-Match` of a write against the current version.
fn check_preconditions(current: Option<&Version>, pre: &Preconditions) -> Result<(), StoreError> {
    if let Some(c) = &pre.if_none_match {
        if current.is_some_and(|v| c.matches(&v.etag)) {
            return Err(StoreError::PreconditionFailed);
        }
    }
    if let Some(c) = &pre.if_match {
        match current {
            None => return Err(StoreError::NoSuchKey),
            Some(v) if !c.matches(&v.etag) => return Err(StoreError::PreconditionFailed),
            Some(_) => {}
        }
    }
    Ok(())
}

fn delete_marker(id: VersionId) -> Version {
    Version {
        id,
        blob: None,
        delete_marker: true,
        size: 0,
        etag: String::new(),
        modified_ms: now_ms(),
        meta: ObjectMeta::default(),
        tags: Vec::new(),
        checksum: None,
        parts: Vec::new(),
        part_checksums: Vec::new(),
        inline_at: None,
    }
}

/// One entry of a listing: a key (with its versions) or a common prefix.
pub enum Entry<'a> {
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
        assert_eq!(past_prefix("a/").as_deref(), Some("a0"));
        assert_eq!(past_prefix("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(past_prefix("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(past_prefix("\u{10FFFF}"), None);
    }
}
