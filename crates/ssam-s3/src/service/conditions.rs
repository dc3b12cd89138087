//! Conditional requests (`If-Match`, `If-None-Match`, `If-(Un)Modified-Since`, conditional
//! deletes) and the byte window a GET or HEAD returns (`Range`, `partNumber`).

use super::*;

/// What a conditional read decides.
pub(super) fn check_read_conditions(
    v: &Version,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let modified = v.modified_ms.div_euclid(1000);
    let matches = |c: &ETagCondition| match c {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == v.etag,
    };
    if let Some(c) = if_match {
        if !matches(c) {
            return Err(precondition_failed());
        }
    } else if let Some(t) = if_unmodified_since {
        if modified > ts_secs(t) {
            return Err(precondition_failed());
        }
    }
    // A 304 still carries the validators, as S3's does.
    let not_modified = || {
        let mut e = S3Error::with_message(S3ErrorCode::NotModified, "Not Modified");
        let mut h = http::HeaderMap::new();
        if let Ok(val) = http::HeaderValue::from_str(&format!("\"{}\"", v.etag)) {
            h.insert(http::header::ETAG, val);
        }
        let mut buf = Vec::new();
        if ts(v.modified_ms)
            .format(TimestampFormat::HttpDate, &mut buf)
            .is_ok()
        {
            if let Ok(val) = http::HeaderValue::from_bytes(&buf) {
                h.insert(http::header::LAST_MODIFIED, val);
            }
        }
        e.set_headers(h);
        e
    };
    if let Some(c) = if_none_match {
        if matches(c) {
            return Err(not_modified());
        }
    } else if let Some(t) = if_modified_since {
        if modified <= ts_secs(t) {
            return Err(not_modified());
        }
    }
    Ok(())
}

/// A write's `If-Match` / `If-None-Match`, as the store checks them.
pub(super) fn write_preconditions(
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
) -> store::Preconditions {
    store::Preconditions {
        if_match: if_match.map(etag_match),
        if_none_match: if_none_match.map(etag_match),
    }
}

fn etag_match(c: ETagCondition) -> store::EtagMatch {
    match c {
        ETagCondition::Any => store::EtagMatch::Any,
        ETagCondition::ETag(e) => store::EtagMatch::Etag(e.value().to_owned()),
    }
}

/// CopyObject's `x-amz-copy-source-if-*` against the source version; they answer 412,
/// never 304.
pub(super) fn check_copy_source_conditions(src: &Version, input: &CopyObjectInput) -> S3Result<()> {
    let src_mod = src.modified_ms.div_euclid(1000);
    let etag_ok = |c: &ETagCondition| match c {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == src.etag,
    };
    if let Some(c) = &input.copy_source_if_match {
        if !etag_ok(c) {
            return Err(precondition_failed());
        }
    } else if let Some(t) = &input.copy_source_if_unmodified_since {
        if src_mod > ts_secs(t) {
            return Err(precondition_failed());
        }
    }
    if let Some(c) = &input.copy_source_if_none_match {
        if etag_ok(c) {
            return Err(precondition_failed());
        }
    } else if let Some(t) = &input.copy_source_if_modified_since {
        if src_mod <= ts_secs(t) {
            return Err(precondition_failed());
        }
    }
    Ok(())
}

/// The byte window of a GET or HEAD.
pub(super) struct Window {
    pub(super) start: u64,
    pub(super) len: u64,
    pub(super) content_range: Option<String>,
    pub(super) parts_count: Option<i32>,
}

/// The bytes a GET/HEAD returns.
pub(super) fn read_window(
    v: &Version,
    range: Option<&Range>,
    part: Option<i32>,
) -> S3Result<Window> {
    if let Some(n) = part {
        let parts = if v.parts.is_empty() {
            vec![v.size]
        } else {
            v.parts.clone()
        };
        let idx = usize::try_from(n)
            .ok()
            .filter(|i| *i >= 1 && *i <= parts.len())
            .ok_or_else(|| {
                let mut e = S3Error::with_message(
                    S3ErrorCode::InvalidPart,
                    "The requested partnumber is not satisfiable",
                );
                e.set_status_code(http::StatusCode::BAD_REQUEST);
                e
            })?;
        let start: u64 = parts[..idx - 1].iter().sum();
        let len = parts[idx - 1];
        let cr = (len > 0).then(|| format!("bytes {}-{}/{}", start, start + len - 1, v.size));
        return Ok(Window {
            start,
            len,
            content_range: cr,
            parts_count: Some(i32::try_from(parts.len()).unwrap_or(i32::MAX)),
        });
    }
    match range {
        None => Ok(Window {
            start: 0,
            len: v.size,
            content_range: None,
            parts_count: None,
        }),
        Some(r) => {
            let r = r
                .check(v.size)
                .map_err(|_| s3_error!(InvalidRange, "The requested range is not satisfiable"))?;
            let len = r.end - r.start;
            Ok(Window {
                start: r.start,
                len,
                content_range: Some(format!(
                    "bytes {}-{}/{}",
                    r.start,
                    r.end.saturating_sub(1),
                    v.size
                )),
                parts_count: None,
            })
        }
    }
}
