//! Bucket CORS: matching a request against the bucket's rules, answering preflight
//! `OPTIONS` requests and adding `Access-Control-*` headers to actual responses.
//!
//! s3s has no CORS handling (OPTIONS is not an S3 operation), so the server calls this
//! before and after s3s. Rules come from the bucket's stored `CORSConfiguration` XML.

use http::{HeaderMap, HeaderValue, Method};
use s3s::dto::{CORSConfiguration, CORSRule};

use crate::CorsRule;

/// Parses stored CORS XML.
pub fn parse(xml: &str) -> Option<CORSConfiguration> {
    let mut d = s3s::xml::Deserializer::new(xml.as_bytes());
    <CORSConfiguration as s3s::xml::Deserialize>::deserialize(&mut d).ok()
}

/// Our config-level rules as the XML a PutBucketCors would have stored.
pub fn rules_to_xml(rules: &[CorsRule]) -> Option<String> {
    let cfg = CORSConfiguration {
        cors_rules: rules
            .iter()
            .map(|r| CORSRule {
                allowed_headers: (!r.allowed_headers.is_empty()).then(|| r.allowed_headers.clone()),
                allowed_methods: r.allowed_methods.clone(),
                allowed_origins: r.allowed_origins.clone(),
                expose_headers: (!r.expose_headers.is_empty()).then(|| r.expose_headers.clone()),
                id: None,
                max_age_seconds: r.max_age_seconds,
            })
            .collect(),
    };
    crate::service::to_xml(&cfg).ok()
}

/// `*` matches any run of characters (S3 allows one wildcard per origin/header pattern).
fn wildcard_match(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.eq_ignore_ascii_case(value),
        Some((pre, post)) => {
            value.len() >= pre.len() + post.len()
                && value[..pre.len()].eq_ignore_ascii_case(pre)
                && value[value.len() - post.len()..].eq_ignore_ascii_case(post)
        }
    }
}

/// The first rule allowing `origin` to use `method` with `headers`.
pub fn find_rule<'a>(
    cfg: &'a CORSConfiguration,
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<&'a CORSRule> {
    cfg.cors_rules.iter().find(|r| {
        r.allowed_origins.iter().any(|o| wildcard_match(o, origin))
            && r.allowed_methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method))
            && headers.iter().all(|h| {
                r.allowed_headers
                    .as_ref()
                    .is_some_and(|allowed| allowed.iter().any(|a| wildcard_match(a, h)))
            })
    })
}

/// Adds the `Access-Control-*` headers a matched rule grants.
pub fn apply(
    headers: &mut HeaderMap,
    rule: &CORSRule,
    origin: &str,
    preflight_headers: Option<&[String]>,
) {
    let wildcard = rule.allowed_origins.iter().any(|o| o == "*");
    let allow_origin = if wildcard { "*" } else { origin };
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set("access-control-allow-origin", allow_origin);
    set(
        "access-control-allow-methods",
        &rule.allowed_methods.join(", "),
    );
    if !wildcard {
        set("access-control-allow-credentials", "true");
    }
    if let Some(h) = preflight_headers.filter(|h| !h.is_empty()) {
        set("access-control-allow-headers", &h.join(", "));
    }
    if let Some(expose) = rule.expose_headers.as_ref().filter(|e| !e.is_empty()) {
        set("access-control-expose-headers", &expose.join(", "));
    }
    if let Some(age) = rule.max_age_seconds {
        set("access-control-max-age", &age.to_string());
    }
    headers.append(
        http::header::VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        ),
    );
}

/// The requested method and headers of a preflight.
pub fn preflight_request(
    method: &Method,
    headers: &HeaderMap,
) -> Option<(String, String, Vec<String>)> {
    if method != Method::OPTIONS {
        return None;
    }
    let origin = headers.get(http::header::ORIGIN)?.to_str().ok()?.to_owned();
    let req_method = headers
        .get("access-control-request-method")?
        .to_str()
        .ok()?
        .to_owned();
    let req_headers = headers
        .get("access-control-request-headers")
        .and_then(|h| h.to_str().ok())
        .map(|s| {
            s.split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Some((origin, req_method, req_headers))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", "http://a"));
        assert!(wildcard_match(
            "http://*.example.com",
            "http://x.example.com"
        ));
        assert!(!wildcard_match(
            "http://*.example.com",
            "http://example.org"
        ));
        assert!(wildcard_match("x-amz-*", "x-amz-date"));
    }

    #[test]
    fn rules_round_trip_through_xml() {
        let xml = rules_to_xml(&[CorsRule {
            allowed_origins: vec!["http://localhost:3000".into()],
            allowed_methods: vec!["PUT".into()],
            allowed_headers: vec!["*".into()],
            ..Default::default()
        }])
        .unwrap();
        let cfg = parse(&xml).unwrap();
        assert!(find_rule(
            &cfg,
            "http://localhost:3000",
            "PUT",
            &["content-type".into()]
        )
        .is_some());
        assert!(find_rule(&cfg, "http://evil", "PUT", &[]).is_none());
    }
}
