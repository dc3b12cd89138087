//! `AWS_IAM` authorization: a request must be signed with Signature Version 4, in the
//! `Authorization` header (`AWS4-HMAC-SHA256 Credential=...`) or as a presigned query
//! (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Signature`).
//!
//! Without a signature API Gateway answers 403: REST APIs `{"message":"Missing
//! Authentication Token"}`, HTTP APIs `{"message":"Forbidden"}` ("Control access to an API
//! with IAM permissions"). Any access key is accepted unless `--iam-credentials` names the
//! keys to accept, as the local S3's `--credentials` does. When it also gives a key's secret
//! (`KEY:SECRET`), the signature is recomputed ("Create a signed AWS API request", IAM
//! User Guide) and a mismatch or a request time more than 5 minutes away from now is
//! refused with AWS's `InvalidSignatureException` text ("How do I troubleshoot signature
//! mismatch errors ... API Gateway", AWS Knowledge Center). ssam has no IAM policies to
//! evaluate: a correctly signed request is allowed.

use std::collections::HashMap;

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::errors::GatewayError;
use crate::request::RequestCtx;
use crate::routes::Matched;

/// AWS's text for a signature that does not verify (API Gateway and Lambda).
pub const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// How far a request's `X-Amz-Date` may be from now ("An API request must reach AWS within
/// 5 minutes of the timestamp in the request").
const MAX_SKEW: time::Duration = time::Duration::minutes(5);

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// What `AWS_IAM` routes and function URLs accept (`--iam-credentials`).
#[derive(Clone, Debug, Default)]
pub struct IamOptions {
    /// Access key ids accepted; empty: any.
    pub access_keys: Vec<String>,
    /// Secret access keys by access key id: signatures made with these keys are checked.
    pub secrets: HashMap<String, String>,
}

impl IamOptions {
    /// From `--iam-credentials` values, `KEY` or `KEY:SECRET` each.
    pub fn from_flags(values: &[String]) -> IamOptions {
        let mut opts = IamOptions::default();
        for v in values {
            let (key, secret) = match v.split_once(':') {
                Some((k, s)) => (k, Some(s)),
                None => (v.as_str(), None),
            };
            opts.access_keys.push(key.to_string());
            if let Some(s) = secret.filter(|s| !s.is_empty()) {
                opts.secrets.insert(key.to_string(), s.to_string());
            }
        }
        opts
    }

    /// Whether some signatures are recomputed (a secret was given).
    pub fn checks_signatures(&self) -> bool {
        !self.secrets.is_empty()
    }
}

/// Why a request is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No SigV4 signature.
    Unsigned,
    /// Signed with an access key `--iam-credentials` does not name.
    UnknownKey(String),
    /// The signature does not verify; what ssam computed, for the answer and the log.
    Mismatch {
        canonical_request: String,
        string_to_sign: String,
    },
    /// Expired, not yet current, wrong scope: AWS's message.
    Invalid(String),
}

/// The parts of a SigV4 signature, from the header or the presigned query.
#[derive(Debug)]
struct Signature {
    access_key: String,
    /// `YYYYMMDD/region/service/aws4_request`.
    scope: String,
    signed_headers: Vec<String>,
    signature: String,
    /// `X-Amz-Date` (or the presigned query's).
    amz_date: Option<String>,
    /// Presigned: seconds the URL is valid (`X-Amz-Expires`).
    presigned: Option<Option<u64>>,
}

fn parse(headers: &http::HeaderMap, query: Option<&str>) -> Option<Signature> {
    if let Some(h) = headers.get("authorization") {
        let h = String::from_utf8_lossy(h.as_bytes());
        let rest = h.trim().strip_prefix(ALGORITHM)?;
        let mut cred = None;
        let mut signed = None;
        let mut sig = None;
        for p in rest.split(',').map(str::trim) {
            if let Some(v) = p.strip_prefix("Credential=") {
                cred = Some(v);
            } else if let Some(v) = p.strip_prefix("SignedHeaders=") {
                signed = Some(v);
            } else if let Some(v) = p.strip_prefix("Signature=") {
                sig = Some(v);
            }
        }
        let (key, scope) = cred?.split_once('/').unwrap_or((cred?, ""));
        let sig = sig.filter(|s| !s.is_empty())?;
        if key.is_empty() {
            return None;
        }
        let amz_date = header_str(headers, "x-amz-date").or_else(|| header_str(headers, "date"));
        return Some(Signature {
            access_key: key.to_string(),
            scope: scope.to_string(),
            signed_headers: signed
                .unwrap_or_default()
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_lowercase)
                .collect(),
            signature: sig.to_string(),
            amz_date,
            presigned: None,
        });
    }
    let mut algorithm = false;
    let mut signature = None;
    let mut cred = None;
    let mut signed = String::new();
    let mut amz_date = None;
    let mut expires = None;
    for pair in query?.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .into_owned();
        match k {
            "X-Amz-Algorithm" => algorithm = v == ALGORITHM,
            "X-Amz-Signature" => signature = Some(v).filter(|v| !v.is_empty()),
            "X-Amz-Credential" => cred = Some(v),
            "X-Amz-SignedHeaders" => signed = v,
            "X-Amz-Date" => amz_date = Some(v),
            "X-Amz-Expires" => expires = v.parse().ok(),
            _ => {}
        }
    }
    let cred = cred?;
    let (key, scope) = cred.split_once('/').unwrap_or((cred.as_str(), ""));
    (algorithm && !key.is_empty())
        .then(|| Signature {
            access_key: key.to_string(),
            scope: scope.to_string(),
            signed_headers: signed
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_lowercase)
                .collect(),
            signature: signature.clone().unwrap_or_default(),
            amz_date,
            presigned: Some(expires),
        })
        .filter(|s| !s.signature.is_empty())
}

fn header_str(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
}

/// The access key id of a SigV4-signed request (an `Authorization: AWS4-HMAC-SHA256
/// Credential=...` header with a signature, or a presigned query), `None` when it is not
/// signed. API Gateway's `AWS_IAM` routes and Lambda function URLs both use it.
pub fn signed_access_key(headers: &http::HeaderMap, query: Option<&str>) -> Option<String> {
    parse(headers, query).map(|s| s.access_key)
}

/// The checks that need no body: signed, with an accepted access key. Returns the key.
pub fn precheck(
    opts: &IamOptions,
    headers: &http::HeaderMap,
    query: Option<&str>,
) -> Result<String, Refusal> {
    let sig = parse(headers, query).ok_or(Refusal::Unsigned)?;
    if !opts.access_keys.is_empty() && !opts.access_keys.contains(&sig.access_key) {
        return Err(Refusal::UnknownKey(sig.access_key));
    }
    Ok(sig.access_key)
}

/// Everything: [`precheck`], then, when the key's secret is known, the request time and the
/// signature itself, recomputed for `service` (`execute-api`, or `lambda` for function
/// URLs) over the request as it arrived. Returns the access key.
pub fn verify(
    opts: &IamOptions,
    service: &str,
    parts: &http::request::Parts,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<String, Refusal> {
    let key = precheck(opts, &parts.headers, parts.uri.query())?;
    let Some(secret) = opts.secrets.get(&key) else {
        return Ok(key);
    };
    let Some(sig) = parse(&parts.headers, parts.uri.query()) else {
        return Err(Refusal::Unsigned);
    };
    let amz_date = sig.amz_date.clone().unwrap_or_default();
    let Some(when) = parse_amz_date(&amz_date) else {
        return Err(Refusal::Invalid(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        )));
    };
    match sig.presigned {
        Some(expires) => {
            let secs = i64::try_from(expires.unwrap_or(0).min(604_800)).unwrap_or(0);
            let until = when + time::Duration::seconds(secs);
            if now > until {
                return Err(Refusal::Invalid(format!(
                    "Signature expired: {amz_date} is now earlier than {} ({} - {} sec.)",
                    amz(now - (until - when)),
                    amz(now),
                    (until - when).whole_seconds()
                )));
            }
        }
        None if when < now - MAX_SKEW => {
            return Err(Refusal::Invalid(format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - 5 min.)",
                amz(now - MAX_SKEW),
                amz(now)
            )))
        }
        None if when > now + MAX_SKEW => {
            return Err(Refusal::Invalid(format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + 5 min.)",
                amz(now + MAX_SKEW),
                amz(now)
            )))
        }
        None => {}
    }
    let scope: Vec<&str> = sig.scope.split('/').collect();
    let [date, region, scope_service, terminator] = scope[..] else {
        return Err(Refusal::Invalid(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            sig.scope
        )));
    };
    if scope_service != service {
        return Err(Refusal::Invalid(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    if terminator != "aws4_request" {
        return Err(Refusal::Invalid(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '"
                .to_string()
                + terminator
                + "'. ",
        ));
    }
    if !amz_date.starts_with(date) {
        return Err(Refusal::Invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{date}' != '{}', from '{amz_date}'.",
            amz_date.get(..8).unwrap_or_default()
        )));
    }
    let key_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let key_region = hmac(&key_date, region.as_bytes());
    let key_service = hmac(&key_region, service.as_bytes());
    let key_signing = hmac(&key_service, b"aws4_request");
    let mut first_mismatch = None;
    for payload in payload_hashes(&sig, parts, body) {
        let canonical_request = canonical_request(&sig, parts, &payload);
        let string_to_sign = format!(
            "{ALGORITHM}\n{amz_date}\n{}\n{}",
            sig.scope,
            hex::encode(Sha256::digest(canonical_request.as_bytes()))
        );
        let expected = hex::encode(hmac(&key_signing, string_to_sign.as_bytes()));
        if expected.eq_ignore_ascii_case(&sig.signature) {
            return Ok(key);
        }
        first_mismatch.get_or_insert(Refusal::Mismatch {
            canonical_request,
            string_to_sign,
        });
    }
    Err(first_mismatch.unwrap_or(Refusal::Unsigned))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn parse_amz_date(s: &str) -> Option<OffsetDateTime> {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    if let Ok(t) = time::PrimitiveDateTime::parse(s, f) {
        return Some(t.assume_utc());
    }
    // A `Date` header (RFC 7231) signs too when there is no `X-Amz-Date`.
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc2822).ok()
}

fn amz(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    t.format(f).unwrap_or_default()
}

/// Characters SigV4 leaves unencoded: RFC 3986's unreserved set.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A path's characters SigV4 leaves unencoded: the unreserved set and `/`.
const PATH: &percent_encoding::AsciiSet = &UNRESERVED.remove(b'/');

/// The canonical request: method, canonical URI, canonical query, canonical headers, signed
/// headers, payload hash.
fn canonical_request(sig: &Signature, parts: &http::request::Parts, payload: &str) -> String {
    // Services other than S3 encode the (normalized) path as it was sent once more: each
    // `%` of the request's own encoding becomes `%25`.
    let path = remove_dot_segments(parts.uri.path());
    let uri = percent_encoding::utf8_percent_encode(&path, PATH).to_string();
    let presigned = sig.presigned.is_some();
    let mut pairs: Vec<(String, String)> = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(k, _)| !(presigned && *k == "X-Amz-Signature"))
        .map(|(k, v)| (reencode(k), reencode(v)))
        .collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = String::new();
    for name in &sig.signed_headers {
        let values: Vec<String> = parts
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    format!(
        "{}\n{uri}\n{query}\n{headers}\n{}\n{payload}",
        parts.method.as_str(),
        sig.signed_headers.join(";")
    )
}

/// The payload hashes a signature may have been computed over, the likeliest first: the
/// body's SHA-256 (a claimed `x-amz-content-sha256` is checked against the body itself, so a
/// changed body does not verify) or `UNSIGNED-PAYLOAD` when the request says so. Presigned
/// URLs of services other than S3 sign the body's hash (botocore's `SigV4QueryAuth`, the JS
/// SDK's presigner); S3-style presigners sign `UNSIGNED-PAYLOAD`: both are accepted.
fn payload_hashes(sig: &Signature, parts: &http::request::Parts, body: &[u8]) -> Vec<String> {
    let body_hash = hex::encode(Sha256::digest(body));
    let unsigned = "UNSIGNED-PAYLOAD".to_string();
    match header_str(&parts.headers, "x-amz-content-sha256") {
        Some(v) if v == unsigned => vec![unsigned],
        _ if sig.presigned.is_some() => vec![body_hash, unsigned],
        _ => vec![body_hash],
    }
}

fn reencode(s: &str) -> String {
    let raw = percent_encoding::percent_decode_str(s).collect::<Vec<u8>>();
    percent_encoding::percent_encode(&raw, UNRESERVED).to_string()
}

/// RFC 3986 section 5.2.4, and empty segments removed, as AWS's signers normalize the path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut s = String::from("/");
    s.push_str(&out.join("/"));
    if path.ends_with('/') && !out.is_empty() {
        s.push('/');
    }
    s
}

/// Lets a signed request through (the parts that need no body); 403 otherwise. With secrets,
/// [`check_signature`] follows once the body is in.
pub(crate) fn check(
    opts: &IamOptions,
    m: &Matched<'_>,
    ctx: &RequestCtx,
) -> Result<(), (GatewayError, String)> {
    let route = format!("{} {}", ctx.method(), ctx.raw_path());
    match precheck(opts, &ctx.parts.headers, ctx.parts.uri.query()) {
        Err(Refusal::Unsigned) => Err((
            GatewayError::MissingAuthenticationToken,
            format!(
                "{route}: {} requires AWS_IAM authorization and the request is not signed (SigV4): 403\n  hint: sign it, e.g. curl --aws-sigv4 \"aws:amz:us-east-1:execute-api\" --user KEY:SECRET, or awscurl",
                m.api.logical_id
            ),
        )),
        Err(Refusal::UnknownKey(key)) => Err((
            GatewayError::InvalidSecurityToken,
            format!("{route}: access key {key} is not one of --iam-credentials: 403"),
        )),
        Err(r) => Err(refused(&route, r)),
        Ok(_) => Ok(()),
    }
}

/// The signature and request time, when `--iam-credentials` gives the key's secret.
pub(crate) fn check_signature(
    opts: &IamOptions,
    ctx: &RequestCtx,
    body: &[u8],
) -> Result<(), (GatewayError, String)> {
    if !opts.checks_signatures() {
        return Ok(());
    }
    let route = format!("{} {}", ctx.method(), ctx.raw_path());
    verify(
        opts,
        "execute-api",
        &ctx.parts,
        body,
        OffsetDateTime::now_utc(),
    )
    .map(|_| ())
    .map_err(|r| refused(&route, r))
}

fn refused(route: &str, r: Refusal) -> (GatewayError, String) {
    match r {
        Refusal::Unsigned => (
            GatewayError::MissingAuthenticationToken,
            format!("{route}: not signed: 403"),
        ),
        Refusal::UnknownKey(key) => (
            GatewayError::InvalidSecurityToken,
            format!("{route}: access key {key} is not one of --iam-credentials: 403"),
        ),
        Refusal::Mismatch {
            canonical_request,
            string_to_sign,
        } => (
            GatewayError::InvalidSignature(mismatch_message(&canonical_request, &string_to_sign)),
            format!(
                "{route}: the SigV4 signature does not verify with the secret given by --iam-credentials: 403\n  canonical request ssam computed:\n{canonical_request}"
            ),
        ),
        Refusal::Invalid(msg) => (
            GatewayError::InvalidSignature(msg.clone()),
            format!("{route}: {msg}: 403"),
        ),
    }
}

/// API Gateway's mismatch message, which shows what it computed so a client can compare.
pub fn mismatch_message(canonical_request: &str, string_to_sign: &str) -> String {
    format!(
        "{SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    /// The IAM User Guide's example of a signed request (GET IAM ListUsers, access key
    /// AKIDEXAMPLE), as AWS's SigV4 test suite gives it ("Signature Version 4 test suite",
    /// get-vanilla): the signature we recompute is the one AWS published.
    #[test]
    fn recomputes_the_sigv4_test_suite_signature() {
        let opts = IamOptions::from_flags(&[
            "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string(),
        ]);
        let p = parts(
            "GET",
            "/",
            &[
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
                ("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
            ],
        );
        let now = OffsetDateTime::from_unix_timestamp(1_440_938_160).unwrap();
        assert_eq!(
            verify(&opts, "service", &p, b"", now),
            Ok("AKIDEXAMPLE".to_string())
        );
        // Another service's scope, a changed method, a stale date: refused.
        assert!(matches!(
            verify(&opts, "execute-api", &p, b"", now),
            Err(Refusal::Invalid(m)) if m.contains("correct service: 'execute-api'")
        ));
        let mut changed = p.clone();
        changed.method = http::Method::POST;
        assert!(matches!(
            verify(&opts, "service", &changed, b"", now),
            Err(Refusal::Mismatch { .. })
        ));
        let later = now + time::Duration::minutes(6);
        assert!(matches!(
            verify(&opts, "service", &p, b"", later),
            Err(Refusal::Invalid(m)) if m.starts_with("Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T124200Z - 5 min.)")
        ));
    }

    #[test]
    fn without_a_secret_any_signature_of_a_listed_key_passes() {
        let opts = IamOptions::from_flags(&["AKIDONLY".to_string()]);
        assert!(!opts.checks_signatures());
        let p = parts(
            "GET",
            "/x",
            &[("authorization", "AWS4-HMAC-SHA256 Credential=AKIDONLY/20150830/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00")],
        );
        assert_eq!(
            verify(&opts, "execute-api", &p, b"", OffsetDateTime::now_utc()),
            Ok("AKIDONLY".into())
        );
        let other = parts(
            "GET",
            "/x",
            &[("authorization", "AWS4-HMAC-SHA256 Credential=AKIDOTHER/20150830/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00")],
        );
        assert_eq!(
            precheck(&opts, &other.headers, None),
            Err(Refusal::UnknownKey("AKIDOTHER".into()))
        );
        assert_eq!(
            precheck(&opts, &parts("GET", "/x", &[]).headers, None),
            Err(Refusal::Unsigned)
        );
    }

    #[test]
    fn paths_are_normalized_and_encoded_again() {
        assert_eq!(remove_dot_segments("/a/./b/../c//d/"), "/a/c/d/");
        assert_eq!(remove_dot_segments("/"), "/");
        let sig = Signature {
            access_key: "K".into(),
            scope: String::new(),
            signed_headers: vec!["host".into()],
            signature: String::new(),
            amz_date: None,
            presigned: None,
        };
        let p = parts("GET", "/a%20b/c?z=1&a=x%2Fy&a=b", &[("host", "h")]);
        let c = canonical_request(&sig, &p, "UNSIGNED-PAYLOAD");
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines[1], "/a%2520b/c");
        assert_eq!(lines[2], "a=b&a=x%2Fy&z=1");
        assert_eq!(lines[3], "host:h");
    }
}
