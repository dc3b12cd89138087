//! `AWS_IAM` authorization: a request must be signed with Signature Version 4, in the
//! `Authorization` header (`AWS4-HMAC-SHA256 Credential=...`) or as a presigned query
//! (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Signature`).
//!
//! Without a signature API Gateway answers 403: REST APIs `{"message":"Missing
//! Authentication Token"}`, HTTP APIs `{"message":"Forbidden"}` ("Control access to an API
//! with IAM permissions"). Any access key is accepted unless `--iam-credentials` names the
//! keys to accept, as the local S3's `--credentials` does; the signature itself is not
//! recomputed (ssam has no IAM policies to evaluate).

use crate::errors::GatewayError;
use crate::request::RequestCtx;
use crate::routes::Matched;

/// What `AWS_IAM` routes accept.
#[derive(Clone, Debug, Default)]
pub struct IamOptions {
    /// Access key ids accepted; empty: any.
    pub access_keys: Vec<String>,
}

/// The access key id of a SigV4-signed request (an `Authorization: AWS4-HMAC-SHA256
/// Credential=...` header with a signature, or a presigned query), `None` when it is not
/// signed. API Gateway's `AWS_IAM` routes and Lambda function URLs both use it.
pub fn signed_access_key(headers: &http::HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(h) = headers.get("authorization") {
        let h = String::from_utf8_lossy(h.as_bytes());
        let rest = h.trim().strip_prefix("AWS4-HMAC-SHA256")?;
        let cred = rest
            .split(',')
            .map(str::trim)
            .find_map(|p| p.strip_prefix("Credential="))?;
        let has_sig = rest
            .split(',')
            .any(|p| p.trim().starts_with("Signature=") && p.trim().len() > "Signature=".len());
        let key = cred.split('/').next()?.to_string();
        return (has_sig && !key.is_empty()).then_some(key);
    }
    let mut algorithm = false;
    let mut signature = false;
    let mut key = None;
    for pair in query?.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
        match k {
            "X-Amz-Algorithm" => algorithm = v == "AWS4-HMAC-SHA256",
            "X-Amz-Signature" => signature = !v.is_empty(),
            "X-Amz-Credential" => key = v.split('/').next().map(str::to_string),
            _ => {}
        }
    }
    key.filter(|k| algorithm && signature && !k.is_empty())
}

fn access_key(ctx: &RequestCtx) -> Option<String> {
    signed_access_key(&ctx.parts.headers, ctx.parts.uri.query())
}

/// Lets a signed request through; 403 otherwise.
pub(crate) fn check(
    opts: &IamOptions,
    m: &Matched<'_>,
    ctx: &RequestCtx,
) -> Result<(), (GatewayError, String)> {
    let route = format!("{} {}", ctx.method(), ctx.raw_path());
    match access_key(ctx) {
        None => Err((
            GatewayError::MissingAuthenticationToken,
            format!(
                "{route}: {} requires AWS_IAM authorization and the request is not signed (SigV4): 403\n  hint: sign it, e.g. curl --aws-sigv4 \"aws:amz:us-east-1:execute-api\" --user KEY:SECRET, or awscurl",
                m.api.logical_id
            ),
        )),
        Some(key) if !opts.access_keys.is_empty() && !opts.access_keys.contains(&key) => Err((
            GatewayError::InvalidSecurityToken,
            format!("{route}: access key {key} is not one of --iam-credentials: 403"),
        )),
        Some(_) => Ok(()),
    }
}
