//! Builds the event a route's function receives: REST payload 1.0, HTTP API payload 2.0, or
//! HTTP API payload 1.0 (the REST shape with `"version": "1.0"`), with ssam-events'
//! constructors so `generate-event` and the gateway cannot drift apart.
//!
//! Per request, everything API Gateway computes is computed: a fresh request id in each API
//! type's format, `requestTimeEpoch` / `timeEpoch` in milliseconds, the real path in
//! `requestContext.path`, the raw path and query for `rawPath` / `rawQueryString`.

use bytes::Bytes;
use ssam_events::apigw::{HttpApiRequest, HttpApiV1Request, ProxyRequest, Request};
use ssam_lambda::limits::SYNC_REQUEST_MAX;
use ssam_template::ApiType;
use time::OffsetDateTime;

use crate::binary;
use crate::request::RequestCtx;
use crate::routes::{Matched, PayloadVersion};

/// Whether the request body reaches the function base64-encoded.
pub fn body_is_base64(m: &Matched<'_>, content_type: Option<&str>) -> bool {
    match m.api.api_type {
        ApiType::Rest => binary::is_binary_type(&m.api.binary_media_types, content_type),
        ApiType::Http => !binary::is_text_type(content_type),
    }
}

/// The request as ssam-events models it, without its body: the one copy of the request
/// the event is made from. An authorizer's event is made from it as it is; the route's
/// event after [`with_body`] (and `authorizer`) are set.
pub fn request(
    m: &Matched<'_>,
    ctx: &RequestCtx,
    request_id: &str,
    extended_request_id: &str,
    account_id: &str,
) -> Request {
    let rest = m.api.api_type == ApiType::Rest;
    let mut req = Request::new(ctx.method(), m.path.clone());
    req.route = if rest || m.route.payload == PayloadVersion::V1 {
        m.route.path.clone()
    } else {
        m.route.route_key()
    };
    req.stage = m.api.stage.clone();
    req.headers = ctx.event_headers(rest);
    match ctx.parts.uri.query().filter(|q| !q.is_empty()) {
        Some(q) => {
            req.query = ssam_events::encode::parse_query(q);
            req.raw_query = Some(q.to_string());
        }
        None => req.raw_query = Some(String::new()),
    }
    req.path_parameters = m.path_parameters.clone();
    req.stage_variables = m.api.stage_variables.clone();
    req.source_ip = ctx.forwarded.ip.clone();
    req.account_id = account_id.to_string();
    req.api_id = m.api.api_id.clone();
    req.resource_id = m.route.resource_id.clone();
    req.operation_name = m.route.operation_name.clone();
    req.request_id = request_id.to_string();
    req.extended_request_id = Some(extended_request_id.to_string());
    req.domain_name = ctx
        .header("host")
        .map(|h| h.into_owned())
        .unwrap_or_else(|| format!("{}.execute-api.localhost", m.api.api_id));
    req.protocol = "HTTP/1.1".to_string();
    req.time = OffsetDateTime::now_utc();
    req.raw_path = Some(m.raw_path.clone());
    req
}

/// Puts the body in the request (shared, not copied), base64-encoded in the event when
/// the API passes it that way.
pub fn with_body(req: &mut Request, m: &Matched<'_>, ctx: &RequestCtx, body: Bytes) {
    if !body.is_empty() {
        req.base64_body = body_is_base64(m, ctx.header("content-type").as_deref());
        req.body = Some(body);
    }
}

/// The serialized event for the route's payload format.
pub fn build(m: &Matched<'_>, req: &Request) -> Result<Vec<u8>, serde_json::Error> {
    let v1 = || {
        let mut e = ProxyRequest::from_request(req);
        e.request_context.identity = e.request_context.identity.with_deployed_nulls();
        e
    };
    match (m.api.api_type, m.route.payload) {
        (ApiType::Rest, _) => serde_json::to_vec(&v1()),
        (ApiType::Http, PayloadVersion::V1) => serde_json::to_vec(&HttpApiV1Request::new(&v1())),
        (ApiType::Http, PayloadVersion::V2) => {
            serde_json::to_vec(&HttpApiRequest::from_request(req))
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
        "the event for the function is {event_len} bytes and Lambda accepts at most {SYNC_REQUEST_MAX} bytes{growth}; upload large files to S3 (e.g. with a presigned URL) instead of through the API"
    )
}
