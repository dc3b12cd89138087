//! Node.js dependencies: `npm install` of the function's `package.json` production
//! dependencies into a cache directory keyed by the manifest, the lockfile and the contents
//! of local `file:` dependencies, so a source edit never reinstalls. Local `file:` packages
//! are kept: their paths are made absolute for the install and they are installed as copies
//! (`--install-links`), never as links that would point outside the artifact (SAM drops
//! them silently).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::BuildError;

/// The `node_modules` directory for a `package.json` (usually the function's own; `ssam
/// build --manifest` names another), installed on first use; `None` when the package has no
/// production dependencies. `file:` dependencies are relative to the manifest, as for npm.
pub fn dependencies(
    cache_dir: &Path,
    manifest_path: &Path,
    on_line: &mut dyn FnMut(&str),
) -> Result<Option<PathBuf>, BuildError> {
    let code_dir = manifest_path.parent().unwrap_or(Path::new("."));
    let Ok(text) = std::fs::read(manifest_path) else {
        return Ok(None);
    };
    let manifest: Value = serde_json::from_slice(&text).map_err(|e| BuildError::Step {
        step: format!("read {}", manifest_path.display()),
        message: e.to_string(),
    })?;
    let deps = manifest
        .get("dependencies")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if deps.is_empty() {
        return Ok(None);
    }
    let mut h = Sha256::new();
    h.update(b"ssam-node-deps-v2\n");
    h.update(&text);
    let lock = std::fs::read(code_dir.join("package-lock.json")).ok();
    if let Some(lock) = &lock {
        h.update(lock);
    }
    // With a lockfile, `npm ci` installs exactly what it pins, as `sam build` does with one.
    // Local `file:` packages are relative to the function's directory, which the lockfile
    // records too: those installs run `npm install` on a rewritten manifest instead.
    let has_file_deps = deps
        .values()
        .any(|v| v.as_str().is_some_and(|s| s.starts_with("file:")));
    let use_ci = lock.is_some() && !has_file_deps;
    let mut rewritten = manifest.clone();
    for (name, spec) in &deps {
        let Some(rel) = spec.as_str().and_then(|s| s.strip_prefix("file:")) else {
            continue;
        };
        let abs = code_dir.join(rel);
        h.update(format!("file dep {name}\n"));
        crate::tree::hash_tree(&abs, &mut h).map_err(|e| BuildError::io(&abs, e))?;
        if let Some(d) = rewritten
            .get_mut("dependencies")
            .and_then(Value::as_object_mut)
        {
            d.insert(
                name.clone(),
                Value::String(format!("file:{}", abs.display())),
            );
        }
    }
    // Only what the install reads: no dev dependencies, no scripts of the package itself.
    if let Some(obj) = rewritten.as_object_mut() {
        obj.remove("devDependencies");
        obj.remove("scripts");
    }
    let key = hex::encode(&h.finalize()[..16]);
    let dir = crate::cache::install_once(&cache_dir.join("node-deps"), &key, |scratch| {
        on_line(&format!(
            "installing dependencies from {}",
            manifest_path.display()
        ));
        let mut npm = Command::new("npm");
        if let (true, Some(lock)) = (use_ci, &lock) {
            // `npm ci` checks the manifest against the lockfile: both as written.
            std::fs::write(scratch.join("package.json"), &text)
                .map_err(|e| BuildError::io(scratch, e))?;
            std::fs::write(scratch.join("package-lock.json"), lock)
                .map_err(|e| BuildError::io(scratch, e))?;
            npm.args([
                "ci",
                "--omit=dev",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
            ]);
        } else {
            let body = serde_json::to_vec_pretty(&rewritten).unwrap_or_default();
            std::fs::write(scratch.join("package.json"), body)
                .map_err(|e| BuildError::io(scratch, e))?;
            npm.args([
                "install",
                "--omit=dev",
                "--install-links",
                "--no-audit",
                "--no-fund",
                "--no-package-lock",
                "--ignore-scripts",
            ]);
        }
        npm.current_dir(scratch);
        let step = if use_ci { "npm ci" } else { "npm install" };
        crate::cache::run_tool(&mut npm, on_line).map_err(|message| BuildError::Step {
            step: format!("{step} ({})", manifest_path.display()),
            message,
        })
    })?;
    Ok(Some(dir.join("node_modules")))
}
