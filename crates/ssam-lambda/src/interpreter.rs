//! Finds the interpreter a `python3.X` or `nodejsN.x` function runs with.
//!
//! The exact version on PATH wins; otherwise the nearest one, with a one-line warning.
//! pyenv shims are resolved to the real binary: a shim for a version pyenv has not selected
//! fails at run time, and the shim itself (a shell script) adds tens of milliseconds to a
//! cold start.

use std::path::{Path, PathBuf};

/// An interpreter to run, and a warning when it is not the version the runtime asks for.
#[derive(Clone, Debug)]
pub struct Interpreter {
    pub path: PathBuf,
    pub warning: Option<String>,
}

fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default()
}

/// Whether `p` is a file with an execute bit (what `exec` needs, as far as a stat says).
pub(crate) fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `name` on PATH, with pyenv shims replaced by the newest installed version holding `name`.
fn which(name: &str) -> Option<PathBuf> {
    which_in(&path_dirs(), name)
}

fn which_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    for dir in dirs {
        let candidate = dir.join(name);
        if !is_executable(&candidate) {
            continue;
        }
        if dir.file_name().is_some_and(|n| n == "shims") {
            if let Some(real) = dir.parent().and_then(|root| pyenv_binary(root, name)) {
                return Some(real);
            }
            continue;
        }
        return Some(candidate);
    }
    None
}

/// `<pyenv root>/versions/*/bin/<name>`, newest version first.
fn pyenv_binary(root: &Path, name: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root.join("versions"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| is_executable(p))
        .collect();
    found.sort();
    found.pop()
}

/// The Python for `python3.<minor>`: exact, else nearest minor (newer first on a tie).
pub fn python(minor: u32) -> Result<Interpreter, String> {
    python_in(&path_dirs(), minor)
}

fn python_in(dirs: &[PathBuf], minor: u32) -> Result<Interpreter, String> {
    let which = |name: &str| which_in(dirs, name);
    if let Some(path) = which(&format!("python3.{minor}")) {
        return Ok(Interpreter {
            path,
            warning: None,
        });
    }
    for distance in 1..=12u32 {
        let mut tries = vec![minor + distance];
        if let Some(lower) = minor.checked_sub(distance) {
            tries.push(lower);
        }
        for m in tries {
            if let Some(path) = which(&format!("python3.{m}")) {
                return Ok(Interpreter {
                    path,
                    warning: Some(format!(
                        "python3.{minor} is not on PATH; running with python3.{m} instead"
                    )),
                });
            }
        }
    }
    which("python3")
        .map(|path| Interpreter {
            path,
            warning: Some(format!(
                "python3.{minor} is not on PATH; running with python3 instead"
            )),
        })
        .ok_or_else(|| {
            format!("no Python interpreter on PATH (looked for python3.{minor} and python3)")
        })
}

/// Node for `nodejs<major>.x`: `node<major>` if present, else `node`, whose version is checked
/// once per process.
pub fn node(major: u32) -> Result<Interpreter, String> {
    if let Some(path) = which(&format!("node{major}")) {
        return Ok(Interpreter {
            path,
            warning: None,
        });
    }
    let path = which("node").ok_or_else(|| format!("no node on PATH (nodejs{major}.x)"))?;
    let found = node_major(&path);
    let warning = match found {
        Some(m) if m == major => None,
        Some(m) => Some(format!(
            "nodejs{major}.x: node {major} is not on PATH; running with node {m} instead"
        )),
        None => Some(format!(
            "nodejs{major}.x: could not tell the version of {}",
            path.display()
        )),
    };
    Ok(Interpreter { path, warning })
}

fn node_major(path: &Path) -> Option<u32> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Option<u32>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().ok().and_then(|c| c.get(path).copied()) {
        return v;
    }
    let v = std::process::Command::new(path)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| {
            s.trim()
                .trim_start_matches('v')
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
        });
    if let Ok(mut c) = cache.lock() {
        c.insert(path.to_path_buf(), v);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_bin(dir: &Path, name: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    #[test]
    fn exact_then_nearest_with_a_warning() {
        let dir = std::env::temp_dir().join(format!("ssam-interp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        fake_bin(&dir, "python3.10");
        fake_bin(&dir, "python3.13");
        let dirs = vec![dir.clone()];
        let exact = python_in(&dirs, 13).expect("found");
        assert_eq!(exact.path, dir.join("python3.13"));
        assert!(exact.warning.is_none());
        let near = python_in(&dirs, 12).expect("found");
        assert_eq!(near.path, dir.join("python3.13"));
        assert_eq!(
            near.warning.as_deref(),
            Some("python3.12 is not on PATH; running with python3.13 instead")
        );
        assert_eq!(
            python_in(&dirs, 9).expect("found").path,
            dir.join("python3.10")
        );
        assert!(python_in(&[], 12).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn pyenv_shims_resolve_to_the_real_binary() {
        let root = std::env::temp_dir().join(format!("ssam-pyenv-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("shims")).expect("mkdir");
        std::fs::create_dir_all(root.join("versions/3.12.1/bin")).expect("mkdir");
        fake_bin(&root.join("shims"), "python3.12");
        fake_bin(&root.join("shims"), "python3.13");
        fake_bin(&root.join("versions/3.12.1/bin"), "python3.12");
        let dirs = vec![root.join("shims")];
        assert_eq!(
            python_in(&dirs, 12).expect("found").path,
            root.join("versions/3.12.1/bin/python3.12")
        );
        // A shim for a version pyenv does not have is skipped, not run.
        let p = python_in(&dirs, 13).expect("nearest");
        assert_eq!(p.path, root.join("versions/3.12.1/bin/python3.12"));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn finds_some_python() {
        let p = python(11).expect("a python3 on PATH");
        assert!(p.path.exists());
    }
}
