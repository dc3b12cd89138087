//! Turns the template's functions into [`FunctionSpec`]s, with `--env-vars` applied.
//!
//! Zip functions run natively, or in their runtime's image with `--docker`; Image functions
//! run in containers of the image their `Metadata` builds (or their local `ImageUri`).
//! A `CodeUri` (or layer `ContentUri`) that is a local `.zip` runs from its unpacked copy in
//! the cache ([`crate::archive`]). Functions ssam cannot run (code in S3, a corrupt zip, an
//! image it cannot find or build) are left out with a note saying why, so invoking them can
//! explain instead of answering 404.

use std::path::Path;
use std::time::Duration;

use ssam_template::{App, Code, Function, PackageType};

use crate::env_vars::EnvVarsFile;
use crate::spec::{ContainerSpec, FunctionSpec, ImageSource, SandboxKind};

/// Which functions run in containers, beyond Image functions (SAM's `--docker`-style flags).
#[derive(Clone, Debug, Default)]
pub struct Sandboxes {
    /// `--docker`: every Zip function in its runtime's image.
    pub docker_all: bool,
    /// `--invoke-image [Function=]image`: the image for one function (by logical id or
    /// name), or, without a function, for every function that runs in a container. Naming a
    /// Zip function puts it in a container.
    pub invoke_images: Vec<(Option<String>, String)>,
    /// `--container-env-vars`: variables for functions in containers, after `--env-vars`.
    pub container_env: Option<EnvVarsFile>,
    /// Lambda's filesystem rules for every function (`filesystem.rs`); `--writable-code`
    /// turns them off.
    pub lambda_filesystem: bool,
}

impl Sandboxes {
    /// The `--invoke-image` for `f`: its own, else the global one.
    fn invoke_image(&self, f: &Function) -> Option<&str> {
        let named = self.invoke_images.iter().find(|(n, _)| {
            n.as_deref()
                .is_some_and(|n| n == f.logical_id || n == f.name())
        });
        named
            .or_else(|| self.invoke_images.iter().find(|(n, _)| n.is_none()))
            .map(|(_, image)| image.as_str())
    }

    fn named(&self, f: &Function) -> bool {
        self.invoke_images.iter().any(|(n, _)| {
            n.as_deref()
                .is_some_and(|n| n == f.logical_id || n == f.name())
        })
    }
}

/// The image AWS publishes for a Zip runtime, as SAM CLI names it:
/// `public.ecr.aws/lambda/python:3.12`, `nodejs:20`, `provided:al2023`, `java:21`, ...
pub fn runtime_image(runtime: &str) -> Option<String> {
    let (name, version) = if let Some(v) = runtime.strip_prefix("python") {
        ("python", v.to_string())
    } else if let Some(v) = runtime.strip_prefix("nodejs") {
        ("nodejs", v.trim_end_matches(".x").to_string())
    } else if runtime == "provided" {
        ("provided", "alami".to_string())
    } else if let Some(v) = runtime.strip_prefix("provided.") {
        ("provided", v.to_string())
    } else if let Some(v) = runtime.strip_prefix("java") {
        ("java", v.trim_end_matches(".al2").to_string())
    } else if let Some(v) = runtime.strip_prefix("dotnet") {
        ("dotnet", v.to_string())
    } else if let Some(v) = runtime.strip_prefix("ruby") {
        ("ruby", v.to_string())
    } else {
        return None;
    };
    (!version.is_empty()).then(|| format!("public.ecr.aws/lambda/{name}:{version}"))
}

/// The runnable functions of an app, and why the others are not.
pub struct FromTemplate {
    pub specs: Vec<FunctionSpec>,
    /// Each function left out, with the reason.
    pub skipped: Vec<Skipped>,
}

/// A function of the template ssam cannot run, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub logical_id: String,
    /// The name Lambda knows it by (FunctionName, else the logical id).
    pub name: String,
    pub reason: String,
}

impl Skipped {
    /// Whether `name_or_id` names this function (by logical id or function name).
    pub fn is(&self, name_or_id: &str) -> bool {
        self.logical_id == name_or_id || self.name == name_or_id
    }
}

/// Maps every function of `app`, Zip functions native. `cache_dir` receives the files of
/// InlineCode functions.
pub fn specs_from_app(app: &App, env_vars: Option<&EnvVarsFile>, cache_dir: &Path) -> FromTemplate {
    specs_with_sandboxes(app, env_vars, cache_dir, &Sandboxes::default())
}

/// Like [`specs_from_app`], with `sandboxes` choosing which functions run in containers.
pub fn specs_with_sandboxes(
    app: &App,
    env_vars: Option<&EnvVarsFile>,
    cache_dir: &Path,
    sandboxes: &Sandboxes,
) -> FromTemplate {
    let mut out = FromTemplate {
        specs: Vec::new(),
        skipped: Vec::new(),
    };
    for f in &app.functions {
        let spec = if f.package_type == PackageType::Image {
            image_spec(app, f, sandboxes)
        } else {
            spec_from_function(app, f, cache_dir).and_then(|spec| zip_sandbox(f, spec, sandboxes))
        };
        let spec = spec.map(|mut spec| {
            spec.lambda_filesystem = sandboxes.lambda_filesystem;
            with_settings(app, f, env_vars, spec)
        });
        let spec = spec.map(|mut spec| {
            if let (SandboxKind::Container(_), Some(ev)) = (&spec.sandbox, &sandboxes.container_env)
            {
                spec.env.extend(ev.for_function(&f.logical_id, f.name()));
            }
            spec
        });
        match spec {
            Ok(spec) => out.specs.push(spec),
            Err(reason) => out.skipped.push(Skipped {
                logical_id: f.logical_id.clone(),
                name: f.name().to_string(),
                reason,
            }),
        }
    }
    out
}

/// An Image function: built from its `Metadata` (the image SAM would tag), else the local
/// image its `ImageUri` names; `--invoke-image` replaces either.
fn image_spec(app: &App, f: &Function, sandboxes: &Sandboxes) -> Result<FunctionSpec, String> {
    let image = match (sandboxes.invoke_image(f), &f.image_build, &f.code) {
        (Some(image), _, _) => ImageSource::Local(image.to_string()),
        (None, Some(build), _) => ImageSource::Build(ssam_docker::ImageSpec {
            logical_id: f.logical_id.clone(),
            context_dir: build.docker_context.clone(),
            dockerfile: build.dockerfile.clone(),
            build_args: build.build_args.clone().into_iter().collect(),
            target: build.build_target.clone(),
            platform: f
                .architectures
                .first()
                .and_then(|a| ssam_docker::platform_for_architecture(a))
                .map(str::to_string),
            tag: build.docker_tag.clone(),
        }),
        (None, None, Code::Image { uri: Some(uri) }) => match uri.as_known() {
            Some(uri) => ImageSource::Local(uri.to_string()),
            None => {
                return Err(format!(
                    "ImageUri {} cannot be resolved locally; add Metadata (Dockerfile, \
                     DockerContext) to build it, or name a local image with --invoke-image",
                    uri.display()
                ))
            }
        },
        (None, None, _) => {
            return Err(
                "the Image function has neither ImageUri nor Metadata.Dockerfile; hint: add \
                 Metadata (Dockerfile, DockerContext, DockerTag) as `sam build` expects"
                    .into(),
            )
        }
    };
    let code_dir = match &image {
        ImageSource::Build(b) => b.context_dir.clone(),
        ImageSource::Local(_) => app.base_dir.clone(),
    };
    let config = f.image_config.clone().unwrap_or_default();
    let handler = config
        .command
        .as_ref()
        .and_then(|c| c.first())
        .cloned()
        .unwrap_or_default();
    let mut spec = FunctionSpec::new(f.name(), "", handler, code_dir);
    spec.sandbox = SandboxKind::Container(Box::new(ContainerSpec {
        image,
        entry_point: config.entry_point,
        command: config.command,
        working_dir: config.working_directory,
        mount_code: false,
    }));
    Ok(spec)
}

/// A Zip function in a container: with `--docker`, or when `--invoke-image` names it.
fn zip_sandbox(
    f: &Function,
    mut spec: FunctionSpec,
    sandboxes: &Sandboxes,
) -> Result<FunctionSpec, String> {
    if !sandboxes.docker_all && !sandboxes.named(f) {
        return Ok(spec);
    }
    let image = match sandboxes.invoke_image(f) {
        Some(image) => image.to_string(),
        None => runtime_image(&spec.runtime).ok_or_else(|| {
            format!(
                "there is no Lambda base image for runtime {}; hint: name one with --invoke-image",
                spec.runtime
            )
        })?,
    };
    spec.sandbox = SandboxKind::Container(Box::new(ContainerSpec {
        image: ImageSource::Local(image),
        entry_point: None,
        command: None,
        working_dir: None,
        mount_code: true,
    }));
    Ok(spec)
}

/// A Zip function's runtime, handler and code.
fn spec_from_function(app: &App, f: &Function, cache_dir: &Path) -> Result<FunctionSpec, String> {
    let runtime = f
        .runtime
        .clone()
        .ok_or_else(|| "the function has no Runtime".to_string())?;
    let handler = f.handler.clone().unwrap_or_default();
    let code_dir = match &f.code {
        Code::Dir { path, .. } => path.clone(),
        Code::Inline { source } => inline_dir(cache_dir, f, &runtime, source)?,
        Code::Archive { path, .. } => crate::archive::unpacked(cache_dir, path)?,
        Code::S3 { .. } => return Err("the code is in S3, not on this machine".into()),
        Code::Image { .. } => return Err("the function is an image".into()),
        Code::Unresolved { value } => {
            return Err(format!("CodeUri {} cannot be resolved locally", value.0))
        }
    };
    if !code_dir.is_dir() {
        return Err(format!(
            "the code directory {} does not exist",
            code_dir.display()
        ));
    }
    let mut spec = FunctionSpec::new(f.name(), runtime, handler, code_dir);
    for layer in &f.layers {
        spec.layers.push(layer_dir(app, layer, cache_dir)?);
    }
    Ok(spec)
}

/// What every function takes from the template whatever its sandbox: limits, region,
/// asynchronous settings, environment (the template's, then `--env-vars`).
fn with_settings(
    app: &App,
    f: &Function,
    env_vars: Option<&EnvVarsFile>,
    mut spec: FunctionSpec,
) -> FunctionSpec {
    spec.logical_id = f.logical_id.clone();
    spec.memory_mb = f.memory_size;
    spec.timeout = Duration::from_secs(u64::from(f.timeout.max(1)));
    spec.reserved_concurrency = f.reserved_concurrency;
    if let Some(mb) = f.ephemeral_storage_mb {
        spec.ephemeral_storage_mb = mb;
    }
    spec.region = app.region.clone();
    spec.account_id = app.account_id.clone();
    if let Some(a) = f.architectures.first() {
        spec.architecture = a.clone();
    }
    if let Some(r) = f
        .event_invoke_config
        .as_ref()
        .and_then(|c| c.maximum_retry_attempts)
    {
        spec.max_async_retries = r;
    }
    if let Some(age) = f
        .event_invoke_config
        .as_ref()
        .and_then(|c| c.maximum_event_age_in_seconds)
    {
        spec.max_event_age = std::time::Duration::from_secs(u64::from(age));
    }
    for (k, v) in &f.environment {
        spec.env.insert(k.clone(), v.display());
    }
    if let Some(ev) = env_vars {
        for (k, v) in ev.for_function(&f.logical_id, f.name()) {
            spec.env.insert(k, v);
        }
    }
    spec
}

/// A layer of the template (by `!Ref`, which resolves to its ARN, or by logical id).
/// Layers published elsewhere cannot be fetched, so the function is not runnable.
fn layer_dir(
    app: &App,
    layer: &ssam_template::Text,
    cache_dir: &Path,
) -> Result<std::path::PathBuf, String> {
    let shown = layer.display();
    let name = layer
        .as_known()
        .map(|s| {
            if s.starts_with("arn:") && s.contains(":layer:") {
                s.split(':').nth(6).unwrap_or(s)
            } else {
                s
            }
        })
        .unwrap_or("");
    let found = app.layers.iter().find(|l| l.logical_id == name).ok_or_else(|| {
        format!("layer {shown} is not in the template; ssam can only use layers it can read locally")
    })?;
    match &found.content {
        Code::Dir { path, .. } if path.is_dir() => Ok(path.clone()),
        Code::Dir { path, .. } => Err(format!(
            "layer {} points at {}, which does not exist",
            found.logical_id,
            path.display()
        )),
        // A zip ContentUri: unpacked into the cache like a function's zip CodeUri.
        Code::Archive { path, .. } => crate::archive::unpacked(cache_dir, path),
        _ => Err(format!(
            "layer {}'s content is not a local directory",
            found.logical_id
        )),
    }
}

/// InlineCode is written as `index.py` / `index.js`, as Lambda stores it.
fn inline_dir(
    cache_dir: &Path,
    f: &Function,
    runtime: &str,
    source: &str,
) -> Result<std::path::PathBuf, String> {
    let file = if runtime.starts_with("python") {
        "index.py"
    } else if runtime.starts_with("nodejs") {
        "index.js"
    } else {
        return Err(format!("InlineCode is not supported for {runtime}"));
    };
    let dir = cache_dir.join("inline").join(&f.logical_id);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(file);
    std::fs::write(&path, source).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(dir)
}
