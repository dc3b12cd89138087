//! Dependencies without a build step: a native Python function whose code directory holds a
//! `requirements.txt` gets those packages on `PYTHONPATH`, and a Node.js function with a
//! `package.json` (and no `node_modules` of its own) its production dependencies on
//! `NODE_PATH`, installed once into the cache `ssam build` uses (keyed by the manifest, so
//! an edit of it installs the new set on the next cold start, and a source edit never
//! reinstalls). As in a built function, they come right after the code, before the layers.

use std::path::{Path, PathBuf};

use crate::spec::FunctionSpec;

/// The dependency directory for `spec` run by `python`, installing it on first use. `None`
/// when there is no manifest, or the install failed (said in the log: the function then
/// runs and fails on its import, as a function deployed without them would).
pub(crate) fn python_dependencies(
    spec: &FunctionSpec,
    python: &Path,
    cache_dir: &Path,
) -> Option<PathBuf> {
    let manifest = spec.code_dir.join("requirements.txt");
    if !manifest.is_file() {
        return None;
    }
    // Natively the packages must suit the interpreter that runs them and this machine.
    let minor = crate::python_sdk::python_version(python)?
        .strip_prefix("3.")?
        .parse::<u32>()
        .ok()?;
    let architecture = if std::env::consts::ARCH == "aarch64" {
        "arm64"
    } else {
        "x86_64"
    };
    let mut on_line = progress(&spec.name);
    match ssam_build::python::dependencies(cache_dir, &manifest, minor, architecture, &mut on_line)
    {
        Ok(dir) => Some(dir),
        Err(e) => {
            tracing::warn!(
                "{}: cannot install the dependencies of {}: {e}",
                spec.name,
                manifest.display()
            );
            None
        }
    }
}

/// The `node_modules` of `spec`'s `package.json` dependencies, installed on first use;
/// `None` when the code has its own `node_modules`, no dependencies, or the install failed
/// (said in the log).
pub(crate) fn node_dependencies(spec: &FunctionSpec, cache_dir: &Path) -> Option<PathBuf> {
    if spec.code_dir.join("node_modules").exists() || !spec.code_dir.join("package.json").is_file()
    {
        return None;
    }
    let mut on_line = progress(&spec.name);
    match ssam_build::node::dependencies(
        cache_dir,
        &spec.code_dir.join("package.json"),
        &mut on_line,
    ) {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(
                "{}: cannot install the dependencies of package.json: {e}",
                spec.name
            );
            None
        }
    }
}

/// Whether `spec` has dependencies to install before its first invocation.
pub(crate) fn has_manifest(spec: &FunctionSpec) -> bool {
    spec.code_dir.join("requirements.txt").is_file()
        || (spec.code_dir.join("package.json").is_file()
            && !spec.code_dir.join("node_modules").exists())
}

/// An install's output: its first line ("installing dependencies from ...") said, the tool's
/// own lines kept for `SSAM_LOG=debug`.
fn progress(name: &str) -> impl FnMut(&str) + '_ {
    let mut said = false;
    move |line: &str| {
        if said {
            tracing::debug!("{name}: {line}");
        } else {
            tracing::info!("{name}: {line}");
            said = true;
        }
    }
}
