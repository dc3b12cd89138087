//! Lambda function URL events. A function URL sends the HTTP API 2.0 payload, with
//! `$default` as route and stage and the URL id as API id and domain prefix.

use crate::apigw::{HttpApiRequest, Request};

/// A function URL event has the HTTP API payload's shape.
pub type FunctionUrlRequest = HttpApiRequest;

/// The domain of a function URL: `{url_id}.lambda-url.{region}.on.aws`.
pub fn domain_name(url_id: &str, region: &str) -> String {
    format!("{url_id}.lambda-url.{region}.on.aws")
}

/// The event a function URL `url_id` in `region` sends for `req` (route, stage, API id
/// and domain of `req` are replaced by the function URL's).
pub fn request(req: &Request, url_id: &str, region: &str) -> FunctionUrlRequest {
    let mut req = req.clone();
    req.route = "$default".to_owned();
    req.stage = "$default".to_owned();
    req.api_id = url_id.to_owned();
    req.domain_name = domain_name(url_id, region);
    req.path_parameters.clear();
    req.stage_variables.clear();
    HttpApiRequest::from_request(&req)
}
