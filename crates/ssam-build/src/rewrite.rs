//! The built template, as `sam build` rewrites it (aws-sam-cli `app_builder.py`
//! `_update_built_resource`, `commands/_utils/template.py` `move_template`):
//! - built resources point at their artifacts, relative to the built template's directory
//!   (`CodeUri: FuncA`, `Code: FuncA`, `ContentUri: DepsLayer`), Image functions at their
//!   tag (`ImageUri: imgfunction:v1`, `Code: {ImageUri: ...}`), with `Metadata.SamResourceId`
//!   and `DockerContext` made absolute;
//! - every other local path of the resources SAM knows (`RESOURCES_WITH_LOCAL_PATHS`) is made
//!   relative to the new location; `s3://`, `http(s)://`, absolute paths and intrinsics are
//!   left alone; `Layers:` on functions is never touched.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Map, Value};

/// What a resource was built into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Built {
    /// A directory under the build dir (named after the logical id).
    Dir(String),
    /// An image tag in the local engine.
    Image(String),
    /// A nested stack's built template, relative to the build dir (`Child/template.yaml`).
    Template(String),
}

/// Resource type → the properties that hold local paths (SAM's `RESOURCES_WITH_LOCAL_PATHS`).
const LOCAL_PATHS: &[(&str, &[&str])] = &[
    ("AWS::Serverless::Function", &["CodeUri"]),
    ("AWS::Serverless::Api", &["DefinitionUri"]),
    ("AWS::Serverless::HttpApi", &["DefinitionUri"]),
    ("AWS::Serverless::StateMachine", &["DefinitionUri"]),
    ("AWS::Serverless::GraphQLApi", &["SchemaUri", "CodeUri"]),
    ("AWS::Serverless::LayerVersion", &["ContentUri"]),
    ("AWS::Serverless::Application", &["Location"]),
    ("AWS::Lambda::Function", &["Code"]),
    ("AWS::Lambda::LayerVersion", &["Content"]),
    ("AWS::ApiGateway::RestApi", &["BodyS3Location"]),
    ("AWS::ApiGatewayV2::Api", &["BodyS3Location"]),
    ("AWS::AppSync::GraphQLSchema", &["DefinitionS3Location"]),
    (
        "AWS::AppSync::Resolver",
        &[
            "RequestMappingTemplateS3Location",
            "ResponseMappingTemplateS3Location",
            "CodeS3Location",
        ],
    ),
    (
        "AWS::AppSync::FunctionConfiguration",
        &[
            "RequestMappingTemplateS3Location",
            "ResponseMappingTemplateS3Location",
            "CodeS3Location",
        ],
    ),
    (
        "AWS::StepFunctions::StateMachine",
        &["DefinitionS3Location"],
    ),
    ("AWS::CloudFormation::Stack", &["TemplateURL"]),
    ("AWS::CloudFormation::StackSet", &["TemplateURL"]),
    (
        "AWS::ElasticBeanstalk::ApplicationVersion",
        &["SourceBundle"],
    ),
    ("AWS::CloudFormation::ModuleVersion", &["ModulePackage"]),
    (
        "AWS::CloudFormation::ResourceVersion",
        &["SchemaHandlerPackage"],
    ),
];

/// Rewrites `template` (the source template as JSON, intrinsics in long form) for its new
/// home `build_dir`, given what each resource was built into.
pub fn rewrite(
    template: &Value,
    template_dir: &Path,
    build_dir: &Path,
    built: &HashMap<String, Built>,
) -> Value {
    let mut out = template.clone();
    let moved = |p: &str| relocate(p, template_dir, build_dir);
    if let Some(resources) = out.get_mut("Resources").and_then(Value::as_object_mut) {
        for (id, resource) in resources.iter_mut() {
            let Some(resource) = resource.as_object_mut() else {
                continue;
            };
            let kind = resource
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            match built.get(id) {
                Some(b) => {
                    point_at_artifact(id, &kind, resource, b, template_dir);
                    point_cdk_asset_at_artifact(resource, b);
                }
                None => {
                    relocate_properties(&kind, resource, &moved);
                    if let Some(asset) = resource
                        .get_mut("Metadata")
                        .and_then(|m| m.get_mut("aws:asset:path"))
                    {
                        relocate_value(asset, &moved);
                    }
                }
            }
        }
    }
    // Globals.Function.CodeUri applies to functions that were not built.
    if let Some(code) = out
        .get_mut("Globals")
        .and_then(|g| g.get_mut("Function"))
        .and_then(|f| f.get_mut("CodeUri"))
    {
        relocate_value(code, &moved);
    }
    relocate_includes(&mut out, &moved);
    out
}

/// A built CDK resource: its `aws:asset:path` (which the loader prefers to `Code`) names
/// the artifact, as `sam build` writes it; a built image has no asset left to build.
fn point_cdk_asset_at_artifact(resource: &mut Map<String, Value>, built: &Built) {
    let Some(metadata) = resource.get_mut("Metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if !metadata.contains_key("aws:asset:path") {
        return;
    }
    match built {
        Built::Dir(d) => {
            metadata.insert("aws:asset:path".into(), json!(d));
        }
        Built::Image(_) => metadata.retain(|k, _| !k.starts_with("aws:asset:")),
        Built::Template(t) => {
            metadata.insert("aws:asset:path".into(), json!(t));
        }
    }
}

fn point_at_artifact(
    id: &str,
    kind: &str,
    resource: &mut Map<String, Value>,
    built: &Built,
    template_dir: &Path,
) {
    let props = resource
        .entry("Properties")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(props) = props {
        match (kind, built) {
            ("AWS::Serverless::Function", Built::Dir(d)) => {
                props.insert("CodeUri".into(), json!(d));
            }
            ("AWS::Lambda::Function", Built::Dir(d)) => {
                props.insert("Code".into(), json!(d));
            }
            ("AWS::Serverless::LayerVersion", Built::Dir(d)) => {
                props.insert("ContentUri".into(), json!(d));
            }
            ("AWS::Lambda::LayerVersion", Built::Dir(d)) => {
                props.insert("Content".into(), json!(d));
            }
            ("AWS::Serverless::Function", Built::Image(tag)) => {
                props.insert("ImageUri".into(), json!(tag));
            }
            ("AWS::Lambda::Function", Built::Image(tag)) => {
                props.insert("Code".into(), json!({ "ImageUri": tag }));
            }
            ("AWS::Serverless::Application", Built::Template(t)) => {
                props.insert("Location".into(), json!(t));
            }
            ("AWS::CloudFormation::Stack", Built::Template(t)) => {
                props.insert("TemplateURL".into(), json!(t));
            }
            _ => {}
        }
    }
    let metadata = resource
        .entry("Metadata")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(metadata) = metadata {
        metadata.insert("SamResourceId".into(), json!(id));
        if let Some(ctx) = metadata.get_mut("DockerContext") {
            if let Some(rel) = ctx.as_str() {
                let abs = normalize(&template_dir.join(rel));
                *ctx = json!(abs.to_string_lossy());
            }
        }
    }
}

fn relocate_properties(
    kind: &str,
    resource: &mut Map<String, Value>,
    moved: &dyn Fn(&str) -> Option<String>,
) {
    let Some((_, props)) = LOCAL_PATHS.iter().find(|(k, _)| *k == kind) else {
        return;
    };
    let Some(properties) = resource
        .get_mut("Properties")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for prop in *props {
        if let Some(v) = properties.get_mut(*prop) {
            relocate_value(v, moved);
        }
    }
}

/// A path string made relative to the new location (other values are left alone).
fn relocate_value(v: &mut Value, moved: &dyn Fn(&str) -> Option<String>) {
    if let Some(new) = v.as_str().and_then(moved) {
        *v = json!(new);
    }
}

/// `Fn::Transform: {Name: AWS::Include, Parameters: {Location: ...}}` anywhere.
fn relocate_includes(v: &mut Value, moved: &dyn Fn(&str) -> Option<String>) {
    match v {
        Value::Object(map) => {
            if let Some(t) = map.get_mut("Fn::Transform") {
                let is_include = t.get("Name").and_then(Value::as_str) == Some("AWS::Include");
                if is_include {
                    if let Some(loc) = t.get_mut("Parameters").and_then(|p| p.get_mut("Location")) {
                        relocate_value(loc, moved);
                    }
                }
            }
            for (_, child) in map.iter_mut() {
                relocate_includes(child, moved);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| relocate_includes(i, moved)),
        _ => {}
    }
}

/// SAM's `_resolve_relative_to`: URLs and absolute paths stay; a relative path becomes
/// relative to `new_dir`.
fn relocate(path: &str, old_dir: &Path, new_dir: &Path) -> Option<String> {
    if path.is_empty()
        || path.starts_with("s3://")
        || path.starts_with("http://")
        || path.starts_with("https://")
        || Path::new(path).is_absolute()
    {
        return None;
    }
    let target = normalize(&old_dir.join(path));
    Some(
        relative(&target, &normalize(new_dir))
            .to_string_lossy()
            .into_owned(),
    )
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `target` relative to `base` (both absolute and normalized).
fn relative(target: &Path, base: &Path) -> PathBuf {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A CDK function's `aws:asset:path` names what was built (the loader reads the asset
    /// before `Code`); an unbuilt one is relocated; a built image keeps no asset to rebuild.
    #[test]
    fn cdk_asset_metadata_points_at_the_artifact() {
        let template = json!({"Resources": {
            "Fn": {"Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Bucket": "b", "S3Key": "k.zip"}},
                "Metadata": {"aws:asset:path": "asset.abc", "aws:asset:property": "Code"}},
            "Other": {"Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Bucket": "b", "S3Key": "o.zip"}},
                "Metadata": {"aws:asset:path": "asset.other", "aws:asset:property": "Code"}},
            "Img": {"Type": "AWS::Lambda::Function",
                "Properties": {"PackageType": "Image", "Code": {"ImageUri": "x"}},
                "Metadata": {"aws:asset:path": "asset.img", "aws:asset:dockerfile-path": "Dockerfile",
                    "aws:asset:property": "Code.ImageUri", "aws:cdk:path": "S/Img"}}
        }});
        let built = HashMap::from([
            ("Fn".to_string(), Built::Dir("Fn".into())),
            ("Img".to_string(), Built::Image("img:latest".into())),
        ]);
        let out = rewrite(
            &template,
            Path::new("/proj/cdk.out"),
            Path::new("/proj/cdk.out/.aws-sam/build"),
            &built,
        );
        let r = &out["Resources"];
        assert_eq!(r["Fn"]["Properties"]["Code"], "Fn");
        assert_eq!(r["Fn"]["Metadata"]["aws:asset:path"], "Fn");
        assert_eq!(
            r["Other"]["Metadata"]["aws:asset:path"],
            "../../asset.other"
        );
        assert_eq!(
            r["Img"]["Metadata"],
            json!({"aws:cdk:path": "S/Img", "SamResourceId": "Img"})
        );
    }

    /// SAM CLI 1.170's rewrite of the research template (build-and-docker.md §1.2–1.4).
    #[test]
    fn rewrites_as_sam_build_does() {
        let template = json!({
            "Globals": {"Function": {"Timeout": 3}},
            "Resources": {
                "FuncA": {"Type": "AWS::Serverless::Function", "Properties": {
                    "CodeUri": "src/shared", "Handler": "app.a", "Runtime": "python3.11",
                    "Layers": [{"Ref": "DepsLayer"}]}},
                "Raw": {"Type": "AWS::Lambda::Function", "Properties": {
                    "Code": {"S3Bucket": "b", "S3Key": "k"}, "Handler": "x", "Runtime": "python3.11"}},
                "Inline": {"Type": "AWS::Serverless::Function", "Properties": {
                    "InlineCode": "def h(e, c): pass", "Handler": "index.h", "Runtime": "python3.11"}},
                "Unbuilt": {"Type": "AWS::Serverless::Function", "Properties": {
                    "CodeUri": "src/other", "Handler": "app.b", "Runtime": "python3.11"}},
                "Remote": {"Type": "AWS::Serverless::Function", "Properties": {
                    "CodeUri": "s3://bucket/key.zip", "Handler": "app.b", "Runtime": "python3.11"}},
                "ImgFunction": {"Type": "AWS::Serverless::Function",
                    "Properties": {"PackageType": "Image"},
                    "Metadata": {"Dockerfile": "Dockerfile", "DockerContext": "./img", "DockerTag": "python3.11-v1"}},
                "DepsLayer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "layers/deps"},
                    "Metadata": {"BuildMethod": "python3.11"}},
                "Api": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "v1", "DefinitionUri": "api.json"}},
                "Child": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://example.com/t.yaml"}},
                "Doc": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "v1",
                    "DefinitionBody": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "openapi.yaml"}}}}}
            }
        });
        let built = HashMap::from([
            ("FuncA".to_string(), Built::Dir("FuncA".into())),
            ("Raw".to_string(), Built::Dir("Raw".into())),
            (
                "ImgFunction".to_string(),
                Built::Image("imgfunction:python3.11-v1".into()),
            ),
            ("DepsLayer".to_string(), Built::Dir("DepsLayer".into())),
        ]);
        let out = rewrite(
            &template,
            Path::new("/proj"),
            Path::new("/proj/.aws-sam/build"),
            &built,
        );
        let r = &out["Resources"];
        assert_eq!(r["FuncA"]["Properties"]["CodeUri"], "FuncA");
        assert_eq!(r["FuncA"]["Metadata"]["SamResourceId"], "FuncA");
        assert_eq!(
            r["FuncA"]["Properties"]["Layers"],
            json!([{"Ref": "DepsLayer"}])
        );
        assert_eq!(r["Raw"]["Properties"]["Code"], "Raw");
        assert_eq!(r["Inline"], template["Resources"]["Inline"]);
        assert_eq!(r["Unbuilt"]["Properties"]["CodeUri"], "../../src/other");
        assert_eq!(r["Remote"]["Properties"]["CodeUri"], "s3://bucket/key.zip");
        assert_eq!(
            r["ImgFunction"]["Properties"]["ImageUri"],
            "imgfunction:python3.11-v1"
        );
        assert_eq!(r["ImgFunction"]["Metadata"]["DockerContext"], "/proj/img");
        assert_eq!(r["DepsLayer"]["Properties"]["ContentUri"], "DepsLayer");
        assert_eq!(r["Api"]["Properties"]["DefinitionUri"], "../../api.json");
        assert_eq!(
            r["Child"]["Properties"]["TemplateURL"],
            "https://example.com/t.yaml"
        );
        assert_eq!(
            r["Doc"]["Properties"]["DefinitionBody"]["Fn::Transform"]["Parameters"]["Location"],
            "../../openapi.yaml"
        );
        assert_eq!(out["Globals"], template["Globals"]);
    }

    #[test]
    fn relative_paths() {
        let cases = [
            ("src/a", "/p", "/p/.aws-sam/build", Some("../../src/a")),
            (
                "./api.json",
                "/p",
                "/p/.aws-sam/build",
                Some("../../api.json"),
            ),
            (
                "../shared",
                "/p/app",
                "/p/app/.aws-sam/build",
                Some("../../../shared"),
            ),
            (".aws-sam/build/x", "/p", "/p/.aws-sam/build", Some("x")),
            ("/abs/path", "/p", "/p/b", None),
            ("https://x/y", "/p", "/p/b", None),
        ];
        for (path, old, new, want) in cases {
            assert_eq!(
                relocate(path, Path::new(old), Path::new(new)).as_deref(),
                want,
                "{path}"
            );
        }
    }
}
