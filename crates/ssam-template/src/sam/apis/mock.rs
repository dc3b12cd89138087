//! `AWS::ApiGateway::Method`s with a `MOCK` integration, as CDK writes them for CORS
//! preflights (`defaultCorsPreflightOptions`): API Gateway answers them itself, with the
//! integration response the mock's `statusCode` selects ("Set up mock integrations in API
//! Gateway"; "Set up an integration response in API Gateway": the response whose
//! `SelectionPattern` matches the status, else the default one without a pattern).

use super::{ref_target, ResourcePaths};
use crate::model::{MockMethod, MockValue};
use crate::node::Node;
use crate::sam::functions::normalize_method;
use crate::sam::Ctx;

/// Every unauthenticated mock method of a REST API in the template. A mock that declares an
/// authorization is left out (with a warning): ssam does not open what AWS would guard. A
/// method without any integration is an error here, as it is at deployment.
pub(crate) fn mock_methods(ctx: &mut Ctx<'_>) -> Vec<MockMethod> {
    let paths = ResourcePaths::of(ctx);
    let mut out = Vec::new();
    let methods: Vec<_> = ctx
        .resources
        .iter()
        .filter(|r| r.rtype == "AWS::ApiGateway::Method")
        .map(|r| (r.id.clone(), r.key_pos, r.node))
        .collect();
    for (id, key_pos, node) in methods {
        let Some(raw) = node.get("Properties") else {
            continue;
        };
        let Some(p) = ctx.resolve(raw) else { continue };
        let Some(integ) = p.get("Integration") else {
            ctx.error_hint(
                key_pos,
                format!("{id}: the method has no Integration"),
                "API Gateway refuses to deploy an API with such a method (\"No integration defined for method\"); add an Integration: AWS_PROXY to a function, or MOCK",
            );
            continue;
        };
        let itype = integ
            .get("Type")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        if !itype.eq_ignore_ascii_case("mock") {
            continue;
        }
        let auth = p
            .get("AuthorizationType")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        if !(auth.is_empty() || auth.eq_ignore_ascii_case("NONE")) {
            ctx.warning_hint(
                key_pos,
                format!("{id}: a MOCK method with AuthorizationType {auth} is not served"),
                "ssam answers mock integrations only on methods without authorization",
            );
            continue;
        }
        // The raw properties keep `!Ref`/`!GetAtt` to the API and resource.
        let Some(api) = raw.get("RestApiId").and_then(ref_target) else {
            continue;
        };
        let path = match raw.get("ResourceId").and_then(ref_target) {
            Some(res) if paths.contains(&res) => paths.path_of(&res),
            _ => "/".to_string(),
        };
        let method = p
            .get("HttpMethod")
            .and_then(Node::scalar_text)
            .map(|m| normalize_method(&m))
            .unwrap_or_else(|| "ANY".into());
        let (status, headers, body, echo_origins) = answer(integ);
        out.push(MockMethod {
            api,
            method,
            path,
            status,
            headers,
            body,
            echo_origins,
            location: ctx.loc(key_pos),
        });
    }
    out
}

/// The status the mock's `application/json` request template sets (`{"statusCode": 200}`);
/// 200 without one.
fn mock_status(integ: &Node) -> String {
    let template = integ
        .get("RequestTemplates")
        .and_then(|t| t.get("application/json"))
        .and_then(Node::scalar_text)
        .unwrap_or_default();
    template
        .split_once("statusCode")
        .map(|(_, rest)| {
            rest.trim_start_matches(|c: char| c == '"' || c == ':' || c.is_whitespace())
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "200".to_string())
}

/// The selected integration response: status, headers and static body. No response to
/// select is API Gateway's 500 `{"message": "Internal server error"}`.
type Answer = (u16, Vec<(String, MockValue)>, Option<String>, Vec<String>);

fn answer(integ: &Node) -> Answer {
    let status = mock_status(integ);
    let responses = integ
        .get("IntegrationResponses")
        .and_then(Node::as_seq)
        .map(<[Node]>::to_vec)
        .unwrap_or_default();
    let pattern = |r: &Node| {
        r.get("SelectionPattern")
            .and_then(Node::scalar_text)
            .filter(|p| !p.is_empty())
    };
    let selected = responses
        .iter()
        .find(|r| pattern(r).is_some_and(|p| p == status || p == ".*"))
        .or_else(|| responses.iter().find(|r| pattern(r).is_none()));
    let Some(r) = selected else {
        return (
            500,
            Vec::new(),
            Some(r#"{"message": "Internal server error"}"#.to_string()),
            Vec::new(),
        );
    };
    let code = r
        .get("StatusCode")
        .and_then(Node::scalar_text)
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(200);
    let mut headers = Vec::new();
    if let Some(params) = r.get("ResponseParameters").and_then(Node::as_map) {
        for (k, v) in params.iter() {
            let Some(name) = k.strip_prefix("method.response.header.") else {
                continue;
            };
            let Some(v) = v.scalar_text() else { continue };
            let value = if let Some(lit) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                MockValue::Literal(lit.to_string())
            } else if let Some(h) = v.strip_prefix("method.request.header.") {
                MockValue::RequestHeader(h.to_string())
            } else if let Some(q) = v.strip_prefix("method.request.querystring.") {
                MockValue::RequestQuery(q.to_string())
            } else {
                continue;
            };
            headers.push((name.to_string(), value));
        }
    }
    let template = r
        .get("ResponseTemplates")
        .and_then(|t| t.get("application/json"))
        .and_then(Node::scalar_text);
    let echo = template.as_deref().map(echo_origins).unwrap_or_default();
    let body = template.filter(|t| !t.contains('$') && !t.contains('#'));
    (code, headers, body, echo)
}

/// The origins of CDK's multi-origin CORS template (`#if($origin == "https://a.example" ||
/// $origin.matches("https://.+\.example"))` then `responseOverride` of the allow-origin
/// header to `$origin`), as patterns with `*` wildcards; empty for any other template.
fn echo_origins(template: &str) -> Vec<String> {
    let compact: String = template.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.contains("responseOverride.header.Access-Control-Allow-Origin=$origin") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (marker, regex) in [("$origin==\"", false), ("$origin.matches(\"", true)] {
        let mut rest = compact.as_str();
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            let Some(end) = rest.find('"') else { break };
            let value = &rest[..end];
            rest = &rest[end..];
            if value.is_empty() {
                continue;
            }
            out.push(if regex {
                value
                    .replace(".+", "*")
                    .replace(".*", "*")
                    // Escaped dots (`\.`, or `\\.` through one more quoting level).
                    .replace('\\', "")
            } else {
                value.to_string()
            });
        }
    }
    out
}
