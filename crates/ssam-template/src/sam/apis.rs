//! APIs and their Lambda-proxy routes.
//!
//! Routes come from function events (`Api`, `HttpApi`), from OpenAPI definitions (inline
//! `DefinitionBody`, `AWS::Include`, a local `DefinitionUri`, `Body` of plain API Gateway
//! resources) whose `x-amazon-apigateway-integration` is `aws_proxy` to a template function,
//! and from plain `AWS::ApiGateway::Method` / `AWS::ApiGatewayV2::Route` resources.
//! Implicit APIs (`ServerlessRestApi`, `ServerlessHttpApi`) exist when an event needs them.

use std::collections::HashSet;

mod mock;
pub(crate) use mock::mock_methods;

use indexmap::IndexMap;

use super::authorizers::{self, ref_target};
use super::functions::{function_target, normalize_method};
use super::{Ctx, IMPLICIT_HTTP_API, IMPLICIT_REST_API};
use crate::model::*;
use crate::node::{self, Map, Node, Value};

const OPENAPI_METHODS: &[&str] = &[
    "get",
    "put",
    "post",
    "delete",
    "patch",
    "head",
    "options",
    "x-amazon-apigateway-any-method",
];

pub(crate) fn read_apis(ctx: &mut Ctx<'_>, functions: &[Function]) -> (Vec<Api>, Vec<Route>) {
    let api_ids = ctx.resources_of(&[
        "AWS::Serverless::Api",
        "AWS::Serverless::HttpApi",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGatewayV2::Api",
    ]);
    let mut declared = Declared::default();
    for (id, rtype, node) in &api_ids {
        declared.read(ctx, id, rtype, node, functions);
    }
    implicit_apis(ctx, functions, &api_ids, &mut declared);
    let mut routes = std::mem::take(&mut declared.routes);
    routes.extend(event_routes(functions, &declared));
    routes.extend(resource_routes(ctx, functions));

    let mut seen = HashSet::new();
    routes.retain(|r| seen.insert((r.api.clone(), r.method.clone(), r.path.clone())));
    let apis = declared.apis;
    for r in &mut routes {
        r.timeout_ms = event_timeout(functions, &apis, r);
        // Routes from an OpenAPI body or CloudFormation resources carry the authorization
        // they declare; a name that is a Lambda authorizer of the API's `Auth` runs it.
        let declared = std::mem::take(&mut r.auth);
        let kept = |f: &str| kept_function(functions, &apis, f).is_some();
        r.auth = match (authorizers::route_auth(&apis, r, kept), declared) {
            (RouteAuth::Lambda(a), _) => RouteAuth::Lambda(a),
            (resolved, RouteAuth::Open) => resolved,
            (_, declared) => declared,
        };
    }
    (apis, routes)
}

/// What the declared APIs say, and what their definitions mean for function events.
#[derive(Default)]
struct Declared {
    apis: Vec<Api>,
    /// Routes of definitions and of quick-create `Target`s.
    routes: Vec<Route>,
    /// (api, METHOD, path) that a definition already integrates: a function event adds no
    /// route there, as in SAM (the definition's integration wins).
    defined: HashSet<(String, String, String)>,
    /// REST APIs with a customer definition: SAM does not add an event's path that the
    /// definition lacks ("it is the customer's responsibility", SAM's ImplicitApiPlugin);
    /// with MergeDefinitions it does. A definition without a `paths` mapping gets nothing.
    customer_paths: IndexMap<String, Option<HashSet<String>>>,
    /// APIs defined by an external file (DefinitionUri): an event that names such an API
    /// with a plain string instead of `!Ref` gets only a permission, no route.
    external: HashSet<String>,
    /// HTTP APIs with `FailOnWarnings: true`: SAM writes the catch-all route as `/$default`.
    fail_on_warnings: HashSet<String>,
}

impl Declared {
    /// One API resource of the template.
    fn read(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: &str,
        rtype: &str,
        node: &Node,
        functions: &[Function],
    ) {
        let raw = ctx.merged_properties(rtype, node);
        let api_type = if rtype.contains("HttpApi") || rtype == "AWS::ApiGatewayV2::Api" {
            ApiType::Http
        } else {
            ApiType::Rest
        };
        if rtype == "AWS::ApiGatewayV2::Api" {
            let protocol = raw
                .get("ProtocolType")
                .and_then(Node::as_str)
                .unwrap_or("HTTP");
            if protocol != "HTTP" {
                return;
            }
            // Quick create: `Target` is the function of the route `RouteKey` names
            // (`$default` when absent), "AWS::ApiGatewayV2::Api" Target / RouteKey.
            if let Some(target) = raw
                .get("Target")
                .and_then(|t| function_target(t, functions))
            {
                let key = raw
                    .get("RouteKey")
                    .and_then(|k| ctx.resolve(k))
                    .and_then(|k| k.scalar_text())
                    .unwrap_or_else(|| "$default".into());
                let (method, path) = match key.split_once(' ') {
                    Some((m, p)) => (normalize_method(m), p.to_string()),
                    None => ("ANY".to_string(), key),
                };
                self.routes.push(route(
                    api_type,
                    id,
                    method,
                    path,
                    target,
                    "2.0".into(),
                    None,
                ));
            }
        }
        let body_key = if rtype.starts_with("AWS::Serverless") {
            "DefinitionBody"
        } else {
            "Body"
        };
        if raw.get(body_key).is_none() && raw.get("DefinitionUri").is_some() {
            self.external.insert(id.to_string());
        }
        let mut definition_binary_types = Vec::new();
        if let Some(def) = definition(ctx, &raw, body_key) {
            // "x-amazon-apigateway-binary-media-types": the definition's binary types add to
            // the API's BinaryMediaTypes.
            definition_binary_types = split_list(def.get("x-amazon-apigateway-binary-media-types"));
            if api_type == ApiType::Rest
                && rtype == "AWS::Serverless::Api"
                && raw.get(body_key).is_some()
            {
                self.note_customer_paths(id, &raw, &def);
            }
            self.defined.extend(integrated_operations(&def, id));
            self.routes
                .extend(openapi_routes(ctx, &def, id, api_type, functions));
        }
        let props = ctx.resolve(&raw).unwrap_or(raw);
        if api_type == ApiType::Http && is_true(props.get("FailOnWarnings")) {
            self.fail_on_warnings.insert(id.to_string());
        }
        let mut api = api_model(ctx, id, api_type, &props, false, functions);
        if let Some(stage) = cfn_stage(ctx, id, rtype) {
            api.stage_name = stage.name;
            if !stage.variables.is_empty() {
                api.stage_variables = stage.variables;
            }
        }
        for t in definition_binary_types {
            let t = t.replace("~1", "/");
            if !api.binary_media_types.contains(&t) {
                api.binary_media_types.push(t);
            }
        }
        self.apis.push(api);
    }

    /// The paths of a REST API's own definition (see [`Declared::customer_paths`]).
    fn note_customer_paths(&mut self, id: &str, raw: &Node, def: &Node) {
        let merge = raw
            .get("MergeDefinitions")
            .is_some_and(|m| matches!(m.value, Value::Bool(true)));
        match def.get("paths").and_then(Node::as_map) {
            None => {
                self.customer_paths
                    .insert(id.to_string(), Some(HashSet::new()));
            }
            Some(_) if merge => {}
            Some(p) => {
                self.customer_paths
                    .insert(id.to_string(), Some(p.keys().map(str::to_string).collect()));
            }
        }
    }
}

/// The stage a plain CloudFormation API is deployed to.
struct CfnStage {
    name: String,
    variables: IndexMap<String, String>,
}

/// The stage of an `AWS::ApiGateway::RestApi` (its `AWS::ApiGateway::Stage`, else the
/// `StageName` of its `AWS::ApiGateway::Deployment`) or `AWS::ApiGatewayV2::Api` (its
/// `AWS::ApiGatewayV2::Stage`), named as written: CDK's `prod` stage is served under
/// `/prod`, as its invoke URL `https://{api-id}.execute-api.{region}.amazonaws.com/prod/`
/// has it ("Invoking a REST API in API Gateway"). The first stage in template order wins.
fn cfn_stage(ctx: &Ctx<'_>, api: &str, rtype: &str) -> Option<CfnStage> {
    let (candidates, api_key, vars_key): (&[&str], &str, &str) = match rtype {
        "AWS::ApiGateway::RestApi" => (
            &["AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment"],
            "RestApiId",
            "Variables",
        ),
        "AWS::ApiGatewayV2::Api" => (&["AWS::ApiGatewayV2::Stage"], "ApiId", "StageVariables"),
        _ => return None,
    };
    for wanted in candidates {
        for r in ctx.resources.iter().filter(|r| r.rtype == *wanted) {
            let Some(p) = r.properties() else { continue };
            if p.get(api_key).and_then(ref_target).as_deref() != Some(api) {
                continue;
            }
            let Some(name) = p
                .get("StageName")
                .and_then(|n| ctx.resolve(n))
                .filter(|n| n.intrinsic().is_none())
                .and_then(|n| n.scalar_text())
            else {
                continue;
            };
            let mut variables = IndexMap::new();
            let vars_key = if r.rtype == "AWS::ApiGateway::Deployment" {
                "StageDescription"
            } else {
                vars_key
            };
            let vars = p.get(vars_key).and_then(|v| {
                if vars_key == "StageDescription" {
                    v.get("Variables")
                } else {
                    Some(v)
                }
            });
            if let Some(vars) = vars.and_then(|v| ctx.resolve(v)) {
                if let Some(m) = vars.as_map() {
                    for (k, v) in m.iter() {
                        if let Some(t) = v.scalar_text().filter(|_| v.intrinsic().is_none()) {
                            variables.insert(k.to_string(), t);
                        }
                    }
                }
            }
            return Some(CfnStage { name, variables });
        }
    }
    None
}

/// `ServerlessRestApi` / `ServerlessHttpApi`, when an event needs them and the template does
/// not declare them.
fn implicit_apis(
    ctx: &Ctx<'_>,
    functions: &[Function],
    api_ids: &[(String, String, &Node)],
    declared: &mut Declared,
) {
    let needs_rest = functions.iter().any(|f| {
        f.events
            .iter()
            .any(|e| matches!(&e.source, EventSource::Api(a) if a.api == IMPLICIT_REST_API))
    });
    let needs_http = functions.iter().any(|f| {
        f.events
            .iter()
            .any(|e| matches!(&e.source, EventSource::HttpApi(a) if a.api == IMPLICIT_HTTP_API))
    });
    if needs_rest && !api_ids.iter().any(|(id, _, _)| id == IMPLICIT_REST_API) {
        let props = implicit_props(ctx, "AWS::Serverless::Api");
        declared.apis.push(api_model(
            ctx,
            IMPLICIT_REST_API,
            ApiType::Rest,
            &props,
            true,
            functions,
        ));
    }
    if needs_http && !api_ids.iter().any(|(id, _, _)| id == IMPLICIT_HTTP_API) {
        let props = implicit_props(ctx, "AWS::Serverless::HttpApi");
        if is_true(props.get("FailOnWarnings")) {
            declared
                .fail_on_warnings
                .insert(IMPLICIT_HTTP_API.to_string());
        }
        declared.apis.push(api_model(
            ctx,
            IMPLICIT_HTTP_API,
            ApiType::Http,
            &props,
            true,
            functions,
        ));
    }
}

/// The routes of functions' `Api` / `HttpApi` events.
fn event_routes(functions: &[Function], declared: &Declared) -> Vec<Route> {
    let mut out = Vec::new();
    for f in functions {
        for e in &f.events {
            let (ev, event_type) = match &e.source {
                EventSource::Api(a) => (a, ApiType::Rest),
                EventSource::HttpApi(a) => (a, ApiType::Http),
                _ => continue,
            };
            // The route belongs to the API it names: an HttpApi event may target a REST API.
            let api_type = declared
                .apis
                .iter()
                .find(|a| a.logical_id == ev.api)
                .map_or(event_type, |a| a.api_type);
            let outside_definition = event_type == ApiType::Rest
                && declared
                    .customer_paths
                    .get(&ev.api)
                    .and_then(Option::as_ref)
                    .is_some_and(|paths| !paths.contains(&ev.path));
            if (!ev.api_is_ref && declared.external.contains(&ev.api))
                || outside_definition
                || declared
                    .defined
                    .contains(&(ev.api.clone(), ev.method.clone(), ev.path.clone()))
            {
                continue;
            }
            let pfv = match api_type {
                ApiType::Rest => "1.0".to_string(),
                ApiType::Http => ev
                    .payload_format_version
                    .clone()
                    .unwrap_or_else(|| "2.0".into()),
            };
            let path = if api_type == ApiType::Http
                && ev.path == "$default"
                && declared.fail_on_warnings.contains(&ev.api)
            {
                "/$default".to_string()
            } else {
                ev.path.clone()
            };
            let mut r = route(
                api_type,
                &ev.api,
                ev.method.clone(),
                path,
                f.logical_id.clone(),
                pfv,
                ev.authorizer.clone(),
            );
            r.authorization_scopes = ev.authorization_scopes.clone();
            out.push(r);
        }
    }
    out
}

/// A route before its authorization and timeout are resolved (see [`read_apis`]).
fn route(
    api_type: ApiType,
    api: &str,
    method: String,
    path: String,
    function: String,
    payload_format_version: String,
    authorizer: Option<String>,
) -> Route {
    Route {
        api_type,
        api: api.to_string(),
        method,
        path,
        function,
        payload_format_version,
        authorizer,
        authorization_scopes: Vec::new(),
        operation_name: None,
        auth: RouteAuth::Open,
        timeout_ms: None,
    }
}

/// Whether `id` is a function the app keeps: SAM's implicit API replaces a resource that
/// already uses its name.
fn kept_function<'f>(functions: &'f [Function], apis: &[Api], id: &str) -> Option<&'f Function> {
    if apis.iter().any(|a| a.implicit && a.logical_id == id) {
        return None;
    }
    functions.iter().find(|f| f.logical_id == id)
}

/// `TimeoutInMillis` of the function event that declared the route, when there is one.
fn event_timeout(functions: &[Function], apis: &[Api], r: &Route) -> Option<u32> {
    let f = kept_function(functions, apis, &r.function)?;
    f.events.iter().find_map(|e| match &e.source {
        EventSource::Api(a) | EventSource::HttpApi(a)
            if a.api == r.api && a.path == r.path && a.method.eq_ignore_ascii_case(&r.method) =>
        {
            a.timeout_ms
        }
        _ => None,
    })
}

fn is_true(n: Option<&Node>) -> bool {
    n.is_some_and(|v| matches!(v.value, Value::Bool(true)) || v.as_str() == Some("true"))
}

fn implicit_props(ctx: &Ctx<'_>, rtype: &str) -> Node {
    let empty = Node::new(Value::Map(Map::new()), Default::default());
    let merged = ctx.globals.apply(rtype, &empty, None);
    ctx.resolve(&merged).unwrap_or(merged)
}

/// The OpenAPI document of an API: inline (with `AWS::Include` expanded) or a local file.
fn definition(ctx: &mut Ctx<'_>, raw: &Node, body_key: &str) -> Option<Node> {
    if let Some(body) = raw.get(body_key) {
        if let Some(("Fn::Transform", t)) = body.intrinsic() {
            return include(ctx, t);
        }
        return Some(body.clone());
    }
    let uri_key = if body_key == "Body" {
        "BodyS3Location"
    } else {
        "DefinitionUri"
    };
    let uri = raw.get(uri_key)?;
    let rel = uri.scalar_text().filter(|s| !s.starts_with("s3://"))?;
    let path = ctx.base_dir.join(&rel);
    let mut d = crate::diag::Diagnostics::default();
    match node::parse_file(&path, &mut d) {
        Some(src) => Some(src.root),
        None => {
            ctx.error_hint(
                uri.pos,
                format!("cannot read the OpenAPI definition {rel}"),
                format!(
                    "{uri_key} is resolved against the template's directory: {}",
                    path.display()
                ),
            );
            None
        }
    }
}

/// `Fn::Transform: {Name: AWS::Include, Parameters: {Location: ./api.yaml}}`.
fn include(ctx: &mut Ctx<'_>, t: &Node) -> Option<Node> {
    if t.get("Name").and_then(Node::as_str) != Some("AWS::Include") {
        return None;
    }
    let loc_node = t.get("Parameters").and_then(|p| p.get("Location"))?;
    let loc = ctx.resolve(loc_node).and_then(|n| n.scalar_text())?;
    if loc.starts_with("s3://") || loc.starts_with("https://") {
        return None;
    }
    let path = ctx.base_dir.join(&loc);
    let mut d = crate::diag::Diagnostics::default();
    match node::parse_file(&path, &mut d) {
        Some(src) => Some(src.root),
        None => {
            ctx.error(
                loc_node.pos,
                format!("AWS::Include cannot read {}", path.display()),
            );
            None
        }
    }
}

/// Every (api, METHOD, path) of a definition that already has an integration.
fn integrated_operations(def: &Node, api: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let Some(paths) = def.get("paths").and_then(Node::as_map) else {
        return out;
    };
    for (path, item) in paths.iter() {
        let Some(methods) = item.as_map() else {
            continue;
        };
        for (method, op) in methods.iter() {
            if op.get("x-amazon-apigateway-integration").is_some() {
                out.push((api.to_string(), normalize_method(method), path.to_string()));
            }
        }
    }
    out
}

fn openapi_routes(
    ctx: &Ctx<'_>,
    def: &Node,
    api: &str,
    api_type: ApiType,
    functions: &[Function],
) -> Vec<Route> {
    let mut out = Vec::new();
    let Some(paths) = def.get("paths").and_then(Node::as_map) else {
        return out;
    };
    for (path, item) in paths.iter() {
        let Some(methods) = item.as_map() else {
            continue;
        };
        for (method, op) in methods.iter() {
            let lower = method.to_ascii_lowercase();
            if !OPENAPI_METHODS.contains(&lower.as_str()) {
                continue;
            }
            let Some(integ) = op.get("x-amazon-apigateway-integration") else {
                continue;
            };
            let itype = integ
                .get("type")
                .and_then(Node::scalar_text)
                .unwrap_or_default()
                .to_ascii_lowercase();
            if itype != "aws_proxy" {
                continue;
            }
            let Some(function) = integ.get("uri").and_then(|u| function_target(u, functions))
            else {
                continue;
            };
            let pfv = match api_type {
                ApiType::Rest => "1.0".to_string(),
                ApiType::Http => integ
                    .get("payloadFormatVersion")
                    .and_then(Node::scalar_text)
                    .unwrap_or_else(|| "2.0".into()),
            };
            let mut r = route(
                api_type,
                api,
                normalize_method(method),
                path.to_string(),
                function,
                pfv,
                None,
            );
            // "Set up a method using the API Gateway console": REST events carry the
            // operationId as `requestContext.operationName`.
            if api_type == ApiType::Rest {
                r.operation_name = op.get("operationId").and_then(Node::scalar_text);
            }
            if let Some((name, auth)) =
                authorizers::openapi_security(ctx, def, op, api_type, functions)
            {
                r.authorizer = Some(name);
                r.auth = auth;
            }
            out.push(r);
        }
    }
    out
}

/// Routes declared as plain resources: `AWS::ApiGateway::Method` with an `AWS_PROXY`
/// integration, and `AWS::ApiGatewayV2::Route` targeting an `AWS_PROXY` integration.
fn resource_routes(ctx: &Ctx<'_>, functions: &[Function]) -> Vec<Route> {
    let paths = ResourcePaths::of(ctx);
    let mut out = Vec::new();
    for r in &ctx.resources {
        let Some(p) = r.properties() else { continue };
        let route = match r.rtype.as_str() {
            "AWS::ApiGateway::Method" => rest_method_route(ctx, p, &paths, functions),
            "AWS::ApiGatewayV2::Route" => http_route(ctx, p, functions),
            _ => None,
        };
        out.extend(route);
    }
    out
}

/// Paths of `AWS::ApiGateway::Resource`, built from `PathPart` and `ParentId`.
struct ResourcePaths {
    parts: IndexMap<String, (Option<String>, String)>,
}

impl ResourcePaths {
    fn of(ctx: &Ctx<'_>) -> Self {
        let mut parts = IndexMap::new();
        for r in &ctx.resources {
            if r.rtype == "AWS::ApiGateway::Resource" {
                let Some(p) = r.properties() else { continue };
                let parent = p.get("ParentId").and_then(ref_target);
                let part = p
                    .get("PathPart")
                    .and_then(Node::scalar_text)
                    .unwrap_or_default();
                parts.insert(r.id.clone(), (parent, part));
            }
        }
        ResourcePaths { parts }
    }

    fn contains(&self, id: &str) -> bool {
        self.parts.contains_key(id)
    }

    /// The path of a resource: its parts up to the root (a cycle stops after 64 steps).
    fn path_of(&self, id: &str) -> String {
        let mut segs = Vec::new();
        let mut cur = Some(id.to_string());
        let mut guard = 0;
        while let Some(c) = cur {
            guard += 1;
            if guard > 64 {
                break;
            }
            match self.parts.get(&c) {
                Some((parent, part)) => {
                    segs.push(part.clone());
                    cur = parent.clone();
                }
                None => break,
            }
        }
        segs.reverse();
        format!("/{}", segs.join("/"))
    }
}

/// An `AWS::ApiGateway::Method` with an `AWS_PROXY` integration to a template function.
fn rest_method_route(
    ctx: &Ctx<'_>,
    p: &Node,
    paths: &ResourcePaths,
    functions: &[Function],
) -> Option<Route> {
    let integ = p.get("Integration")?;
    let itype = integ
        .get("Type")
        .and_then(Node::scalar_text)
        .unwrap_or_default();
    if !itype.eq_ignore_ascii_case("aws_proxy") {
        return None;
    }
    let function = integ
        .get("Uri")
        .and_then(|u| function_target(u, functions))?;
    let api = p.get("RestApiId").and_then(ref_target)?;
    let path = match p.get("ResourceId").and_then(ref_target) {
        Some(res) if paths.contains(&res) => paths.path_of(&res),
        _ => "/".to_string(),
    };
    let method = p
        .get("HttpMethod")
        .and_then(Node::scalar_text)
        .map(|m| normalize_method(&m))
        .unwrap_or_else(|| "ANY".into());
    let mut r = route(
        ApiType::Rest,
        &api,
        method,
        path,
        function,
        "1.0".into(),
        None,
    );
    if let Some((name, auth)) = authorizers::resource_auth(ctx, p, &api, ApiType::Rest, functions) {
        r.authorizer = Some(name);
        r.auth = auth;
    }
    Some(r)
}

/// An `AWS::ApiGatewayV2::Route` of an HTTP API whose target is an `AWS_PROXY` integration
/// to a template function.
fn http_route(ctx: &Ctx<'_>, p: &Node, functions: &[Function]) -> Option<Route> {
    let api = p.get("ApiId").and_then(ref_target)?;
    let is_http = ctx.node_of(&api).is_some_and(|a| {
        a.get("Type").and_then(Node::as_str) == Some("AWS::ApiGatewayV2::Api")
            && a.get("Properties")
                .and_then(|p| p.get("ProtocolType"))
                .and_then(Node::as_str)
                .unwrap_or("HTTP")
                == "HTTP"
    });
    if !is_http {
        return None;
    }
    let key = p.get("RouteKey").and_then(Node::scalar_text)?;
    let integ_id = integration_id(p.get("Target")?);
    let integ = integ_id
        .as_deref()
        .and_then(|i| ctx.resource(i))
        .filter(|i| i.rtype == "AWS::ApiGatewayV2::Integration")
        .and_then(|i| i.properties())?;
    let itype = integ
        .get("IntegrationType")
        .and_then(Node::scalar_text)
        .unwrap_or_default();
    if !itype.eq_ignore_ascii_case("aws_proxy") {
        return None;
    }
    let function = integ
        .get("IntegrationUri")
        .and_then(|u| function_target(u, functions))?;
    let (method, path) = match key.split_once(' ') {
        Some((m, p)) => (normalize_method(m), p.to_string()),
        None => ("ANY".to_string(), key.clone()),
    };
    let pfv = integ
        .get("PayloadFormatVersion")
        .and_then(Node::scalar_text)
        .unwrap_or_else(|| "2.0".into());
    let mut r = route(ApiType::Http, &api, method, path, function, pfv, None);
    if let Some((name, auth)) = authorizers::resource_auth(ctx, p, &api, ApiType::Http, functions) {
        r.authorizer = Some(name);
        r.auth = auth;
    }
    Some(r)
}

/// `integrations/${Integ}` (Sub) or `!Join [/, [integrations, !Ref Integ]]` → `Integ`.
fn integration_id(n: &Node) -> Option<String> {
    match &n.value {
        Value::String(s) => {
            let start = s.find("${")?;
            let end = s[start..].find('}')?;
            Some(s[start + 2..start + end].to_string())
        }
        _ => {
            if let Some(("Ref", a)) = n.intrinsic() {
                return a.as_str().map(str::to_string);
            }
            match &n.value {
                Value::Map(m) => m.iter().find_map(|(_, v)| integration_id(v)),
                Value::Seq(items) => items.iter().find_map(integration_id),
                _ => None,
            }
        }
    }
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('\'').to_string()
}

pub(super) fn split_list(n: Option<&Node>) -> Vec<String> {
    match n.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().filter_map(Node::scalar_text).collect(),
        Some(_) => n
            .and_then(Node::scalar_text)
            .map(|s| {
                unquote(&s)
                    .split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

fn api_model(
    ctx: &Ctx<'_>,
    id: &str,
    api_type: ApiType,
    props: &Node,
    implicit: bool,
    functions: &[Function],
) -> Api {
    let stage_name = props
        .get("StageName")
        .and_then(Node::scalar_text)
        .unwrap_or_else(|| match api_type {
            ApiType::Rest => "Prod".to_string(),
            ApiType::Http => "$default".to_string(),
        });
    let cors = cors_of(api_type, props);
    let auth = props.get("Auth");
    let authorizers = authorizers::sam_authorizers(ctx, auth, api_type, functions);
    let mut stage_variables = IndexMap::new();
    let vars_key = if api_type == ApiType::Rest {
        "Variables"
    } else {
        "StageVariables"
    };
    if let Some(vars) = props.get(vars_key).and_then(Node::as_map) {
        for (k, v) in vars.iter() {
            if let Some(t) = v.scalar_text() {
                stage_variables.insert(k.to_string(), t);
            }
        }
    }
    Api {
        logical_id: id.to_string(),
        api_type,
        stage_name,
        binary_media_types: split_list(props.get("BinaryMediaTypes"))
            .into_iter()
            .map(|t| t.replace("~1", "/"))
            .collect(),
        cors,
        stage_variables,
        authorizers,
        default_authorizer: auth
            .and_then(|a| a.get("DefaultAuthorizer"))
            .and_then(Node::scalar_text),
        disable_execute_api_endpoint: props
            .get("DisableExecuteApiEndpoint")
            .is_some_and(|v| matches!(v.value, Value::Bool(true))),
        implicit,
    }
}

/// An HTTP API's `CorsConfiguration` map, or a function URL's `Cors` (the same fields).
pub(super) fn http_cors(c: &Node) -> Cors {
    Cors {
        allow_origins: split_list(c.get("AllowOrigins")),
        allow_methods: split_list(c.get("AllowMethods")),
        allow_headers: split_list(c.get("AllowHeaders")),
        expose_headers: split_list(c.get("ExposeHeaders")),
        allow_credentials: c
            .get("AllowCredentials")
            .is_some_and(|v| matches!(v.value, Value::Bool(true))),
        max_age: c
            .get("MaxAge")
            .and_then(Node::scalar_text)
            .and_then(|s| s.parse().ok()),
    }
}

/// `Cors` (REST: a map, or just the origin) or `CorsConfiguration` (HTTP APIs: a map, or
/// `true` for any origin), in HTTP API's vocabulary.
fn cors_of(api_type: ApiType, props: &Node) -> Option<Cors> {
    match api_type {
        ApiType::Rest => props.get("Cors").map(|c| match &c.value {
            Value::Map(_) => Cors {
                allow_origins: split_list(c.get("AllowOrigin")),
                allow_methods: split_list(c.get("AllowMethods")),
                allow_headers: split_list(c.get("AllowHeaders")),
                expose_headers: Vec::new(),
                allow_credentials: c
                    .get("AllowCredentials")
                    .is_some_and(|v| matches!(v.value, Value::Bool(true))),
                max_age: c
                    .get("MaxAge")
                    .and_then(Node::scalar_text)
                    .and_then(|s| unquote(&s).parse().ok()),
            },
            _ => Cors {
                allow_origins: split_list(Some(c)),
                ..Cors::default()
            },
        }),
        ApiType::Http => props.get("CorsConfiguration").and_then(|c| match &c.value {
            Value::Bool(false) => None,
            Value::Map(_) => Some(http_cors(c)),
            _ => Some(Cors {
                allow_origins: vec!["*".into()],
                ..Cors::default()
            }),
        }),
    }
}
