//! Dependencies without a build step: a native Python function whose code directory holds a
//! `requirements.txt` gets those packages on `PYTHONPATH`, installed once into the cache
//! `ssam build` uses (keyed by the manifest, so an edit of it installs the new set on the
//! next cold start, and a source edit never reinstalls). As in a built function, they come
//! right after the code and before the layers.

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
    let name = spec.name.clone();
    let mut said = false;
    let mut on_line = |line: &str| {
        if !said {
            tracing::info!("{name}: {line}");
            said = true;
        } else {
            tracing::debug!("{name}: {line}");
        }
    };
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
