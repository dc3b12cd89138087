//! Running the units: each keyed by a hash of what it reads and skipped when the key did not
//! change, in parallel, a failing unit reported with its tool's output while the others
//! finish; then the built template.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use sha2::{Digest, Sha256};

use crate::plan::{Method, Unit, UnitKind};
use crate::rewrite::{self, Built};
use crate::tree::{self, COPY_EXCLUDED, PYTHON_EXCLUDED};
use crate::BuildError;

/// What a build reports while it runs, per unit (named by its first resource).
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// A step begins: "hashing sources", "installing dependencies", "docker build", ...
    Step(&'a str),
    /// A line of a tool's output (pip, npm, make, cargo, docker build).
    Line(&'a str),
    /// The unit ended (built, up to date or failed).
    Done(&'a UnitReport),
}

/// Receives `(resource, progress)` for every step, line and ending of every unit.
pub type OnProgress = Arc<dyn Fn(&str, Progress<'_>) + Send + Sync>;

pub struct BuildRequest {
    /// The source template's directory (relative paths in it are resolved against it).
    pub template_dir: PathBuf,
    /// The source template as JSON (intrinsics in long form).
    pub template: serde_json::Value,
    /// `.aws-sam/build`, absolute.
    pub build_dir: PathBuf,
    /// Where dependency sets are cached (shared by every project).
    pub cache_dir: PathBuf,
    /// Skip units whose inputs did not change (`--cached`, the default).
    pub use_cache: bool,
    /// Build units at the same time (`--parallel`, the default).
    pub parallel: bool,
    /// Rebuild images even when their inputs did not change.
    pub force_image_build: bool,
    /// The engine for Image functions (`None`: they fail with `docker_error`).
    pub docker: Option<ssam_docker::Docker>,
    pub docker_error: Option<String>,
    /// `--manifest`: a dependency manifest used instead of each function's own, by the
    /// workflow it belongs to (a `*.json` for nodejs, anything else for python).
    pub manifest: Option<PathBuf>,
    /// The template's local nested stacks, at every depth: each gets its built template
    /// at `<build dir>/<its logical id>/template.yaml`, as `sam build` writes it; their
    /// functions (units named `Child/Function`) are built below it.
    pub nested: Vec<NestedTemplate>,
}

/// A nested stack's source template.
pub struct NestedTemplate {
    /// `Child`, or `Outer/Inner` two levels deep.
    pub logical_id: String,
    /// Its source template as JSON (intrinsics in long form).
    pub template: serde_json::Value,
    /// Its directory (its relative paths are resolved against it).
    pub template_dir: PathBuf,
}

/// What the stack at `prefix` (`""` for the root, else `Child/`) was built into, keyed by
/// its own logical ids: artifacts relative to its own build directory, its direct nested
/// stacks as their built templates.
fn built_of_stack(
    prefix: &str,
    built: &HashMap<String, Built>,
    nested: &[NestedTemplate],
) -> HashMap<String, Built> {
    let mut out = HashMap::new();
    for (id, b) in built {
        let Some(own) = id.strip_prefix(prefix).filter(|own| !own.contains('/')) else {
            continue;
        };
        let b = match b {
            Built::Dir(_) => Built::Dir(own.to_string()),
            other => other.clone(),
        };
        out.insert(own.to_string(), b);
    }
    for n in nested {
        if let Some(own) = n
            .logical_id
            .strip_prefix(prefix)
            .filter(|o| !o.contains('/'))
        {
            out.insert(
                own.to_string(),
                Built::Template(format!("{own}/template.yaml")),
            );
        }
    }
    out
}

/// The manifest a unit's dependencies come from: `--manifest` when it fits the workflow,
/// else the one in the code directory.
fn manifest_of(method: &Method, src: &Path, custom: Option<&Path>) -> Option<PathBuf> {
    let is_json = |p: &Path| p.extension().is_some_and(|e| e == "json");
    match method {
        Method::Python { .. } => Some(match custom {
            Some(m) if !is_json(m) => m.to_path_buf(),
            _ => src.join("requirements.txt"),
        }),
        Method::Node => Some(match custom {
            Some(m) if is_json(m) => m.to_path_buf(),
            _ => src.join("package.json"),
        }),
        Method::Copy | Method::Cargo | Method::Makefile => None,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Built,
    /// Nothing it reads changed since the last build.
    UpToDate,
    Failed(String),
}

#[derive(Clone, Debug)]
pub struct UnitReport {
    pub resources: Vec<String>,
    pub outcome: Outcome,
    pub duration: Duration,
}

pub struct Report {
    pub units: Vec<UnitReport>,
    /// `<build dir>/template.yaml`.
    pub template: PathBuf,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.units
            .iter()
            .any(|u| matches!(u.outcome, Outcome::Failed(_)))
    }
}

/// Keys of the last build, by resource (`.aws-sam/ssam-build.json`, beside the build dir so
/// nothing foreign lands in an artifact).
fn state_path(build_dir: &Path) -> PathBuf {
    build_dir
        .parent()
        .unwrap_or(build_dir)
        .join("ssam-build.json")
}

fn read_state(build_dir: &Path) -> BTreeMap<String, String> {
    std::fs::read(state_path(build_dir))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Builds `units` and writes the built template.
pub async fn build(
    req: Arc<BuildRequest>,
    units: Vec<Unit>,
    on_progress: OnProgress,
) -> Result<Report, BuildError> {
    std::fs::create_dir_all(&req.build_dir).map_err(|e| BuildError::io(&req.build_dir, e))?;
    let state = Arc::new(read_state(&req.build_dir));
    let width = if req.parallel {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        1
    };
    let results: Vec<(Unit, UnitReport, Option<Built>, Option<String>)> =
        futures::stream::iter(units.into_iter().map(|unit| {
            let (req, state, on_progress) = (
                Arc::clone(&req),
                Arc::clone(&state),
                Arc::clone(&on_progress),
            );
            async move {
                let started = Instant::now();
                let result = build_unit(&req, &unit, &state, Arc::clone(&on_progress)).await;
                let (outcome, built, key) = match result {
                    Ok((fresh, built, key)) => (
                        if fresh {
                            Outcome::Built
                        } else {
                            Outcome::UpToDate
                        },
                        Some(built),
                        key,
                    ),
                    Err(e) => (Outcome::Failed(e.to_string()), None, None),
                };
                let report = UnitReport {
                    resources: unit.resources.clone(),
                    outcome,
                    duration: started.elapsed(),
                };
                on_progress(&unit.resources[0], Progress::Done(&report));
                (unit, report, built, key)
            }
        }))
        .buffer_unordered(width)
        .collect()
        .await;

    let mut built: HashMap<String, Built> = HashMap::new();
    let mut new_state = BTreeMap::new();
    let mut reports = Vec::new();
    for (unit, report, artifact, key) in results {
        if let Some(artifact) = artifact {
            for id in &unit.resources {
                let mine = match &artifact {
                    Built::Dir(_) => Built::Dir(id.clone()),
                    image => image.clone(),
                };
                built.insert(id.clone(), mine);
                if let Some(k) = &key {
                    new_state.insert(id.clone(), k.clone());
                }
            }
        }
        reports.push(report);
    }
    let top_level: Vec<String> = built
        .keys()
        .map(|k| k.split('/').next().unwrap_or(k).to_string())
        .chain(req.nested.iter().map(|n| {
            n.logical_id
                .split('/')
                .next()
                .unwrap_or(&n.logical_id)
                .to_string()
        }))
        .collect();
    remove_stale_dirs(&req.build_dir, &built, &top_level);
    let root_built = built_of_stack("", &built, &req.nested);
    let out = rewrite::rewrite(
        &req.template,
        &req.template_dir,
        &req.build_dir,
        &root_built,
    );
    let template = req.build_dir.join("template.yaml");
    std::fs::write(&template, crate::yaml::to_yaml(&out))
        .map_err(|e| BuildError::io(&template, e))?;
    for n in &req.nested {
        let dir = req.build_dir.join(&n.logical_id);
        std::fs::create_dir_all(&dir).map_err(|e| BuildError::io(&dir, e))?;
        let own = built_of_stack(&format!("{}/", n.logical_id), &built, &req.nested);
        let out = rewrite::rewrite(&n.template, &n.template_dir, &dir, &own);
        let file = dir.join("template.yaml");
        std::fs::write(&file, crate::yaml::to_yaml(&out)).map_err(|e| BuildError::io(&file, e))?;
    }
    let state_file = state_path(&req.build_dir);
    let text = serde_json::to_vec_pretty(&new_state).unwrap_or_default();
    std::fs::write(&state_file, text).map_err(|e| BuildError::io(&state_file, e))?;
    reports.sort_by(|a, b| a.resources.cmp(&b.resources));
    Ok(Report {
        units: reports,
        template,
    })
}

/// Directories of resources that are not built any more (removed, or left out of a
/// partial build, whose template entry points back at the source). A nested stack's
/// directory (`top_level` holds the first segment of every built id) stays.
fn remove_stale_dirs(build_dir: &Path, built: &HashMap<String, Built>, top_level: &[String]) {
    let Ok(entries) = std::fs::read_dir(build_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let nested_home = top_level.contains(&name) && !built.contains_key(&name);
        if is_dir && !nested_home && !matches!(built.get(&name), Some(Built::Dir(_))) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// What a unit reads, as one key: the tool version, how it is built, its sources, and a
/// `--manifest` from outside them.
fn unit_key(kind: &UnitKind, custom_manifest: Option<&Path>) -> Result<Option<String>, BuildError> {
    let (dir, method, descr) = match kind {
        UnitKind::Function {
            code_dir,
            runtime,
            architecture,
            method,
        } => (
            code_dir,
            method,
            format!("function {runtime} {architecture} {method:?}"),
        ),
        UnitKind::Layer {
            content_dir,
            architecture,
            method,
            subdir,
        } => (
            content_dir,
            method,
            format!("layer {architecture} {method:?} {subdir}"),
        ),
        UnitKind::Image(_) => return Ok(None),
    };
    let mut h = Sha256::new();
    h.update(format!(
        "ssam-build {} {descr}\n",
        env!("CARGO_PKG_VERSION")
    ));
    tree::hash_tree(dir, &mut h).map_err(|e| BuildError::io(dir, e))?;
    let custom =
        custom_manifest.filter(|m| manifest_of(method, dir, Some(m)).as_deref() == Some(*m));
    if let Some(m) = custom {
        h.update(format!("manifest {}\n", m.display()));
        h.update(std::fs::read(m).map_err(|e| BuildError::io(m, e))?);
    }
    Ok(Some(hex::encode(h.finalize())))
}

/// Builds one unit (or finds it up to date): `(built now, artifact, key)`.
async fn build_unit(
    req: &BuildRequest,
    unit: &Unit,
    state: &BTreeMap<String, String>,
    on_progress: OnProgress,
) -> Result<(bool, Built, Option<String>), BuildError> {
    let first = unit.resources[0].clone();
    if let UnitKind::Image(spec) = &unit.kind {
        let docker = req.docker.as_ref().ok_or_else(|| BuildError::Step {
            step: "docker build".into(),
            message: req
                .docker_error
                .clone()
                .unwrap_or_else(|| "no Docker engine".into()),
        })?;
        on_progress(&first, Progress::Step("docker build"));
        let print = Arc::clone(&on_progress);
        let built = docker
            .ensure_image(spec, req.force_image_build, move |line| {
                print(&first, Progress::Line(line))
            })
            .await
            .map_err(|e| BuildError::Step {
                step: "docker build".into(),
                message: e.to_string(),
            })?;
        let fresh = matches!(built, ssam_docker::Built::Built { .. });
        return Ok((fresh, Built::Image(spec.image_tag()), None));
    }
    let kind = unit.kind.clone();
    let (build_dir, cache_dir, use_cache) =
        (req.build_dir.clone(), req.cache_dir.clone(), req.use_cache);
    let custom = req.manifest.clone();
    let resources = unit.resources.clone();
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        on_progress(&resources[0], Progress::Step("hashing sources"));
        let key = unit_key(&kind, custom.as_deref())?;
        let up_to_date = use_cache
            && resources.iter().all(|id| {
                key.is_some() && state.get(id) == key.as_ref() && build_dir.join(id).is_dir()
            });
        if up_to_date {
            return Ok((false, Built::Dir(resources[0].clone()), key));
        }
        let dest = build_dir.join(&resources[0]);
        let step = |name: &str| on_progress(&resources[0], Progress::Step(name));
        let mut print = |line: &str| on_progress(&resources[0], Progress::Line(line));
        make_artifact(
            &kind,
            &resources[0],
            &dest,
            &cache_dir,
            custom.as_deref(),
            &step,
            &mut print,
        )?;
        // Tools that build in the source directory may write there (cargo's Cargo.lock, a
        // Makefile's intermediates): the key is what the sources are once built.
        let key = match &kind {
            UnitKind::Function {
                method: Method::Cargo | Method::Makefile,
                ..
            } => unit_key(&kind, custom.as_deref())?,
            _ => key,
        };
        for other in &resources[1..] {
            let copy = build_dir.join(other);
            let _ = std::fs::remove_dir_all(&copy);
            tree::copy_tree(&dest, &copy, &[]).map_err(|e| BuildError::io(&copy, e))?;
        }
        Ok((true, Built::Dir(resources[0].clone()), key))
    })
    .await
    .map_err(|e| BuildError::Step {
        step: "build".into(),
        message: e.to_string(),
    })?
}

fn make_artifact(
    kind: &UnitKind,
    logical_id: &str,
    dest: &Path,
    cache_dir: &Path,
    custom_manifest: Option<&Path>,
    step: &dyn Fn(&str),
    on_line: &mut dyn FnMut(&str),
) -> Result<(), BuildError> {
    let _ = std::fs::remove_dir_all(dest);
    std::fs::create_dir_all(dest).map_err(|e| BuildError::io(dest, e))?;
    let (src, method, architecture, root) = match kind {
        UnitKind::Function {
            code_dir,
            method,
            architecture,
            ..
        } => (code_dir, method, architecture, dest.to_path_buf()),
        UnitKind::Layer {
            content_dir,
            method,
            architecture,
            subdir,
        } => (content_dir, method, architecture, dest.join(subdir)),
        UnitKind::Image(_) => return Ok(()),
    };
    let manifest = manifest_of(method, src, custom_manifest);
    match method {
        Method::Python { minor } => {
            if let Some(manifest) = manifest.filter(|m| m.is_file()) {
                step("dependencies (pip)");
                let deps = crate::python::dependencies(
                    cache_dir,
                    &manifest,
                    *minor,
                    architecture,
                    on_line,
                )?;
                tree::link_tree(&deps, &root).map_err(|e| BuildError::io(&root, e))?;
                let _ = std::fs::remove_file(root.join(".complete"));
            }
            step("copying sources");
            tree::copy_tree(src, &root, PYTHON_EXCLUDED).map_err(|e| BuildError::io(src, e))
        }
        Method::Copy => {
            step("copying sources");
            tree::copy_tree(src, &root, COPY_EXCLUDED).map_err(|e| BuildError::io(src, e))
        }
        Method::Node => {
            let mut exclude = COPY_EXCLUDED.to_vec();
            exclude.push("node_modules");
            step("copying sources");
            tree::copy_tree(src, &root, &exclude).map_err(|e| BuildError::io(src, e))?;
            let manifest = manifest.unwrap_or_else(|| src.join("package.json"));
            step("dependencies (npm)");
            if let Some(modules) = crate::node::dependencies(cache_dir, &manifest, on_line)? {
                let target = root.join("node_modules");
                tree::link_tree(&modules, &target).map_err(|e| BuildError::io(&target, e))?;
            }
            Ok(())
        }
        Method::Cargo => {
            step("cargo build");
            crate::cargo::build(src, architecture, dest, on_line)
        }
        Method::Makefile => {
            step(&format!("make build-{logical_id}"));
            let out = std::process::Command::new("make")
                .arg(format!("build-{logical_id}"))
                .current_dir(src)
                .env("ARTIFACTS_DIR", dest)
                .output()
                .map_err(|e| BuildError::Step {
                    step: format!("make build-{logical_id}"),
                    message: format!("cannot run make: {e}"),
                })?;
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            for line in text.lines() {
                on_line(line);
            }
            if out.status.success() {
                Ok(())
            } else {
                Err(BuildError::Step {
                    step: format!("make build-{logical_id}"),
                    message: text.lines().last().unwrap_or("failed").to_string(),
                })
            }
        }
    }
}
