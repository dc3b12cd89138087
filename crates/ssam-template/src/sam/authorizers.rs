//! Authorizers wherever a template declares them, and what protects each route.
//!
//! Four ways to declare one, all read into the same typed [`Authorizer`]:
//! - SAM `Auth.Authorizers` of `AWS::Serverless::Api` / `HttpApi` (Lambda, Cognito, JWT);
//! - `AWS::ApiGateway::Authorizer` (TOKEN / REQUEST / COGNITO_USER_POOLS), named by an
//!   `AWS::ApiGateway::Method`'s `AuthorizerId` with `AuthorizationType: CUSTOM` /
//!   `COGNITO_USER_POOLS`;
//! - `AWS::ApiGatewayV2::Authorizer` (REQUEST / JWT), named by an `AWS::ApiGatewayV2::Route`;
//! - an OpenAPI `securityDefinitions` (Swagger 2) / `components.securitySchemes` (OpenAPI 3)
//!   entry with `x-amazon-apigateway-authorizer`, required by an operation's `security` (or
//!   the document's).
//!
//! What cannot be emulated, or what CloudFormation / API Gateway would reject, becomes
//! [`RouteAuth::Foreign`] with the reason: the gateway then fails the route closed.

use super::apis::split_list;
use super::functions::function_target;
use super::Ctx;
use crate::model::*;
use crate::node::{Node, Value};

/// "Amazon API Gateway quotas": an authorizer's result TTL is at most an hour.
const MAX_TTL_SECONDS: u32 = 3600;

/// The authorizers of a SAM API's `Auth.Authorizers`.
pub(crate) fn sam_authorizers(
    ctx: &Ctx<'_>,
    auth: Option<&Node>,
    api_type: ApiType,
    functions: &[Function],
) -> Vec<Authorizer> {
    auth.and_then(|a| a.get("Authorizers"))
        .and_then(Node::as_map)
        .map(|defs| {
            defs.iter()
                .map(|(name, a)| sam_authorizer(ctx, name, a, api_type, functions))
                .collect()
        })
        .unwrap_or_default()
}

/// One entry of `Auth.Authorizers`.
fn sam_authorizer(
    ctx: &Ctx<'_>,
    name: &str,
    a: &Node,
    api_type: ApiType,
    functions: &[Function],
) -> Authorizer {
    let function = a
        .get("FunctionArn")
        .and_then(|n| function_target(n, functions));
    let identity = a.get("Identity");
    let mut identity_sources = Vec::new();
    if let Some(h) = identity
        .and_then(|i| i.get("Header"))
        .and_then(Node::scalar_text)
    {
        identity_sources.push(format!("method.request.header.{h}"));
    }
    for (key, prefix) in [
        ("Headers", "method.request.header."),
        ("QueryStrings", "method.request.querystring."),
        ("StageVariables", "stageVariables."),
        ("Context", "context."),
    ] {
        for v in split_list(identity.and_then(|i| i.get(key))) {
            identity_sources.push(format!("{prefix}{v}"));
        }
    }
    // SAM's defaults: a Lambda authorizer is TOKEN on REST APIs and REQUEST on HTTP APIs.
    let mut jwt = None;
    let kind = if function.is_some() || a.get("FunctionArn").is_some() {
        match a.get("FunctionPayloadType").and_then(Node::scalar_text) {
            Some(t) => AuthorizerKind::of_payload_type(t),
            None => match api_type {
                ApiType::Rest => AuthorizerKind::Token,
                ApiType::Http => AuthorizerKind::Request,
            },
        }
    } else if let Some(pools) = a.get("UserPoolArn") {
        jwt = Some(cognito_config(ctx, pools));
        if identity_sources.is_empty() {
            identity_sources.push("method.request.header.Authorization".into());
        }
        AuthorizerKind::CognitoUserPools
    } else {
        // HttpApi `JwtConfiguration` (SAM spells its keys in lower case).
        let conf = a.get("JwtConfiguration");
        jwt = Some(jwt_config(
            ctx,
            conf.and_then(|c| c.get("issuer").or_else(|| c.get("Issuer"))),
            conf.and_then(|c| c.get("audience").or_else(|| c.get("Audience"))),
        ));
        identity_sources.extend(split_list(a.get("IdentitySource")));
        if identity_sources.is_empty() {
            identity_sources.push("$request.header.Authorization".into());
        }
        AuthorizerKind::Jwt
    };
    if api_type == ApiType::Rest && kind == AuthorizerKind::Token && identity_sources.is_empty() {
        identity_sources.push("method.request.header.Authorization".into());
    }
    let ttl_seconds = identity
        .and_then(|i| i.get("ReauthorizeEvery"))
        .and_then(Node::scalar_text)
        .and_then(|s| s.parse().ok())
        .unwrap_or(if api_type == ApiType::Rest { 300 } else { 0 });
    let kind_is_token = kind == AuthorizerKind::Token;
    Authorizer {
        name: name.to_string(),
        function,
        kind,
        identity_sources,
        payload_format_version: a
            .get("AuthorizerPayloadFormatVersion")
            .and_then(Node::scalar_text),
        simple_responses: is_true(a.get("EnableSimpleResponses")),
        ttl_seconds,
        default_scopes: split_list(a.get("AuthorizationScopes")),
        jwt,
        identity_validation: kind_is_token
            .then(|| {
                identity
                    .and_then(|i| i.get("ValidationExpression"))
                    .and_then(Node::scalar_text)
            })
            .flatten(),
    }
}

/// The authorizer protecting a route declared by a function event: its own
/// `Auth.Authorizer`, else the API's `DefaultAuthorizer`; `NONE` opts out, `AWS_IAM` is IAM
/// authorization (SAM's reserved names). Lambda authorizers run when their function is in
/// the template; JWT and Cognito authorizers are checked by the gateway.
pub(crate) fn route_auth(apis: &[Api], r: &Route, kept: impl Fn(&str) -> bool) -> RouteAuth {
    let Some(api) = apis.iter().find(|a| a.logical_id == r.api) else {
        return RouteAuth::Open;
    };
    let Some(name) = r.authorizer.as_ref().or(api.default_authorizer.as_ref()) else {
        return RouteAuth::Open;
    };
    match name.as_str() {
        "NONE" => return RouteAuth::Open,
        "AWS_IAM" => return RouteAuth::Iam,
        _ => {}
    }
    let Some(a) = api.authorizers.iter().find(|a| &a.name == name) else {
        return RouteAuth::Undefined { name: name.clone() };
    };
    // The event's scopes, else the authorizer's (SAM `AuthorizationScopes`).
    let scopes = if r.authorization_scopes.is_empty() {
        a.default_scopes.clone()
    } else {
        r.authorization_scopes.clone()
    };
    protect(a.clone(), scopes, kept)
}

/// What an authorizer comes to for one route.
fn protect(a: Authorizer, scopes: Vec<String>, kept: impl Fn(&str) -> bool) -> RouteAuth {
    match (&a.function, &a.kind) {
        (Some(f), AuthorizerKind::Token | AuthorizerKind::Request) if kept(f) => {
            RouteAuth::Lambda(RouteAuthorizer {
                function: f.clone(),
                authorizer: a,
            })
        }
        (None, AuthorizerKind::Token | AuthorizerKind::Request) => RouteAuth::Foreign {
            name: a.name.clone(),
            kind: a.kind.clone(),
            reason: Some("its function is not in this template".into()),
        },
        (_, AuthorizerKind::Jwt | AuthorizerKind::CognitoUserPools) if a.jwt.is_some() => {
            RouteAuth::Jwt(RouteJwt {
                authorizer: a,
                scopes,
            })
        }
        (_, kind) => RouteAuth::Foreign {
            name: a.name.clone(),
            kind: kind.clone(),
            reason: None,
        },
    }
}

/// The authorization an OpenAPI operation declares: its `security` (else the document's),
/// whose first scheme is looked up in `securityDefinitions` (Swagger 2) or
/// `components.securitySchemes` (OpenAPI 3) with API Gateway's extensions. `None` when the
/// operation is open (no security, an empty requirement, or schemes that are not API
/// Gateway authorization).
pub(crate) fn openapi_security(
    ctx: &Ctx<'_>,
    def: &Node,
    op: &Node,
    api_type: ApiType,
    functions: &[Function],
) -> Option<(String, RouteAuth)> {
    let security = op.get("security").or_else(|| def.get("security"))?;
    let requirements = security.as_seq()?;
    // `[]` or a `{}` alternative: callers may come without credentials.
    if requirements.is_empty()
        || requirements
            .iter()
            .any(|r| r.as_map().is_some_and(|m| m.is_empty()))
    {
        return None;
    }
    let schemes = def
        .get("securityDefinitions")
        .or_else(|| def.get("components").and_then(|c| c.get("securitySchemes")));
    // The first scheme of the first requirement decides (API Gateway applies one); its
    // list is the route's authorization scopes.
    let (name, scopes) = requirements.iter().filter_map(Node::as_map).find_map(|m| {
        m.iter()
            .next()
            .map(|(k, v)| (k.to_string(), split_list(Some(v))))
    })?;
    let scheme = schemes.and_then(|s| s.get(&name));
    let authtype = scheme
        .and_then(|s| s.get("x-amazon-apigateway-authtype"))
        .and_then(Node::scalar_text)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let ext = scheme.and_then(|s| s.get("x-amazon-apigateway-authorizer"));
    let atype = ext
        .and_then(|a| a.get("type"))
        .and_then(Node::scalar_text)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let foreign = |kind: AuthorizerKind, reason: Option<String>| RouteAuth::Foreign {
        name: name.clone(),
        kind,
        reason,
    };
    let kind = match (authtype.as_str(), atype.as_str()) {
        ("awssigv4", _) => return Some((name, RouteAuth::Iam)),
        (_, "jwt") => AuthorizerKind::Jwt,
        (_, "cognito_user_pools") | ("cognito_user_pools", _) => AuthorizerKind::CognitoUserPools,
        (_, "token") => AuthorizerKind::Token,
        (_, "request") => AuthorizerKind::Request,
        _ if scheme.and_then(|s| s.get("type")).and_then(Node::as_str) == Some("apiKey")
            && ext.is_none() =>
        {
            let auth = foreign(AuthorizerKind::Other("API key".into()), None);
            return Some((name, auth));
        }
        _ if scheme.is_none() => {
            let undefined = RouteAuth::Undefined { name: name.clone() };
            return Some((name, undefined));
        }
        _ => {
            let auth = foreign(
                AuthorizerKind::Other(format!("security scheme {name}")),
                None,
            );
            return Some((name, auth));
        }
    };
    let ext = ext
        .cloned()
        .unwrap_or_else(|| Node::new(Value::Null, scheme.map(|s| s.pos).unwrap_or_default()));
    let a = openapi_authorizer(ctx, &name, &ext, kind, api_type, functions);
    let auth = match check(&a, api_type, &scopes) {
        Some(why) => foreign(a.kind.clone(), Some(why)),
        None => protect(a, scopes, |_| true),
    };
    Some((name, auth))
}

/// An `x-amazon-apigateway-authorizer` object ("x-amazon-apigateway-authorizer object",
/// API Gateway Developer Guide).
fn openapi_authorizer(
    ctx: &Ctx<'_>,
    name: &str,
    ext: &Node,
    kind: AuthorizerKind,
    api_type: ApiType,
    functions: &[Function],
) -> Authorizer {
    let function = ext
        .get("authorizerUri")
        .and_then(|u| function_target(u, functions));
    let mut identity_sources = split_list(ext.get("identitySource"));
    let jwt = match kind {
        AuthorizerKind::Jwt => {
            let conf = ext.get("jwtConfiguration");
            Some(jwt_config(
                ctx,
                conf.and_then(|c| c.get("issuer")),
                conf.and_then(|c| c.get("audience")),
            ))
        }
        AuthorizerKind::CognitoUserPools => ext
            .get("providerARNs")
            .map(|p| cognito_config(ctx, p))
            .or_else(|| {
                Some(JwtConfig {
                    issuer_unknown: true,
                    ..JwtConfig::default()
                })
            }),
        _ => None,
    };
    if identity_sources.is_empty() {
        match (&kind, api_type) {
            (AuthorizerKind::Token | AuthorizerKind::CognitoUserPools, _) => {
                identity_sources.push("method.request.header.Authorization".into());
            }
            (AuthorizerKind::Jwt, _) => {
                identity_sources.push("$request.header.Authorization".into());
            }
            _ => {}
        }
    }
    let ttl_seconds = ext
        .get("authorizerResultTtlInSeconds")
        .and_then(|n| text(ctx, n))
        .and_then(|s| s.parse().ok())
        .unwrap_or(match api_type {
            ApiType::Rest => 300,
            ApiType::Http => 0,
        });
    let identity_validation = (kind == AuthorizerKind::Token)
        .then(|| {
            ext.get("identityValidationExpression")
                .and_then(|n| text(ctx, n))
        })
        .flatten();
    Authorizer {
        name: name.to_string(),
        function,
        kind,
        identity_sources,
        payload_format_version: ext
            .get("authorizerPayloadFormatVersion")
            .and_then(|n| text(ctx, n)),
        simple_responses: is_true(ext.get("enableSimpleResponses")),
        ttl_seconds,
        default_scopes: Vec::new(),
        identity_validation,
        jwt,
    }
}

/// `AuthorizationType` of an `AWS::ApiGateway::Method` or `AWS::ApiGatewayV2::Route`, with
/// its `AuthorizerId` (an `AWS::ApiGateway::Authorizer` / `AWS::ApiGatewayV2::Authorizer`
/// of the template) and `AuthorizationScopes`: what protects the route.
pub(crate) fn resource_auth(
    ctx: &Ctx<'_>,
    p: &Node,
    api: &str,
    api_type: ApiType,
    functions: &[Function],
) -> Option<(String, RouteAuth)> {
    let atype = p
        .get("AuthorizationType")
        .and_then(|n| text(ctx, n))
        .unwrap_or_default()
        .to_ascii_uppercase();
    let auth_id = p.get("AuthorizerId").and_then(ref_target);
    let name = auth_id.clone().unwrap_or_else(|| atype.clone());
    let scopes = split_list(p.get("AuthorizationScopes"));
    let foreign = |kind: AuthorizerKind, reason: String| {
        Some((
            name.clone(),
            RouteAuth::Foreign {
                name: name.clone(),
                kind,
                reason: Some(reason),
            },
        ))
    };
    let expected = match atype.as_str() {
        "" | "NONE" => return None,
        "AWS_IAM" => return Some(("AWS_IAM".into(), RouteAuth::Iam)),
        "CUSTOM" => None,
        "JWT" => Some(AuthorizerKind::Jwt),
        "COGNITO_USER_POOLS" => Some(AuthorizerKind::CognitoUserPools),
        other => {
            return foreign(
                AuthorizerKind::Other(other.to_string()),
                format!("AuthorizationType {other} is not one API Gateway knows"),
            )
        }
    };
    let Some(id) = auth_id else {
        return foreign(
            expected.unwrap_or(AuthorizerKind::Other(atype.clone())),
            format!("AuthorizationType {atype} needs an AuthorizerId"),
        );
    };
    let Some(res) = ctx.resource(&id) else {
        return Some((name.clone(), RouteAuth::Undefined { name }));
    };
    let Some(props) = res.properties() else {
        return Some((name.clone(), RouteAuth::Undefined { name }));
    };
    let a = match res.rtype.as_str() {
        "AWS::ApiGateway::Authorizer" if api_type == ApiType::Rest => {
            rest_authorizer(ctx, &id, props, functions)
        }
        "AWS::ApiGatewayV2::Authorizer" if api_type == ApiType::Http => {
            http_authorizer(ctx, &id, props, functions)
        }
        other => {
            return foreign(
                AuthorizerKind::Other(other.to_string()),
                format!("AuthorizerId names {id} ({other}), which cannot authorize this API"),
            )
        }
    };
    let owner_key = if api_type == ApiType::Rest {
        "RestApiId"
    } else {
        "ApiId"
    };
    if let Some(owner) = props.get(owner_key).and_then(ref_target) {
        if owner != api {
            return foreign(
                a.kind,
                format!("authorizer {id} belongs to API {owner}, not to {api}"),
            );
        }
    }
    // The method's type must say what the authorizer is ("AuthorizationType", AWS::ApiGateway::Method).
    let matches = match (&expected, &a.kind) {
        (None, AuthorizerKind::Token | AuthorizerKind::Request) => true,
        (Some(e), k) => e == k,
        _ => false,
    };
    if !matches {
        return foreign(
            a.kind.clone(),
            format!(
                "AuthorizationType {atype} does not fit authorizer {id} of type {}",
                a.kind.as_str()
            ),
        );
    }
    if let Some(why) = check(&a, api_type, &scopes) {
        return foreign(a.kind, why);
    }
    Some((name, protect(a, scopes, |_| true)))
}

/// `AWS::ApiGateway::Authorizer`.
fn rest_authorizer(ctx: &Ctx<'_>, id: &str, p: &Node, functions: &[Function]) -> Authorizer {
    let kind = match p
        .get("Type")
        .and_then(|n| text(ctx, n))
        .unwrap_or_default()
        .to_ascii_uppercase()
        .as_str()
    {
        "TOKEN" => AuthorizerKind::Token,
        "REQUEST" => AuthorizerKind::Request,
        "COGNITO_USER_POOLS" => AuthorizerKind::CognitoUserPools,
        other => AuthorizerKind::Other(other.to_string()),
    };
    let jwt = (kind == AuthorizerKind::CognitoUserPools).then(|| {
        p.get("ProviderARNs")
            .map(|n| cognito_config(ctx, n))
            .unwrap_or(JwtConfig {
                issuer_unknown: true,
                ..JwtConfig::default()
            })
    });
    let mut identity_sources = split_list(p.get("IdentitySource"));
    if identity_sources.is_empty() && kind == AuthorizerKind::CognitoUserPools {
        identity_sources.push("method.request.header.Authorization".into());
    }
    let identity_validation = (kind == AuthorizerKind::Token)
        .then(|| {
            p.get("IdentityValidationExpression")
                .and_then(|n| text(ctx, n))
        })
        .flatten();
    Authorizer {
        name: id.to_string(),
        function: p
            .get("AuthorizerUri")
            .and_then(|u| function_target(u, functions)),
        kind,
        identity_sources,
        payload_format_version: None,
        simple_responses: false,
        ttl_seconds: p
            .get("AuthorizerResultTtlInSeconds")
            .and_then(|n| text(ctx, n))
            .and_then(|s| s.parse().ok())
            .unwrap_or(300),
        default_scopes: Vec::new(),
        identity_validation,
        jwt,
    }
}

/// `AWS::ApiGatewayV2::Authorizer`.
fn http_authorizer(ctx: &Ctx<'_>, id: &str, p: &Node, functions: &[Function]) -> Authorizer {
    let kind = match p
        .get("AuthorizerType")
        .and_then(|n| text(ctx, n))
        .unwrap_or_default()
        .to_ascii_uppercase()
        .as_str()
    {
        "REQUEST" => AuthorizerKind::Request,
        "JWT" => AuthorizerKind::Jwt,
        other => AuthorizerKind::Other(other.to_string()),
    };
    let jwt = (kind == AuthorizerKind::Jwt).then(|| {
        let conf = p.get("JwtConfiguration");
        jwt_config(
            ctx,
            conf.and_then(|c| c.get("Issuer")),
            conf.and_then(|c| c.get("Audience")),
        )
    });
    let mut identity_sources = split_list(p.get("IdentitySource"));
    if identity_sources.is_empty() && kind == AuthorizerKind::Jwt {
        identity_sources.push("$request.header.Authorization".into());
    }
    Authorizer {
        name: id.to_string(),
        function: p
            .get("AuthorizerUri")
            .and_then(|u| function_target(u, functions)),
        kind,
        identity_sources,
        payload_format_version: p
            .get("AuthorizerPayloadFormatVersion")
            .and_then(|n| text(ctx, n)),
        simple_responses: is_true(p.get("EnableSimpleResponses")),
        ttl_seconds: p
            .get("AuthorizerResultTtlInSeconds")
            .and_then(|n| text(ctx, n))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        default_scopes: Vec::new(),
        identity_validation: None,
        jwt,
    }
}

/// Combinations API Gateway refuses ("CreateAuthorizer", "AWS::ApiGatewayV2::Authorizer",
/// "AWS::ApiGateway::Authorizer"): the reason, or `None` when the authorizer can serve.
fn check(a: &Authorizer, api_type: ApiType, scopes: &[String]) -> Option<String> {
    let http = api_type == ApiType::Http;
    match &a.kind {
        AuthorizerKind::Other(t) => {
            return Some(format!("authorizer type {t} is not one API Gateway knows"))
        }
        AuthorizerKind::Token if http => {
            return Some("HTTP APIs have no TOKEN authorizers (use REQUEST)".into())
        }
        AuthorizerKind::Jwt if !http => {
            return Some("REST APIs have no JWT authorizers (use COGNITO_USER_POOLS)".into())
        }
        AuthorizerKind::CognitoUserPools if http => {
            return Some(
                "HTTP APIs have no COGNITO_USER_POOLS authorizers (use a JWT authorizer with the pool's issuer)"
                    .into(),
            )
        }
        _ => {}
    }
    if a.ttl_seconds > MAX_TTL_SECONDS {
        return Some(format!(
            "the result TTL {} is over API Gateway's {MAX_TTL_SECONDS} s",
            a.ttl_seconds
        ));
    }
    if a.kind == AuthorizerKind::Token && a.identity_sources.is_empty() {
        return Some("a TOKEN authorizer needs an IdentitySource".into());
    }
    if http && a.kind == AuthorizerKind::Request {
        match a.payload_format_version.as_deref() {
            Some("1.0") | Some("2.0") => {}
            None => return Some("a REQUEST authorizer of an HTTP API needs AuthorizerPayloadFormatVersion (1.0 or 2.0)".into()),
            Some(v) => return Some(format!("AuthorizerPayloadFormatVersion {v} is neither 1.0 nor 2.0")),
        }
        if a.simple_responses && a.payload_format_version.as_deref() != Some("2.0") {
            return Some("EnableSimpleResponses needs AuthorizerPayloadFormatVersion 2.0".into());
        }
        if a.ttl_seconds > 0 && a.identity_sources.is_empty() {
            return Some(
                "caching (AuthorizerResultTtlInSeconds > 0) needs an IdentitySource".into(),
            );
        }
    }
    if let Some(j) = &a.jwt {
        if j.issuers.is_empty() && !j.issuer_unknown {
            return Some(match a.kind {
                AuthorizerKind::Jwt => "a JWT authorizer needs JwtConfiguration.Issuer".into(),
                _ => "a COGNITO_USER_POOLS authorizer needs ProviderARNs".into(),
            });
        }
        if a.kind == AuthorizerKind::Jwt && j.audience.is_empty() {
            return Some("a JWT authorizer needs JwtConfiguration.Audience".into());
        }
    }
    if !scopes.is_empty() && http && a.kind != AuthorizerKind::Jwt {
        return Some("AuthorizationScopes are supported only with JWT authorizers".into());
    }
    None
}

/// `JwtConfiguration` Issuer / Audience.
fn jwt_config(ctx: &Ctx<'_>, issuer: Option<&Node>, audience: Option<&Node>) -> JwtConfig {
    let mut conf = JwtConfig::default();
    if let Some(i) = issuer {
        match text(ctx, i) {
            Some(s) => conf.issuers.push(s),
            None => conf.issuer_unknown = true,
        }
    }
    if let Some(a) = audience.and_then(|a| ctx.resolve(a)) {
        conf.audience = match &a.value {
            Value::Seq(items) => items.iter().filter_map(resolved_text).collect(),
            _ => resolved_text(&a).into_iter().collect(),
        };
    }
    conf
}

/// The issuers of Cognito user pools given by ARN
/// (`arn:aws:cognito-idp:{region}:{account}:userpool/{poolId}`).
fn cognito_config(ctx: &Ctx<'_>, pools: &Node) -> JwtConfig {
    let mut conf = JwtConfig::default();
    let resolved = ctx.resolve(pools);
    let items: Vec<Node> = match resolved.as_ref().map(|n| &n.value) {
        Some(Value::Seq(items)) => items.clone(),
        Some(_) => resolved.into_iter().collect(),
        None => Vec::new(),
    };
    if items.is_empty() {
        conf.issuer_unknown = true;
    }
    for item in &items {
        match resolved_text(item).as_deref().and_then(cognito_issuer) {
            Some(iss) => conf.issuers.push(iss),
            None => conf.issuer_unknown = true,
        }
    }
    conf
}

/// `arn:aws:cognito-idp:us-east-1:123:userpool/us-east-1_abc` →
/// `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc`.
pub(crate) fn cognito_issuer(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let (_, partition, service, region, _account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let pool = resource.strip_prefix("userpool/")?;
    if service != "cognito-idp" || region.is_empty() || pool.is_empty() {
        return None;
    }
    let suffix = if partition == "aws-cn" {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    Some(format!("https://cognito-idp.{region}.{suffix}/{pool}"))
}

/// A scalar's text once resolved; `None` when only AWS can say (a pool's `Arn`, a `Ref`
/// of a resource).
fn text(ctx: &Ctx<'_>, n: &Node) -> Option<String> {
    ctx.resolve(n).as_ref().and_then(resolved_text)
}

fn resolved_text(n: &Node) -> Option<String> {
    if n.intrinsic().is_some() {
        return None;
    }
    n.scalar_text().filter(|s| !s.contains("${"))
}

/// `!Ref X` or `!GetAtt X.RootResourceId` → `X`.
pub(crate) fn ref_target(n: &Node) -> Option<String> {
    match n.intrinsic()? {
        ("Ref", a) => a.as_str().map(str::to_string),
        ("Fn::GetAtt", a) => match &a.value {
            Value::String(s) => s.split('.').next().map(str::to_string),
            Value::Seq(items) => items.first().and_then(Node::as_str).map(str::to_string),
            _ => None,
        },
        _ => None,
    }
}

fn is_true(n: Option<&Node>) -> bool {
    n.is_some_and(|v| matches!(v.value, Value::Bool(true)) || v.as_str() == Some("true"))
}

#[cfg(test)]
mod tests {
    use super::super::tests::check;
    use super::*;

    /// Each route as `METHOD path: auth`, then each API's binary media types.
    fn render(app: &crate::App) -> String {
        let mut out = String::new();
        for r in &app.routes {
            let auth = match &r.auth {
                RouteAuth::Open => "open".to_string(),
                RouteAuth::Iam => "iam".to_string(),
                RouteAuth::Lambda(l) => format!(
                    "lambda {} {} fn={} ttl={} ids={}{}",
                    l.authorizer.name,
                    l.authorizer.kind.as_str(),
                    l.function,
                    l.authorizer.ttl_seconds,
                    l.authorizer.identity_sources.join(","),
                    l.authorizer
                        .identity_validation
                        .as_deref()
                        .map(|v| format!(" valid={v}"))
                        .unwrap_or_default()
                ),
                RouteAuth::Jwt(j) => {
                    let c = j.authorizer.jwt.clone().unwrap_or_default();
                    format!(
                        "jwt {} {} iss={} unknown={} aud={} scopes={}",
                        j.authorizer.name,
                        j.authorizer.kind.as_str(),
                        c.issuers.join(","),
                        c.issuer_unknown,
                        c.audience.join(","),
                        j.scopes.join(",")
                    )
                }
                RouteAuth::Undefined { name } => format!("undefined {name}"),
                RouteAuth::Foreign { name, kind, reason } => format!(
                    "closed {name} {}: {}",
                    kind.as_str(),
                    reason.as_deref().unwrap_or("-")
                ),
            };
            out.push_str(&format!("{} {} {}: {auth}\n", r.api, r.method, r.path));
        }
        for a in &app.apis {
            if !a.binary_media_types.is_empty() {
                out.push_str(&format!(
                    "{} binary {}\n",
                    a.logical_id,
                    a.binary_media_types.join(",")
                ));
            }
        }
        out
    }

    const FN: &str = "
          Fn:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.12}
          AuthFn:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: src/, Handler: auth.handler, Runtime: python3.12}";

    #[test]
    fn cloudformation_authorizers_of_rest_and_http_apis() {
        check(
            &format!(
                "
        Resources:{FN}
          Rest:
            Type: AWS::ApiGateway::RestApi
            Properties: {{Name: r}}
          Tok:
            Type: AWS::ApiGateway::Authorizer
            Properties:
              RestApiId: !Ref Rest
              Type: TOKEN
              IdentitySource: method.request.header.X-Token
              AuthorizerResultTtlInSeconds: 60
              AuthorizerUri: !Join ['', ['arn:aws:apigateway:', !Ref 'AWS::Region', ':lambda:path/2015-03-31/functions/', !GetAtt AuthFn.Arn, '/invocations']]
          Pool:
            Type: AWS::ApiGateway::Authorizer
            Properties: {{RestApiId: !Ref Rest, Type: COGNITO_USER_POOLS, ProviderARNs: ['arn:aws:cognito-idp:eu-west-1:1:userpool/eu-west-1_P']}}
          Get:
            Type: AWS::ApiGateway::Method
            Properties:
              RestApiId: !Ref Rest
              ResourceId: !GetAtt Rest.RootResourceId
              HttpMethod: GET
              AuthorizationType: CUSTOM
              AuthorizerId: !Ref Tok
              Integration: {{Type: AWS_PROXY, Uri: !Sub 'arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{Fn.Arn}}/invocations'}}
          Post:
            Type: AWS::ApiGateway::Method
            Properties:
              RestApiId: !Ref Rest
              ResourceId: !GetAtt Rest.RootResourceId
              HttpMethod: POST
              AuthorizationType: COGNITO_USER_POOLS
              AuthorizerId: !Ref Pool
              AuthorizationScopes: [email]
              Integration: {{Type: AWS_PROXY, Uri: !Sub 'arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{Fn.Arn}}/invocations'}}
          Put:
            Type: AWS::ApiGateway::Method
            Properties:
              RestApiId: !Ref Rest
              ResourceId: !GetAtt Rest.RootResourceId
              HttpMethod: PUT
              AuthorizationType: CUSTOM
              AuthorizerId: !Ref Pool
              Integration: {{Type: AWS_PROXY, Uri: !Sub 'arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{Fn.Arn}}/invocations'}}
          Http:
            Type: AWS::ApiGatewayV2::Api
            Properties: {{Name: h, ProtocolType: HTTP}}
          Integ:
            Type: AWS::ApiGatewayV2::Integration
            Properties: {{ApiId: !Ref Http, IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Fn.Arn}}
          Jwt:
            Type: AWS::ApiGatewayV2::Authorizer
            Properties: {{ApiId: !Ref Http, AuthorizerType: JWT, JwtConfiguration: {{Issuer: 'https://i.example', Audience: [a1, a2]}}}}
          Route:
            Type: AWS::ApiGatewayV2::Route
            Properties: {{ApiId: !Ref Http, RouteKey: GET /j, AuthorizationType: JWT, AuthorizerId: !Ref Jwt, AuthorizationScopes: [read], Target: !Sub 'integrations/${{Integ}}'}}
          Other:
            Type: AWS::ApiGatewayV2::Route
            Properties: {{ApiId: !Ref Http, RouteKey: GET /t, AuthorizationType: CUSTOM, AuthorizerId: !Ref Tok, Target: !Sub 'integrations/${{Integ}}'}}
        "
            ),
            render,
            "
        Rest GET /: lambda Tok TOKEN fn=AuthFn ttl=60 ids=method.request.header.X-Token
        Rest POST /: jwt Pool COGNITO_USER_POOLS iss=https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_P unknown=false aud= scopes=email
        Rest PUT /: closed Pool COGNITO_USER_POOLS: AuthorizationType CUSTOM does not fit authorizer Pool of type COGNITO_USER_POOLS
        Http GET /j: jwt Jwt JWT iss=https://i.example unknown=false aud=a1,a2 scopes=read
        Http GET /t: closed Tok AWS::ApiGateway::Authorizer: AuthorizerId names Tok (AWS::ApiGateway::Authorizer), which cannot authorize this API
        ",
        );
    }

    #[test]
    fn openapi_security_schemes_and_binary_media_types() {
        check(
            &format!(
                "
        Transform: AWS::Serverless-2016-10-31
        Resources:{FN}
          Api:
            Type: AWS::Serverless::HttpApi
            Properties:
              DefinitionBody:
                openapi: '3.0.1'
                x-amazon-apigateway-binary-media-types: [image~1png]
                components:
                  securitySchemes:
                    Req:
                      type: apiKey
                      x-amazon-apigateway-authorizer:
                        type: request
                        identitySource: $request.header.Authorization, $request.querystring.k
                        authorizerPayloadFormatVersion: '2.0'
                        authorizerResultTtlInSeconds: 30
                        authorizerUri: !Sub 'arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{AuthFn.Arn}}/invocations'
                    Jwt:
                      type: oauth2
                      x-amazon-apigateway-authorizer:
                        type: jwt
                        jwtConfiguration: {{issuer: 'https://i.example', audience: [a]}}
                    NoVersion:
                      type: apiKey
                      x-amazon-apigateway-authorizer:
                        type: request
                        authorizerUri: !GetAtt AuthFn.Arn
                security: [{{Req: []}}]
                paths:
                  /a:
                    get:
                      x-amazon-apigateway-integration: {{type: aws_proxy, uri: !GetAtt Fn.Arn}}
                  /b:
                    get:
                      security: [{{Jwt: [s1, s2]}}]
                      x-amazon-apigateway-integration: {{type: aws_proxy, uri: !GetAtt Fn.Arn}}
                  /c:
                    get:
                      security: []
                      x-amazon-apigateway-integration: {{type: aws_proxy, uri: !GetAtt Fn.Arn}}
                  /d:
                    get:
                      security: [{{NoVersion: []}}]
                      x-amazon-apigateway-integration: {{type: aws_proxy, uri: !GetAtt Fn.Arn}}
                  /e:
                    get:
                      security: [{{Missing: []}}]
                      x-amazon-apigateway-integration: {{type: aws_proxy, uri: !GetAtt Fn.Arn}}
        "
            ),
            render,
            "
        Api GET /a: lambda Req REQUEST fn=AuthFn ttl=30 ids=$request.header.Authorization,$request.querystring.k
        Api GET /b: jwt Jwt JWT iss=https://i.example unknown=false aud=a scopes=s1,s2
        Api GET /c: open
        Api GET /d: closed NoVersion REQUEST: a REQUEST authorizer of an HTTP API needs AuthorizerPayloadFormatVersion (1.0 or 2.0)
        Api GET /e: undefined Missing
        Api binary image/png
        ",
        );
    }

    /// A TOKEN authorizer's validation expression, every way a template writes it; REQUEST
    /// authorizers have none ("The validation expression does not apply to the REQUEST
    /// authorizer", API Gateway API Reference, Authorizer).
    #[test]
    fn token_identity_validation_expression_every_way() {
        check(
            &format!(
                "
        Transform: AWS::Serverless-2016-10-31
        Resources:{FN}
          Sam:
            Type: AWS::Serverless::Api
            Properties:
              StageName: s
              Auth:
                DefaultAuthorizer: Tok
                Authorizers:
                  Tok:
                    FunctionArn: !GetAtt AuthFn.Arn
                    Identity: {{ValidationExpression: '^Bearer [a-z]+$'}}
                  Req:
                    FunctionArn: !GetAtt AuthFn.Arn
                    FunctionPayloadType: REQUEST
                    Identity: {{Headers: [X], ValidationExpression: 'ignored'}}
          Open:
            Type: AWS::Serverless::Api
            Properties:
              StageName: o
              DefinitionBody:
                swagger: '2.0'
                securityDefinitions:
                  T:
                    type: apiKey
                    name: Authorization
                    in: header
                    x-amazon-apigateway-authtype: custom
                    x-amazon-apigateway-authorizer:
                      type: token
                      identityValidationExpression: 'tok-\\d+'
                      authorizerUri: !Sub 'arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{AuthFn.Arn}}/invocations'
                paths:
                  /t:
                    get:
                      security: [{{T: []}}]
                      x-amazon-apigateway-integration: {{type: aws_proxy, httpMethod: POST, uri: !Sub 'arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{Fn.Arn}}/invocations'}}
          Raw:
            Type: AWS::ApiGateway::RestApi
            Properties: {{Name: r}}
          RawTok:
            Type: AWS::ApiGateway::Authorizer
            Properties:
              RestApiId: !Ref Raw
              Type: TOKEN
              IdentitySource: method.request.header.Authorization
              IdentityValidationExpression: '[0-9]+'
              AuthorizerUri: !Sub 'arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{AuthFn.Arn}}/invocations'
          Get:
            Type: AWS::ApiGateway::Method
            Properties:
              RestApiId: !Ref Raw
              ResourceId: !GetAtt Raw.RootResourceId
              HttpMethod: GET
              AuthorizationType: CUSTOM
              AuthorizerId: !Ref RawTok
              Integration: {{Type: AWS_PROXY, Uri: !Sub 'arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{Fn.Arn}}/invocations'}}
          Fn2:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src/
              Handler: app.handler
              Runtime: python3.12
              Events:
                A: {{Type: Api, Properties: {{RestApiId: !Ref Sam, Path: /a, Method: GET}}}}
                B: {{Type: Api, Properties: {{RestApiId: !Ref Sam, Path: /b, Method: GET, Auth: {{Authorizer: Req}}}}}}
        "
            ),
            render,
            "
        Open GET /t: lambda T TOKEN fn=AuthFn ttl=300 ids=method.request.header.Authorization valid=tok-\\d+
        Sam GET /a: lambda Tok TOKEN fn=AuthFn ttl=300 ids=method.request.header.Authorization valid=^Bearer [a-z]+$
        Sam GET /b: lambda Req REQUEST fn=AuthFn ttl=300 ids=method.request.header.X
        Raw GET /: lambda RawTok TOKEN fn=AuthFn ttl=300 ids=method.request.header.Authorization valid=[0-9]+
        ",
        );
    }

    #[test]
    fn cognito_issuer_from_pool_arn() {
        assert_eq!(
            cognito_issuer("arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC")
                .as_deref(),
            Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC")
        );
        assert_eq!(
            cognito_issuer("arn:aws:lambda:eu-west-1:1:function:f"),
            None
        );
        assert_eq!(cognito_issuer("not an arn"), None);
    }
}
