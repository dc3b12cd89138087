//! Lambda authorizers ("Use API Gateway Lambda authorizers", "Working with AWS Lambda
//! authorizers for HTTP APIs"): identity sources, the authorizer's event in each format,
//! IAM policy or simple responses, and result caching for the configured TTL.
//!
//! Answers, as API Gateway gives them: a missing identity source, or a TOKEN that does not
//! match the authorizer's `IdentityValidationExpression`, is a 401 without invoking the
//! authorizer; a deny is a 403; an authorizer that fails or returns something
//! unreadable is a 500; a REST authorizer that fails with the message `Unauthorized` is a 401.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;
use ssam_events::apigw::{
    method_arn, HttpApiRequest, HttpV1AuthorizerRequest, HttpV2AuthorizerRequest, ProxyRequest,
    Request, RestRequestAuthorizerRequest, TokenAuthorizerRequest,
};
use ssam_template::{ApiType, Authorizer, AuthorizerKind, RouteAuthorizer};

use crate::errors::GatewayError;
use crate::functions::{Functions, InvokeFailure};
use crate::request::RequestCtx;
use crate::routes::Matched;

/// How long API Gateway waits for an authorizer.
const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(10);

/// One value or a list, as IAM policies allow for `Action` and `Resource`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn iter(&self) -> Box<dyn Iterator<Item = &T> + '_> {
        match self {
            OneOrMany::One(t) => Box::new(std::iter::once(t)),
            OneOrMany::Many(v) => Box::new(v.iter()),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
struct Statement {
    #[serde(rename = "Effect")]
    effect: String,
    #[serde(rename = "Action", default)]
    action: Option<OneOrMany<String>>,
    #[serde(rename = "Resource", default)]
    resource: Option<OneOrMany<String>>,
}

#[derive(Clone, Debug, Deserialize)]
struct PolicyDocument {
    #[serde(rename = "Statement")]
    statement: OneOrMany<Statement>,
}

/// `principalId` is a string, but numbers are seen in the wild.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum Principal {
    Str(String),
    Num(serde_json::Number),
}

/// What an authorizer returns: an IAM policy, or (HTTP APIs with simple responses)
/// `isAuthorized`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    #[serde(default)]
    is_authorized: Option<bool>,
    #[serde(default)]
    principal_id: Option<Principal>,
    #[serde(default)]
    policy_document: Option<PolicyDocument>,
    #[serde(default)]
    context: Option<IndexMap<String, Value>>,
}

/// API logical id, authorizer name, identity values.
type CacheKey = (String, String, String);

/// Cached authorizer results, by API, authorizer and identity values.
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<CacheKey, (Instant, Output)>>,
}

impl AuthCache {
    fn get(&self, key: &CacheKey) -> Option<Output> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, o)| o.clone())
    }

    fn put(&self, key: CacheKey, ttl: Duration, out: Output) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        map.retain(|_, (until, _)| now < *until);
        map.insert(key, (now + ttl, out));
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The values of the identity sources; `None` when one is missing or empty.
pub(crate) fn identity_values(
    sources: &[String],
    ctx: &RequestCtx,
    req: &Request,
    m: &Matched<'_>,
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for s in sources {
        let s = s.trim().trim_start_matches('$');
        let value = if let Some(h) = s
            .strip_prefix("method.request.header.")
            .or_else(|| s.strip_prefix("request.header."))
        {
            ctx.passed_on(h).map(Cow::into_owned)
        } else if let Some(q) = s
            .strip_prefix("method.request.querystring.")
            .or_else(|| s.strip_prefix("request.querystring."))
        {
            req.query
                .iter()
                .find(|(k, _)| k == q)
                .map(|(_, v)| v.clone())
        } else if let Some(v) = s.strip_prefix("stageVariables.") {
            m.api
                .stage_variables
                .iter()
                .find(|(k, _)| k == v)
                .map(|(_, v)| v.clone())
        } else {
            s.strip_prefix("context.").map(|c| match c {
                "stage" => m.api.stage.clone(),
                "routeKey" => m.route.route_key(),
                "httpMethod" => req.method.clone(),
                "requestId" => req.request_id.clone(),
                "identity.sourceIp" => req.source_ip.clone(),
                other => other.to_string(),
            })
        };
        match value {
            Some(v) if !v.is_empty() => out.push(v),
            _ => return None,
        }
    }
    Some(out)
}

/// `*` and `?` wildcards, as IAM matches resources.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Whether the policy allows invoking `arn`: an explicit Deny wins over any Allow.
fn policy_allows(doc: &PolicyDocument, arn: &str) -> bool {
    let mut allowed = false;
    for st in doc.statement.iter() {
        let action_ok = st.action.as_ref().is_none_or(|a| {
            a.iter()
                .any(|a| glob(&a.to_ascii_lowercase(), "execute-api:invoke"))
        });
        let resource_ok = st
            .resource
            .as_ref()
            .is_some_and(|r| r.iter().any(|r| glob(r, arn)));
        if !(action_ok && resource_ok) {
            continue;
        }
        if st.effect.eq_ignore_ascii_case("deny") {
            return false;
        }
        if st.effect.eq_ignore_ascii_case("allow") {
            allowed = true;
        }
    }
    allowed
}

/// What the route's function sees in `requestContext.authorizer` when the request is let in.
pub type AuthorizerContext = Option<Value>;

/// Runs the route's authorizer for `req` (the event request, without its body).
pub async fn authorize(
    functions: &Functions,
    cache: &AuthCache,
    region: &str,
    m: &Matched<'_>,
    ra: &RouteAuthorizer,
    ctx: &RequestCtx,
    req: &Request,
) -> Result<AuthorizerContext, GatewayError> {
    let a = &ra.authorizer;
    let rest = m.api.api_type == ApiType::Rest;
    let v2 = !rest && a.payload_format_version.as_deref() != Some("1.0");
    let identity = identity(a, rest, ctx, req, m)?;
    // "IdentityValidationExpression ... Otherwise, it will return a 401 Unauthorized
    // response without calling the Lambda function" (API Gateway API Reference, Authorizer).
    if let (Some(re), Some(token)) = (&m.route.token_validation, identity.first()) {
        if a.kind == AuthorizerKind::Token && !re.is_match(token) {
            tracing::info!(
                "{}: authorizer {}: the token does not match its IdentityValidationExpression {}: 401",
                m.api.logical_id,
                a.name,
                a.identity_validation.as_deref().unwrap_or_default()
            );
            return Err(GatewayError::Unauthorized);
        }
    }
    let arn = method_arn(
        "aws",
        region,
        &req.account_id,
        &m.api.api_id,
        &m.api.stage,
        &req.method,
        &req.path,
    );
    let ttl = Duration::from_secs(u64::from(a.ttl_seconds));
    let cacheable = !ttl.is_zero() && !identity.is_empty();
    let key = (
        m.api.logical_id.clone(),
        a.name.clone(),
        identity.join("\u{1f}"),
    );
    let cached = if cacheable { cache.get(&key) } else { None };
    let started = Instant::now();
    let out = match cached {
        Some(o) => o,
        None => {
            let payload = event_for(&a.kind, rest, v2, req, &arn, &identity)
                .map_err(|_| GatewayError::AuthorizerFailure)?;
            let out = call(functions, ra, payload).await?;
            if cacheable {
                cache.put(key, ttl, out.clone());
            }
            out
        }
    };
    if !allows(a, v2, &out, &arn)? {
        return Err(GatewayError::Forbidden);
    }
    // The route's payload format decides where the context goes: 2.0 events nest it under
    // `authorizer.lambda`; 1.0 events (REST, HTTP API 1.0) put it beside `principalId`.
    let route_v2 = !rest && m.route.payload == crate::routes::PayloadVersion::V2;
    Ok(Some(context(out, route_v2, started)))
}

/// The identity source values, or 401 when one is missing.
fn identity(
    a: &Authorizer,
    rest: bool,
    ctx: &RequestCtx,
    req: &Request,
    m: &Matched<'_>,
) -> Result<Vec<String>, GatewayError> {
    // REST REQUEST authorizers check identity sources only when results are cached ("Identity
    // sources ... required when caching is enabled"); TOKEN authorizers always need the token.
    let checked = !(rest && a.kind == AuthorizerKind::Request && a.ttl_seconds == 0);
    let identity = if a.identity_sources.is_empty() {
        Some(Vec::new())
    } else if checked {
        identity_values(&a.identity_sources, ctx, req, m)
    } else {
        Some(identity_values(&a.identity_sources, ctx, req, m).unwrap_or_default())
    };
    identity.ok_or_else(|| {
        tracing::info!(
            "{}: authorizer {}: an identity source ({}) is missing from the request: 401",
            m.api.logical_id,
            a.name,
            a.identity_sources.join(", ")
        );
        GatewayError::Unauthorized
    })
}

/// Invokes the authorizer function and reads its answer.
async fn call(
    functions: &Functions,
    ra: &RouteAuthorizer,
    payload: Vec<u8>,
) -> Result<Output, GatewayError> {
    let a = &ra.authorizer;
    let resp = match functions
        .invoke(
            &ra.function,
            Bytes::from(payload),
            AUTHORIZER_TIMEOUT,
            None,
            None,
        )
        .await
    {
        Ok(r) => r,
        Err(InvokeFailure::Timeout) => {
            tracing::info!("authorizer {} timed out: 500", a.name);
            return Err(GatewayError::AuthorizerFailure);
        }
        Err(e) => {
            tracing::info!("authorizer {} could not run: {e:?}: 500", a.name);
            return Err(GatewayError::AuthorizerFailure);
        }
    };
    if resp.function_error().is_some() {
        #[derive(Deserialize)]
        struct Err {
            #[serde(rename = "errorMessage", default)]
            message: String,
        }
        let msg = serde_json::from_slice::<Err>(&resp.payload)
            .map(|e| e.message)
            .unwrap_or_default();
        if msg == "Unauthorized" {
            return Err(GatewayError::Unauthorized);
        }
        tracing::info!(
            "authorizer {} failed: {}: 500",
            a.name,
            String::from_utf8_lossy(&resp.payload)
        );
        return Err(GatewayError::AuthorizerFailure);
    }
    serde_json::from_slice(&resp.payload).map_err(|e| {
        tracing::info!(
            "authorizer {} returned an unreadable response ({e}): 500",
            a.name
        );
        GatewayError::AuthorizerFailure
    })
}

/// Whether the authorizer's answer lets the request in: `isAuthorized` (HTTP API 2.0 with
/// simple responses) or the IAM policy for `arn`.
fn allows(a: &Authorizer, v2: bool, out: &Output, arn: &str) -> Result<bool, GatewayError> {
    if v2 && a.simple_responses {
        return out.is_authorized.ok_or_else(|| {
            tracing::info!(
                "authorizer {}: EnableSimpleResponses is set but the response has no isAuthorized: 500",
                a.name
            );
            GatewayError::AuthorizerFailure
        });
    }
    match &out.policy_document {
        Some(doc) => Ok(policy_allows(doc, arn)),
        None => {
            tracing::info!(
                "authorizer {}: the response has no policyDocument: 500",
                a.name
            );
            Err(GatewayError::AuthorizerFailure)
        }
    }
}

/// `requestContext.authorizer` for the route's event.
fn context(out: Output, route_v2: bool, started: Instant) -> Value {
    let context = out.context.unwrap_or_default();
    if route_v2 {
        let mut lambda = serde_json::Map::new();
        for (k, v) in context {
            lambda.insert(k, v);
        }
        return serde_json::json!({ "lambda": lambda });
    }
    let principal = out.principal_id.map(|p| match p {
        Principal::Str(s) => s,
        Principal::Num(n) => n.to_string(),
    });
    let mut map = serde_json::Map::new();
    if let Some(p) = principal {
        map.insert("principalId".into(), Value::String(p));
    }
    for (k, v) in context {
        map.insert(k, v);
    }
    let latency = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    map.insert("integrationLatency".into(), Value::from(latency));
    Value::Object(map)
}

fn event_for(
    kind: &AuthorizerKind,
    rest: bool,
    v2: bool,
    req: &Request,
    arn: &str,
    identity: &[String],
) -> Result<Vec<u8>, serde_json::Error> {
    if rest && *kind == AuthorizerKind::Token {
        return serde_json::to_vec(&TokenAuthorizerRequest {
            kind: "TOKEN".into(),
            authorization_token: identity.first().cloned().unwrap_or_default(),
            method_arn: arn.to_string(),
        });
    }
    if rest {
        let event = ProxyRequest::from_request(req);
        return serde_json::to_vec(&RestRequestAuthorizerRequest::new(arn, &event));
    }
    if v2 {
        let event = HttpApiRequest::from_request(req);
        return serde_json::to_vec(&HttpV2AuthorizerRequest::new(arn, identity, &event));
    }
    let event = ProxyRequest::from_request(req);
    serde_json::to_vec(&HttpV1AuthorizerRequest::new(arn, identity, &event))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn doc(json: &str) -> PolicyDocument {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn globs() {
        assert!(glob(
            "arn:aws:execute-api:*:*:api/*/GET/*",
            "arn:aws:execute-api:us-east-1:1:api/Prod/GET/a/b"
        ));
        assert!(!glob("arn:*/POST/*", "arn:x/GET/y"));
        assert!(glob("*", ""));
    }

    #[test]
    fn explicit_deny_wins() {
        let d = doc(r#"{"Version":"2012-10-17","Statement":[
                {"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"},
                {"Action":"execute-api:Invoke","Effect":"Deny","Resource":["arn:x/Prod/DELETE/*"]}]}"#);
        assert!(policy_allows(&d, "arn:x/Prod/GET/a"));
        assert!(!policy_allows(&d, "arn:x/Prod/DELETE/a"));
        let d = doc(
            r#"{"Statement":{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:x/Prod/GET/a"}}"#,
        );
        assert!(!policy_allows(&d, "arn:x/Prod/GET/b"));
    }
}
