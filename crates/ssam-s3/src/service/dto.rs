//! Conversions between the store's values and s3s's DTOs: timestamps, ETags, the owner,
//! content headers and user metadata, tags, and sub-resource XML.

use super::*;

pub(super) const OWNER_ID: &str = crate::owner::CANONICAL_ID;
pub(super) const OWNER_NAME: &str = crate::owner::DISPLAY_NAME;
pub(super) const MAX_KEY_LEN: usize = 1024;

pub(super) fn ts(ms: i64) -> Timestamp {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Timestamp::from(t)
}

/// Seconds since the epoch of a timestamp (HTTP dates have second precision).
pub(super) fn ts_secs(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

pub(super) fn etag_of(s: &str) -> ETag {
    ETag::Strong(s.to_owned())
}

pub(super) fn owner() -> Owner {
    Owner {
        display_name: Some(OWNER_NAME.into()),
        id: Some(OWNER_ID.into()),
    }
}

pub(super) fn check_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_LEN {
        return Err(s3_error!(KeyTooLongError, "Your key is too long"));
    }
    if key.is_empty() {
        return Err(s3_error!(InvalidArgument, "The key must not be empty"));
    }
    Ok(())
}

/// The nine content fields every write operation (put, post, copy, create-multipart)
/// carries; [`content_headers!`] takes them from any of their inputs.
pub(super) struct ContentHeaders {
    pub(super) content_type: Option<String>,
    pub(super) content_encoding: Option<String>,
    pub(super) content_disposition: Option<String>,
    pub(super) content_language: Option<String>,
    pub(super) cache_control: Option<String>,
    pub(super) expires: Option<Timestamp>,
    pub(super) storage_class: Option<StorageClass>,
    pub(super) website_redirect: Option<String>,
    pub(super) metadata: Option<Metadata>,
}

/// The [`ContentHeaders`] of an s3s input (the four write inputs name them alike).
macro_rules! content_headers {
    ($input:expr) => {
        $crate::service::dto::ContentHeaders {
            content_type: $input.content_type.map(|c| c.to_string()),
            content_encoding: $input.content_encoding,
            content_disposition: $input.content_disposition,
            content_language: $input.content_language,
            cache_control: $input.cache_control,
            expires: $input.expires,
            storage_class: $input.storage_class,
            website_redirect: $input.website_redirect_location,
            metadata: $input.metadata,
        }
    };
}
pub(super) use content_headers;

/// The metadata stored with a new version, from its content headers.
pub(super) fn meta_from(h: ContentHeaders) -> S3Result<ObjectMeta> {
    let ContentHeaders {
        content_type,
        content_encoding,
        content_disposition,
        content_language,
        cache_control,
        expires,
        storage_class,
        website_redirect,
        metadata,
    } = h;
    let expires = match expires {
        Some(t) => {
            let mut buf = Vec::new();
            t.format(TimestampFormat::HttpDate, &mut buf)
                .map_err(internal)?;
            Some(String::from_utf8_lossy(&buf).into_owned())
        }
        None => None,
    };
    if let Some(sc) = &storage_class {
        const KNOWN: [&str; 8] = [
            "STANDARD",
            "REDUCED_REDUNDANCY",
            "STANDARD_IA",
            "ONEZONE_IA",
            "INTELLIGENT_TIERING",
            "GLACIER",
            "DEEP_ARCHIVE",
            "GLACIER_IR",
        ];
        if !KNOWN.contains(&sc.as_str()) {
            return Err(s3_error!(
                InvalidStorageClass,
                "The storage class you specified is not valid"
            ));
        }
    }
    Ok(ObjectMeta {
        content_type,
        content_encoding,
        content_disposition,
        content_language,
        cache_control,
        expires,
        storage_class: storage_class
            .map(|s| s.as_str().to_owned())
            .filter(|s| s != "STANDARD"),
        website_redirect,
        acl: None,
        user: metadata
            .map(|m| m.into_iter().collect())
            .unwrap_or_default(),
    })
}

pub(super) fn expires_ts(meta: &ObjectMeta) -> Option<Timestamp> {
    meta.expires
        .as_deref()
        .and_then(|s| Timestamp::parse(TimestampFormat::HttpDate, s).ok())
}

/// Parses `k=v&k2=v2` (the `x-amz-tagging` header and POST field).
/// What a new object stores besides its body: its content headers, canned ACL and the
/// `x-amz-tagging` header's tags (PutObject, POST uploads, CreateMultipartUpload).
pub(super) fn write_meta(
    headers: ContentHeaders,
    acl: Option<&ObjectCannedACL>,
    tagging: Option<&str>,
) -> S3Result<(ObjectMeta, Vec<(String, String)>)> {
    let mut meta = meta_from(headers)?;
    meta.acl = acl.map(|a| a.as_str().to_owned());
    let tags = match tagging {
        Some(t) => parse_tagging_header(t)?,
        None => Vec::new(),
    };
    Ok((meta, tags))
}

pub(super) fn parse_tagging_header(s: &str) -> S3Result<Vec<(String, String)>> {
    let mut tags = Vec::new();
    for pair in s.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec = |x: &str| {
            percent_encoding::percent_decode_str(&x.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        tags.push((dec(k), dec(v)));
    }
    validate_tags(&tags)?;
    tags.sort();
    Ok(tags)
}

pub(super) fn validate_tags(tags: &[(String, String)]) -> S3Result<()> {
    if tags.len() > 10 {
        return Err(s3_error!(
            InvalidTag,
            "Object tags cannot be greater than 10"
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(s3_error!(
                InvalidTag,
                "The TagKey you have provided is invalid"
            ));
        }
        if v.chars().count() > 256 {
            return Err(s3_error!(
                InvalidTag,
                "The TagValue you have provided is too long"
            ));
        }
        if !seen.insert(k) {
            return Err(s3_error!(
                InvalidTag,
                "Cannot provide multiple Tags with the same key"
            ));
        }
    }
    Ok(())
}

pub(super) fn tags_to_dto(tags: &[(String, String)]) -> TagSet {
    tags.iter()
        .map(|(k, v)| Tag {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect()
}

pub(super) fn tags_from_dto(set: TagSet) -> Vec<(String, String)> {
    set.into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect()
}

pub(crate) fn to_xml<T: s3s::xml::Serialize>(v: &T) -> S3Result<String> {
    let mut buf = Vec::new();
    let mut s = s3s::xml::Serializer::new(&mut buf);
    v.serialize(&mut s).map_err(internal)?;
    String::from_utf8(buf).map_err(internal)
}

pub(super) fn from_xml<T: for<'a> s3s::xml::Deserialize<'a>>(xml: &str) -> S3Result<T> {
    let mut d = s3s::xml::Deserializer::new(xml.as_bytes());
    T::deserialize(&mut d).map_err(internal)
}

/// The one grant a local S3 has: its owner's full control.
pub(super) fn full_control() -> Grant {
    Grant {
        grantee: Some(Grantee {
            display_name: Some(OWNER_NAME.into()),
            id: Some(OWNER_ID.into()),
            type_: Type::from_static(Type::CANONICAL_USER),
            email_address: None,
            uri: None,
        }),
        permission: Some(Permission::from_static(Permission::FULL_CONTROL)),
    }
}
