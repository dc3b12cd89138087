//! Functions and layers: `AWS::Serverless::Function` (after Globals), `AWS::Lambda::Function`,
//! their code location, configuration and typed event sources.

use std::path::Path;

use indexmap::IndexMap;

use super::assets::{staged_asset_name, CdkAsset};
use super::{Ctx, FUNCTION_EVENT_TYPES, IMPLICIT_HTTP_API, IMPLICIT_REST_API};
use crate::model::*;
use crate::node::{Node, Value};

pub(crate) fn read_functions(ctx: &mut Ctx<'_>) -> Vec<Function> {
    let mut out = Vec::new();
    for (id, rtype, node) in
        ctx.resources_of(&["AWS::Serverless::Function", "AWS::Lambda::Function"])
    {
        let raw = ctx.merged_properties(&rtype, node);
        if raw.as_map().is_none() {
            ctx.error(raw.pos, format!("{id}: Properties must be a mapping"));
            continue;
        }
        let resolved = ctx.resolve(&raw).unwrap_or_else(|| raw.clone());
        let f = if rtype == "AWS::Serverless::Function" {
            serverless_function(ctx, &id, node, &raw, &resolved)
        } else {
            lambda_function(ctx, &id, node, &resolved)
        };
        out.push(f);
    }
    out
}

fn text(n: &Node) -> Text {
    match n.scalar_text() {
        Some(s) if n.intrinsic().is_none() => Text::Known(s),
        _ => Text::Unresolved(Unresolved(n.to_json())),
    }
}

/// A scalar property as a string (intrinsics rendered as JSON, so they stay visible).
fn string_prop(props: &Node, key: &str) -> Option<String> {
    props.get(key).map(|n| text(n).display())
}

fn u32_prop(ctx: &mut Ctx<'_>, props: &Node, key: &str, id: &str) -> Option<u32> {
    let n = props.get(key)?;
    if n.intrinsic().is_some() {
        return None;
    }
    let t = n.scalar_text()?;
    match t.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 && v <= f64::from(u32::MAX) && v.fract() == 0.0 => Some(v as u32),
        _ => {
            ctx.error(
                n.pos,
                format!("{id}: {key} must be a whole number, not {t:?}"),
            );
            None
        }
    }
}

fn string_list(n: Option<&Node>) -> Vec<String> {
    match n.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().map(|i| text(i).display()).collect(),
        Some(_) => n.map(|n| vec![text(n).display()]).unwrap_or_default(),
        None => Vec::new(),
    }
}

fn environment(props: &Node) -> IndexMap<String, Text> {
    let mut env = IndexMap::new();
    if let Some(vars) = props
        .get("Environment")
        .and_then(|e| e.get("Variables"))
        .and_then(Node::as_map)
    {
        for (k, v) in vars.iter() {
            env.insert(k.to_string(), text(v));
        }
    }
    env
}

fn layers(props: &Node) -> Vec<Text> {
    props
        .get("Layers")
        .and_then(Node::as_seq)
        .map(|items| items.iter().map(text).collect())
        .unwrap_or_default()
}

fn architectures(props: &Node) -> Vec<String> {
    let a = string_list(props.get("Architectures"));
    if a.is_empty() {
        vec!["x86_64".to_string()]
    } else {
        a
    }
}

/// A local path or `s3://` URI as written in CodeUri / ContentUri / Code.
fn code_from_string(base: &Path, s: &str) -> Code {
    if let Some(rest) = s.strip_prefix("s3://") {
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        return Code::S3 {
            bucket: Text::Known(bucket.to_string()),
            key: Text::Known(key.to_string()),
            version: None,
        };
    }
    let path = base.join(s);
    let lower = s.to_ascii_lowercase();
    if lower.ends_with(".zip") || lower.ends_with(".jar") {
        Code::Archive {
            path,
            as_written: s.to_string(),
        }
    } else {
        Code::Dir {
            path,
            as_written: s.to_string(),
        }
    }
}

fn code_from_s3_map(n: &Node, bucket_key: &str, key_key: &str, version_key: &str) -> Code {
    Code::S3 {
        bucket: n.get(bucket_key).map_or(Text::Known(String::new()), text),
        key: n.get(key_key).map_or(Text::Known(String::new()), text),
        version: n.get(version_key).map(text),
    }
}

fn serverless_function(
    ctx: &mut Ctx<'_>,
    id: &str,
    node: &Node,
    raw: &Node,
    props: &Node,
) -> Function {
    let mut package_type = serverless_package_type(ctx, id, node, props);
    let asset = CdkAsset::of(node).filter(|a| a.replaces("CodeUri") || a.replaces("ImageUri"));
    let mut code = match &asset {
        Some(a) => asset_code(ctx, a),
        None => serverless_code(ctx, id, props, package_type),
    };
    let metadata = node.get("Metadata").and_then(|m| ctx.resolve(m));
    let meta_str = |k: &str| {
        metadata
            .as_ref()
            .and_then(|m| m.get(k))
            .and_then(Node::scalar_text)
    };
    let mut image_build = match package_type {
        PackageType::Image => metadata.as_ref().and_then(|m| image_build(ctx, m)),
        PackageType::Zip => None,
    };
    if let Some(built) = asset.as_ref().and_then(|a| asset_image(ctx, a)) {
        package_type = PackageType::Image;
        code = Code::Image { uri: None };
        image_build = Some(built);
    }
    let events = read_events(ctx, id, raw, props);
    let Sizing {
        memory_size,
        timeout,
        reserved_concurrency,
    } = sizing(ctx, id, props);
    Function {
        logical_id: id.to_string(),
        function_name: props.get("FunctionName").map(text),
        resource_type: "AWS::Serverless::Function".into(),
        package_type,
        runtime: string_prop(props, "Runtime"),
        handler: string_prop(props, "Handler"),
        code,
        image_build,
        image_config: image_config(props),
        build_method: meta_str("BuildMethod"),
        memory_size,
        timeout,
        architectures: architectures(props),
        environment: environment(props),
        layers: layers(props),
        reserved_concurrency,
        ephemeral_storage_mb: props
            .get("EphemeralStorage")
            .and_then(|e| e.get("Size"))
            .and_then(Node::scalar_text)
            .and_then(|s| s.parse().ok()),
        tracing: string_prop(props, "Tracing"),
        description: string_prop(props, "Description"),
        events,
        event_invoke_config: event_invoke_config(props),
        function_url: function_url(props),
        location: ctx.loc(ctx.key_pos(id)),
    }
}

fn serverless_package_type(ctx: &mut Ctx<'_>, id: &str, node: &Node, props: &Node) -> PackageType {
    match props.get("PackageType").and_then(Node::as_str) {
        Some("Image") => PackageType::Image,
        Some("Zip") | None => PackageType::Zip,
        Some(other) => {
            let pos = props.get("PackageType").map_or(node.pos, |n| n.pos);
            ctx.error(
                pos,
                format!("{id}: PackageType must be Zip or Image, not {other:?}"),
            );
            PackageType::Zip
        }
    }
}

/// `ImageUri` for Image functions; else `InlineCode`, else `CodeUri` ("." when absent).
fn serverless_code(ctx: &mut Ctx<'_>, id: &str, props: &Node, package_type: PackageType) -> Code {
    if package_type == PackageType::Image {
        return Code::Image {
            uri: props.get("ImageUri").map(text),
        };
    }
    if let Some(inline) = props.get("InlineCode") {
        return Code::Inline {
            source: inline.scalar_text().unwrap_or_default(),
        };
    }
    match props.get("CodeUri") {
        None => Code::Dir {
            path: ctx.base_dir.clone(),
            as_written: ".".to_string(),
        },
        Some(n) if n.intrinsic().is_some() => Code::Unresolved {
            value: Unresolved(n.to_json()),
        },
        Some(n) if n.as_map().is_some() => code_from_s3_map(n, "Bucket", "Key", "Version"),
        Some(n) => match n.scalar_text() {
            Some(s) => code_from_string(&ctx.base_dir, &s),
            None => {
                ctx.error(
                    n.pos,
                    format!("{id}: CodeUri must be a path, an s3:// URI or {{Bucket, Key}}"),
                );
                Code::Unresolved {
                    value: Unresolved(n.to_json()),
                }
            }
        },
    }
}

/// How an Image function is built, from its resolved `Metadata`: only when it names a
/// `Dockerfile` or a `DockerContext`.
fn image_build(ctx: &Ctx<'_>, metadata: &Node) -> Option<ImageBuild> {
    let meta_str = |k: &str| metadata.get(k).and_then(Node::scalar_text);
    if meta_str("Dockerfile").is_none() && meta_str("DockerContext").is_none() {
        return None;
    }
    let context = meta_str("DockerContext").unwrap_or_else(|| ".".to_string());
    let mut build_args = IndexMap::new();
    if let Some(args) = metadata.get("DockerBuildArgs").and_then(Node::as_map) {
        for (k, v) in args.iter() {
            build_args.insert(k.to_string(), text(v).display());
        }
    }
    Some(ImageBuild {
        dockerfile: meta_str("Dockerfile").unwrap_or_else(|| "Dockerfile".to_string()),
        docker_context: ctx.base_dir.join(context),
        docker_tag: meta_str("DockerTag"),
        build_args,
        build_target: meta_str("DockerBuildTarget"),
    })
}

fn image_config(props: &Node) -> Option<ImageConfig> {
    props.get("ImageConfig").map(|c| ImageConfig {
        command: c.get("Command").map(|n| string_list(Some(n))),
        entry_point: c.get("EntryPoint").map(|n| string_list(Some(n))),
        working_directory: c.get("WorkingDirectory").and_then(Node::scalar_text),
    })
}

/// The numbers every function type shares, with Lambda's defaults (128 MB, 3 s).
struct Sizing {
    memory_size: u32,
    timeout: u32,
    reserved_concurrency: Option<u32>,
}

fn sizing(ctx: &mut Ctx<'_>, id: &str, props: &Node) -> Sizing {
    Sizing {
        memory_size: u32_prop(ctx, props, "MemorySize", id).unwrap_or(128),
        timeout: u32_prop(ctx, props, "Timeout", id).unwrap_or(3),
        reserved_concurrency: u32_prop(ctx, props, "ReservedConcurrentExecutions", id),
    }
}

fn event_invoke_config(props: &Node) -> Option<EventInvokeConfig> {
    props.get("EventInvokeConfig").map(|c| EventInvokeConfig {
        maximum_retry_attempts: c
            .get("MaximumRetryAttempts")
            .and_then(Node::scalar_text)
            .and_then(|s| s.parse().ok()),
        maximum_event_age_in_seconds: c
            .get("MaximumEventAgeInSeconds")
            .and_then(Node::scalar_text)
            .and_then(|s| s.parse().ok()),
    })
}

fn function_url(props: &Node) -> Option<FunctionUrl> {
    props.get("FunctionUrlConfig").map(|c| FunctionUrl {
        auth_type: string_prop(c, "AuthType").unwrap_or_else(|| "NONE".into()),
        invoke_mode: string_prop(c, "InvokeMode").unwrap_or_else(|| "BUFFERED".into()),
        cors: c.get("Cors").map(super::apis::http_cors),
    })
}

/// The code of a CDK asset: the directory (or archive) `cdk synth` staged, relative to the
/// template's directory.
fn asset_code(ctx: &Ctx<'_>, asset: &CdkAsset) -> Code {
    if asset.docker.is_some() {
        return Code::Image { uri: None };
    }
    code_from_string(&ctx.base_dir, &asset.path)
}

/// How a CDK Docker image asset is built: the staged directory is the context.
fn asset_image(ctx: &Ctx<'_>, asset: &CdkAsset) -> Option<ImageBuild> {
    let docker = asset.docker.as_ref()?;
    Some(ImageBuild {
        dockerfile: docker.dockerfile.clone(),
        docker_context: ctx.base_dir.join(&asset.path),
        docker_tag: None,
        build_args: docker.build_args.clone(),
        build_target: docker.build_target.clone(),
    })
}

/// CDK's staged copy of an S3 asset (`asset.<hash>` beside the template) when the template
/// carries no asset metadata; the S3 location otherwise.
fn staged_or_s3(ctx: &Ctx<'_>, code: Code) -> Code {
    if let Code::S3 {
        key: Text::Known(key),
        ..
    } = &code
    {
        if let Some(name) = staged_asset_name(key) {
            let dir = ctx.base_dir.join(&name);
            if dir.is_dir() {
                return Code::Dir {
                    path: dir,
                    as_written: name,
                };
            }
        }
    }
    code
}

fn lambda_function(ctx: &mut Ctx<'_>, id: &str, node: &Node, props: &Node) -> Function {
    let mut package_type = match props.get("PackageType").and_then(Node::as_str) {
        Some("Image") => PackageType::Image,
        _ => PackageType::Zip,
    };
    let asset = CdkAsset::of(node).filter(|a| a.replaces("Code"));
    let image_build = asset.as_ref().and_then(|a| asset_image(ctx, a));
    if image_build.is_some() {
        package_type = PackageType::Image;
    }
    let code_node = props.get("Code");
    let code = match (&asset, code_node) {
        (Some(a), _) => asset_code(ctx, a),
        (None, Some(c)) if c.get("ImageUri").is_some() || package_type == PackageType::Image => {
            Code::Image {
                uri: c.get("ImageUri").map(text),
            }
        }
        (None, Some(c)) if c.get("ZipFile").is_some() => Code::Inline {
            source: c
                .get("ZipFile")
                .and_then(Node::scalar_text)
                .unwrap_or_default(),
        },
        (None, Some(c)) if c.get("S3Bucket").is_some() => staged_or_s3(
            ctx,
            code_from_s3_map(c, "S3Bucket", "S3Key", "S3ObjectVersion"),
        ),
        (None, Some(c)) if c.intrinsic().is_some() => Code::Unresolved {
            value: Unresolved(c.to_json()),
        },
        (None, Some(c)) => match c.scalar_text() {
            Some(s) => code_from_string(&ctx.base_dir, &s),
            None => Code::Unresolved {
                value: Unresolved(c.to_json()),
            },
        },
        (None, None) => {
            ctx.error(node.pos, format!("{id}: AWS::Lambda::Function needs Code"));
            Code::Dir {
                path: ctx.base_dir.clone(),
                as_written: ".".into(),
            }
        }
    };
    let Sizing {
        memory_size,
        timeout,
        reserved_concurrency,
    } = sizing(ctx, id, props);
    Function {
        logical_id: id.to_string(),
        function_name: props.get("FunctionName").map(text),
        resource_type: "AWS::Lambda::Function".into(),
        package_type,
        runtime: string_prop(props, "Runtime"),
        handler: string_prop(props, "Handler"),
        code,
        image_build,
        image_config: image_config(props),
        build_method: None,
        memory_size,
        timeout,
        architectures: architectures(props),
        environment: environment(props),
        layers: layers(props),
        reserved_concurrency,
        ephemeral_storage_mb: None,
        tracing: None,
        description: string_prop(props, "Description"),
        events: Vec::new(),
        event_invoke_config: None,
        function_url: None,
        location: ctx.loc(ctx.key_pos(id)),
    }
}

/// `Events` of a serverless function. `raw` is before intrinsic resolution: S3 events need
/// the bucket's logical id from `!Ref`, not the bucket name it resolves to.
fn read_events(ctx: &mut Ctx<'_>, id: &str, raw: &Node, props: &Node) -> Vec<Event> {
    let mut out = Vec::new();
    let Some(events) = props.get("Events") else {
        return out;
    };
    let Some(events) = events.as_map() else {
        ctx.error(
            events.pos,
            format!("{id}: Events must be a mapping of event names to events"),
        );
        return out;
    };
    let raw_events = raw.get("Events").and_then(|e| e.as_map());
    for (name, ev) in events.iter() {
        let Some(etype) = ev.get("Type").and_then(Node::as_str) else {
            ctx.error(ev.pos, format!("{id}: event {name} has no Type"));
            continue;
        };
        if !FUNCTION_EVENT_TYPES.contains(&etype) {
            let pos = ev.get("Type").map_or(ev.pos, |n| n.pos);
            ctx.error_hint(
                pos,
                format!("{id}: event {name} has unknown type {etype:?}"),
                format!("SAM event types are {}", FUNCTION_EVENT_TYPES.join(", ")),
            );
            continue;
        }
        let empty = Node::new(Value::Map(Default::default()), ev.pos);
        let p = ev.get("Properties").unwrap_or(&empty);
        let raw_p = raw_events
            .and_then(|m| m.get(name))
            .and_then(|e| e.get("Properties"));
        let Some(source) = event_source(ctx, id, name, etype, p, raw_p) else {
            continue;
        };
        out.push(Event {
            name: name.to_string(),
            event_type: etype.to_string(),
            source,
            location: ctx.loc(ev.pos),
        });
    }
    out
}

/// The typed source of one event of a known SAM type; `None` when the event cannot be used
/// (an S3 event whose bucket is not a bucket of the template).
fn event_source(
    ctx: &mut Ctx<'_>,
    id: &str,
    name: &str,
    etype: &str,
    p: &Node,
    raw_p: Option<&Node>,
) -> Option<EventSource> {
    // A missing required property reads as empty (SAM reports it; the event is still listed).
    let required = |key: &str| p.get(key).map_or(Text::Known(String::new()), text);
    let number = |key: &str| {
        p.get(key)
            .and_then(Node::scalar_text)
            .and_then(|s| s.parse().ok())
    };
    Some(match etype {
        "Api" => EventSource::Api(api_event(p, raw_p, IMPLICIT_REST_API)),
        "HttpApi" => EventSource::HttpApi(api_event(p, raw_p, IMPLICIT_HTTP_API)),
        "S3" => EventSource::S3(s3_event(ctx, id, name, p, raw_p)?),
        "SQS" => EventSource::Sqs {
            queue: required("Queue"),
            batch_size: number("BatchSize"),
        },
        "SNS" => EventSource::Sns {
            topic: required("Topic"),
        },
        "Schedule" => EventSource::Schedule {
            schedule: required("Schedule"),
            input: p.get("Input").and_then(Node::scalar_text),
            enabled: p
                .get("Enabled")
                .map(|e| !matches!(e.value, Value::Bool(false)))
                .unwrap_or(true),
        },
        "ScheduleV2" => EventSource::ScheduleV2 {
            schedule: required("ScheduleExpression"),
            input: p.get("Input").and_then(Node::scalar_text),
        },
        "EventBridgeRule" | "CloudWatchEvent" => EventSource::EventBridgeRule {
            pattern: p.get("Pattern").map(Node::to_json),
            event_bus: p.get("EventBusName").map(text),
        },
        "DynamoDB" => EventSource::DynamoDb {
            stream: required("Stream"),
            starting_position: p.get("StartingPosition").and_then(Node::scalar_text),
            batch_size: number("BatchSize"),
        },
        "Kinesis" => EventSource::Kinesis {
            stream: required("Stream"),
            starting_position: p.get("StartingPosition").and_then(Node::scalar_text),
            batch_size: number("BatchSize"),
        },
        _ => EventSource::Other {
            properties: p.to_json(),
        },
    })
}

fn api_event(p: &Node, raw_p: Option<&Node>, implicit: &str) -> ApiEvent {
    let api_key = if implicit == IMPLICIT_REST_API {
        "RestApiId"
    } else {
        "ApiId"
    };
    // Whether the API is referenced with `!Ref` is only visible before resolution.
    let (api, api_is_ref) = match raw_p.and_then(|r| r.get(api_key)) {
        None => (implicit.to_string(), true),
        Some(n) => match n.intrinsic() {
            Some(("Ref", target)) => (target.scalar_text().unwrap_or_default(), true),
            Some(_) => (
                p.get(api_key)
                    .map(|r| text(r).display())
                    .unwrap_or_default(),
                true,
            ),
            None => (text(n).display(), false),
        },
    };
    let path = p.get("Path").and_then(Node::scalar_text);
    let method = p.get("Method").and_then(Node::scalar_text);
    let (path, method) = match (path, method) {
        (None, None) if implicit == IMPLICIT_HTTP_API => {
            ("$default".to_string(), "ANY".to_string())
        }
        (p, m) => (
            p.unwrap_or_else(|| "/".to_string()),
            m.unwrap_or_else(|| "ANY".to_string()),
        ),
    };
    let method = normalize_method(&method);
    let authorizer = p
        .get("Auth")
        .and_then(|a| a.get("Authorizer"))
        .and_then(Node::scalar_text);
    ApiEvent {
        api,
        api_is_ref,
        method,
        path,
        payload_format_version: p.get("PayloadFormatVersion").and_then(Node::scalar_text),
        authorizer,
        authorization_scopes: p
            .get("Auth")
            .and_then(|a| a.get("AuthorizationScopes"))
            .and_then(Node::as_seq)
            .map(|s| s.iter().filter_map(Node::scalar_text).collect())
            .unwrap_or_default(),
        timeout_ms: p
            .get("TimeoutInMillis")
            .and_then(Node::scalar_text)
            .and_then(|s| s.parse().ok()),
    }
}

/// `get` → `GET`; `any` and `x-amazon-apigateway-any-method` → `ANY`.
pub(crate) fn normalize_method(m: &str) -> String {
    let up = m.to_ascii_uppercase();
    if up == "X-AMAZON-APIGATEWAY-ANY-METHOD" || up == "*" {
        "ANY".to_string()
    } else {
        up
    }
}

fn s3_event(
    ctx: &mut Ctx<'_>,
    id: &str,
    name: &str,
    p: &Node,
    raw_p: Option<&Node>,
) -> Option<S3Event> {
    let raw_bucket = raw_p.and_then(|r| r.get("Bucket"));
    let bucket = match raw_bucket.and_then(Node::intrinsic) {
        Some(("Ref", target)) => target.scalar_text(),
        _ => None,
    };
    let Some(bucket) = bucket else {
        let pos = raw_bucket.or(p.get("Bucket")).map_or(p.pos, |n| n.pos);
        ctx.error_hint(
            pos,
            format!("{id}: S3 event {name} must reference a bucket of this template with !Ref"),
            "write Bucket: !Ref MyBucket, where MyBucket is an AWS::S3::Bucket resource (S3 event sources cannot use buckets outside the template)",
        );
        return None;
    };
    if ctx
        .resource_type(&bucket)
        .is_some_and(|t| t != "AWS::S3::Bucket")
    {
        let pos = raw_bucket.map_or(p.pos, |n| n.pos);
        ctx.error(
            pos,
            format!("{id}: S3 event {name}: {bucket} is not an AWS::S3::Bucket"),
        );
    }
    let mut events = string_list(p.get("Events"));
    events.sort();
    let filter_rules = p.get("Filter").map(filter_rules).unwrap_or_default();
    Some(S3Event {
        bucket,
        events,
        filter_rules,
    })
}

/// `Filter: {S3Key: {Rules: [{Name: prefix, Value: x}]}}` → sorted rules, names lower case.
pub(crate) fn filter_rules(filter: &Node) -> Vec<FilterRule> {
    let mut rules: Vec<FilterRule> = filter
        .get("S3Key")
        .and_then(|k| k.get("Rules"))
        .and_then(Node::as_seq)
        .map(|items| {
            items
                .iter()
                .filter_map(|r| {
                    Some(FilterRule {
                        name: r.get("Name")?.scalar_text()?.to_ascii_lowercase(),
                        value: r
                            .get("Value")
                            .map(|v| text(v).display())
                            .unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    rules.sort();
    rules
}

/// The logical id of the template function a value points at: `!Ref F`, `!GetAtt F.Arn`,
/// `${F.Arn}` inside a `Fn::Sub`, or an ARN string ending in `:function:NAME[:qualifier]`.
pub(crate) fn function_target(n: &Node, functions: &[Function]) -> Option<String> {
    let by_id = |s: &str| {
        functions
            .iter()
            .find(|f| f.logical_id == s)
            .map(|f| f.logical_id.clone())
    };
    match &n.value {
        Value::String(s) => {
            // ${F.Arn}, ${F.Alias}, ${F} in a Sub template
            let mut rest = s.as_str();
            while let Some(start) = rest.find("${") {
                let after = &rest[start + 2..];
                let Some(end) = after.find('}') else { break };
                let var = &after[..end];
                let res = var.split('.').next().unwrap_or(var);
                if let Some(f) = by_id(res) {
                    return Some(f);
                }
                rest = &after[end + 1..];
            }
            if let Some(i) = s.find(":function:") {
                let tail = &s[i + ":function:".len()..];
                let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
                let name: String = tail.chars().take_while(|c| is_name(*c)).collect();
                let found = functions
                    .iter()
                    .find(|f| f.name() == name || f.logical_id == name);
                // A nested stack's function is named `Child/Fn` (`Outer/Inner/Fn`): the ARN
                // its own template computes for it carries that name.
                let nested = || {
                    let segments: Vec<&str> = tail.split('/').collect();
                    (1..segments.len()).find_map(|k| {
                        let last: String =
                            segments[k].chars().take_while(|c| is_name(*c)).collect();
                        let prefix_ok = segments[..k]
                            .iter()
                            .all(|s| !s.is_empty() && s.chars().all(is_name));
                        prefix_ok
                            .then(|| functions.iter().find(|f| f.logical_id == last))
                            .flatten()
                    })
                };
                return found.or_else(nested).map(|f| f.logical_id.clone());
            }
            None
        }
        Value::Map(m) => {
            if let Some((f, arg)) = n.intrinsic() {
                match f {
                    "Ref" => return arg.as_str().and_then(by_id),
                    "Fn::GetAtt" => {
                        let res = match &arg.value {
                            Value::String(s) => s.split('.').next().map(str::to_string),
                            Value::Seq(items) => {
                                items.first().and_then(Node::as_str).map(str::to_string)
                            }
                            _ => None,
                        };
                        return res.as_deref().and_then(by_id);
                    }
                    _ => {}
                }
            }
            m.iter().find_map(|(_, v)| function_target(v, functions))
        }
        Value::Seq(items) => items.iter().find_map(|i| function_target(i, functions)),
        _ => None,
    }
}

pub(crate) fn read_layers(ctx: &mut Ctx<'_>) -> Vec<Layer> {
    let mut out = Vec::new();
    for (id, rtype, node) in
        ctx.resources_of(&["AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"])
    {
        let raw = ctx.merged_properties(&rtype, node);
        let props = ctx.resolve(&raw).unwrap_or(raw);
        let content_node = props.get("ContentUri").or_else(|| props.get("Content"));
        // CDK before 1.28 wrote `Code` as a layer's asset property (aws-sam-cli#1411).
        let asset = CdkAsset::of(node).filter(|a| {
            a.docker.is_none()
                && (a.replaces("Content") || a.replaces("ContentUri") || a.replaces("Code"))
        });
        let content = match (&asset, content_node) {
            (Some(a), _) => asset_code(ctx, a),
            (None, Some(c)) if c.get("S3Bucket").is_some() => staged_or_s3(
                ctx,
                code_from_s3_map(c, "S3Bucket", "S3Key", "S3ObjectVersion"),
            ),
            (None, Some(c)) if c.get("Bucket").is_some() => {
                code_from_s3_map(c, "Bucket", "Key", "Version")
            }
            (None, Some(c)) => match c.scalar_text() {
                Some(s) if c.intrinsic().is_none() => code_from_string(&ctx.base_dir, &s),
                _ => Code::Unresolved {
                    value: Unresolved(c.to_json()),
                },
            },
            (None, None) => Code::Dir {
                path: ctx.base_dir.clone(),
                as_written: ".".into(),
            },
        };
        let build_method = node
            .get("Metadata")
            .and_then(|m| m.get("BuildMethod"))
            .and_then(Node::scalar_text);
        out.push(Layer {
            logical_id: id,
            content,
            compatible_runtimes: string_list(props.get("CompatibleRuntimes")),
            build_method,
        });
    }
    out
}
