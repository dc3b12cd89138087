//! The S3 view: buckets with their notification bindings, objects by prefix, an object's
//! versions and metadata, read from the store; uploads, downloads and deletes through the
//! local S3's own protocol (plain HTTP to its endpoint), so an upload is an S3 PUT and fires
//! the same object events and notifications as one from any client.

use std::sync::Arc;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use ssam_s3::store::{Entry, Store, Version, Versioning};

pub struct S3View {
    pub store: Arc<Store>,
    pub endpoint: String,
    pub bindings: ssam_notify::Bindings,
}

/// Key characters S3 clients leave unescaped in a path (RFC 3986 unreserved, plus `/`).
const KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

#[derive(Serialize)]
pub struct BindingView {
    pub function: String,
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

#[derive(Serialize)]
pub struct BucketView {
    pub name: String,
    pub region: String,
    pub versioning: &'static str,
    pub created_ms: i64,
    pub bindings: Vec<BindingView>,
}

#[derive(Serialize)]
pub struct ObjectRow {
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub modified_ms: i64,
    pub versions: usize,
}

#[derive(Serialize)]
pub struct Listing {
    pub bucket: String,
    pub prefix: String,
    pub prefixes: Vec<String>,
    pub objects: Vec<ObjectRow>,
    /// More entries exist past the first 1000.
    pub truncated: bool,
}

#[derive(Serialize)]
pub struct VersionView {
    pub version_id: String,
    pub latest: bool,
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub modified_ms: i64,
    pub content_type: Option<String>,
    pub metadata: std::collections::BTreeMap<String, String>,
    pub tags: Vec<(String, String)>,
}

impl VersionView {
    fn of(v: &Version, latest: bool) -> Self {
        VersionView {
            version_id: v.id.as_str().to_string(),
            latest,
            delete_marker: v.delete_marker,
            size: v.size,
            etag: v.etag.clone(),
            modified_ms: v.modified_ms,
            content_type: v.meta.content_type.clone(),
            metadata: v.meta.user.clone(),
            tags: v.tags.clone(),
        }
    }
}

/// Listing page size, as S3's default MaxKeys.
const PAGE: usize = 1000;

impl S3View {
    pub fn buckets(&self) -> Vec<BucketView> {
        let mut out: Vec<BucketView> = self
            .store
            .list_buckets()
            .into_iter()
            .map(|(name, cfg)| BucketView {
                bindings: self
                    .bindings
                    .0
                    .iter()
                    .filter(|b| b.bucket == name)
                    .map(|b| BindingView {
                        function: b.function.clone(),
                        events: b.events.clone(),
                        prefix: b.prefix.clone(),
                        suffix: b.suffix.clone(),
                    })
                    .collect(),
                name,
                region: cfg.region.clone(),
                versioning: match cfg.versioning {
                    Versioning::Unversioned => "off",
                    Versioning::Enabled => "enabled",
                    Versioning::Suspended => "suspended",
                },
                created_ms: cfg.created_ms,
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Keys and common prefixes (`/` delimited) under `prefix`.
    pub fn list(&self, bucket: &str, prefix: &str) -> Result<Listing, String> {
        let b = self.store.bucket(bucket).map_err(|e| e.to_string())?;
        b.read(|state| {
            let mut listing = Listing {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
                prefixes: Vec::new(),
                objects: Vec::new(),
                truncated: false,
            };
            state.walk(prefix, Some("/"), None, |entry| {
                if listing.prefixes.len() + listing.objects.len() >= PAGE {
                    listing.truncated = true;
                    return false;
                }
                match entry {
                    Entry::Prefix(p) => listing.prefixes.push(p),
                    Entry::Key(key, versions) => {
                        if let Some(v) = versions.first().filter(|v| !v.delete_marker) {
                            listing.objects.push(ObjectRow {
                                key: key.clone(),
                                size: v.size,
                                etag: v.etag.clone(),
                                modified_ms: v.modified_ms,
                                versions: versions.len(),
                            });
                        }
                    }
                }
                true
            });
            listing
        })
        .map_err(|e| e.to_string())
    }

    /// Every version of `key`, newest first.
    pub fn versions(&self, bucket: &str, key: &str) -> Result<Vec<VersionView>, String> {
        let b = self.store.bucket(bucket).map_err(|e| e.to_string())?;
        b.read(|state| {
            state
                .versions(key)
                .iter()
                .enumerate()
                .map(|(i, v)| VersionView::of(v, i == 0))
                .collect()
        })
        .map_err(|e| e.to_string())
    }

    /// The URL of `key` on the local S3.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        format!(
            "{}/{}/{}",
            self.endpoint.trim_end_matches('/'),
            utf8_percent_encode(bucket, KEY),
            utf8_percent_encode(key, KEY)
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_keep_slashes_and_escape_the_rest() {
        let v = percent_encoding::utf8_percent_encode("in/a b+c.jpg", super::KEY);
        assert_eq!(v.to_string(), "in/a%20b%2Bc.jpg");
    }
}
