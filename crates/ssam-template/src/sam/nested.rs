//! Nested stacks: `AWS::Serverless::Application` whose `Location` is a local template and
//! `AWS::CloudFormation::Stack` whose `TemplateURL` is one (or, in CDK output, whose
//! `aws:asset:path` names the `*.nested.template.json` beside the parent). Each child is
//! loaded with the `Parameters` its parent passes, its `Outputs` become the parent's
//! `Fn::GetAtt Child.Outputs.NAME`, and its functions, APIs, routes and buckets join the
//! parent's app under `Child/LogicalId`, the names SAM CLI gives them ("Using nested
//! applications": `sam local invoke ChildStack/FunctionLogicalId`). Inside the child, `Ref`
//! of such a function (and its `Arn`) yields that served name, so a child's environment
//! variable naming its own function invokes the right one.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::assets::CdkAsset;
use super::RawResource;
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::*;
use crate::node::{Node, Source, Value};
use crate::resolve::{contains_intrinsic, Resolver};
use crate::{LoadOptions, Loaded};

pub(crate) const NESTED_TYPES: &[&str] =
    &["AWS::Serverless::Application", "AWS::CloudFormation::Stack"];

/// A child stack that was loaded, to merge once the parent's app is read.
pub(crate) struct Child {
    pub id: String,
    pub loaded: Loaded,
    pub location: crate::diag::Location,
}

/// Loads every nested stack of `raw` whose template is local. `ancestors` are the templates
/// being loaded above this one (a child that is one of them is a cycle).
#[allow(clippy::too_many_arguments)] // one call site; the loader's state, passed as it is
pub(crate) fn load_children(
    src: &Source,
    base_dir: &Path,
    raw: &[RawResource<'_>],
    resolver: &Resolver<'_>,
    opts: &LoadOptions,
    ancestors: &[PathBuf],
    nested_as: Option<&str>,
    diags: &mut Diagnostics,
) -> Vec<Child> {
    let mut out = Vec::new();
    for r in raw
        .iter()
        .filter(|r| NESTED_TYPES.contains(&r.rtype.as_str()))
    {
        let Some(path) = child_template(src, base_dir, r, resolver, diags) else {
            continue;
        };
        let key_loc = src.location(r.key_pos);
        if !path.is_file() {
            diags.push(
                Diagnostic::error(
                    key_loc,
                    format!(
                        "{}: the nested stack's template {} does not exist",
                        r.id,
                        path.display()
                    ),
                )
                .with_hint("the path is resolved against the parent template's directory"),
            );
            continue;
        }
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        if let Some(i) = ancestors.iter().position(|a| *a == canonical) {
            let chain: Vec<String> = ancestors[i..]
                .iter()
                .chain([&canonical])
                .map(|p| p.display().to_string())
                .collect();
            diags.push(
                Diagnostic::error(
                    key_loc,
                    format!(
                        "{}: nested stacks form a cycle: {}",
                        r.id,
                        chain.join(" → ")
                    ),
                )
                .with_hint(
                    "a stack cannot contain itself; remove the nested stack that points back",
                ),
            );
            continue;
        }
        let parameters = child_parameters(src, r, resolver, diags);
        let child_opts = LoadOptions {
            template: canonical.clone(),
            parameter_overrides: parameters,
            region: opts.region.clone(),
            stack_name: Some(format!("{}-{}", resolver.pseudo.stack_name, r.id)),
        };
        let mut chain = ancestors.to_vec();
        chain.push(canonical);
        let mut child_diags = Diagnostics::default();
        let Some(child_src) = crate::node::parse_file(&child_opts.template, &mut child_diags)
        else {
            diags.0.extend(child_diags.0);
            continue;
        };
        match super::load_source(
            child_src,
            child_opts.template.clone(),
            &child_opts,
            child_diags,
            &chain,
            Some(&match nested_as {
                Some(p) => format!("{p}/{}", r.id),
                None => r.id.clone(),
            }),
        ) {
            Ok(loaded) => out.push(Child {
                id: r.id.clone(),
                loaded,
                location: key_loc,
            }),
            Err(d) => diags.0.extend(d.0),
        }
    }
    out
}

/// The local template of a nested stack; `None` (with a warning) when it is remote.
fn child_template(
    src: &Source,
    base_dir: &Path,
    r: &RawResource<'_>,
    resolver: &Resolver<'_>,
    diags: &mut Diagnostics,
) -> Option<PathBuf> {
    let key = if r.rtype == "AWS::Serverless::Application" {
        "Location"
    } else {
        "TemplateURL"
    };
    // CDK writes TemplateURL as the S3 URL of an asset staged beside the parent template.
    if let Some(asset) = CdkAsset::of(r.node).filter(|a| a.replaces(key)) {
        return Some(base_dir.join(asset.path));
    }
    let node = r.properties().and_then(|p| p.get(key));
    let value = node
        .and_then(|n| resolver.resolve(n))
        .filter(|n| !contains_intrinsic(n));
    let Some(text) = value.as_ref().and_then(Node::scalar_text) else {
        let pos = node.map_or(r.key_pos, |n| n.pos);
        diags.push(
            Diagnostic::warning(
                src.location(pos),
                format!(
                    "{}: the nested stack is not loaded: its {key} is not a local template",
                    r.id
                ),
            )
            .with_hint(format!(
                "to run its functions locally, point {key} at the child template's file"
            )),
        );
        return None;
    };
    let remote = ["s3://", "https://", "http://"]
        .iter()
        .any(|p| text.starts_with(p));
    if remote {
        let pos = node.map_or(r.key_pos, |n| n.pos);
        diags.push(
            Diagnostic::warning(
                src.location(pos),
                format!(
                    "{}: the nested stack at {text} is not loaded: it is not on this machine",
                    r.id
                ),
            )
            .with_hint(format!(
                "download the template and point {key} at the local file"
            )),
        );
        return None;
    }
    let text = text.strip_prefix("file://").unwrap_or(&text);
    Some(base_dir.join(text))
}

/// The `Parameters` the parent passes, resolved; a value ssam cannot resolve is left out
/// (the child's Default then applies) with a warning.
fn child_parameters(
    src: &Source,
    r: &RawResource<'_>,
    resolver: &Resolver<'_>,
    diags: &mut Diagnostics,
) -> IndexMap<String, String> {
    let mut out = IndexMap::new();
    let Some(params) = r
        .properties()
        .and_then(|p| p.get("Parameters"))
        .and_then(Node::as_map)
    else {
        return out;
    };
    for (name, v) in params.iter() {
        let resolved = resolver.resolve(v).filter(|n| !contains_intrinsic(n));
        let text = resolved.as_ref().and_then(|n| match &n.value {
            Value::Seq(items) => items
                .iter()
                .map(Node::scalar_text)
                .collect::<Option<Vec<_>>>()
                .map(|parts| parts.join(",")),
            _ => n.scalar_text(),
        });
        match text {
            Some(t) => {
                out.insert(name.to_string(), t);
            }
            None => diags.push(Diagnostic::warning(
                src.location(v.pos),
                format!(
                    "{}: parameter {name} of the nested stack cannot be resolved locally; the child's Default applies",
                    r.id
                ),
            )),
        }
    }
    out
}

/// `Child.Outputs.NAME` for the parent's resolver: the child's outputs that resolved.
pub(crate) fn output_attributes(child: &Loaded) -> IndexMap<String, String> {
    child
        .app
        .outputs
        .iter()
        .filter_map(|(k, v)| Some((format!("Outputs.{k}"), v.as_known()?.to_string())))
        .collect()
}

/// Merges a child's app into the parent's, every logical id prefixed `Child/`.
pub(crate) fn merge(parent: &mut App, child: Child) {
    let Child {
        id,
        loaded,
        location,
    } = child;
    let app = loaded.app;
    let p = |s: &str| format!("{id}/{s}");
    parent.nested_stacks.push(NestedStack {
        logical_id: id.clone(),
        template_path: app.template_path.clone(),
        location,
    });
    for mut n in app.nested_stacks {
        n.logical_id = p(&n.logical_id);
        parent.nested_stacks.push(n);
    }
    for mut f in app.functions {
        f.logical_id = p(&f.logical_id);
        for e in &mut f.events {
            match &mut e.source {
                EventSource::Api(a) | EventSource::HttpApi(a) => a.api = p(&a.api),
                EventSource::S3(s3) => s3.bucket = p(&s3.bucket),
                _ => {}
            }
        }
        parent.functions.push(f);
    }
    for mut a in app.apis {
        a.logical_id = p(&a.logical_id);
        for auth in &mut a.authorizers {
            auth.function = auth.function.as_deref().map(p);
        }
        parent.apis.push(a);
    }
    for mut r in app.routes {
        r.api = p(&r.api);
        r.function = p(&r.function);
        if let RouteAuth::Lambda(ra) = &mut r.auth {
            ra.function = p(&ra.function);
            ra.authorizer.function = ra.authorizer.function.as_deref().map(p);
        }
        parent.routes.push(r);
    }
    for mut m in app.mock_methods {
        m.api = p(&m.api);
        parent.mock_methods.push(m);
    }
    for mut b in app.buckets {
        b.logical_id = p(&b.logical_id);
        parent.buckets.push(b);
    }
    for mut l in app.layers {
        l.logical_id = p(&l.logical_id);
        parent.layers.push(l);
    }
    for mut s in app.s3_bindings {
        s.function = p(&s.function);
        s.bucket = p(&s.bucket);
        parent.s3_bindings.push(s);
    }
    for mut r in app.resources {
        r.logical_id = p(&r.logical_id);
        parent.resources.push(r);
    }
}
