//! Build units: what `ssam build` builds, from the template (aws-sam-cli `build_graph.py`:
//! functions with the same CodeUri, runtime, architecture and build settings share one
//! build; `BuildMethod: makefile` functions never do, their targets are per logical id).

use std::path::PathBuf;

use ssam_template::{App, Code, PackageType};

/// How a unit's artifact is made.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `requirements.txt` dependencies for python3.`minor`, then the sources.
    Python { minor: u32 },
    /// `make build-<LogicalId>` with `ARTIFACTS_DIR`.
    Makefile,
    /// The sources without `node_modules`, then the production dependencies of
    /// `package.json`.
    Node,
    /// `BuildMethod: rust-cargolambda`: the crate's binary as `bootstrap`.
    Cargo,
    /// The sources as they are (nodejs without a registry, provided, anything else).
    Copy,
}

#[derive(Clone, Debug, PartialEq)]
pub enum UnitKind {
    /// A Zip function's code directory.
    Function {
        code_dir: PathBuf,
        runtime: String,
        architecture: String,
        method: Method,
    },
    /// A layer with a `BuildMethod`: built into `python/` (or `nodejs/`) below its dir.
    Layer {
        content_dir: PathBuf,
        architecture: String,
        method: Method,
        /// `python`, `nodejs` or empty (makefile layers lay themselves out).
        subdir: &'static str,
    },
    Image(ssam_docker::ImageSpec),
}

/// One build: its resources (the first is built, the others get a copy) and how.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    pub resources: Vec<String>,
    pub kind: UnitKind,
}

/// What is not built, and why (inline code, code in S3, an image without a Dockerfile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotBuilt {
    pub logical_id: String,
    pub reason: String,
}

fn method_for(runtime: &str, build_method: Option<&str>) -> Method {
    match build_method {
        Some("makefile") => Method::Makefile,
        Some("rust-cargolambda") => Method::Cargo,
        _ if runtime.starts_with("nodejs") => Method::Node,
        _ => match runtime
            .strip_prefix("python3.")
            .and_then(|m| m.parse().ok())
        {
            Some(minor) => Method::Python { minor },
            None => Method::Copy,
        },
    }
}

/// The units of `app`: every function and buildable layer, or only `only` (and the layers
/// they use) when given, less `exclude`.
pub fn plan(app: &App, only: &[String], exclude: &[String]) -> (Vec<Unit>, Vec<NotBuilt>) {
    let wanted = |id: &str| {
        (only.is_empty() || only.iter().any(|o| o == id)) && !exclude.iter().any(|e| e == id)
    };
    let mut units: Vec<Unit> = Vec::new();
    let mut skipped = Vec::new();
    let mut layers_used: Vec<String> = Vec::new();
    for f in app.functions.iter().filter(|f| wanted(&f.logical_id)) {
        let id = f.logical_id.clone();
        let architecture = f
            .architectures
            .first()
            .cloned()
            .unwrap_or_else(|| "x86_64".into());
        layers_used.extend(
            f.layers
                .iter()
                .filter_map(|l| l.as_known().map(str::to_string)),
        );
        let kind = if f.package_type == PackageType::Image {
            match &f.image_build {
                Some(b) => UnitKind::Image(ssam_docker::ImageSpec {
                    logical_id: id.clone(),
                    context_dir: b.docker_context.clone(),
                    dockerfile: b.dockerfile.clone(),
                    build_args: b.build_args.clone().into_iter().collect(),
                    target: b.build_target.clone(),
                    platform: ssam_docker::platform_for_architecture(&architecture)
                        .map(str::to_string),
                    tag: b.docker_tag.clone(),
                }),
                None => {
                    skipped.push(NotBuilt {
                        logical_id: id,
                        reason: "an Image function without Metadata.Dockerfile and DockerContext"
                            .into(),
                    });
                    continue;
                }
            }
        } else {
            match &f.code {
                Code::Dir { path, .. } => UnitKind::Function {
                    code_dir: path.clone(),
                    runtime: f.runtime.clone().unwrap_or_default(),
                    architecture,
                    method: method_for(
                        f.runtime.as_deref().unwrap_or_default(),
                        f.build_method.as_deref(),
                    ),
                },
                Code::Inline { .. } => {
                    skipped.push(NotBuilt {
                        logical_id: id,
                        reason: "inline code".into(),
                    });
                    continue;
                }
                // SAM builds no zip CodeUri either: the built template points at the
                // archive as it is, and the local commands unpack it.
                Code::Archive { as_written, .. } => {
                    skipped.push(NotBuilt {
                        logical_id: id,
                        reason: format!("its CodeUri is the zip file {as_written}, used as it is"),
                    });
                    continue;
                }
                other => {
                    skipped.push(NotBuilt {
                        logical_id: id,
                        reason: format!("its code is not a local directory ({})", code_kind(other)),
                    });
                    continue;
                }
            }
        };
        let shares = |u: &Unit| {
            u.kind == kind
                && !matches!(
                    kind,
                    UnitKind::Function {
                        method: Method::Makefile,
                        ..
                    }
                )
                && !matches!(kind, UnitKind::Image(_))
        };
        match units.iter_mut().find(|u| shares(u)) {
            Some(u) => u.resources.push(id),
            None => units.push(Unit {
                resources: vec![id],
                kind,
            }),
        }
    }
    for layer in &app.layers {
        let referenced = layers_used.iter().any(|l| {
            l == &layer.logical_id || l.split(':').nth(6) == Some(layer.logical_id.as_str())
        });
        let excluded = exclude.iter().any(|e| e == &layer.logical_id);
        // A partial build takes the layers its functions use.
        if excluded || !(wanted(&layer.logical_id) || referenced) {
            continue;
        }
        let Some(build_method) = layer.build_method.as_deref() else {
            continue; // SAM builds only layers with a BuildMethod.
        };
        let Code::Dir { path, .. } = &layer.content else {
            continue;
        };
        let method = method_for(build_method, Some(build_method));
        let subdir = match &method {
            Method::Python { .. } => "python",
            Method::Node => "nodejs",
            _ => "",
        };
        units.push(Unit {
            resources: vec![layer.logical_id.clone()],
            kind: UnitKind::Layer {
                content_dir: path.clone(),
                architecture: "x86_64".into(),
                method,
                subdir,
            },
        });
    }
    (units, skipped)
}

fn code_kind(code: &Code) -> &'static str {
    match code {
        Code::Archive { .. } => "a zip file",
        Code::S3 { .. } => "in S3",
        Code::Unresolved { .. } => "an expression ssam cannot resolve",
        _ => "unknown",
    }
}
