//! The AWS SDK that Lambda's Python runtimes include: handler code may `import boto3` without
//! packaging it, because AWS puts boto3 in `/var/runtime` (after the function's code and its
//! layers on `sys.path`). A native sandbox reproduces that: when the chosen interpreter cannot
//! import boto3, ssam installs it once into its cache and appends that directory to
//! `PYTHONPATH`, so a boto3 the function vendors still wins, as on AWS.
//!
//! Deciding costs a Python start-up (~30-50 ms), as much as a whole cold invoke, so the answer
//! is kept on disk: an installed SDK dir is used after one `stat`, and an interpreter found to
//! have its own boto3 gets a marker file and is not asked again.
//!
//! <https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html> ("the Python runtimes
//! include the AWS SDK for Python (Boto3)").

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Interpreter → the directory to add to `PYTHONPATH` (None: boto3 already importable, or
/// it could not be installed; decided once per interpreter per ssam process).
static DECIDED: Mutex<Option<HashMap<PathBuf, Option<PathBuf>>>> = Mutex::new(None);

/// The directory holding boto3 for `python`, installing it on first use.
pub(crate) fn sdk_path(python: &Path, cache_dir: &Path) -> Option<PathBuf> {
    let mut guard = DECIDED.lock().unwrap_or_else(|e| e.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    if let Some(found) = map.get(python) {
        return found.clone();
    }
    let found = decide_cached(python, cache_dir);
    map.insert(python.to_path_buf(), found.clone());
    found
}

/// `<cache>/python-sdk/3.N`: one install per Python version, because pip picks releases for
/// the interpreter it runs under (botocore for 3.11 does not import on 3.9).
fn sdk_dir(python: &Path, cache_dir: &Path) -> PathBuf {
    cache_dir
        .join("python-sdk")
        .join(python_version(python).unwrap_or_else(|| "any".into()))
}

/// `3.N` from the interpreter's file name (`python3.12`), else by asking it.
pub(crate) fn python_version(python: &Path) -> Option<String> {
    let name = python.file_name()?.to_str()?;
    if let Some(v) = name.strip_prefix("python").filter(|v| v.contains('.')) {
        return Some(v.to_string());
    }
    let out = Command::new(python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !v.is_empty()).then_some(v)
}

fn decide_cached(python: &Path, cache_dir: &Path) -> Option<PathBuf> {
    let dir = sdk_dir(python, cache_dir);
    if dir.join("boto3").is_dir() {
        // Appended to PYTHONPATH even when the interpreter has its own boto3: the function's
        // code dir still comes first, as on AWS.
        return Some(dir);
    }
    let marker = cache_dir.join("python-sdk-native").join(format!(
        "{:016x}",
        crate::bootstrap::fnv1a(&python.to_string_lossy())
    ));
    if marker.is_file() {
        return None;
    }
    let found = decide(python, cache_dir);
    if found.is_none() && can_import(python, None) {
        if let Some(parent) = marker.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(&marker, python.to_string_lossy().as_bytes());
    }
    found
}

fn can_import(python: &Path, extra_path: Option<&Path>) -> bool {
    let mut cmd = Command::new(python);
    cmd.args([
        "-c",
        "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('boto3') else 1)",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if let Some(p) = extra_path {
        cmd.env("PYTHONPATH", p);
    }
    cmd.status().is_ok_and(|s| s.success())
}

fn decide(python: &Path, cache_dir: &Path) -> Option<PathBuf> {
    if can_import(python, None) {
        return None;
    }
    let dir = sdk_dir(python, cache_dir);
    if dir.join("boto3").is_dir() && can_import(python, Some(&dir)) {
        return Some(dir);
    }
    tracing::info!(
        "ssam: installing boto3 into {} (Lambda's Python runtimes include it; this happens once)",
        dir.display()
    );
    match pip_install_into(python, cache_dir, &dir, "boto3") {
        Ok(()) => can_import(python, Some(&dir)).then_some(dir),
        Err(e) => {
            tracing::warn!(
                "boto3 could not be installed for {} ({e}); functions importing it will fail\n  hint: pip install boto3 for that interpreter, or vendor it in the function's CodeUri",
                python.display(),
            );
            None
        }
    }
}

/// Installs `requirement` with `python`'s pip into `dir` (staged in `cache_dir`, then renamed
/// into place, so a concurrent ssam never sees half an install). `Err` is pip's last line.
pub(crate) fn pip_install_into(
    python: &Path,
    cache_dir: &Path,
    dir: &Path,
    requirement: &str,
) -> Result<(), String> {
    let staging = cache_dir.join(format!(
        "pip.tmp-{}-{:016x}",
        std::process::id(),
        crate::bootstrap::fnv1a(&dir.to_string_lossy())
    ));
    if let Some(parent) = dir.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::remove_dir_all(&staging);
    let out = Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--target",
        ])
        .arg(&staging)
        .arg(requirement)
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            // Rename into place atomically; another ssam may have won the race, which is fine.
            let _ = std::fs::remove_dir_all(dir);
            if std::fs::rename(&staging, dir).is_err() {
                let _ = std::fs::remove_dir_all(&staging);
            }
            Ok(())
        }
        Ok(o) => {
            let _ = std::fs::remove_dir_all(&staging);
            let err = String::from_utf8_lossy(&o.stderr);
            Err(err.lines().last().unwrap_or("pip failed").to_string())
        }
        Err(e) => Err(format!("cannot run {} -m pip: {e}", python.display())),
    }
}
