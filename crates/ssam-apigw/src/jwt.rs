//! JWT authorizers of HTTP APIs ("Controlling access to HTTP APIs with JWT authorizers")
//! and Cognito user-pool authorizers of REST APIs ("Control access to REST APIs using
//! Amazon Cognito user pools as an authorizer"), checked by the gateway itself.
//!
//! A token is taken from the authorizer's identity source (a `Bearer ` prefix is optional),
//! then checked as API Gateway does: three base64url parts, an RSA algorithm, `iss` one of
//! the authorizer's issuers, `aud` or `client_id` one of its audiences (JWT), `exp` in the
//! future, `nbf` and `iat` in the past, and one of the route's scopes in `scope`/`scp`.
//! The signature (RS256) is checked when a key set is given for the issuer
//! (`--jwks ISSUER=FILE_OR_URL`); otherwise the start-up says it is not.
//!
//! Answers: a missing or invalid token is 401 `{"message":"Unauthorized"}`; a token without
//! the route's scope is 403 `{"message":"Forbidden"}` on HTTP APIs (401 on REST APIs).

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use base64::Engine as _;
use num_bigint::BigUint;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use ssam_template::{ApiType, AuthorizerKind, RouteJwt};

use crate::errors::GatewayError;
use crate::routes::{Matched, PayloadVersion};

/// DER of the SHA-256 `DigestInfo` prefix (RFC 8017, section 9.2, note 1).
const SHA256_DIGEST_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// An RSA public key of a JWKS.
#[derive(Clone, Debug)]
struct RsaKey {
    kid: Option<String>,
    n: BigUint,
    e: BigUint,
}

/// The key sets given with `--jwks`, by issuer.
#[derive(Clone, Debug, Default)]
pub struct Jwks {
    keys: HashMap<String, Vec<RsaKey>>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

impl Jwks {
    /// Loads `ISSUER=FILE_OR_URL` specs: a JWKS file, or an `http://` URL on this machine.
    pub fn load(specs: &[String], base_dir: &std::path::Path) -> Result<Jwks, String> {
        let mut out = Jwks::default();
        for spec in specs {
            // The issuer is a URL with a `:` of its own: split at the last `=`.
            let Some((issuer, source)) = spec.rsplit_once('=') else {
                return Err(format!(
                    "--jwks {spec}: expected ISSUER=FILE_OR_URL\n  hint: e.g. --jwks https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc=jwks.json"
                ));
            };
            let text = if source.starts_with("http://") {
                fetch(source).map_err(|e| format!("--jwks {issuer}: cannot fetch {source}: {e}"))?
            } else {
                let path = base_dir.join(source);
                let path = if std::path::Path::new(source).is_absolute() || !path.exists() {
                    std::path::PathBuf::from(source)
                } else {
                    path
                };
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("--jwks {issuer}: cannot read {}: {e}", path.display()))?
            };
            let keys = parse_jwks(&text).map_err(|e| {
                format!("--jwks {issuer}: {source} is not a JWKS document: {e}\n  hint: it must be {{\"keys\": [{{\"kty\": \"RSA\", \"kid\": ..., \"n\": ..., \"e\": ...}}]}}")
            })?;
            out.keys
                .entry(issuer.trim_end_matches('/').to_string())
                .or_default()
                .extend(keys);
        }
        Ok(out)
    }

    /// Whether signatures of `issuer`'s tokens are checked.
    pub fn checks(&self, issuer: &str) -> bool {
        self.keys.contains_key(issuer.trim_end_matches('/'))
    }

    /// Whether any key set was given.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn parse_jwks(text: &str) -> Result<Vec<RsaKey>, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for k in set.keys {
        if k.kty != "RSA" {
            continue;
        }
        let (Some(n), Some(e)) = (k.n, k.e) else {
            return Err("an RSA key without n or e".into());
        };
        out.push(RsaKey {
            kid: k.kid,
            n: BigUint::from_bytes_be(&b64url(&n).ok_or("n is not base64url")?),
            e: BigUint::from_bytes_be(&b64url(&e).ok_or("e is not base64url")?),
        });
    }
    if out.is_empty() {
        return Err("it holds no RSA key".into());
    }
    Ok(out)
}

/// GET of a JWKS URL served on this machine (a test's or a local identity provider's).
fn fetch(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = authority
        .to_socket_addrs()
        .or_else(|_| format!("{authority}:80").to_socket_addrs())
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{authority} is not on this machine\n  hint: download the key set and pass the file"
        ));
    }
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nAccept: application/json\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    s.take(4 * 1024 * 1024)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        return Err(format!("HTTP status {status}"));
    }
    Ok(body.to_string())
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// Why a token is refused (logged; the client sees API Gateway's answer).
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Unauthorized(String),
    Forbidden(String),
}

/// Checks the request's token for route `j`; the `requestContext.authorizer` value.
pub(crate) fn authorize(
    jwks: &Jwks,
    m: &Matched<'_>,
    j: &RouteJwt,
    identity: Option<Vec<String>>,
) -> Result<Value, GatewayError> {
    let rest = m.api.api_type == ApiType::Rest;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let token = identity.as_ref().and_then(|v| v.first()).cloned();
    let result = match &token {
        None => Err(Refusal::Unauthorized(format!(
            "the identity source ({}) is missing",
            j.authorizer.identity_sources.join(", ")
        ))),
        Some(t) => check(jwks, j, t, now),
    };
    match result {
        Ok((claims, scopes)) => Ok(context(claims, scopes, rest, m.route.payload)),
        Err(r) => {
            let (error, why) = match r {
                // HTTP APIs say why a token is refused in `www-authenticate`; a request
                // without a token gets the plain 401.
                Refusal::Unauthorized(why) if !rest && token.is_some() => {
                    (GatewayError::InvalidToken(why.clone()), why)
                }
                Refusal::Unauthorized(why) => (GatewayError::Unauthorized, why),
                Refusal::Forbidden(why) if rest => (GatewayError::Unauthorized, why),
                Refusal::Forbidden(why) => (GatewayError::Forbidden, why),
            };
            tracing::info!(
                "{}: authorizer {} ({}): {why}: {}",
                m.api.logical_id,
                j.authorizer.name,
                j.authorizer.kind.as_str(),
                error.answer(m.api.api_type).status
            );
            Err(error)
        }
    }
}

type Checked = (Map<String, Value>, Option<Vec<String>>);

/// The token's claims and granted scopes, or why it is refused.
fn check(jwks: &Jwks, j: &RouteJwt, token: &str, now: i64) -> Result<Checked, Refusal> {
    let bad = |why: &str| Refusal::Unauthorized(why.to_string());
    let a = &j.authorizer;
    let conf = a.jwt.clone().unwrap_or_default();
    let token = token.trim();
    let token = match token.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => token[7..].trim_start(),
        _ => token,
    };
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("the token is not a JWT (three base64url parts)"));
    };
    let header: Header = b64url(h64)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("the token's header is not base64url JSON"))?;
    let claims: Map<String, Value> = b64url(p64)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("the token's payload is not a base64url JSON object"))?;
    let signature = b64url(s64).ok_or_else(|| bad("the token's signature is not base64url"))?;
    // API Gateway accepts RSA-signed tokens only; `none` never.
    if !header.alg.starts_with("RS") {
        return Err(bad(&format!(
            "the token's algorithm {:?} is not RSA (RS256)",
            header.alg
        )));
    }
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("the token has no iss"))?;
    let iss_ok = if conf.issuers.is_empty() {
        conf.issuer_unknown
            && (a.kind != AuthorizerKind::CognitoUserPools
                || iss.starts_with("https://cognito-idp."))
    } else {
        conf.issuers
            .iter()
            .any(|i| i.trim_end_matches('/') == iss.trim_end_matches('/'))
            || (conf.issuer_unknown && a.kind != AuthorizerKind::CognitoUserPools)
    };
    if !iss_ok {
        return Err(bad(&format!(
            "iss {iss} is not the authorizer's issuer ({})",
            conf.issuers.join(", ")
        )));
    }
    if let Some(keys) = jwks.keys.get(iss.trim_end_matches('/')) {
        if header.alg != "RS256" {
            return Err(bad(&format!(
                "the token is signed with {}; ssam checks RS256 signatures",
                header.alg
            )));
        }
        let signed = &token[..h64.len() + 1 + p64.len()];
        let candidates: Vec<&RsaKey> = keys
            .iter()
            .filter(|k| header.kid.is_none() || k.kid.is_none() || k.kid == header.kid)
            .collect();
        if candidates.is_empty() {
            return Err(bad(&format!(
                "no key of the key set for {iss} has kid {:?}",
                header.kid.as_deref().unwrap_or_default()
            )));
        }
        if !candidates
            .iter()
            .any(|k| rs256_verify(k, signed.as_bytes(), &signature))
        {
            return Err(bad("the signature does not verify"));
        }
    }
    let num = |k: &str| {
        claims
            .get(k)
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
    };
    #[allow(clippy::cast_precision_loss)]
    let now_f = now as f64;
    match num("exp") {
        None => return Err(bad("the token has no exp")),
        Some(exp) if exp <= now_f => return Err(bad("the token has expired")),
        _ => {}
    }
    if num("nbf").is_some_and(|nbf| nbf > now_f) {
        return Err(bad("the token is not valid yet (nbf)"));
    }
    if num("iat").is_some_and(|iat| iat > now_f + 300.0) {
        return Err(bad("the token was issued in the future (iat)"));
    }
    if !conf.audience.is_empty() {
        let auds: Vec<&str> = match claims.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let client_id = claims.get("client_id").and_then(Value::as_str);
        let ok = auds
            .iter()
            .copied()
            .chain(client_id)
            .any(|a| conf.audience.iter().any(|x| x == a));
        if !ok {
            // AWS's own description of this refusal ("Troubleshooting issues with HTTP API
            // JWT authorizers").
            return Err(bad("the token does not have a valid audience"));
        }
    }
    let granted: Option<Vec<String>> = match claims.get("scope").or_else(|| claims.get("scp")) {
        Some(Value::String(s)) => Some(s.split_whitespace().map(str::to_string).collect()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        ),
        _ => None,
    };
    if !j.scopes.is_empty() {
        let has = granted
            .as_ref()
            .is_some_and(|g| g.iter().any(|s| j.scopes.contains(s)));
        if !has {
            return Err(Refusal::Forbidden(format!(
                "the token has none of the route's scopes ({})",
                j.scopes.join(" ")
            )));
        }
    }
    Ok((claims, granted))
}

/// RSASSA-PKCS1-v1_5 verification with SHA-256 (RFC 8017, section 8.2.2).
fn rs256_verify(key: &RsaKey, signed: &[u8], signature: &[u8]) -> bool {
    let k = usize::try_from(key.n.bits().div_ceil(8)).unwrap_or(0);
    if k < SHA256_DIGEST_INFO.len() + 32 + 11 || signature.len() != k {
        return false;
    }
    let s = BigUint::from_bytes_be(signature);
    if s >= key.n {
        return false;
    }
    let m = s.modpow(&key.e, &key.n).to_bytes_be();
    let mut em = vec![0u8; k.saturating_sub(m.len())];
    em.extend_from_slice(&m);
    let digest = Sha256::digest(signed);
    let t_len = SHA256_DIGEST_INFO.len() + digest.len();
    let mut expected = vec![0x00, 0x01];
    expected.resize(k - t_len - 1, 0xff);
    expected.push(0x00);
    expected.extend_from_slice(SHA256_DIGEST_INFO);
    expected.extend_from_slice(&digest);
    em == expected
}

/// Claims as API Gateway passes them on: every value a string (arrays as `[a b]`).
fn stringified(claims: Map<String, Value>) -> Map<String, Value> {
    claims
        .into_iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s,
                Value::Array(items) => format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                other => other.to_string(),
            };
            (k, Value::String(s))
        })
        .collect()
}

/// `requestContext.authorizer`: `jwt.claims` / `jwt.scopes` in HTTP API 2.0 events,
/// `claims` / `scopes` in 1.0 events, `claims` in REST events.
fn context(
    claims: Map<String, Value>,
    scopes: Option<Vec<String>>,
    rest: bool,
    payload: PayloadVersion,
) -> Value {
    let claims = Value::Object(stringified(claims));
    let scopes = scopes.map_or(Value::Null, |s| {
        Value::Array(s.into_iter().map(Value::String).collect())
    });
    if rest {
        return serde_json::json!({ "claims": claims });
    }
    match payload {
        PayloadVersion::V2 => serde_json::json!({ "jwt": { "claims": claims, "scopes": scopes } }),
        PayloadVersion::V1 => serde_json::json!({ "claims": claims, "scopes": scopes }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ssam_template::{Authorizer, JwtConfig};

    fn enc(v: &Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn token(claims: Value) -> String {
        format!(
            "{}.{}.c2ln",
            enc(&serde_json::json!({"alg": "RS256", "kid": "k"})),
            enc(&claims)
        )
    }

    fn route(scopes: &[&str]) -> RouteJwt {
        RouteJwt {
            authorizer: Authorizer {
                name: "Jwt".into(),
                function: None,
                kind: AuthorizerKind::Jwt,
                identity_sources: vec!["$request.header.Authorization".into()],
                payload_format_version: None,
                simple_responses: false,
                ttl_seconds: 0,
                default_scopes: vec![],
                identity_validation: None,
                jwt: Some(JwtConfig {
                    issuers: vec!["https://issuer.example".into()],
                    issuer_unknown: false,
                    audience: vec!["aud1".into()],
                }),
            },
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn jwt_claims_checked_as_http_api_jwt_authorizers_do() {
        let j = route(&["read"]);
        let ok = serde_json::json!({"iss": "https://issuer.example", "aud": "aud1", "exp": 2000, "scope": "read write"});
        let t = token(ok.clone());
        assert!(check(&Jwks::default(), &j, &format!("Bearer {t}"), 1000).is_ok());
        let unauthorized = |c: Value| {
            matches!(
                check(&Jwks::default(), &j, &token(c), 1000),
                Err(Refusal::Unauthorized(_))
            )
        };
        let mut c = ok.clone();
        c["exp"] = 999.into();
        assert!(unauthorized(c), "expired");
        let mut c = ok.clone();
        c["iss"] = "https://other".into();
        assert!(unauthorized(c), "issuer");
        let mut c = ok.clone();
        c["aud"] = "other".into();
        assert!(unauthorized(c), "audience");
        let mut c = ok.clone();
        c.as_object_mut().unwrap().remove("aud");
        c["client_id"] = "aud1".into();
        assert!(!unauthorized(c), "client_id stands for aud");
        let mut c = ok.clone();
        c["nbf"] = 1500.into();
        assert!(unauthorized(c), "not before");
        let mut c = ok.clone();
        c["scope"] = "write".into();
        assert!(matches!(
            check(&Jwks::default(), &j, &token(c), 1000),
            Err(Refusal::Forbidden(_))
        ));
        assert!(check(&Jwks::default(), &j, "a.b", 1000).is_err());
        let none = format!("{}.{}.", enc(&serde_json::json!({"alg": "none"})), enc(&ok));
        assert!(
            check(&Jwks::default(), &j, &none, 1000).is_err(),
            "alg none"
        );
    }

    #[test]
    fn claims_are_passed_on_as_strings() {
        let c = serde_json::json!({"exp": 5, "groups": ["a", "b"], "sub": "x"});
        let out = stringified(c.as_object().cloned().unwrap());
        assert_eq!(
            Value::Object(out),
            serde_json::json!({"exp": "5", "groups": "[a b]", "sub": "x"})
        );
    }
}
