//! CORS answered by the gateway: preflight requests without invoking any function, and the
//! configured headers on actual responses.
//!
//! HTTP APIs ("Configuring CORS for an HTTP API"): API Gateway answers every preflight
//! `OPTIONS` request itself, even when no `OPTIONS` route exists; on other requests it adds
//! the configured CORS headers and ignores those the integration returned. Origins are
//! matched against `AllowOrigins`.
//!
//! REST APIs (SAM's `Cors`): SAM adds an `OPTIONS` method with a mock integration to every
//! path, which returns the configured values as they are written; responses of the
//! functions themselves get nothing added, as in a deployed REST API with proxy integrations.

use ssam_template::{ApiType, Cors};

/// Headers of a CORS answer, as (name, value).
pub type Headers = Vec<(&'static str, String)>;

fn origin_allowed(cors: &Cors, origin: &str) -> Option<String> {
    for allowed in &cors.allow_origins {
        if allowed == "*" {
            // A credentialed request cannot be answered with `*`: echo the origin.
            return Some(if cors.allow_credentials {
                origin.to_string()
            } else {
                "*".to_string()
            });
        }
        if allowed.eq_ignore_ascii_case(origin) {
            return Some(origin.to_string());
        }
        // `https://*.example.com`
        if let Some((scheme, rest)) = allowed.split_once("://*") {
            if let Some(host) = origin
                .strip_prefix(scheme)
                .and_then(|o| o.strip_prefix("://"))
            {
                if host
                    .to_ascii_lowercase()
                    .ends_with(&rest.to_ascii_lowercase())
                {
                    return Some(origin.to_string());
                }
            }
        }
    }
    None
}

/// Whether a request is a CORS preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`).
/// Whether `origin` matches `pattern`, where each `*` stands for one or more characters
/// (CDK writes a wildcard origin as `.+` in its response template).
pub fn glob_match(pattern: &str, origin: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut rest) = origin.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        // A wildcard takes at least one character.
        let Some(after_one) = rest.get(rest.chars().next().map_or(1, char::len_utf8)..) else {
            return false;
        };
        if last {
            return after_one.len() >= part.len() && rest.ends_with(part);
        }
        match after_one.find(part) {
            Some(at) => rest = &after_one[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

pub fn is_preflight(method: &str, origin: Option<&str>, request_method: Option<&str>) -> bool {
    method.eq_ignore_ascii_case("OPTIONS") && origin.is_some() && request_method.is_some()
}

/// The preflight answer: status and headers.
pub fn preflight(
    api_type: ApiType,
    cors: &Cors,
    origin: Option<&str>,
    request_headers: Option<&str>,
    path_methods: &[String],
) -> (u16, Headers) {
    let mut h: Headers = Vec::new();
    match api_type {
        ApiType::Http => {
            let Some(origin) = origin.and_then(|o| origin_allowed(cors, o)) else {
                return (204, h);
            };
            h.push(("access-control-allow-origin", origin));
            if cors.allow_credentials {
                h.push(("access-control-allow-credentials", "true".into()));
            }
            if !cors.allow_methods.is_empty() {
                h.push(("access-control-allow-methods", cors.allow_methods.join(",")));
            }
            if cors.allow_headers.iter().any(|x| x == "*") {
                if let Some(req) = request_headers {
                    h.push(("access-control-allow-headers", req.to_string()));
                }
            } else if !cors.allow_headers.is_empty() {
                // Kept as the template writes them (issue #13).
                h.push(("access-control-allow-headers", cors.allow_headers.join(",")));
            }
            if let Some(age) = cors.max_age {
                h.push(("access-control-max-age", age.to_string()));
            }
            (204, h)
        }
        ApiType::Rest => {
            if let Some(o) = cors.allow_origins.first() {
                h.push(("Access-Control-Allow-Origin", o.clone()));
            }
            let methods = if cors.allow_methods.is_empty() {
                let mut m: Vec<String> = path_methods.to_vec();
                if !m.iter().any(|x| x == "OPTIONS") {
                    m.push("OPTIONS".into());
                }
                m.sort();
                m.dedup();
                m
            } else {
                cors.allow_methods.clone()
            };
            h.push(("Access-Control-Allow-Methods", methods.join(",")));
            if !cors.allow_headers.is_empty() {
                h.push(("Access-Control-Allow-Headers", cors.allow_headers.join(",")));
            }
            if cors.allow_credentials {
                h.push(("Access-Control-Allow-Credentials", "true".into()));
            }
            if let Some(age) = cors.max_age {
                h.push(("Access-Control-Max-Age", age.to_string()));
            }
            (200, h)
        }
    }
}

/// Headers an HTTP API adds to an actual (non-preflight) response; `None` when the API
/// adds nothing (REST, or no `Origin`). The caller drops the function's own CORS headers
/// when this is `Some`.
pub fn response_headers(api_type: ApiType, cors: &Cors, origin: Option<&str>) -> Option<Headers> {
    if api_type != ApiType::Http {
        return None;
    }
    let origin = origin?;
    let mut h: Headers = Vec::new();
    if let Some(o) = origin_allowed(cors, origin) {
        h.push(("access-control-allow-origin", o));
        if cors.allow_credentials {
            h.push(("access-control-allow-credentials", "true".into()));
        }
        if !cors.expose_headers.is_empty() {
            h.push((
                "access-control-expose-headers",
                cors.expose_headers.join(","),
            ));
        }
    }
    Some(h)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cors(origins: &[&str]) -> Cors {
        Cors {
            allow_origins: origins.iter().map(|s| s.to_string()).collect(),
            allow_methods: vec!["GET".into()],
            allow_headers: vec!["Content-Type".into()],
            max_age: Some(600),
            ..Cors::default()
        }
    }

    #[test]
    fn glob_match_wildcards_take_one_or_more_characters() {
        assert!(glob_match("https://a.example", "https://a.example"));
        assert!(!glob_match("https://a.example", "https://b.example"));
        assert!(glob_match("https://*.example", "https://app.example"));
        assert!(!glob_match("https://*.example", "https://.example"));
        assert!(!glob_match("https://*.example", "https://app.example.org"));
        assert!(glob_match("*", "x"));
    }

    #[test]
    fn http_preflight_matches_origin() {
        let c = cors(&["https://app.example.com"]);
        let (s, h) = preflight(
            ApiType::Http,
            &c,
            Some("https://app.example.com"),
            None,
            &[],
        );
        assert_eq!(s, 204);
        assert!(h.contains(&(
            "access-control-allow-origin",
            "https://app.example.com".into()
        )));
        assert!(h.contains(&("access-control-max-age", "600".into())));
        // AllowHeaders as the template writes them.
        assert!(h.contains(&("access-control-allow-headers", "Content-Type".into())));
        let (_, h) = preflight(ApiType::Http, &c, Some("https://evil.example"), None, &[]);
        assert!(h.is_empty());
    }

    #[test]
    fn wildcard_subdomains() {
        let c = cors(&["https://*.example.com"]);
        assert!(origin_allowed(&c, "https://a.example.com").is_some());
        assert!(origin_allowed(&c, "http://a.example.com").is_none());
    }

    #[test]
    fn rest_preflight_lists_path_methods() {
        let c = Cors {
            allow_origins: vec!["*".into()],
            ..Cors::default()
        };
        let (s, h) = preflight(
            ApiType::Rest,
            &c,
            None,
            None,
            &["GET".into(), "POST".into()],
        );
        assert_eq!(s, 200);
        assert!(h.contains(&("Access-Control-Allow-Methods", "GET,OPTIONS,POST".into())));
    }
}
