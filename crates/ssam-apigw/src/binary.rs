//! Which bodies travel base64-encoded: media-type matching against `BinaryMediaTypes` (REST)
//! and the text/binary split HTTP APIs make on their own.
//!
//! REST ("Content type conversions in API Gateway"): a request body whose `Content-Type`
//! matches a binary media type reaches the function base64-encoded; a response with
//! `isBase64Encoded` is decoded when the request's first `Accept` type (or, as SAM CLI also
//! allows, the response's `Content-Type`) matches one. HTTP APIs have no binary media types:
//! every body that is not text is base64-encoded, and `isBase64Encoded` responses are
//! always decoded.

/// The media type without parameters, lower-cased.
fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether `actual` matches `pattern` (`*/*`, `image/*` or an exact type).
pub fn media_type_matches(pattern: &str, actual: &str) -> bool {
    let p = essence(pattern);
    let a = essence(actual);
    if p.is_empty() || a.is_empty() {
        return false;
    }
    if p == "*/*" || p == a {
        return true;
    }
    match (p.split_once('/'), a.split_once('/')) {
        (Some((pt, "*")), Some((at, _))) => pt == at,
        (Some((pt, ps)), Some((at, "*"))) => pt == at && !ps.is_empty(),
        _ => false,
    }
}

/// Whether `media_type` matches any of the API's binary media types.
pub fn is_binary_type(binary_media_types: &[String], media_type: Option<&str>) -> bool {
    media_type.is_some_and(|t| binary_media_types.iter().any(|p| media_type_matches(p, t)))
}

/// HTTP APIs: whether a request body of this content type is passed as text. Anything
/// else (including form posts and bodies with no `Content-Type`) is base64-encoded.
pub fn is_text_type(media_type: Option<&str>) -> bool {
    let Some(t) = media_type.map(essence) else {
        return false;
    };
    t.starts_with("text/")
        || t.ends_with("+json")
        || t.ends_with("+xml")
        || matches!(
            t.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-javascript"
                | "application/ecmascript"
                | "application/graphql"
                | "application/yaml"
                | "application/x-yaml"
        )
}

/// The first media type of an `Accept` header: the one API Gateway honours.
pub fn first_accept(accept: Option<&str>) -> Option<&str> {
    accept.and_then(|a| a.split(',').next()).map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match() {
        assert!(media_type_matches("*/*", "image/png"));
        assert!(media_type_matches("image/*", "image/png; q=1"));
        assert!(!media_type_matches("image/*", "text/plain"));
        assert!(media_type_matches(
            "application/octet-stream",
            "Application/Octet-Stream"
        ));
    }

    #[test]
    fn http_api_text_types() {
        assert!(is_text_type(Some("application/json; charset=utf-8")));
        assert!(is_text_type(Some("text/csv")));
        assert!(is_text_type(Some("application/vnd.api+json")));
        assert!(!is_text_type(Some("application/x-www-form-urlencoded")));
        assert!(!is_text_type(Some("image/png")));
        assert!(!is_text_type(None));
    }
}
