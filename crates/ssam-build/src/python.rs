//! Python dependencies, as Lambda would get them: `pip install -r requirements.txt` into a
//! cache directory keyed by the manifest, the runtime's Python version and the
//! architecture, with wheels for Lambda's platform (manylinux, the runtime's CPython), so a
//! python3.12 function builds on a machine whose `python3` is 3.11. A source edit never
//! reinstalls: the set is reused until the manifest changes.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::BuildError;

/// The manylinux platforms Lambda's Amazon Linux runs wheels of, best first: glibc 2.34 on
/// Amazon Linux 2023 (python3.12 and later), glibc 2.26 on Amazon Linux 2 (python3.9 to
/// python3.11), so a `manylinux_2_28` wheel is never chosen for those: its binaries would
/// not load on Lambda ("Lambda runtimes", AWS Lambda Developer Guide, the OS of each runtime).
/// pip does not widen an explicit `--platform` to older tags, so every one is listed.
fn platforms(minor: u32, architecture: &str) -> Vec<String> {
    let arch = if architecture == "arm64" {
        "aarch64"
    } else {
        "x86_64"
    };
    let mut tags = Vec::new();
    if minor >= 12 {
        tags.push(format!("manylinux_2_34_{arch}"));
        tags.push(format!("manylinux_2_28_{arch}"));
    }
    tags.push(format!("manylinux_2_17_{arch}"));
    tags.push(format!("manylinux2014_{arch}"));
    if arch == "x86_64" {
        tags.push("manylinux_2_12_x86_64".to_string());
        tags.push("manylinux2010_x86_64".to_string());
        tags.push("manylinux_2_5_x86_64".to_string());
        tags.push("manylinux1_x86_64".to_string());
    }
    tags
}

/// The key of a dependency set.
pub fn deps_key(manifest: &[u8], minor: u32, architecture: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"ssam-python-deps-v3\n");
    h.update(format!("3.{minor} {architecture}\n"));
    h.update(manifest);
    hex::encode(&h.finalize()[..16])
}

/// The directory holding the dependencies of `manifest` for python3.`minor` on
/// `architecture`, installed on first use. `on_line` receives pip's output.
pub fn dependencies(
    cache_dir: &Path,
    manifest: &Path,
    minor: u32,
    architecture: &str,
    on_line: &mut dyn FnMut(&str),
) -> Result<PathBuf, BuildError> {
    let text = std::fs::read(manifest).map_err(|e| BuildError::io(manifest, e))?;
    let key = deps_key(&text, minor, architecture);
    crate::cache::install_once(&cache_dir.join("python-deps"), &key, |scratch| {
        on_line(&format!(
            "installing dependencies from {} for python3.{minor} ({architecture})",
            manifest.display()
        ));
        install(manifest, minor, architecture, scratch, on_line)
    })
}

/// `pip install -r manifest` into `scratch`, for Lambda's platform (else for this machine).
fn install(
    manifest: &Path,
    minor: u32,
    architecture: &str,
    scratch: &Path,
    on_line: &mut dyn FnMut(&str),
) -> Result<(), BuildError> {
    let python = host_python()?;
    let lambda_platform: Vec<String> = ["--implementation", "cp", "--only-binary=:all:"]
        .iter()
        .map(|s| s.to_string())
        .chain(["--python-version".to_string(), format!("3.{minor}")])
        .chain(
            platforms(minor, architecture)
                .into_iter()
                .flat_map(|p| ["--platform".to_string(), p]),
        )
        .collect();
    if let Err(first) = crate::cache::run_tool(
        &mut pip_install(&python, manifest, scratch, &lambda_platform),
        on_line,
    ) {
        // Some packages publish only a source distribution: those install for this
        // machine (pure Python ones run the same on Lambda).
        on_line(&format!(
            "no Lambda-platform wheel for every requirement ({first}); installing for this machine instead"
        ));
        let _ = std::fs::remove_dir_all(scratch);
        std::fs::create_dir_all(scratch).map_err(|e| BuildError::io(scratch, e))?;
        crate::cache::run_tool(&mut pip_install(&python, manifest, scratch, &[]), on_line)
            .map_err(|message| BuildError::Step {
                step: format!("pip install -r {}", manifest.display()),
                message,
            })?;
    }
    // Console scripts name this machine's interpreter in their first line: no use on Lambda
    // (SAM's artifact has none either).
    let _ = std::fs::remove_dir_all(scratch.join("bin"));
    Ok(())
}

/// `python -m pip install -r manifest --target target [extra...]`, quietly, without bytecode.
fn pip_install(python: &Path, manifest: &Path, target: &Path, extra: &[String]) -> Command {
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--no-compile",
    ])
    .arg("--requirement")
    .arg(manifest)
    .arg("--target")
    .arg(target)
    .args(extra);
    cmd
}

/// A Python with pip: `SSAM_BUILD_PYTHON`, else `python3` on PATH.
fn host_python() -> Result<PathBuf, BuildError> {
    let candidate = std::env::var_os("SSAM_BUILD_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"));
    let ok = Command::new(&candidate)
        .args(["-m", "pip", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Ok(candidate)
    } else {
        Err(BuildError::Step {
            step: "find pip".into(),
            message: format!(
                "`{} -m pip` does not work; hint: install pip for python3, or set SSAM_BUILD_PYTHON to a Python that has it",
                candidate.display()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_follow_the_runtime_and_architecture() {
        assert_eq!(platforms(12, "x86_64")[0], "manylinux_2_34_x86_64");
        // Amazon Linux 2 (glibc 2.26): never a manylinux_2_28 wheel.
        assert_eq!(platforms(11, "x86_64")[0], "manylinux_2_17_x86_64");
        assert!(!platforms(9, "x86_64").iter().any(|p| p.contains("2_28")));
        assert!(platforms(12, "arm64")
            .iter()
            .all(|p| p.ends_with("aarch64")));
    }

    #[test]
    fn the_key_changes_with_manifest_version_and_architecture() {
        let k = deps_key(b"requests\n", 12, "x86_64");
        assert_eq!(k, deps_key(b"requests\n", 12, "x86_64"));
        assert_ne!(k, deps_key(b"requests==2\n", 12, "x86_64"));
        assert_ne!(k, deps_key(b"requests\n", 11, "x86_64"));
        assert_ne!(k, deps_key(b"requests\n", 12, "arm64"));
    }
}
