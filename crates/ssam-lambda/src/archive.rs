//! A `CodeUri` (or a layer's `ContentUri`) that points at a local `.zip` file: unpacked
//! once into ssam's cache, keyed by the SHA-256 of the archive's bytes, and run from there,
//! as Lambda runs a function from its deployment package. An entry that would land outside
//! the directory (`../x`, an absolute path, a symlink out) is refused, and unix permissions
//! are kept (a `provided` runtime's `bootstrap` stays executable).

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// The directory `zip` is unpacked in under `cache_dir`, unpacking it when it is not yet;
/// an error names the file and what is wrong with it.
pub fn unpacked(cache_dir: &Path, zip: &Path) -> Result<PathBuf, String> {
    let bytes = std::fs::read(zip)
        .map_err(|e| format!("cannot read the zip file {}: {e}", zip.display()))?;
    let hash = hex::encode(Sha256::digest(&bytes));
    let root = cache_dir.join("zip-code");
    let dir = root.join(&hash[..32]);
    if dir.is_dir() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&root)
        .map_err(|e| format!("cannot create the cache directory {}: {e}", root.display()))?;
    // Unpacked beside the final place, then renamed: another ssam unpacking the same
    // archive at the same time, or one interrupted, never leaves a half directory in use.
    let scratch = root.join(format!(".tmp-{}-{}", &hash[..16], uuid::Uuid::new_v4()));
    let result = extract(&bytes, &scratch).map_err(|e| {
        format!(
            "the zip file {} cannot be unpacked: {e}\n  hint: check the archive (e.g. `unzip -t`), or point CodeUri at the source directory",
            zip.display()
        )
    });
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&scratch);
        return Err(e);
    }
    match std::fs::rename(&scratch, &dir) {
        Ok(()) => Ok(dir),
        // Someone else finished first: theirs is the same content.
        Err(_) if dir.is_dir() => {
            let _ = std::fs::remove_dir_all(&scratch);
            Ok(dir)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&scratch);
            Err(format!(
                "cannot move the unpacked {} into {}: {e}",
                zip.display(),
                dir.display()
            ))
        }
    }
}

/// Unix file type bits of a symlink in an entry's external attributes.
const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;

fn extract(bytes: &[u8], into: &Path) -> Result<(), String> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(into).map_err(|e| e.to_string())?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| e.to_string())?;
        let name = entry.name().map_err(|e| e.to_string())?.into_owned();
        let Some(rel) = entry.enclosed_name() else {
            return Err(format!(
                "entry {name:?} would be written outside the code directory"
            ));
        };
        if rel.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(format!(
                "entry {name:?} would be written outside the code directory"
            ));
        }
        let path = into.join(&rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(|e| format!("{name}: {e}"))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{name}: {e}"))?;
        }
        let mode = entry.unix_mode();
        if mode.is_some_and(|m| m & S_IFMT == S_IFLNK) {
            let mut target = String::new();
            entry
                .read_to_string(&mut target)
                .map_err(|e| format!("{name}: {e}"))?;
            if !stays_inside(&rel, Path::new(&target)) {
                return Err(format!(
                    "entry {name:?} is a symlink to {target:?}, outside the code directory"
                ));
            }
            std::os::unix::fs::symlink(&target, &path).map_err(|e| format!("{name}: {e}"))?;
            continue;
        }
        let mut out = std::fs::File::create(&path).map_err(|e| format!("{name}: {e}"))?;
        std::io::copy(&mut entry, &mut out).map_err(|e| format!("{name}: {e}"))?;
        if let Some(m) = mode {
            use std::os::unix::fs::PermissionsExt as _;
            // Lambda reads the code as another user: at least readable by all.
            let perm = std::fs::Permissions::from_mode((m & 0o777) | 0o444);
            std::fs::set_permissions(&path, perm).map_err(|e| format!("{name}: {e}"))?;
        }
    }
    Ok(())
}

/// Whether a symlink at `at` (relative to the code directory) pointing at `target` resolves
/// inside it, without touching the file system.
fn stays_inside(at: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: i64 = at.components().count() as i64 - 1;
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write as _;

    fn zip_of(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            for (name, data, mode) in entries {
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored)
                    .unix_permissions(*mode);
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    #[test]
    fn unpacks_once_keeping_the_executable_bit() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let zip = tmp.path().join("fn.zip");
        std::fs::write(
            &zip,
            zip_of(&[
                ("bootstrap", b"#!/bin/sh\n", 0o755),
                ("lib/app.py", b"x = 1\n", 0o644),
            ]),
        )
        .unwrap();
        let cache = tmp.path().join("cache");
        let dir = unpacked(&cache, &zip).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("lib/app.py")).unwrap(),
            "x = 1\n"
        );
        let mode = std::fs::metadata(dir.join("bootstrap"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "{mode:o}");
        // The same content: the same directory, not unpacked again.
        std::fs::write(dir.join("marker"), "kept").unwrap();
        assert_eq!(unpacked(&cache, &zip).unwrap(), dir);
        assert!(dir.join("marker").exists());
    }

    #[test]
    fn refuses_traversal_and_corrupt_archives_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("cache");
        let evil = tmp.path().join("evil.zip");
        std::fs::write(&evil, zip_of(&[("../escape.txt", b"x", 0o644)])).unwrap();
        let e = unpacked(&cache, &evil).unwrap_err();
        assert!(e.contains("evil.zip") && e.contains("outside"), "{e}");
        assert!(!tmp.path().join("escape.txt").exists());
        let broken = tmp.path().join("broken.zip");
        std::fs::write(&broken, b"PK\x03\x04 not really a zip").unwrap();
        let e = unpacked(&cache, &broken).unwrap_err();
        assert!(e.contains("broken.zip cannot be unpacked"), "{e}");
        // Nothing half-unpacked is left behind.
        let left: Vec<_> = std::fs::read_dir(cache.join("zip-code")).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn symlinks_must_stay_inside() {
        assert!(stays_inside(Path::new("a/link"), Path::new("../b")));
        assert!(!stays_inside(Path::new("a/link"), Path::new("../../b")));
        assert!(!stays_inside(Path::new("link"), Path::new("/etc/passwd")));
    }
}
