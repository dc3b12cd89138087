//! API Gateway events: REST API proxy integration (payload format 1.0), HTTP API (payload
//! format 2.0) and Lambda authorizer requests.
//!
//! The API Gateway emulator builds its invocations with [`ProxyRequest::from_request`] and
//! [`HttpApiRequest::from_request`], and `generate-event apigateway ...` does the same, so the
//! fields API Gateway derives (multi-value maps, `rawQueryString`, base64 bodies, epoch
//! times, the stage-prefixed path) are computed in one place.

use bytes::Bytes;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::encode;

/// A request as it reached API Gateway, before it becomes an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    /// The path the client asked for, without the stage, starting with `/`.
    pub path: String,
    /// REST APIs: the matched resource (`/{proxy+}`). HTTP APIs: the route key
    /// (`$default` or `GET /pets`).
    pub route: String,
    pub stage: String,
    /// Headers in arrival order; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// Decoded query parameters in arrival order; a name may repeat.
    pub query: Vec<(String, String)>,
    pub path_parameters: Vec<(String, String)>,
    pub stage_variables: Vec<(String, String)>,
    /// Shared with the gateway's read of the request: the event is the only copy made.
    pub body: Option<Bytes>,
    /// Whether the body is passed base64-encoded (binary media types; HTTP APIs for
    /// non-text content types).
    pub base64_body: bool,
    pub source_ip: String,
    pub account_id: String,
    pub api_id: String,
    /// REST APIs only: the id of the matched resource.
    pub resource_id: String,
    pub request_id: String,
    pub domain_name: String,
    pub protocol: String,
    pub time: OffsetDateTime,
    /// What a Lambda/JWT/IAM authorizer put in `requestContext.authorizer`.
    pub authorizer: Option<Value>,
    /// The path exactly as the client sent it (still percent-encoded), without the stage:
    /// HTTP APIs pass it on as `rawPath`. `None` uses `path`.
    pub raw_path: Option<String>,
    /// The query string exactly as the client sent it (without `?`): HTTP APIs pass it on
    /// as `rawQueryString`. `None` re-encodes `query`.
    pub raw_query: Option<String>,
    /// REST APIs: `requestContext.extendedRequestId` (API Gateway's own id of the request).
    pub extended_request_id: Option<String>,
    /// REST APIs: `requestContext.operationName`, the OpenAPI `operationId` of the method.
    pub operation_name: Option<String>,
}

impl Request {
    /// A request with the sample identifiers API Gateway's own test console uses; the
    /// emulator overwrites ids, time and addresses with real ones.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        let path = path.into();
        Self {
            method: method.into(),
            path: if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            },
            route: "$default".to_owned(),
            stage: "$default".to_owned(),
            headers: Vec::new(),
            query: Vec::new(),
            path_parameters: Vec::new(),
            stage_variables: Vec::new(),
            body: None,
            base64_body: false,
            source_ip: "127.0.0.1".to_owned(),
            account_id: "123456789012".to_owned(),
            api_id: "1234567890".to_owned(),
            resource_id: "123456".to_owned(),
            request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".to_owned(),
            domain_name: "1234567890.execute-api.us-east-1.amazonaws.com".to_owned(),
            protocol: "HTTP/1.1".to_owned(),
            time: OffsetDateTime::UNIX_EPOCH,
            authorizer: None,
            raw_path: None,
            raw_query: None,
            extended_request_id: None,
            operation_name: None,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn body_string(&self) -> Option<String> {
        self.body.as_ref().map(|b| {
            if self.base64_body {
                encode::base64(b)
            } else {
                String::from_utf8_lossy(b).into_owned()
            }
        })
    }

    fn domain_prefix(&self) -> String {
        self.domain_name
            .split('.')
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

fn single_map(pairs: &[(String, String)]) -> Option<IndexMap<String, String>> {
    if pairs.is_empty() {
        return None;
    }
    // REST APIs keep the last value of a repeated name in the single-value map.
    let mut map = IndexMap::new();
    for (k, v) in pairs {
        map.insert(k.clone(), v.clone());
    }
    Some(map)
}

fn multi_map(pairs: &[(String, String)]) -> Option<IndexMap<String, Vec<String>>> {
    if pairs.is_empty() {
        return None;
    }
    let mut map: IndexMap<String, Vec<String>> = IndexMap::new();
    for (k, v) in pairs {
        map.entry(k.clone()).or_default().push(v.clone());
    }
    Some(map)
}

fn joined_map(pairs: &[(String, String)], lowercase: bool) -> IndexMap<String, String> {
    // HTTP APIs join repeated names with commas.
    let mut map: IndexMap<String, String> = IndexMap::new();
    for (k, v) in pairs {
        let k = if lowercase {
            k.to_ascii_lowercase()
        } else {
            k.clone()
        };
        map.entry(k)
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(v);
            })
            .or_insert_with(|| v.clone());
    }
    map
}

/// REST API proxy integration event (payload format 1.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyRequest {
    pub body: Option<String>,
    pub resource: String,
    pub path: String,
    pub http_method: String,
    pub is_base64_encoded: bool,
    pub query_string_parameters: Option<IndexMap<String, String>>,
    pub multi_value_query_string_parameters: Option<IndexMap<String, Vec<String>>>,
    pub path_parameters: Option<IndexMap<String, String>>,
    pub stage_variables: Option<IndexMap<String, String>>,
    pub headers: Option<IndexMap<String, String>>,
    pub multi_value_headers: Option<IndexMap<String, Vec<String>>>,
    pub request_context: ProxyRequestContext,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyRequestContext {
    pub account_id: String,
    pub resource_id: String,
    pub stage: String,
    pub request_id: String,
    pub request_time: String,
    pub request_time_epoch: i64,
    pub identity: RequestIdentity,
    pub path: String,
    pub resource_path: String,
    pub http_method: String,
    pub api_id: String,
    pub protocol: String,
    pub domain_name: String,
    pub domain_prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
}

/// `requestContext.identity`: null fields stay in the event, as API Gateway sends them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestIdentity {
    pub cognito_identity_pool_id: Option<String>,
    pub account_id: Option<String>,
    pub cognito_identity_id: Option<String>,
    pub caller: Option<String>,
    pub access_key: Option<String>,
    pub source_ip: String,
    pub cognito_authentication_type: Option<String>,
    pub cognito_authentication_provider: Option<String>,
    pub user_arn: Option<String>,
    pub user_agent: Option<String>,
    pub user: Option<String>,
    /// Fields a deployed API sends as `null` (no API key, no organization, no mutual TLS):
    /// `Some(None)` writes `null`, `None` leaves the field out (`generate-event` keeps SAM's
    /// shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_org_id: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<Option<Value>>,
}

impl RequestIdentity {
    /// Writes the fields a deployed API sends as `null` (see [`RequestIdentity::api_key`]).
    pub fn with_deployed_nulls(mut self) -> Self {
        self.api_key = Some(None);
        self.api_key_id = Some(None);
        self.principal_org_id = Some(None);
        self.client_cert = Some(None);
        self
    }
}

impl ProxyRequest {
    /// The event a REST API sends for `req`.
    pub fn from_request(req: &Request) -> Self {
        Self {
            body: req.body_string(),
            resource: req.route.clone(),
            path: req.path.clone(),
            http_method: req.method.clone(),
            is_base64_encoded: req.base64_body,
            query_string_parameters: single_map(&req.query),
            multi_value_query_string_parameters: multi_map(&req.query),
            path_parameters: single_map(&req.path_parameters),
            stage_variables: single_map(&req.stage_variables),
            headers: single_map(&req.headers),
            multi_value_headers: multi_map(&req.headers),
            request_context: ProxyRequestContext {
                account_id: req.account_id.clone(),
                resource_id: req.resource_id.clone(),
                stage: req.stage.clone(),
                request_id: req.request_id.clone(),
                request_time: encode::clf(req.time),
                request_time_epoch: encode::epoch_millis(req.time),
                identity: RequestIdentity {
                    source_ip: req.source_ip.clone(),
                    user_agent: req.header("user-agent").map(str::to_owned),
                    ..RequestIdentity::default()
                },
                path: format!("/{}{}", req.stage, req.path),
                resource_path: req.route.clone(),
                http_method: req.method.clone(),
                api_id: req.api_id.clone(),
                protocol: req.protocol.clone(),
                domain_name: req.domain_name.clone(),
                domain_prefix: req.domain_prefix(),
                authorizer: req.authorizer.clone(),
                extended_request_id: req.extended_request_id.clone(),
                operation_name: req.operation_name.clone(),
            },
        }
    }
}

/// HTTP API event (payload format 2.0); Lambda function URLs send the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpApiRequest {
    pub version: String,
    pub route_key: String,
    pub raw_path: String,
    pub raw_query_string: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookies: Option<Vec<String>>,
    pub headers: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_string_parameters: Option<IndexMap<String, String>>,
    pub request_context: HttpRequestContext,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_parameters: Option<IndexMap<String, String>>,
    pub is_base64_encoded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_variables: Option<IndexMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequestContext {
    pub account_id: String,
    pub api_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer: Option<Value>,
    pub domain_name: String,
    pub domain_prefix: String,
    pub http: HttpDescription,
    pub request_id: String,
    pub route_key: String,
    pub stage: String,
    pub time: String,
    pub time_epoch: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpDescription {
    pub method: String,
    pub path: String,
    pub protocol: String,
    pub source_ip: String,
    pub user_agent: String,
}

impl HttpApiRequest {
    /// The event an HTTP API sends for `req`: header names lower-cased, repeated headers
    /// and query parameters joined with commas, `Cookie` headers moved to `cookies`, and
    /// the stage prefixed to `rawPath` unless it is `$default`.
    pub fn from_request(req: &Request) -> Self {
        let mut cookies = Vec::new();
        let mut headers = Vec::new();
        for (k, v) in &req.headers {
            if k.eq_ignore_ascii_case("cookie") {
                cookies.extend(
                    v.split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned),
                );
            } else {
                headers.push((k.clone(), v.clone()));
            }
        }
        let path = req.raw_path.as_deref().unwrap_or(&req.path);
        let raw_path = if req.stage == "$default" {
            path.to_owned()
        } else {
            format!("/{}{}", req.stage, path)
        };
        let raw_query_string = match &req.raw_query {
            Some(raw) => raw.clone(),
            None => req
                .query
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        encode::query_component(k),
                        encode::query_component(v)
                    )
                })
                .collect::<Vec<_>>()
                .join("&"),
        };
        let query = joined_map(&req.query, false);
        Self {
            version: "2.0".to_owned(),
            route_key: req.route.clone(),
            raw_path: raw_path.clone(),
            raw_query_string,
            cookies: (!cookies.is_empty()).then_some(cookies),
            headers: joined_map(&headers, true),
            query_string_parameters: (!query.is_empty()).then_some(query),
            request_context: HttpRequestContext {
                account_id: req.account_id.clone(),
                api_id: req.api_id.clone(),
                authentication: None,
                authorizer: req.authorizer.clone(),
                domain_name: req.domain_name.clone(),
                domain_prefix: req.domain_prefix(),
                http: HttpDescription {
                    method: req.method.clone(),
                    path: raw_path,
                    protocol: req.protocol.clone(),
                    source_ip: req.source_ip.clone(),
                    user_agent: req.header("user-agent").unwrap_or_default().to_owned(),
                },
                request_id: req.request_id.clone(),
                route_key: req.route.clone(),
                stage: req.stage.clone(),
                time: encode::clf(req.time),
                time_epoch: encode::epoch_millis(req.time),
            },
            body: req.body_string(),
            path_parameters: single_map(&req.path_parameters),
            is_base64_encoded: req.base64_body,
            stage_variables: single_map(&req.stage_variables),
        }
    }
}

/// A `TOKEN` Lambda authorizer request (REST APIs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenAuthorizerRequest {
    #[serde(rename = "type")]
    pub kind: String,
    pub authorization_token: String,
    pub method_arn: String,
}

/// HTTP API payload format 1.0: the REST event, marked with its version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpApiV1Request<'a> {
    pub version: &'static str,
    #[serde(flatten)]
    pub event: &'a ProxyRequest,
}

impl<'a> HttpApiV1Request<'a> {
    pub fn new(event: &'a ProxyRequest) -> Self {
        Self {
            version: "1.0",
            event,
        }
    }
}

/// A `REQUEST` Lambda authorizer request of a REST API: the proxy event's fields (without
/// the body) plus `type` and `methodArn`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestRequestAuthorizerRequest<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub method_arn: &'a str,
    #[serde(flatten)]
    pub event: &'a ProxyRequest,
}

impl<'a> RestRequestAuthorizerRequest<'a> {
    pub fn new(method_arn: &'a str, event: &'a ProxyRequest) -> Self {
        Self {
            kind: "REQUEST",
            method_arn,
            event,
        }
    }
}

/// A Lambda authorizer request of an HTTP API with `AuthorizerPayloadFormatVersion: 1.0`:
/// the 1.0 event plus `type`, `methodArn`, and the identity values joined with commas as
/// both `identitySource` and `authorizationToken`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpV1AuthorizerRequest<'a> {
    pub version: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub method_arn: &'a str,
    pub identity_source: String,
    pub authorization_token: String,
    #[serde(flatten)]
    pub event: &'a ProxyRequest,
}

impl<'a> HttpV1AuthorizerRequest<'a> {
    pub fn new(method_arn: &'a str, identity: &[String], event: &'a ProxyRequest) -> Self {
        Self {
            version: "1.0",
            kind: "REQUEST",
            method_arn,
            identity_source: identity.join(","),
            authorization_token: identity.join(","),
            event,
        }
    }
}

/// A Lambda authorizer request of an HTTP API with payload format 2.0: the 2.0 event plus
/// `type`, `routeArn` and the identity values as a list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpV2AuthorizerRequest<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub route_arn: &'a str,
    pub identity_source: &'a [String],
    #[serde(flatten)]
    pub event: &'a HttpApiRequest,
}

impl<'a> HttpV2AuthorizerRequest<'a> {
    pub fn new(route_arn: &'a str, identity: &'a [String], event: &'a HttpApiRequest) -> Self {
        Self {
            kind: "REQUEST",
            route_arn,
            identity_source: identity,
            event,
        }
    }
}

/// The ARN API Gateway passes to authorizers for a method:
/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{method}/{resource}`.
pub fn method_arn(
    partition: &str,
    region: &str,
    account: &str,
    api_id: &str,
    stage: &str,
    method: &str,
    resource: &str,
) -> String {
    let resource = resource.trim_start_matches('/');
    encode::arn(
        partition,
        "execute-api",
        region,
        account,
        &format!("{api_id}/{stage}/{method}/{resource}"),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sample() -> Request {
        let mut req = Request::new("GET", "/pets");
        req.stage = "prod".to_owned();
        req.route = "/{proxy+}".to_owned();
        req.headers = vec![
            ("Host".to_owned(), "example.com".to_owned()),
            ("X-Tag".to_owned(), "a".to_owned()),
            ("X-Tag".to_owned(), "b".to_owned()),
            ("Cookie".to_owned(), "c1=1; c2=2".to_owned()),
        ];
        req.query = vec![
            ("q".to_owned(), "x y".to_owned()),
            ("q".to_owned(), "z".to_owned()),
        ];
        req.body = Some(Bytes::from_static(b"hi"));
        req.base64_body = true;
        req
    }

    #[test]
    fn rest_event_keeps_last_single_value_and_all_multi_values() {
        let e = ProxyRequest::from_request(&sample());
        assert_eq!(e.query_string_parameters.as_ref().unwrap()["q"], "z");
        assert_eq!(
            e.multi_value_query_string_parameters.as_ref().unwrap()["q"],
            ["x y", "z"]
        );
        assert_eq!(e.headers.as_ref().unwrap()["X-Tag"], "b");
        assert_eq!(e.request_context.path, "/prod/pets");
        assert_eq!(e.body.as_deref(), Some("aGk="));
        assert!(e.path_parameters.is_none());
    }

    #[test]
    fn http_event_joins_repeats_and_extracts_cookies() {
        let e = HttpApiRequest::from_request(&sample());
        assert_eq!(e.raw_path, "/prod/pets");
        assert_eq!(e.raw_query_string, "q=x%20y&q=z");
        assert_eq!(e.query_string_parameters.as_ref().unwrap()["q"], "x y,z");
        assert_eq!(e.headers["x-tag"], "a,b");
        assert!(!e.headers.contains_key("cookie"));
        assert_eq!(e.cookies.as_deref().unwrap(), ["c1=1", "c2=2"]);
    }

    #[test]
    fn authorizer_requests_flatten_the_event() {
        let req = sample();
        let rest = ProxyRequest::from_request(&req);
        let v = serde_json::to_value(RestRequestAuthorizerRequest::new("arn:x", &rest)).unwrap();
        assert_eq!(
            (&v["type"], &v["methodArn"]),
            (&"REQUEST".into(), &"arn:x".into())
        );
        assert_eq!(v["resource"], "/{proxy+}");
        let id = ["a".to_owned(), "b".to_owned()];
        let v = serde_json::to_value(HttpV1AuthorizerRequest::new("arn:x", &id, &rest)).unwrap();
        assert_eq!(
            (&v["version"], &v["identitySource"]),
            (&"1.0".into(), &"a,b".into())
        );
        let http = HttpApiRequest::from_request(&req);
        let v = serde_json::to_value(HttpV2AuthorizerRequest::new("arn:x", &id, &http)).unwrap();
        assert_eq!(
            (&v["routeArn"], &v["version"]),
            (&"arn:x".into(), &"2.0".into())
        );
        assert_eq!(v["identitySource"], serde_json::json!(["a", "b"]));
        let v = serde_json::to_value(HttpApiV1Request::new(&rest)).unwrap();
        assert_eq!(v["version"], "1.0");
    }

    #[test]
    fn method_arn_has_no_double_slash() {
        assert_eq!(
            method_arn("aws", "us-east-1", "1", "api", "prod", "GET", "/{proxy+}"),
            "arn:aws:execute-api:us-east-1:1:api/prod/GET/{proxy+}"
        );
    }
}
