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
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ));
        }
    } else if let Some(t) = if_unmodified_since {
        if modified > ts_secs(t) {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ));
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

/// Outcome of deleting one key.
pub(super) struct Deleted {
    pub(super) version_id: Option<String>,
    pub(super) delete_marker: bool,
    pub(super) event: Option<&'static str>,
}

/// Conditions of a conditional delete (`If-Match`, `x-amz-if-match-last-modified-time`,
/// `x-amz-if-match-size`), checked against the version that would be deleted.
#[derive(Default, Clone)]
pub(super) struct DeleteIf {
    pub(super) etag: Option<String>,
    pub(super) modified_secs: Option<i64>,
    pub(super) size: Option<i64>,
}

impl DeleteIf {
    pub(super) fn is_empty(&self) -> bool {
        self.etag.is_none() && self.modified_secs.is_none() && self.size.is_none()
    }

    pub(super) fn holds(&self, v: &Version) -> bool {
        self.etag
            .as_deref()
            .is_none_or(|e| e == "*" || e.trim_matches('"') == v.etag)
            && self
                .modified_secs
                .is_none_or(|t| t == v.modified_ms.div_euclid(1000))
            && self
                .size
                .is_none_or(|n| u64::try_from(n).ok() == Some(v.size))
    }
}

/// The bytes a GET/HEAD returns: (start, length, Content-Range, parts count).
pub(super) fn read_window(
    v: &Version,
    range: Option<&Range>,
    part: Option<i32>,
) -> S3Result<(u64, u64, Option<String>, Option<i32>)> {
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
        return Ok((
            start,
            len,
            cr,
            Some(i32::try_from(parts.len()).unwrap_or(i32::MAX)),
        ));
    }
    match range {
        None => Ok((0, v.size, None, None)),
        Some(r) => {
            let r = r
                .check(v.size)
                .map_err(|_| s3_error!(InvalidRange, "The requested range is not satisfiable"))?;
            let len = r.end - r.start;
            Ok((
                r.start,
                len,
                Some(format!(
                    "bytes {}-{}/{}",
                    r.start,
                    r.end.saturating_sub(1),
                    v.size
                )),
                None,
            ))
        }
    }
}
