//! The runtime bootstraps ssam embeds (Python and Node), written to a cache dir on first use.
//!
//! Files are stored under a directory named after a hash of their content, so two ssam
//! versions never see each other's bootstrap and an existing file is never rewritten.

use std::path::{Path, PathBuf};

const PYTHON: &str = include_str!("bootstrap/python/_ssam_bootstrap.py");
const NODE: &str = include_str!("bootstrap/node/bootstrap.js");
const DEBUGPY_HOOK: &str = include_str!("bootstrap/debug/sitecustomize.py");

/// Runs the Python bootstrap as an imported module rather than as a script, so Python caches
/// its bytecode (compiling it costs ~2 ms of every cold start); its directory is on
/// `sys.path` only while it is imported.
pub(crate) const PYTHON_LOADER: &str =
    "import sys,os;sys.path.insert(0,os.environ['LAMBDA_RUNTIME_DIR']);\
import _ssam_bootstrap as b;del sys.path[0];b.main()";

/// Which embedded bootstrap.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Bootstrap {
    Python,
    Node,
    /// `sitecustomize.py` starting debugpy in a container (`--debug-port`).
    DebugpyHook,
}

impl Bootstrap {
    fn source(self) -> (&'static str, &'static str) {
        match self {
            Bootstrap::Python => ("_ssam_bootstrap.py", PYTHON),
            Bootstrap::Node => ("bootstrap.js", NODE),
            Bootstrap::DebugpyHook => ("sitecustomize.py", DEBUGPY_HOOK),
        }
    }
}

/// `$XDG_CACHE_HOME/ssam`, else `~/.cache/ssam`, else a directory under the system temp dir.
pub fn default_cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("ssam");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(home).join(".cache").join("ssam");
    }
    std::env::temp_dir().join("ssam")
}

/// FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
pub(crate) fn fnv1a(data: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The path of the bootstrap, writing it first when missing.
pub(crate) fn ensure(cache_dir: &Path, which: Bootstrap) -> std::io::Result<PathBuf> {
    let (name, source) = which.source();
    let dir = cache_dir.join(format!("runtime-{:016x}", fnv1a(source)));
    let path = dir.join(name);
    if path.is_file() {
        return Ok(path);
    }
    std::fs::create_dir_all(&dir)?;
    // Write then rename, so a concurrent ssam never runs a half-written file.
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    std::fs::write(&tmp, source)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_once() {
        let dir = std::env::temp_dir().join(format!("ssam-bootstrap-test-{}", std::process::id()));
        let a = ensure(&dir, Bootstrap::Python).expect("write");
        let b = ensure(&dir, Bootstrap::Python).expect("reuse");
        assert_eq!(a, b);
        assert!(std::fs::read_to_string(&a)
            .expect("read")
            .contains("Runtime.ImportModuleError"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
