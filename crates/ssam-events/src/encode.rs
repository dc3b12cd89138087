//! Encodings and formats AWS services apply to event fields: S3's key encoding, base64
//! bodies, MD5 digests, ARNs and the timestamp formats each service writes.

use base64::Engine as _;
use md5::{Digest as _, Md5};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

/// Encodes an object key the way S3 writes it into event notifications: form encoding
/// (space becomes `+`), with `/` left alone so prefixes stay readable.
///
/// S3 keeps ASCII letters, digits and `-_.*/`; every other byte of the UTF-8 key is
/// written as `%XX` with upper-case hex, as Java's `URLEncoder` does.
pub fn s3_key(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Percent-encodes a query-string component as API Gateway writes `rawQueryString`
/// (RFC 3986 unreserved characters stay as they are).
pub fn query_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte));
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Standard base64 with padding, as Lambda event sources encode binary data.
pub fn base64(data: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Lower-case hex MD5 digest, as SQS reports `md5OfBody`.
pub fn md5_hex(data: impl AsRef<[u8]>) -> String {
    hex::encode(Md5::digest(data.as_ref()))
}

/// `arn:{partition}:{service}:{region}:{account}:{resource}`.
pub fn arn(partition: &str, service: &str, region: &str, account: &str, resource: &str) -> String {
    format!("arn:{partition}:{service}:{region}:{account}:{resource}")
}

/// ISO 8601 with milliseconds and `Z`, as S3 and SNS write times:
/// `1970-01-01T00:00:00.000Z`.
pub fn iso_millis(at: OffsetDateTime) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

/// ISO 8601 to the second, as EventBridge writes `time`: `1970-01-01T00:00:00Z`.
pub fn iso_seconds(at: OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    at.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Common Log Format time, as API Gateway writes `requestTime`: `09/Apr/2015:12:34:56 +0000`.
pub fn clf(at: OffsetDateTime) -> String {
    let fmt = format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000");
    at.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| "01/Jan/1970:00:00:00 +0000".to_owned())
}

/// Milliseconds since the Unix epoch.
pub fn epoch_millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn s3_key_is_form_encoded_with_slashes_kept() {
        assert_eq!(s3_key("test.mp4"), "test.mp4");
        assert_eq!(
            s3_key("videos/my video (1).mp4"),
            "videos/my+video+%281%29.mp4"
        );
        assert_eq!(s3_key("a+b=c&d"), "a%2Bb%3Dc%26d");
        assert_eq!(s3_key("été"), "%C3%A9t%C3%A9");
    }

    #[test]
    fn query_component_keeps_unreserved() {
        assert_eq!(query_component("a b~c/d"), "a%20b~c%2Fd");
    }

    #[test]
    fn md5_matches_known_digest() {
        assert_eq!(md5_hex("test"), "098f6bcd4621d373cade4e832627b4f6");
    }

    #[test]
    fn times_are_formatted_like_aws() {
        let at = datetime!(2015-04-09 12:34:56.789 UTC);
        assert_eq!(iso_millis(at), "2015-04-09T12:34:56.789Z");
        assert_eq!(iso_seconds(at), "2015-04-09T12:34:56Z");
        assert_eq!(clf(at), "09/Apr/2015:12:34:56 +0000");
        assert_eq!(epoch_millis(at), 1_428_582_896_789);
    }
}

/// Wraps `data` in a gzip stream made of stored (uncompressed) deflate blocks: any gzip
/// reader inflates it, and CloudWatch Logs payloads only need to be gzip, not small.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks = data.chunks(0xffff).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        out.push(u8::from(last));
        let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    let size = u32::try_from(data.len() % (1 << 32)).unwrap_or(u32::MAX);
    out.extend_from_slice(&size.to_le_bytes());
    out
}

/// CRC-32 (ISO-HDLC, as gzip writes it) from `crc-fast`, the one CRC implementation the
/// workspace builds.
fn crc32(data: &[u8]) -> u32 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32
}

/// Splits a raw query string into decoded `(name, value)` pairs (`+` is a space).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.trim_start_matches('?')
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (crate::s3::decode_s3_key(k), crate::s3::decode_s3_key(v))
        })
        .collect()
}

#[cfg(test)]
mod gzip_tests {
    use super::*;

    #[test]
    fn crc32_matches_known_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn gzip_of_empty_input_is_a_valid_stream() {
        let gz = gzip(b"");
        assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        assert_eq!(gz.len(), 10 + 5 + 8);
    }

    #[test]
    fn parse_query_decodes_pairs() {
        assert_eq!(
            parse_query("a=1&a=2&b=x+y%21&c"),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("a".to_owned(), "2".to_owned()),
                ("b".to_owned(), "x y!".to_owned()),
                ("c".to_owned(), String::new()),
            ]
        );
    }
}
