//! SAM semantics: from a parsed template to the typed [`App`].
//!
//! Order matters and follows the SAM translator: parameters → conditions (resources whose
//! Condition is false disappear) → `Ref` values of resources (bucket and function names) →
//! Globals merged into each serverless resource (unless `IgnoreGlobals`) → intrinsics
//! resolved → functions, APIs (explicit and the implicit `ServerlessRestApi` /
//! `ServerlessHttpApi`), routes (from events and OpenAPI definitions), buckets, S3 bindings.
//! Then the checks against Lambda's documented limits.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::diag::{Diagnostic, Diagnostics, Location};
use crate::model::*;
use crate::node::{self, Map, Node, Pos, Source, Value};
use crate::resolve::{contains_intrinsic, ParamValue, Pseudo, Resolver, ResourceInfo};
use crate::{LoadOptions, Loaded};

mod apis;
mod assets;
mod authorizers;
mod buckets;
mod foreach;
mod functions;
mod globals;
mod limits;
mod nested;

pub use buckets::{generated_bucket_name, valid_bucket_name};

/// SAM event types (`Events.*.Type`) of `AWS::Serverless::Function`.
pub const FUNCTION_EVENT_TYPES: &[&str] = &[
    "S3",
    "SNS",
    "Kinesis",
    "DynamoDB",
    "SQS",
    "Api",
    "Schedule",
    "ScheduleV2",
    "CloudWatchEvent",
    "EventBridgeRule",
    "CloudWatchLogs",
    "IoTRule",
    "AlexaSkill",
    "Cognito",
    "HttpApi",
    "MSK",
    "MQ",
    "SelfManagedKafka",
    "DocumentDB",
];

pub(crate) const IMPLICIT_REST_API: &str = "ServerlessRestApi";
pub(crate) const IMPLICIT_HTTP_API: &str = "ServerlessHttpApi";

/// One resource that survived its Condition.
pub(crate) struct RawResource<'a> {
    pub id: String,
    pub rtype: String,
    pub node: &'a Node,
    /// Where the logical id is written (what diagnostics about the resource point at).
    pub key_pos: Pos,
}

impl RawResource<'_> {
    pub fn properties(&self) -> Option<&Node> {
        self.node.get("Properties")
    }
}

/// Shared state of one load: the source, diagnostics, and the resolver.
pub(crate) struct Ctx<'a> {
    pub src: &'a Source,
    pub base_dir: PathBuf,
    pub diags: Diagnostics,
    pub resolver: Resolver<'a>,
    pub resources: Vec<RawResource<'a>>,
    /// Logical id → index in `resources` (templates can hold thousands of resources).
    pub index: std::collections::HashMap<String, usize>,
    pub globals: globals::Globals<'a>,
}

impl<'a> Ctx<'a> {
    pub fn loc(&self, pos: Pos) -> Location {
        self.src.location(pos)
    }

    pub fn error(&mut self, pos: Pos, msg: impl Into<String>) {
        let d = Diagnostic::error(self.loc(pos), msg);
        self.diags.push(d);
    }

    pub fn error_hint(&mut self, pos: Pos, msg: impl Into<String>, hint: impl Into<String>) {
        let d = Diagnostic::error(self.loc(pos), msg).with_hint(hint);
        self.diags.push(d);
    }

    pub fn warning_hint(&mut self, pos: Pos, msg: impl Into<String>, hint: impl Into<String>) {
        let d = Diagnostic::warning(self.loc(pos), msg).with_hint(hint);
        self.diags.push(d);
    }

    /// Resolves intrinsics; `AWS::NoValue` becomes `None`.
    pub fn resolve(&self, node: &Node) -> Option<Node> {
        self.resolver.resolve(node)
    }

    pub fn resource(&self, id: &str) -> Option<&RawResource<'a>> {
        self.index.get(id).and_then(|&i| self.resources.get(i))
    }

    /// The resource's node, borrowed from the source (not from `self`).
    pub fn node_of(&self, id: &str) -> Option<&'a Node> {
        self.resource(id).map(|r| r.node)
    }

    /// Resources of the given types, in template order: (logical id, type, node).
    pub fn resources_of(&self, types: &[&str]) -> Vec<(String, String, &'a Node)> {
        self.resources
            .iter()
            .filter(|r| types.contains(&r.rtype.as_str()))
            .map(|r| (r.id.clone(), r.rtype.clone(), r.node))
            .collect()
    }

    /// A resource's Properties with Globals merged in (only serverless types have Globals);
    /// an empty mapping when it has none.
    pub fn merged_properties(&self, rtype: &str, node: &Node) -> Node {
        self.globals.apply(rtype, node, node.get("Properties"))
    }

    /// Where a resource's logical id is written.
    pub fn key_pos(&self, id: &str) -> Pos {
        self.resource(id).map_or(Pos::default(), |r| r.key_pos)
    }

    pub fn resource_type(&self, id: &str) -> Option<&str> {
        self.resource(id).map(|r| r.rtype.as_str())
    }
}

/// Loads the template named in `opts`.
pub fn load(opts: &LoadOptions) -> Result<Loaded, Diagnostics> {
    let mut diags = Diagnostics::default();
    let path = absolute(&opts.template);
    let src = node::parse_file(&path, &mut diags).ok_or_else(|| diags.clone())?;
    let top = vec![path.canonicalize().unwrap_or_else(|_| path.clone())];
    load_source(src, path, opts, diags, &top, None)
}

/// Loads template text; `opts.template` names it in diagnostics and anchors relative paths.
pub fn load_from_str(text: &str, opts: &LoadOptions) -> Result<Loaded, Diagnostics> {
    let mut diags = Diagnostics::default();
    let path = absolute(&opts.template);
    let src = node::parse_str(text, std::sync::Arc::new(path.clone()), &mut diags)
        .ok_or_else(|| diags.clone())?;
    let top = vec![path.clone()];
    load_source(src, path, opts, diags, &top, None)
}

/// Loads one parsed template; `ancestors` are the templates above it (itself last), so a
/// nested stack that points back is reported as a cycle.
///
/// `nested_as` is the name a nested stack's resources are merged under (`Child`, or
/// `Outer/Inner`): a function of the child without a `FunctionName` is served as
/// `Child/Fn`, so that is what its `Ref` (and `Fn::GetAtt .Arn`) yields inside the child.
pub(crate) fn load_source(
    src: Source,
    path: PathBuf,
    opts: &LoadOptions,
    mut diags: Diagnostics,
    ancestors: &[PathBuf],
    nested_as: Option<&str>,
) -> Result<Loaded, Diagnostics> {
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let Some((root, resources_map)) = root_and_resources(&src, &mut diags) else {
        return Err(diags);
    };
    check_top_level(&src, root, &mut diags);

    let pseudo = Pseudo::new(opts.region.as_deref(), opts.stack_name.as_deref());
    let params = parameters(
        &src,
        root.get("Parameters"),
        &opts.parameter_overrides,
        &mut diags,
    );

    // AWS::LanguageExtensions: each `Fn::ForEach::Name` entry becomes one resource per item.
    let expanded = foreach::expand(
        &src,
        resources_map,
        &params,
        &pseudo,
        root.get("Mappings").and_then(Node::as_map),
        &mut diags,
    );
    let resources_map: &Map = expanded.as_ref().unwrap_or(resources_map);

    let mappings = root.get("Mappings").and_then(Node::as_map);
    let conditions = root.get("Conditions").and_then(Node::as_map);
    // Phase 1: a resolver where every resource's Ref is its logical id, to decide
    // conditions and compute the names (bucket, function) that Ref yields in phase 2.
    let mut infos = logical_id_refs(resources_map);
    let phase1 = Resolver::new(
        src.file.clone(),
        pseudo.clone(),
        params.clone(),
        infos.clone(),
        mappings,
        conditions,
    );
    // Decide every declared condition once, so broken ones are reported even when unused.
    if let Some(conds) = conditions {
        for (name, n) in conds.iter() {
            phase1.condition(name, n.pos);
        }
    }
    let raw = surviving_resources(&src, resources_map, &phase1, &mut infos, &mut diags);
    for r in &raw {
        let served_as = nested_as
            .filter(|_| {
                matches!(
                    r.rtype.as_str(),
                    "AWS::Serverless::Function" | "AWS::Lambda::Function"
                )
            })
            .map(|prefix| format!("{prefix}/{}", r.id));
        if let Some(name) = ref_name(&phase1, r, &pseudo.stack_name).or(served_as) {
            if let Some(info) = infos.get_mut(&r.id) {
                info.ref_value = name;
            }
        }
    }
    add_implicit_resources(&raw, &mut infos);
    phase1.drain_diagnostics(&mut diags);

    // Nested stacks, loaded with the Parameters their parent passes (resolved with the
    // names of phase 1); their Outputs are then known to the parent's `Fn::GetAtt`.
    let children = if raw
        .iter()
        .any(|r| nested::NESTED_TYPES.contains(&r.rtype.as_str()))
    {
        let for_children = Resolver::new(
            src.file.clone(),
            pseudo.clone(),
            params.clone(),
            infos.clone(),
            mappings,
            conditions,
        );
        let children = nested::load_children(
            &src,
            &base_dir,
            &raw,
            &for_children,
            opts,
            ancestors,
            nested_as,
            &mut diags,
        );
        for child in &children {
            if let Some(info) = infos.get_mut(&child.id) {
                info.attributes = nested::output_attributes(&child.loaded);
            }
        }
        children
    } else {
        Vec::new()
    };

    let resolver = Resolver::new(
        src.file.clone(),
        pseudo.clone(),
        params,
        infos,
        mappings,
        conditions,
    );
    let globals = globals::Globals::read(&src, root.get("Globals"), &mut diags);
    let mut ctx = Ctx {
        src: &src,
        base_dir: base_dir.clone(),
        diags,
        resolver,
        index: raw
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect(),
        resources: raw,
        globals,
    };
    let app = read_app(
        &mut ctx,
        App {
            template_path: path,
            base_dir,
            region: pseudo.region,
            account_id: pseudo.account_id,
            stack_name: pseudo.stack_name,
            ..App::default()
        },
    );
    let mut app = app;
    app.outputs = outputs(&mut ctx, root.get("Outputs"));
    let mut diags = std::mem::take(&mut ctx.diags);
    ctx.resolver.drain_diagnostics(&mut diags);
    dedupe(&mut diags);
    for mut child in children {
        diags.0.append(&mut child.loaded.diagnostics.0);
        nested::merge(&mut app, child);
    }
    Ok(Loaded {
        app,
        diagnostics: diags,
    })
}

/// The template's `Outputs`, each `Value` resolved (an intrinsic ssam cannot evaluate stays
/// in its long form).
fn outputs(ctx: &mut Ctx<'_>, section: Option<&Node>) -> IndexMap<String, Text> {
    let mut out = IndexMap::new();
    let Some(map) = section.and_then(Node::as_map) else {
        return out;
    };
    for (name, o) in map.iter() {
        let Some(v) = o.get("Value") else { continue };
        let Some(resolved) = ctx.resolve(v) else {
            continue;
        };
        let text = match resolved.scalar_text() {
            Some(s) if !contains_intrinsic(&resolved) => Text::Known(s),
            _ => Text::Unresolved(Unresolved(resolved.to_json())),
        };
        out.insert(name.to_string(), text);
    }
    out
}

/// The template's root mapping and its Resources; `None` (with the error in `diags`) when
/// there is no model to build.
fn root_and_resources<'s>(src: &'s Source, diags: &mut Diagnostics) -> Option<(&'s Map, &'s Map)> {
    let Some(root) = src.root.as_map() else {
        diags.push(Diagnostic::error(
            src.location(src.root.pos),
            "a template must be a mapping with a Resources section",
        ));
        return None;
    };
    let Some(resources_map) = root.get("Resources").and_then(Node::as_map) else {
        let pos = root.get("Resources").map_or(src.root.pos, |n| n.pos);
        diags.push(
            Diagnostic::error(src.location(pos), "the template has no Resources mapping")
                .with_hint("every CloudFormation template needs a Resources section with at least one resource"),
        );
        return None;
    };
    Some((root, resources_map))
}

/// Every declared resource with its logical id as `Ref` value (phase 1 of the resolution).
fn logical_id_refs(resources_map: &Map) -> IndexMap<String, ResourceInfo> {
    resources_map
        .iter()
        .map(|(id, r)| {
            let rtype = r
                .get("Type")
                .and_then(Node::as_str)
                .unwrap_or_default()
                .to_string();
            (
                id.to_string(),
                ResourceInfo {
                    resource_type: rtype,
                    ref_value: id.to_string(),
                    ..ResourceInfo::default()
                },
            )
        })
        .collect()
}

/// The resources whose Condition is not false, in template order. A resource removed by its
/// Condition leaves `infos` too, so `Ref` to it is an error; a malformed one is reported.
fn surviving_resources<'a>(
    src: &Source,
    resources_map: &'a Map,
    phase1: &Resolver<'_>,
    infos: &mut IndexMap<String, ResourceInfo>,
    diags: &mut Diagnostics,
) -> Vec<RawResource<'a>> {
    let mut raw = Vec::new();
    for (id, r) in resources_map.iter() {
        let Some(rmap) = r.as_map() else {
            diags.push(Diagnostic::error(
                src.location(r.pos),
                format!("resource {id} must be a mapping with Type and Properties"),
            ));
            continue;
        };
        let Some(rtype) = rmap.get("Type").and_then(Node::as_str) else {
            diags.push(
                Diagnostic::error(src.location(r.pos), format!("resource {id} has no Type"))
                    .with_hint(
                        "add Type: AWS::Serverless::Function (or the resource type you mean)",
                    ),
            );
            continue;
        };
        let condition = match rmap.get("Condition") {
            None => Some(true),
            Some(c) => match c.as_str() {
                Some(name) => phase1.condition(name, c.pos),
                None => {
                    diags.push(Diagnostic::error(
                        src.location(c.pos),
                        "Condition must name a condition of the Conditions section",
                    ));
                    None
                }
            },
        };
        if condition == Some(false) {
            infos.shift_remove(id);
            continue;
        }
        raw.push(RawResource {
            id: id.to_string(),
            rtype: rtype.to_string(),
            node: r,
            key_pos: resources_map.key_pos(id).unwrap_or(r.pos),
        });
    }
    raw
}

/// The model: functions, layers, buckets, APIs and routes, S3 bindings, then the limits.
fn read_app(ctx: &mut Ctx<'_>, mut app: App) -> App {
    app.functions = functions::read_functions(ctx);
    app.layers = functions::read_layers(ctx);
    app.buckets = buckets::read_buckets(ctx);
    let (apis, routes) = apis::read_apis(ctx, &app.functions);
    // SAM's implicit API replaces a resource that already uses its name.
    for api in apis.iter().filter(|a| a.implicit) {
        app.functions.retain(|f| f.logical_id != api.logical_id);
    }
    app.apis = apis;
    app.routes = routes;
    app.mock_methods = apis::mock_methods(ctx);
    app.s3_bindings = buckets::s3_bindings(ctx, &app.functions);
    app.resources = ctx
        .resources
        .iter()
        .map(|r| ResourceSummary {
            logical_id: r.id.clone(),
            resource_type: r.rtype.clone(),
            location: ctx.loc(r.key_pos),
            last_line: last_line(r.node) as usize,
        })
        .collect();
    limits::check(ctx, &app);
    app
}

/// The last line any part of `n` is written on.
fn last_line(n: &Node) -> u32 {
    let inner = match &n.value {
        Value::Seq(items) => items.iter().map(last_line).max(),
        Value::Map(m) => m.iter().map(|(_, v)| last_line(v)).max(),
        _ => None,
    };
    inner.unwrap_or(0).max(n.pos.line)
}

fn dedupe(diags: &mut Diagnostics) {
    let mut seen = HashSet::new();
    diags
        .0
        .retain(|d| seen.insert((d.location.line, d.location.column, d.message.clone())));
    // In file order, as a reader goes through the template.
    diags
        .0
        .sort_by_key(|d| (d.location.line, d.location.column));
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

const TOP_LEVEL: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Globals",
    "Resources",
    "Outputs",
    "Hooks",
];

fn check_top_level(src: &Source, root: &Map, diags: &mut Diagnostics) {
    for key in root.keys() {
        if !TOP_LEVEL.contains(&key) {
            let pos = root.key_pos(key).unwrap_or_default();
            diags.push(
                Diagnostic::error(
                    src.location(pos),
                    format!("unknown top-level section {key:?}"),
                )
                .with_hint(format!("valid sections: {}", TOP_LEVEL.join(", "))),
            );
        }
    }
    if let Some(v) = root.get("AWSTemplateFormatVersion") {
        if v.scalar_text().as_deref() != Some("2010-09-09") {
            diags.push(Diagnostic::error(
                src.location(v.pos),
                "AWSTemplateFormatVersion must be \"2010-09-09\"",
            ));
        }
    }
}

/// Parameter values: override, else Default; checked against AllowedValues and Type.
fn parameters(
    src: &Source,
    section: Option<&Node>,
    overrides: &IndexMap<String, String>,
    diags: &mut Diagnostics,
) -> IndexMap<String, ParamValue> {
    let mut out = IndexMap::new();
    let Some(section) = section else {
        return out;
    };
    let Some(map) = section.as_map() else {
        diags.push(Diagnostic::error(
            src.location(section.pos),
            "Parameters must be a mapping",
        ));
        return out;
    };
    for (name, def) in map.iter() {
        let pos = map.key_pos(name).unwrap_or(def.pos);
        let ptype = def
            .get("Type")
            .and_then(Node::as_str)
            .unwrap_or("String")
            .to_string();
        let given = overrides
            .get(name)
            .map(|v| (v.clone(), def.pos))
            .or_else(|| {
                def.get("Default").and_then(|d| {
                    d.scalar_text()
                        .map(|t| (t, d.pos))
                        .or_else(|| list_text(d).map(|t| (t, d.pos)))
                })
            });
        let Some((text, vpos)) = given else {
            if def.get("Type").is_none() {
                diags.push(Diagnostic::error(
                    src.location(pos),
                    format!("parameter {name} has no Type"),
                ));
            }
            if is_cdk_asset_parameter(name) {
                // The legacy CDK synthesizer's asset parameters name the S3 location the CLI
                // uploads to; locally the code is read from the resource's asset metadata.
                diags.push(Diagnostic::warning(
                    src.location(pos),
                    format!("parameter {name} has no value: it is a CDK asset parameter, used only to deploy; ssam reads the asset from its aws:asset:path"),
                ));
            } else {
                diags.push(
                    Diagnostic::error(
                        src.location(pos),
                        format!("parameter {name} has no Default and no value was given"),
                    )
                    .with_hint(format!(
                        "pass --parameter-overrides {name}=VALUE or add a Default"
                    )),
                );
            }
            out.insert(name.to_string(), ParamValue::Unknown);
            continue;
        };
        if let Some(allowed) = def.get("AllowedValues").and_then(Node::as_seq) {
            let ok = allowed
                .iter()
                .any(|a| a.scalar_text().as_deref() == Some(text.as_str()));
            if !ok && !allowed.is_empty() {
                let list: Vec<String> = allowed.iter().filter_map(Node::scalar_text).collect();
                diags.push(
                    Diagnostic::error(
                        src.location(vpos),
                        format!(
                            "parameter {name} is {text:?}, which is not one of its AllowedValues"
                        ),
                    )
                    .with_hint(format!("use one of: {}", list.join(", "))),
                );
            }
        }
        if ptype == "Number" && text.trim().parse::<f64>().is_err() {
            diags.push(Diagnostic::error(
                src.location(vpos),
                format!("parameter {name} is a Number but its value {text:?} is not a number"),
            ));
        }
        let node = if ptype == "CommaDelimitedList" || ptype.starts_with("List<") {
            Node::new(
                Value::Seq(
                    text.split(',')
                        .map(|p| Node::string(p.trim(), vpos))
                        .collect(),
                ),
                vpos,
            )
        } else {
            Node::string(text, vpos)
        };
        out.insert(name.to_string(), ParamValue::Known(node));
    }
    out
}

/// `AssetParameters<sha256>S3Bucket<hash>` (and `S3VersionKey`, `ArtifactHash`): what CDK's
/// legacy stack synthesizer declares for each asset, filled in by `cdk deploy`.
fn is_cdk_asset_parameter(name: &str) -> bool {
    name.strip_prefix("AssetParameters").is_some_and(|rest| {
        rest.len() > 64
            && rest.as_bytes()[..64].iter().all(u8::is_ascii_hexdigit)
            && ["S3Bucket", "S3VersionKey", "ArtifactHash"]
                .iter()
                .any(|k| rest[64..].starts_with(k))
    })
}

fn list_text(n: &Node) -> Option<String> {
    let items = n.as_seq()?;
    let parts: Option<Vec<String>> = items.iter().map(Node::scalar_text).collect();
    parts.map(|p| p.join(","))
}

/// What `Ref` of a resource yields locally: bucket and function names, else the logical id.
fn ref_name(r1: &Resolver<'_>, r: &RawResource<'_>, stack: &str) -> Option<String> {
    let props = r.properties();
    let prop = |k: &str| {
        props
            .and_then(|p| p.get(k))
            .and_then(|n| r1.resolve(n))
            .filter(|n| !contains_intrinsic(n))
            .and_then(|n| n.scalar_text())
    };
    match r.rtype.as_str() {
        "AWS::S3::Bucket" => {
            Some(prop("BucketName").unwrap_or_else(|| generated_bucket_name(stack, &r.id)))
        }
        "AWS::Serverless::Function" | "AWS::Lambda::Function" => prop("FunctionName"),
        "AWS::SQS::Queue" => prop("QueueName")
            .map(|q| format!("https://sqs.us-east-1.amazonaws.com/123456789012/{q}")),
        "AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable" => prop("TableName"),
        _ => None,
    }
}

/// Resources SAM generates (roles, implicit APIs, stages) so `Ref`/`GetAtt` to them is known.
fn add_implicit_resources(raw: &[RawResource<'_>], infos: &mut IndexMap<String, ResourceInfo>) {
    let mut add = |id: String, t: &str| {
        infos.entry(id.clone()).or_insert(ResourceInfo {
            resource_type: t.to_string(),
            ref_value: id,
            ..ResourceInfo::default()
        });
    };
    let mut rest = false;
    let mut http = false;
    for r in raw {
        match r.rtype.as_str() {
            "AWS::Serverless::Function" => {
                add(format!("{}Role", r.id), "AWS::IAM::Role");
                let alias = r
                    .properties()
                    .and_then(|p| p.get("AutoPublishAlias"))
                    .and_then(Node::scalar_text);
                if let Some(alias) = alias {
                    add(format!("{}Alias{alias}", r.id), "AWS::Lambda::Alias");
                }
                if r.properties()
                    .and_then(|p| p.get("FunctionUrlConfig"))
                    .is_some()
                {
                    add(format!("{}Url", r.id), "AWS::Lambda::Url");
                }
                if let Some(events) = r
                    .properties()
                    .and_then(|p| p.get("Events"))
                    .and_then(Node::as_map)
                {
                    for (_, e) in events.iter() {
                        match e.get("Type").and_then(Node::as_str) {
                            Some("Api") => rest = true,
                            Some("HttpApi") => http = true,
                            _ => {}
                        }
                    }
                }
            }
            "AWS::Serverless::StateMachine" => add(format!("{}Role", r.id), "AWS::IAM::Role"),
            "AWS::Serverless::Api" => {
                let stage = r
                    .properties()
                    .and_then(|p| p.get("StageName"))
                    .and_then(Node::scalar_text)
                    .unwrap_or_else(|| "Prod".into());
                add(format!("{}{stage}Stage", r.id), "AWS::ApiGateway::Stage");
                add(format!("{}Deployment", r.id), "AWS::ApiGateway::Deployment");
            }
            "AWS::Serverless::HttpApi" => {
                add(
                    format!("{}ApiGatewayDefaultStage", r.id),
                    "AWS::ApiGatewayV2::Stage",
                );
            }
            "AWS::Serverless::SimpleTable" | "AWS::Serverless::LayerVersion" => {}
            _ => {}
        }
    }
    if rest {
        add(IMPLICIT_REST_API.into(), "AWS::ApiGateway::RestApi");
        add(
            format!("{IMPLICIT_REST_API}ProdStage"),
            "AWS::ApiGateway::Stage",
        );
    }
    if http {
        add(IMPLICIT_HTTP_API.into(), "AWS::ApiGatewayV2::Api");
        add(
            format!("{IMPLICIT_HTTP_API}ApiGatewayDefaultStage"),
            "AWS::ApiGatewayV2::Stage",
        );
    }
}

#[cfg(test)]
mod tests;
