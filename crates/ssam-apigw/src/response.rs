//! Maps a function's result to the HTTP response API Gateway sends, or says why it cannot.
//!
//! Payload 1.0 ("Output format of a Lambda function for proxy integration"): an object with
//! `statusCode`, `headers`, `multiValueHeaders`, `body` (a string) and `isBase64Encoded`;
//! anything else is a malformed response and a 502. REST APIs refuse unknown keys too.
//! Payload 2.0 ("Lambda function response for format 2.0"): without a `statusCode` the whole
//! result is the body of a 200 `application/json` response (a JSON string is sent as its
//! text); with one, `headers`, `cookies`, `body` and `isBase64Encoded` are read.

use base64::Engine as _;
use bytes::Bytes;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

use crate::routes::PayloadVersion;

/// A header value as functions write them: strings mostly, numbers and booleans tolerated.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::Str(s) => s,
            Scalar::Num(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// `statusCode` as a number, or a string of digits.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Status {
    Num(u64),
    Str(String),
}

impl Status {
    fn code(&self) -> Option<u16> {
        let n = match self {
            Status::Num(n) => *n,
            Status::Str(s) => s.trim().parse().ok()?,
        };
        u16::try_from(n).ok().filter(|n| (100..=599).contains(n))
    }
}

/// `isBase64Encoded` as a boolean (or the strings `"true"` / `"false"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Str(String),
}

impl Flag {
    fn get(&self) -> Option<bool> {
        match self {
            Flag::Bool(b) => Some(*b),
            Flag::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Flag::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            Flag::Str(_) => None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Response {
    status_code: Option<Status>,
    #[serde(default)]
    headers: Option<IndexMap<String, Option<Scalar>>>,
    #[serde(default)]
    multi_value_headers: Option<IndexMap<String, Option<Vec<Scalar>>>>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: Option<Flag>,
    #[serde(flatten)]
    extra: serde_json::Map<String, Value>,
}

/// A 2.0 `body` that is not a string is sent as its JSON text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Body {
    Str(String),
    Other(Value),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2Response {
    status_code: Status,
    #[serde(default)]
    headers: Option<IndexMap<String, Option<Scalar>>>,
    #[serde(default)]
    multi_value_headers: Option<IndexMap<String, Option<Vec<Scalar>>>>,
    #[serde(default)]
    cookies: Option<Vec<String>>,
    #[serde(default)]
    body: Option<Body>,
    #[serde(default)]
    is_base64_encoded: Option<Flag>,
}

/// A function response API Gateway can send, before binary decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub status: u16,
    /// Header name and value pairs in the function's order; a name may repeat.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body is base64 text the gateway may decode.
    pub base64: bool,
}

impl Mapped {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body bytes: base64-decoded when `decode` is set.
    pub fn body_bytes(&self, decode: bool) -> Result<Bytes, String> {
        if self.base64 && decode {
            base64::engine::general_purpose::STANDARD
                .decode(self.body.trim())
                .map(Bytes::from)
                .map_err(|e| format!("isBase64Encoded is true but the body is not base64: {e}"))
        } else {
            Ok(Bytes::from(self.body.clone()))
        }
    }
}

/// Maps a function's result. `strict` refuses unknown keys in a 1.0 response (REST APIs).
/// The error says why the response is malformed, for the log.
pub fn map(payload: &[u8], version: PayloadVersion, strict: bool) -> Result<Mapped, String> {
    match version {
        PayloadVersion::V1 => map_v1(payload, strict),
        PayloadVersion::V2 => map_v2(payload),
    }
}

fn headers_of(
    headers: Option<IndexMap<String, Option<Scalar>>>,
    multi: Option<IndexMap<String, Option<Vec<Scalar>>>>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let multi: Vec<(String, Vec<Scalar>)> = multi
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    // "If the same key-value pair is specified in both, only the values from
    // multiValueHeaders will appear in the merged list."
    for (k, v) in headers.unwrap_or_default() {
        if multi.iter().any(|(m, _)| m.eq_ignore_ascii_case(&k)) {
            continue;
        }
        if let Some(v) = v {
            out.push((k, v.into_string()));
        }
    }
    for (k, values) in multi {
        for v in values {
            out.push((k.clone(), v.into_string()));
        }
    }
    out
}

/// What kind of JSON value a payload holds, for messages.
fn json_kind(payload: &[u8]) -> &'static str {
    match payload.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'-' | b'0'..=b'9') => "a number",
        _ => "not JSON",
    }
}

fn map_v1(payload: &[u8], strict: bool) -> Result<Mapped, String> {
    let kind = json_kind(payload);
    if kind != "an object" {
        return Err(format!(
            "payload format 1.0 needs an object with statusCode and a string body; the function returned {kind}"
        ));
    }
    let r: V1Response = serde_json::from_slice(payload)
        .map_err(|e| format!("the response is not a proxy response: {e}"))?;
    if strict {
        if let Some(k) = r.extra.keys().next() {
            return Err(format!(
                "the response has a key API Gateway does not accept: {k} (allowed: statusCode, headers, multiValueHeaders, body, isBase64Encoded)"
            ));
        }
    }
    let status = r
        .status_code
        .as_ref()
        .ok_or("the response has no statusCode")?
        .code()
        .ok_or("statusCode is not an HTTP status code")?;
    let base64 = match &r.is_base64_encoded {
        Some(f) => f.get().ok_or("isBase64Encoded is not a boolean")?,
        None => false,
    };
    let mut headers = headers_of(r.headers, r.multi_value_headers);
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    Ok(Mapped {
        status,
        headers,
        body: r.body.unwrap_or_default(),
        base64,
    })
}

fn map_v2(payload: &[u8]) -> Result<Mapped, String> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| format!("the response is not JSON: {e}"))?;
    let full = value
        .as_object()
        .is_some_and(|o| o.contains_key("statusCode"));
    if !full {
        let body = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        return Ok(Mapped {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
            base64: false,
        });
    }
    let r: V2Response = serde_json::from_value(value)
        .map_err(|e| format!("the response is not a 2.0 response: {e}"))?;
    let status = r
        .status_code
        .code()
        .ok_or("statusCode is not an HTTP status code")?;
    let base64 = match &r.is_base64_encoded {
        Some(f) => f.get().ok_or("isBase64Encoded is not a boolean")?,
        None => false,
    };
    let mut headers = headers_of(r.headers, r.multi_value_headers);
    for c in r.cookies.unwrap_or_default() {
        headers.push(("set-cookie".into(), c));
    }
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("content-type".into(), "text/plain; charset=utf-8".into()));
    }
    let body = match r.body {
        None => String::new(),
        Some(Body::Str(s)) => s,
        Some(Body::Other(Value::Null)) => String::new(),
        Some(Body::Other(v)) => v.to_string(),
    };
    Ok(Mapped {
        status,
        headers,
        body,
        base64,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // "Lambda function response for format 2.0": the table of inferred responses.
    #[test]
    fn v2_simple_string_and_object_from_aws_docs() {
        let m = map(br#""Hello from Lambda!""#, PayloadVersion::V2, false).unwrap();
        assert_eq!((m.status, m.body.as_str()), (200, "Hello from Lambda!"));
        assert_eq!(m.header("content-type"), Some("application/json"));
        let m = map(
            br#"{"message":"Hello from Lambda!"}"#,
            PayloadVersion::V2,
            false,
        )
        .unwrap();
        assert_eq!(m.body, r#"{"message":"Hello from Lambda!"}"#);
        let m = map(b"[1,2]", PayloadVersion::V2, false).unwrap();
        assert_eq!(m.body, "[1,2]");
    }

    #[test]
    fn v2_full_form_with_cookies() {
        let m = map(
            br#"{"statusCode":201,"headers":{"x-a":"1"},"cookies":["a=1","b=2"],"body":"ok"}"#,
            PayloadVersion::V2,
            false,
        )
        .unwrap();
        assert_eq!(m.status, 201);
        assert_eq!(m.body, "ok");
        let cookies: Vec<_> = m
            .headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .collect();
        assert_eq!(cookies.len(), 2);
    }

    #[test]
    fn v1_requires_status_code_and_string_body() {
        assert!(map(br#"{"body":"x"}"#, PayloadVersion::V1, true).is_err());
        assert!(map(
            br#"{"statusCode":200,"body":{"a":1}}"#,
            PayloadVersion::V1,
            true
        )
        .is_err());
        assert!(map(b"null", PayloadVersion::V1, true).is_err());
        assert!(map(br#""text""#, PayloadVersion::V1, true).is_err());
        let m = map(
            br#"{"statusCode":200,"body":"x"}"#,
            PayloadVersion::V1,
            true,
        )
        .unwrap();
        assert_eq!(m.header("Content-Type"), Some("application/json"));
    }

    #[test]
    fn v1_rest_refuses_unknown_keys() {
        let r = br#"{"statusCode":200,"body":"x","extra":1}"#;
        assert!(map(r, PayloadVersion::V1, true).is_err());
        assert!(map(r, PayloadVersion::V1, false).is_ok());
    }

    // "If the same key-value pair is specified in both, only the values from
    // multiValueHeaders will appear in the merged list."
    #[test]
    fn v1_multi_value_headers_win_over_headers() {
        let m = map(
            br#"{"statusCode":200,"headers":{"X-A":"h","X-B":"b"},"multiValueHeaders":{"X-A":["m1","m2"]}}"#,
            PayloadVersion::V1,
            true,
        )
        .unwrap();
        let xa: Vec<_> = m
            .headers
            .iter()
            .filter(|(k, _)| k == "X-A")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(xa, ["m1", "m2"]);
        assert_eq!(m.header("X-B"), Some("b"));
    }

    #[test]
    fn base64_bodies_decode() {
        let m = map(
            br#"{"statusCode":200,"body":"aGk=","isBase64Encoded":true}"#,
            PayloadVersion::V2,
            false,
        )
        .unwrap();
        assert_eq!(&m.body_bytes(true).unwrap()[..], b"hi");
        assert_eq!(&m.body_bytes(false).unwrap()[..], b"aGk=");
    }

    #[test]
    fn bad_status_is_malformed() {
        assert!(map(br#"{"statusCode":999}"#, PayloadVersion::V2, false).is_err());
        assert!(map(br#"{"statusCode":"abc"}"#, PayloadVersion::V2, false).is_err());
        assert!(map(b"not json", PayloadVersion::V2, false).is_err());
    }
}
