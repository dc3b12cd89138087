//! Dependency sets installed once per key: `<cache>/<kind>/<key>/`, complete when it holds
//! `.complete`. One install per key even across processes (parallel test runs, two ssam
//! commands): a file lock makes the others wait for it instead of downloading the same
//! packages; the install goes to a scratch directory renamed into place when done.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::BuildError;

/// The directory of `key` under `parent`, made by `install` (given an empty scratch
/// directory) unless a complete one exists.
pub(crate) fn install_once(
    parent: &Path,
    key: &str,
    install: impl FnOnce(&Path) -> Result<(), BuildError>,
) -> Result<PathBuf, BuildError> {
    let dir = parent.join(key);
    let complete = |d: &Path| d.join(".complete").is_file();
    if complete(&dir) {
        return Ok(dir);
    }
    std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
    let lock_path = parent.join(format!("{key}.lock"));
    let lock = std::fs::File::create(&lock_path).map_err(|e| BuildError::io(&lock_path, e))?;
    lock.lock().map_err(|e| BuildError::io(&lock_path, e))?;
    if complete(&dir) {
        return Ok(dir);
    }
    let scratch = parent.join(format!("{key}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| BuildError::io(&scratch, e))?;
    install(&scratch)?;
    std::fs::write(scratch.join(".complete"), b"").map_err(|e| BuildError::io(&scratch, e))?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&scratch, &dir).map_err(|e| BuildError::io(&dir, e))?;
    Ok(dir)
}

/// Runs a tool (pip, npm), each non-empty output line to `on_line`; on failure the error is
/// its last lines.
pub(crate) fn run_tool(cmd: &mut Command, on_line: &mut dyn FnMut(&str)) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        on_line(line);
    }
    if out.status.success() {
        return Ok(());
    }
    let tail: Vec<&str> = text
        .lines()
        .rev()
        .filter(|l| !l.trim().is_empty())
        .take(3)
        .collect();
    Err(tail.into_iter().rev().collect::<Vec<_>>().join(" / "))
}
