//! Builds the event a route's function receives: REST payload 1.0, HTTP API payload 2.0, or
//! HTTP API payload 1.0 (the REST shape with `"version": "1.0"`), with ssam-events'
//! constructors so `generate-event` and the gateway cannot drift apart.
//!
//! Per request, everything API Gateway computes is computed: a fresh request id in each API
//! type's format, `requestTimeEpoch` / `timeEpoch` in milliseconds, the real path in
//! `requestContext.path`, the raw path and query for `rawPath` / `rawQueryString`.

use bytes::Bytes;
use serde::Serialize;
use ssam_events::apigw::{HttpApiRequest, ProxyRequest, Request};
use ssam_template::ApiType;
use time::OffsetDateTime;

use crate::binary;
use crate::header_case::Spellings;
use crate::routes::{Matched, PayloadVersion};

/// Lambda's largest synchronous request payload.
pub const LAMBDA_REQUEST_MAX: usize = ssam_lambda::limits::SYNC_REQUEST_MAX;

/// What the gateway knows about a request besides the route it matched.
pub struct Incoming<'a> {
    pub method: &'a str,
    /// Header names as hyper gives them (lower case), in arrival order.
    pub headers: &'a [(String, String)],
    /// The query string as sent, without `?`.
    pub raw_query: Option<&'a str>,
    pub body: &'a Bytes,
    pub source_ip: String,
    /// `HTTP/1.1`.
    pub protocol: &'static str,
    pub request_id: &'a str,
    /// REST: `extendedRequestId`; HTTP APIs use `request_id` for both.
    pub extended_request_id: &'a str,
    pub account_id: &'a str,
    pub time: OffsetDateTime,
    /// `requestContext.authorizer`, when an authorizer ran.
    pub authorizer: Option<serde_json::Value>,
    /// Header names as the client spelled them (REST events keep the spelling).
    pub spellings: Option<&'a Spellings>,
}

impl Incoming<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `content-type` → `Content-Type`: the spelling REST events use for a header whose
/// original spelling is unknown (headers the gateway adds; after a chunked request on the
/// same connection). Title case is what clients send for nearly every standard header, and
/// what SAM CLI (werkzeug) passes for all of them.
pub fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                }
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Whether the request body reaches the function base64-encoded.
pub fn body_is_base64(m: &Matched<'_>, content_type: Option<&str>) -> bool {
    match m.api.api_type {
        ApiType::Rest => binary::is_binary_type(&m.api.binary_media_types, content_type),
        ApiType::Http => !binary::is_text_type(content_type),
    }
}

/// The request as ssam-events models it.
pub fn request(m: &Matched<'_>, inc: &Incoming<'_>) -> Request {
    let rest = m.api.api_type == ApiType::Rest;
    let mut req = Request::new(inc.method, m.path.clone());
    req.route = if rest || m.route.payload == PayloadVersion::V1 {
        m.route.path.clone()
    } else {
        m.route.route_key()
    };
    req.stage = m.api.stage.clone();
    let spellings = if rest {
        inc.spellings
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()))
    } else {
        None
    };
    req.headers = inc
        .headers
        .iter()
        .map(|(k, v)| {
            let k = if rest {
                spellings
                    .as_ref()
                    .and_then(|s| s.get(k).cloned())
                    .unwrap_or_else(|| title_case(k))
            } else {
                k.clone()
            };
            (k, v.clone())
        })
        .collect();
    drop(spellings);
    if let Some(q) = inc.raw_query.filter(|q| !q.is_empty()) {
        req.query = ssam_events::encode::parse_query(q);
        req.raw_query = Some(q.to_string());
    } else {
        req.raw_query = Some(String::new());
    }
    req.path_parameters = m.path_parameters.clone();
    req.stage_variables = m.api.stage_variables.clone();
    if !inc.body.is_empty() {
        req.body = Some(inc.body.to_vec());
        req.base64_body = body_is_base64(m, inc.header("content-type"));
    }
    req.source_ip = inc.source_ip.clone();
    req.account_id = inc.account_id.to_string();
    req.api_id = m.api.api_id.clone();
    req.resource_id = m.route.resource_id.clone();
    req.request_id = inc.request_id.to_string();
    req.extended_request_id = Some(inc.extended_request_id.to_string());
    req.domain_name = inc
        .header("host")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}.execute-api.localhost", m.api.api_id));
    req.protocol = inc.protocol.to_string();
    req.time = inc.time;
    req.authorizer = inc.authorizer.clone();
    req.raw_path = Some(m.raw_path.clone());
    req
}

/// HTTP API payload 1.0: the REST shape, marked with its version.
#[derive(Serialize)]
struct HttpV1<'a> {
    version: &'static str,
    #[serde(flatten)]
    event: &'a ProxyRequest,
}

/// The serialized event for the route's payload format.
pub fn build(m: &Matched<'_>, inc: &Incoming<'_>) -> Result<Vec<u8>, serde_json::Error> {
    let req = request(m, inc);
    let v1 = || {
        let mut e = ProxyRequest::from_request(&req);
        e.request_context.identity = e.request_context.identity.with_deployed_nulls();
        e
    };
    match (m.api.api_type, m.route.payload) {
        (ApiType::Rest, _) => serde_json::to_vec(&v1()),
        (ApiType::Http, PayloadVersion::V1) => serde_json::to_vec(&HttpV1 {
            version: "1.0",
            event: &v1(),
        }),
        (ApiType::Http, PayloadVersion::V2) => {
            serde_json::to_vec(&HttpApiRequest::from_request(&req))
        }
    }
}

/// Why an event is over Lambda's limit, in words a developer can act on.
pub fn too_large_reason(event_len: usize, body_len: usize, base64: bool) -> String {
    let growth = if base64 {
        format!(
            "; the {body_len}-byte body is base64-encoded in the event, which makes it a third larger"
        )
    } else {
        String::new()
    };
    format!(
        "the event for the function is {event_len} bytes and Lambda accepts at most {LAMBDA_REQUEST_MAX} bytes{growth}; upload large files to S3 (e.g. with a presigned URL) instead of through the API"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_cases_header_names() {
        assert_eq!(title_case("content-type"), "Content-Type");
        assert_eq!(title_case("x-amz-date"), "X-Amz-Date");
        assert_eq!(title_case("host"), "Host");
    }
}
