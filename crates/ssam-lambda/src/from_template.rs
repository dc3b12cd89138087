//! Turns the template's functions into [`FunctionSpec`]s, with `--env-vars` applied.
//!
//! Functions ssam cannot run natively (PackageType Image, code in S3, a zip file) are left
//! out with a note saying why, so invoking them can explain instead of answering 404.

use std::path::Path;
use std::time::Duration;

use ssam_template::{App, Code, Function, PackageType};

use crate::env_vars::EnvVarsFile;
use crate::spec::FunctionSpec;

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

/// Maps every function of `app`. `cache_dir` receives the files of InlineCode functions.
pub fn specs_from_app(app: &App, env_vars: Option<&EnvVarsFile>, cache_dir: &Path) -> FromTemplate {
    let mut out = FromTemplate {
        specs: Vec::new(),
        skipped: Vec::new(),
    };
    for f in &app.functions {
        match spec_from_function(app, f, env_vars, cache_dir) {
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

fn spec_from_function(
    app: &App,
    f: &Function,
    env_vars: Option<&EnvVarsFile>,
    cache_dir: &Path,
) -> Result<FunctionSpec, String> {
    if f.package_type == PackageType::Image {
        return Err(
            "PackageType Image functions need Docker, which this ssam does not use yet".into(),
        );
    }
    let runtime = f
        .runtime
        .clone()
        .ok_or_else(|| "the function has no Runtime".to_string())?;
    let handler = f.handler.clone().unwrap_or_default();
    let code_dir = match &f.code {
        Code::Dir { path, .. } => path.clone(),
        Code::Inline { source } => inline_dir(cache_dir, f, &runtime, source)?,
        Code::Archive { as_written, .. } => {
            return Err(format!(
                "CodeUri {as_written} is an archive; point CodeUri at the source directory or run `sam build`"
            ))
        }
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
    spec.logical_id = f.logical_id.clone();
    spec.memory_mb = f.memory_size;
    spec.timeout = Duration::from_secs(u64::from(f.timeout.max(1)));
    spec.reserved_concurrency = f.reserved_concurrency;
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
    for layer in &f.layers {
        spec.layers.push(layer_dir(app, layer)?);
    }
    for (k, v) in &f.environment {
        spec.env.insert(k.clone(), v.display());
    }
    if let Some(ev) = env_vars {
        for (k, v) in ev.for_function(&f.logical_id, f.name()) {
            spec.env.insert(k, v);
        }
    }
    Ok(spec)
}

/// A layer of the template (by `!Ref`, which resolves to its ARN, or by logical id).
/// Layers published elsewhere cannot be fetched, so the function is not runnable.
fn layer_dir(app: &App, layer: &ssam_template::Text) -> Result<std::path::PathBuf, String> {
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
