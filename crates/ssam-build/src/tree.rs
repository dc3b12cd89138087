//! Source trees: their content hash (what a build unit reads), and copies of them into the
//! build directory with the files a workflow leaves out.

use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Left out of every source hash: build outputs, dependencies installed in place, VCS data,
/// bytecode, and ssam's own state.
pub const NOT_SOURCES: &[&str] = &[
    ".aws-sam",
    ".ssam",
    ".git",
    "target",
    "node_modules",
    "__pycache__",
    "*.pyc",
];

/// What `sam build`'s python workflow leaves out of the artifact (aws-lambda-builders
/// `PythonPipWorkflow.EXCLUDED_FILES`, without `*.so`: a compiled module the user put in
/// the source tree is part of the function).
pub const PYTHON_EXCLUDED: &[&str] = &[
    ".aws-sam",
    ".ssam",
    ".chalice",
    ".git",
    ".gitignore",
    "*.pyc",
    "__pycache__",
    ".venv",
    "venv",
    ".pytest_cache",
    ".mypy_cache",
    ".tox",
    ".idea",
];

/// Left out when copying any other source tree.
pub const COPY_EXCLUDED: &[&str] = &[".aws-sam", ".ssam", ".git"];

fn excluded(name: &str, patterns: &[&str]) -> bool {
    patterns.iter().any(|p| match p.strip_prefix('*') {
        Some(suffix) => name.ends_with(suffix),
        None => name == *p,
    })
}

/// SHA-256 over the tree's paths, kinds, executable bits and contents, in a stable order.
pub fn hash_tree(root: &Path, hasher: &mut Sha256) -> io::Result<()> {
    let walk = walkdir::WalkDir::new(root)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !excluded(&e.file_name().to_string_lossy(), NOT_SOURCES));
    for entry in walk {
        let entry = entry.map_err(io::Error::other)?;
        let rel = entry
            .path()
            .strip_prefix(root)
            .map_err(io::Error::other)?
            .to_string_lossy()
            .into_owned();
        let kind = entry.file_type();
        if kind.is_dir() {
            hasher.update(format!("d {rel}\n"));
        } else if kind.is_symlink() {
            let target = std::fs::read_link(entry.path())?;
            hasher.update(format!("l {rel} {}\n", target.display()));
        } else if kind.is_file() {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = entry
                .metadata()
                .map_err(io::Error::other)?
                .permissions()
                .mode();
            let bytes = std::fs::read(entry.path())?;
            hasher.update(format!("f {rel} {} {}\n", mode & 0o111 != 0, bytes.len()));
            hasher.update(&bytes);
        }
    }
    Ok(())
}

/// Copies `from` into `to` (created), leaving out names matching `excluded`; later copies
/// over earlier files win.
pub fn copy_tree(from: &Path, to: &Path, exclude: &[&str]) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if excluded(&name.to_string_lossy(), exclude) {
            continue;
        }
        let target = to.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &target, exclude)?;
        } else if kind.is_symlink() {
            let _ = std::fs::remove_file(&target);
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            let _ = std::fs::remove_file(&target);
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Puts the tree `from` into `to` with hard links (a cached dependency set costs no copy),
/// falling back to copies across file systems.
pub fn link_tree(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            link_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            let _ = std::fs::remove_file(&target);
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            let _ = std::fs::remove_file(&target);
            if std::fs::hard_link(entry.path(), &target).is_err() {
                std::fs::copy(entry.path(), &target)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn hash(root: &Path) -> String {
        let mut h = Sha256::new();
        hash_tree(root, &mut h).unwrap();
        hex::encode(h.finalize())
    }

    #[test]
    fn hash_ignores_outputs_and_follows_sources() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "app.py", "x = 1\n");
        let base = hash(dir.path());
        write(dir.path(), "__pycache__/app.cpython-311.pyc", "junk");
        write(dir.path(), ".aws-sam/build/F/app.py", "x");
        write(dir.path(), "node_modules/m/index.js", "x");
        assert_eq!(hash(dir.path()), base);
        write(dir.path(), "app.py", "x = 2\n");
        assert_ne!(hash(dir.path()), base);
    }

    #[test]
    fn copies_leave_out_excluded_names() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        write(&src, "app.py", "x");
        write(&src, "pkg/mod.py", "y");
        write(&src, "pkg/__pycache__/mod.pyc", "z");
        write(&src, ".git/HEAD", "ref");
        write(&src, "native.so", "elf");
        let out = dir.path().join("out");
        copy_tree(&src, &out, PYTHON_EXCLUDED).unwrap();
        assert!(out.join("app.py").is_file());
        assert!(out.join("pkg/mod.py").is_file());
        assert!(out.join("native.so").is_file());
        assert!(!out.join("pkg/__pycache__").exists());
        assert!(!out.join(".git").exists());
    }
}
