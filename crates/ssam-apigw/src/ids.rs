//! Identifiers API Gateway computes: request ids in each API type's own format, and stable
//! stand-ins for the ids a deployment would assign (API id, resource id).
//!
//! Request ids are fresh for every request (SAM CLI freezes them for the life of the
//! process, aws-sam-cli#9279); API and resource ids are derived from the template so they
//! stay the same across restarts, as a deployed API's do.

use base64::Engine as _;
use rand::RngCore as _;

/// A REST API request id: a UUID, as in `x-amzn-RequestId`.
pub fn rest_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An HTTP API request id (`apigw-requestid`), also REST's `extendedRequestId`: 11 random
/// bytes in base64, 16 characters ending in `=` (e.g. `JKJaXmPLvHcESHA=`).
pub fn short_request_id() -> String {
    let mut bytes = [0u8; 11];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The ids of one routed request, in its API type's formats.
pub struct RequestIds {
    rest: bool,
    /// REST: a UUID (`x-amzn-RequestId`); HTTP APIs: the short id.
    pub request_id: String,
    /// REST: `extendedRequestId` (`x-amz-apigw-id`); HTTP APIs: the request id again.
    pub extended_id: String,
}

impl RequestIds {
    /// Fresh ids for a request to an API of this type.
    pub fn new(rest: bool) -> Self {
        let request_id = if rest {
            rest_request_id()
        } else {
            short_request_id()
        };
        let extended_id = if rest {
            short_request_id()
        } else {
            request_id.clone()
        };
        RequestIds {
            rest,
            request_id,
            extended_id,
        }
    }

    /// Ids for a request no route matched. The extended id is drawn first here, as it
    /// always was; only the formats matter to clients.
    pub fn unrouted(rest: bool) -> Self {
        let extended_id = short_request_id();
        let request_id = if rest {
            rest_request_id()
        } else {
            extended_id.clone()
        };
        RequestIds {
            rest,
            request_id,
            extended_id,
        }
    }

    /// Adds the request-id headers each API type puts on every answer.
    pub fn stamp<B>(&self, mut resp: http::Response<B>, trace_id: &str) -> http::Response<B> {
        use http::HeaderValue;
        let h = resp.headers_mut();
        if self.rest {
            if let Ok(v) = HeaderValue::from_str(trace_id) {
                h.insert("x-amzn-trace-id", v);
            }
            if let Ok(v) = HeaderValue::from_str(&self.request_id) {
                h.insert("x-amzn-requestid", v);
            }
            if let Ok(v) = HeaderValue::from_str(&self.extended_id) {
                h.insert("x-amz-apigw-id", v);
            }
        } else if let Ok(v) = HeaderValue::from_str(&self.request_id) {
            h.insert("apigw-requestid", v);
        }
        resp
    }
}

/// FNV-1a: a stable hash that does not change between Rust releases (unlike `DefaultHasher`).
fn fnv1a(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn base36(mut n: u64, len: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A 10-character API id (like `gy415nuibc`) derived from the API's logical id.
pub fn api_id(logical_id: &str) -> String {
    base36(fnv1a(logical_id), 10)
}

/// A 6-character REST resource id (like `roq9wj`) derived from the API and resource path.
pub fn resource_id(api: &str, path: &str) -> String {
    base36(fnv1a(&format!("{api} {path}")), 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_look_like_api_gateways() {
        let id = short_request_id();
        assert_eq!(id.len(), 16);
        assert!(id.ends_with('='));
        assert_ne!(id, short_request_id());
    }

    #[test]
    fn api_ids_are_stable_and_distinct() {
        assert_eq!(api_id("ServerlessHttpApi"), api_id("ServerlessHttpApi"));
        assert_ne!(api_id("ServerlessHttpApi"), api_id("ServerlessRestApi"));
        assert_eq!(api_id("X").len(), 10);
        assert_eq!(resource_id("X", "/a").len(), 6);
    }
}
