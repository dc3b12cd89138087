//! The route table: every API of the template with its routes, and request matching with
//! API Gateway's precedence.
//!
//! Precedence, as "Routing API requests" (HTTP APIs) and REST resource selection describe
//! it: a literal path segment beats a `{param}`, which beats a greedy `{proxy+}`, compared
//! segment by segment from the left; then a route for the exact method beats `ANY`; the
//! HTTP API `$default` route catches what nothing else matched. A request is served with the
//! `/{StageName}` prefix (as the deployed URL has it) and without it (SAM CLI's habit); the
//! prefixed reading wins when both match.

use std::time::Duration;

use percent_encoding::percent_decode_str;
use std::sync::Arc;

use ssam_template::{ApiType, App, Cors, MockMethod, RouteAuth, RouteAuthorizer, RouteJwt};

use crate::ids;

/// HTTP APIs give up on an integration after 30 s ("Amazon API Gateway quotas").
pub const HTTP_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);
/// REST APIs' default integration timeout is 29 s.
pub const REST_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);

/// Which event and response format a route's function speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadVersion {
    V1,
    V2,
}

/// One API as the gateway serves it.
#[derive(Clone, Debug)]
pub struct ApiInfo {
    pub logical_id: String,
    pub api_type: ApiType,
    /// `$default` means no path prefix.
    pub stage: String,
    /// Stand-in for the id a deployment assigns (`requestContext.apiId`).
    pub api_id: String,
    pub binary_media_types: Vec<String>,
    pub cors: Option<Cors>,
    pub stage_variables: Vec<(String, String)>,
}

/// Path parameters bound by a match, in route order.
pub type Params = Vec<(String, String)>;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Literal(String),
    Param(String),
    Greedy(String),
}

/// One route of one API.
#[derive(Clone, Debug)]
pub struct RouteInfo {
    /// Index into [`RouteTable::apis`].
    pub api: usize,
    /// Upper-case method; `None` for `ANY`.
    pub method: Option<String>,
    /// As declared: `/items/{id}`, `/{proxy+}`, or `$default`.
    pub path: String,
    /// Logical id of the function.
    pub function: String,
    pub payload: PayloadVersion,
    /// What a request must pass before the function runs.
    pub guard: Guard,
    pub timeout: Duration,
    /// REST `requestContext.resourceId`.
    pub resource_id: String,
    /// A `MOCK` integration the gateway answers itself (`function` is empty).
    pub mock: Option<Arc<MockMethod>>,
    /// REST `requestContext.operationName` (the OpenAPI `operationId`).
    pub operation_name: Option<String>,
    /// A TOKEN authorizer's `IdentityValidationExpression`, compiled to match whole tokens.
    pub token_validation: Option<regex::Regex>,
    segs: Vec<Seg>,
    catch_all: bool,
}

impl RouteInfo {
    /// HTTP API route key: `GET /pets`, `ANY /{proxy+}` or `$default`.
    pub fn route_key(&self) -> String {
        if self.catch_all {
            return "$default".to_string();
        }
        format!("{} {}", self.method.as_deref().unwrap_or("ANY"), self.path)
    }

    /// The method list SAM prints on its `Mounting` line.
    pub fn display_methods(&self) -> Vec<String> {
        match &self.method {
            Some(m) => vec![m.clone()],
            None => ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
                .iter()
                .map(|m| (*m).to_string())
                .collect(),
        }
    }

    pub fn is_catch_all(&self) -> bool {
        self.catch_all
    }

    /// Binds the path segments (split, then percent-decoded) to this route.
    fn bind(&self, segs: &[String]) -> Option<(Vec<u8>, Params)> {
        if self.catch_all {
            return Some((Vec::new(), Vec::new()));
        }
        let mut rank = Vec::with_capacity(self.segs.len());
        let mut params = Vec::new();
        for (i, seg) in self.segs.iter().enumerate() {
            match seg {
                Seg::Greedy(name) => {
                    let rest = segs.get(i..).filter(|r| !r.is_empty())?;
                    params.push((name.clone(), rest.join("/")));
                    rank.push(0);
                    return Some((rank, params));
                }
                Seg::Literal(lit) => {
                    if segs.get(i)? != lit {
                        return None;
                    }
                    rank.push(2);
                }
                Seg::Param(name) => {
                    params.push((name.clone(), segs.get(i)?.clone()));
                    rank.push(1);
                }
            }
        }
        (segs.len() == self.segs.len()).then_some((rank, params))
    }
}

fn decode(seg: &str) -> String {
    percent_decode_str(seg).decode_utf8_lossy().into_owned()
}

fn parse_segments(path: &str) -> Vec<Seg> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if let Some(inner) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                match inner.strip_suffix('+') {
                    Some(name) => Seg::Greedy(name.to_string()),
                    None => Seg::Param(inner.to_string()),
                }
            } else {
                Seg::Literal(s.to_string())
            }
        })
        .collect()
}

/// Every API and route the gateway serves.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    pub apis: Vec<ApiInfo>,
    pub routes: Vec<RouteInfo>,
}

/// A request matched to a route.
#[derive(Debug)]
pub struct Matched<'a> {
    pub route: &'a RouteInfo,
    pub api: &'a ApiInfo,
    pub path_parameters: Vec<(String, String)>,
    /// The request path without the stage prefix, decoded.
    pub path: String,
    /// The request path without the stage prefix, as sent.
    pub raw_path: String,
}

/// The outcome of a lookup.
#[derive(Debug)]
pub enum Lookup<'a> {
    Found(Matched<'a>),
    /// No route: answer as this kind of API does (REST 403, HTTP 404).
    NotFound {
        api_type: ApiType,
        api: Option<&'a ApiInfo>,
    },
}

impl RouteTable {
    /// Builds the table from the template. `warnings` receives what cannot be served as
    /// AWS would (authorizers ssam cannot run, unknown authorizer names).
    pub fn from_app(app: &App, warnings: &mut Vec<String>) -> Self {
        let mut table = RouteTable::default();
        for api in &app.apis {
            table.apis.push(ApiInfo {
                logical_id: api.logical_id.clone(),
                api_type: api.api_type,
                stage: api.stage_name.clone(),
                api_id: ids::api_id(&api.logical_id),
                binary_media_types: api.binary_media_types.clone(),
                cors: api.cors.clone(),
                stage_variables: api
                    .stage_variables
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            });
        }
        for r in &app.routes {
            let Some(api_index) = table.apis.iter().position(|a| a.logical_id == r.api) else {
                warnings.push(format!(
                    "route {} {} names API {} that the template does not define; not served",
                    r.method, r.path, r.api
                ));
                continue;
            };
            let catch_all = r.path == "$default";
            let method = (r.method != "ANY" && r.method != "X-AMAZON-APIGATEWAY-ANY-METHOD")
                .then(|| r.method.to_ascii_uppercase());
            let default_timeout = match r.api_type {
                ApiType::Http => HTTP_INTEGRATION_TIMEOUT,
                ApiType::Rest => REST_INTEGRATION_TIMEOUT,
            };
            let timeout = r
                .timeout_ms
                .map(|ms| Duration::from_millis(u64::from(ms)).min(default_timeout))
                .unwrap_or(default_timeout);
            let guard = guard(r, warnings);
            table.routes.push(RouteInfo {
                api: api_index,
                method,
                path: r.path.clone(),
                function: r.function.clone(),
                payload: if r.payload_format_version == "1.0" {
                    PayloadVersion::V1
                } else {
                    PayloadVersion::V2
                },
                token_validation: match &guard {
                    Guard::Lambda(a) => a
                        .authorizer
                        .identity_validation
                        .as_deref()
                        .and_then(token_regex),
                    _ => None,
                },
                guard,
                timeout,
                resource_id: ids::resource_id(&r.api, &r.path),
                mock: None,
                operation_name: r.operation_name.clone(),
                segs: if catch_all {
                    Vec::new()
                } else {
                    parse_segments(&r.path)
                },
                catch_all,
            });
        }
        for mock in &app.mock_methods {
            let Some(api_index) = table.apis.iter().position(|a| a.logical_id == mock.api) else {
                continue;
            };
            // A function route for the same method and path wins (CloudFormation allows one).
            let taken = table.routes.iter().any(|r| {
                r.api == api_index
                    && r.path == mock.path
                    && r.method.as_deref().unwrap_or("ANY") == mock.method
            });
            if taken {
                continue;
            }
            table.routes.push(RouteInfo {
                api: api_index,
                method: (mock.method != "ANY").then(|| mock.method.clone()),
                path: mock.path.clone(),
                function: String::new(),
                payload: PayloadVersion::V1,
                // Mock methods that need authorization are not served (`App::mock_methods`).
                guard: Guard::Open,
                timeout: REST_INTEGRATION_TIMEOUT,
                resource_id: ids::resource_id(&mock.api, &mock.path),
                operation_name: None,
                mock: Some(Arc::new(mock.clone())),
                token_validation: None,
                segs: parse_segments(&mock.path),
                catch_all: false,
            });
        }
        table
    }

    /// Finds the route for `method` and `raw_path` (percent-encoded, with or without the
    /// stage prefix).
    pub fn lookup(&self, method: &str, raw_path: &str) -> Lookup<'_> {
        let raw_segs: Vec<&str> = raw_path.split('/').filter(|s| !s.is_empty()).collect();
        // Decoded once per request, not once per route.
        let segs: Vec<String> = raw_segs.iter().map(|s| decode(s)).collect();
        // (stage-prefixed, not $default, segment ranks, exact method) ranks candidates.
        type Key = (bool, bool, Vec<u8>, bool);
        let mut best: Option<(Key, usize, Params, bool)> = None;
        let mut path_only: Option<usize> = None;
        let mut prefix_api: Option<usize> = None;
        for (ri, route) in self.routes.iter().enumerate() {
            let Some(api) = self.apis.get(route.api) else {
                continue;
            };
            let prefixed = api.stage != "$default" && segs.first().is_some_and(|s| *s == api.stage);
            if prefixed {
                prefix_api.get_or_insert(route.api);
            }
            let readings: &[(bool, &[String])] = if prefixed {
                &[(true, &segs[1..]), (false, &segs[..])]
            } else {
                &[(false, &segs[..])]
            };
            for &(with_stage, rest) in readings {
                let Some((rank, params)) = route.bind(rest) else {
                    continue;
                };
                let method_ok = match &route.method {
                    None => true,
                    Some(m) => m.eq_ignore_ascii_case(method),
                };
                if !method_ok {
                    path_only.get_or_insert(route.api);
                    continue;
                }
                let key: Key = (with_stage, !route.catch_all, rank, route.method.is_some());
                if best.as_ref().is_none_or(|(k, ..)| key > *k) {
                    best = Some((key, ri, params, with_stage));
                }
            }
        }
        if let Some((_, ri, params, with_stage)) = best {
            if let Some(route) = self.routes.get(ri) {
                if let Some(api) = self.apis.get(route.api) {
                    let rest: &[&str] = if with_stage {
                        &raw_segs[1..]
                    } else {
                        &raw_segs[..]
                    };
                    let trailing = raw_path.len() > 1 && raw_path.ends_with('/');
                    let mut raw = format!("/{}", rest.join("/"));
                    if trailing && !rest.is_empty() {
                        raw.push('/');
                    }
                    let path = decode(&raw);
                    return Lookup::Found(Matched {
                        route,
                        api,
                        path_parameters: params,
                        path,
                        raw_path: raw,
                    });
                }
            }
        }
        let api = path_only
            .or(prefix_api)
            .and_then(|i| self.apis.get(i))
            .or_else(|| self.apis.first());
        Lookup::NotFound {
            api_type: api.map(|a| a.api_type).unwrap_or(ApiType::Http),
            api,
        }
    }

    /// The API whose stage prefix or routes a path belongs to, whatever the method: the API
    /// a CORS preflight for that path is answered for.
    pub fn api_for_path(&self, raw_path: &str) -> Option<&ApiInfo> {
        match self.lookup("OPTIONS", raw_path) {
            Lookup::Found(m) => Some(m.api),
            Lookup::NotFound { .. } => {
                let segs: Vec<String> = raw_path
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(decode)
                    .collect();
                self.routes
                    .iter()
                    .find(|r| {
                        r.bind(&segs).is_some()
                            || self.apis.get(r.api).is_some_and(|a| {
                                a.stage != "$default"
                                    && segs.first().is_some_and(|s| *s == a.stage)
                                    && r.bind(&segs[1..]).is_some()
                            })
                    })
                    .and_then(|r| self.apis.get(r.api))
            }
        }
    }
}

/// What a route's authorization comes to locally.
#[derive(Clone, Debug)]
pub enum Guard {
    Open,
    /// A Lambda authorizer of this template runs.
    Lambda(RouteAuthorizer),
    /// A JWT (HTTP API) or Cognito user-pool (REST API) authorizer: the gateway checks the
    /// token itself.
    Jwt(RouteJwt),
    /// `AWS_IAM`: a SigV4 signature is required.
    Iam,
    /// Protected by something ssam cannot check: every request is refused (500).
    Refused(String),
}

impl Guard {
    pub fn is_open(&self) -> bool {
        matches!(self, Guard::Open)
    }
}

/// The authorization protecting a route, as the template resolved it. Lambda authorizers of
/// this template run, JWT and Cognito tokens and SigV4 signatures are checked; what ssam
/// cannot check (API keys, authorizers declared elsewhere, not at all, or as AWS would
/// refuse) fails closed, said once per API.
fn guard(r: &ssam_template::Route, warnings: &mut Vec<String>) -> Guard {
    let api = &r.api;
    let closed = "its routes answer 500 (--disable-authorizer opens them)";
    match &r.auth {
        RouteAuth::Open => Guard::Open,
        RouteAuth::Lambda(a) => match &a.authorizer.identity_validation {
            Some(expr) if token_regex(expr).is_none() => {
                let why = format!(
                    "{api}: authorizer {}: IdentityValidationExpression {expr:?} is not a regular expression ssam can read; {closed}",
                    a.authorizer.name
                );
                warn_once(warnings, why.clone());
                Guard::Refused(why)
            }
            _ => Guard::Lambda(a.clone()),
        },
        RouteAuth::Jwt(j) => Guard::Jwt(j.clone()),
        RouteAuth::Iam => Guard::Iam,
        RouteAuth::Undefined { name } => {
            let why = format!("{api}: authorizer {name} is not defined; {closed}");
            warn_once(warnings, why.clone());
            Guard::Refused(why)
        }
        RouteAuth::Foreign { name, kind, reason } => {
            let why = match reason {
                Some(reason) => format!(
                    "{api}: authorizer {name} ({}) cannot run: {reason}; {closed}",
                    kind.as_str()
                ),
                None => format!(
                    "{api}: authorizer {name} ({}) cannot run locally; {closed}",
                    kind.as_str()
                ),
            };
            warn_once(warnings, why.clone());
            Guard::Refused(why)
        }
    }
}

/// A TOKEN authorizer's validation expression ("Token validation" in the console), matched
/// against the whole token: templates write it anchored (`^Bearer [-0-9a-zA-Z._]*$`) or not.
fn token_regex(expr: &str) -> Option<regex::Regex> {
    regex::Regex::new(&format!("^(?:{expr})$")).ok()
}

fn warn_once(warnings: &mut Vec<String>, w: String) {
    if !warnings.contains(&w) {
        warnings.push(w);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn table(api_type: ApiType, stage: &str, routes: &[(&str, &str)]) -> RouteTable {
        let mut t = RouteTable {
            apis: vec![ApiInfo {
                logical_id: "Api".into(),
                api_type,
                stage: stage.into(),
                api_id: "abc".into(),
                binary_media_types: vec![],
                cors: None,
                stage_variables: vec![],
            }],
            routes: vec![],
        };
        for (m, p) in routes {
            t.routes.push(RouteInfo {
                api: 0,
                method: (*m != "ANY").then(|| m.to_string()),
                path: p.to_string(),
                token_validation: None,
                function: format!("{m} {p}"),
                payload: PayloadVersion::V2,
                guard: Guard::Open,
                timeout: HTTP_INTEGRATION_TIMEOUT,
                resource_id: String::new(),
                mock: None,
                operation_name: None,
                segs: parse_segments(p),
                catch_all: *p == "$default",
            });
        }
        t
    }

    fn hit(t: &RouteTable, method: &str, path: &str) -> String {
        match t.lookup(method, path) {
            Lookup::Found(m) => m.route.function.clone(),
            Lookup::NotFound { api_type, .. } => format!("none {api_type:?}"),
        }
    }

    // "Routing API requests" in "Working with routes for HTTP APIs": full match first, then
    // greedy path variables, then `$default`.
    #[test]
    fn http_api_routing_precedence_from_aws_docs() {
        let t = table(
            ApiType::Http,
            "$default",
            &[
                ("ANY", "$default"),
                ("ANY", "/{proxy+}"),
                ("GET", "/pets/{proxy+}"),
                ("GET", "/pets/{id}"),
                ("GET", "/pets/dog"),
                ("ANY", "/pets/dog"),
                ("GET", "/"),
            ],
        );
        assert_eq!(hit(&t, "GET", "/pets/dog"), "GET /pets/dog");
        assert_eq!(hit(&t, "POST", "/pets/dog"), "ANY /pets/dog");
        assert_eq!(hit(&t, "GET", "/pets/cat"), "GET /pets/{id}");
        assert_eq!(hit(&t, "GET", "/pets/cat/1"), "GET /pets/{proxy+}");
        assert_eq!(hit(&t, "POST", "/pets/cat/1"), "ANY /{proxy+}");
        assert_eq!(hit(&t, "GET", "/"), "GET /");
        assert_eq!(hit(&t, "POST", "/"), "ANY $default");
    }

    #[test]
    fn unknown_routes_answer_per_api_type() {
        let t = table(ApiType::Rest, "Prod", &[("GET", "/hello")]);
        assert_eq!(hit(&t, "GET", "/nope"), "none Rest");
        assert_eq!(hit(&t, "POST", "/hello"), "none Rest");
        let t = table(ApiType::Http, "$default", &[("GET", "/hello")]);
        assert_eq!(hit(&t, "GET", "/nope"), "none Http");
    }

    #[test]
    fn stage_prefix_is_optional_and_wins_when_present() {
        let t = table(ApiType::Rest, "Prod", &[("ANY", "/{proxy+}")]);
        match t.lookup("GET", "/Prod/a/b%20c") {
            Lookup::Found(m) => {
                assert_eq!(m.path_parameters, vec![("proxy".into(), "a/b c".into())]);
                assert_eq!(m.path, "/a/b c");
                assert_eq!(m.raw_path, "/a/b%20c");
            }
            other => panic!("{other:?}"),
        }
        match t.lookup("GET", "/a") {
            Lookup::Found(m) => assert_eq!(m.path_parameters[0].1, "a"),
            other => panic!("{other:?}"),
        }
        // A greedy variable needs at least one segment.
        let t = table(ApiType::Http, "$default", &[("ANY", "/{proxy+}")]);
        assert_eq!(hit(&t, "GET", "/"), "none Http");
    }

    #[test]
    fn params_are_decoded() {
        let t = table(ApiType::Http, "$default", &[("GET", "/items/{id}")]);
        match t.lookup("GET", "/items/a%2Fb") {
            Lookup::Found(m) => assert_eq!(m.path_parameters[0].1, "a/b"),
            other => panic!("{other:?}"),
        }
    }
}
