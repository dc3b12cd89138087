//! The build context: which files of `context_dir` go to the engine (after `.dockerignore`),
//! the deterministic tar that carries them, and the content hash that says whether an existing
//! image is still up to date.
//!
//! Deterministic means: entries in a fixed order, mtime 0, uid/gid 0, modes reduced to 0644 /
//! 0755, so the same inputs give the same bytes (and Docker's layer cache keys stay stable).

use std::io;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::BuildError;
use crate::ignore::DockerIgnore;
use crate::spec::ImageSpec;

/// The files of a context, in the order they go into the tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The Dockerfile's path inside the context, cleaned (`./Dockerfile` is `Dockerfile`).
    pub dockerfile: String,
    pub entries: Vec<Entry>,
}

/// One entry of the context; `path` is relative to the context root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File { executable: bool, bytes: Vec<u8> },
    Symlink { target: String },
}

/// The hash stored on the image as `ssam.content-hash`: sha256 over the files sent (path,
/// executable bit, bytes), the Dockerfile's path, the build args, the target and the platform.
pub fn content_hash(spec: &ImageSpec) -> Result<String, BuildError> {
    Ok(collect(spec)?.hash(spec))
}

/// ssam's state directory, left out of every build context.
pub const STATE_DIR: &str = ".ssam";

/// Reads the context of `spec` from disk, leaving out what `.dockerignore` excludes (and
/// [`STATE_DIR`]).
pub fn collect(spec: &ImageSpec) -> Result<Context, BuildError> {
    let root = spec.context_dir.as_path();
    let dockerfile = dockerfile_in_context(&spec.dockerfile, root)?;
    let dockerfile_path = root.join(&dockerfile);
    match std::fs::metadata(&dockerfile_path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(BuildError::MissingDockerfile {
                path: dockerfile_path,
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(BuildError::MissingDockerfile {
                path: dockerfile_path,
            })
        }
        Err(source) => return Err(context_err(&dockerfile_path, source)),
    }

    let ignore_path = root.join(".dockerignore");
    let ignore = match std::fs::read_to_string(&ignore_path) {
        Ok(text) => DockerIgnore::parse(&text).map_err(|bad| BuildError::IgnorePattern {
            path: ignore_path.clone(),
            pattern: bad.pattern,
            reason: bad.reason,
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => DockerIgnore::default(),
        Err(source) => return Err(context_err(&ignore_path, source)),
    };
    let walk_into_ignored_dirs = ignore.has_exceptions();

    let mut entries = Vec::new();
    let mut walk = walkdir::WalkDir::new(root)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    while let Some(item) = walk.next() {
        let item = item.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            context_err(&path, io::Error::other(e.to_string()))
        })?;
        let rel = relative_slash_path(root, item.path())?;
        let file_type = item.file_type();
        // ssam's own state (the local S3's objects, caches) lives in `.ssam` next to the
        // template, often inside the context: never part of an image, and it changes with
        // every upload.
        if rel == STATE_DIR {
            walk.skip_current_dir();
            continue;
        }
        // Docker always sends these two, whatever .dockerignore says: the engine needs them.
        let always_sent = rel == dockerfile || rel == ".dockerignore";
        if !always_sent && ignore.is_ignored(&rel) {
            let holds_dockerfile = dockerfile.starts_with(&format!("{rel}/"));
            if file_type.is_dir() && !walk_into_ignored_dirs && !holds_dockerfile {
                walk.skip_current_dir();
            }
            continue;
        }
        let kind = if file_type.is_dir() {
            EntryKind::Dir
        } else if file_type.is_symlink() {
            let target =
                std::fs::read_link(item.path()).map_err(|e| context_err(item.path(), e))?;
            EntryKind::Symlink {
                target: target.to_string_lossy().into_owned(),
            }
        } else if file_type.is_file() {
            let bytes = std::fs::read(item.path()).map_err(|e| context_err(item.path(), e))?;
            let meta = item
                .metadata()
                .map_err(|e| context_err(item.path(), io::Error::other(e.to_string())))?;
            EntryKind::File {
                executable: is_executable(&meta),
                bytes,
            }
        } else {
            // Sockets, fifos, devices: Docker cannot COPY them meaningfully either.
            continue;
        };
        entries.push(Entry { path: rel, kind });
    }
    Ok(Context {
        dockerfile,
        entries,
    })
}

impl Context {
    /// The tar the engine receives as the build context.
    pub fn to_tar(&self) -> Result<Vec<u8>, io::Error> {
        let mut builder = tar::Builder::new(Vec::new());
        for entry in &self.entries {
            let mut header = tar::Header::new_gnu();
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            match &entry.kind {
                EntryKind::Dir => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(0o755);
                    header.set_size(0);
                    builder.append_data(&mut header, format!("{}/", entry.path), io::empty())?;
                }
                EntryKind::File { executable, bytes } => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(if *executable { 0o755 } else { 0o644 });
                    header.set_size(bytes.len() as u64);
                    builder.append_data(&mut header, &entry.path, bytes.as_slice())?;
                }
                EntryKind::Symlink { target } => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_mode(0o777);
                    header.set_size(0);
                    builder.append_link(&mut header, &entry.path, target)?;
                }
            }
        }
        builder.into_inner()
    }

    /// See [`content_hash`]. Every field is length-prefixed so no two inputs share a hash by
    /// shifting bytes from one field into the next.
    pub fn hash(&self, spec: &ImageSpec) -> String {
        let mut h = Sha256::new();
        put(&mut h, b"ssam-docker content hash v1");
        put(&mut h, self.dockerfile.as_bytes());
        for entry in &self.entries {
            put(&mut h, entry.path.as_bytes());
            match &entry.kind {
                EntryKind::Dir => put(&mut h, b"d"),
                EntryKind::File { executable, bytes } => {
                    put(&mut h, if *executable { b"x" } else { b"f" });
                    put(&mut h, bytes);
                }
                EntryKind::Symlink { target } => {
                    put(&mut h, b"l");
                    put(&mut h, target.as_bytes());
                }
            }
        }
        put(&mut h, b"build-args");
        for (k, v) in &spec.build_args {
            put(&mut h, k.as_bytes());
            put(&mut h, v.as_bytes());
        }
        put(&mut h, b"target");
        put(&mut h, spec.target.as_deref().unwrap_or("").as_bytes());
        put(&mut h, b"platform");
        put(&mut h, spec.platform.as_deref().unwrap_or("").as_bytes());
        format!("sha256:{}", hex::encode(h.finalize()))
    }
}

fn put(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// The Dockerfile's path inside the context, cleaned; an absolute path or one that climbs out
/// of the context is an error, as in SAM.
fn dockerfile_in_context(dockerfile: &str, context: &Path) -> Result<String, BuildError> {
    let outside = || BuildError::DockerfileOutsideContext {
        dockerfile: dockerfile.to_string(),
        context: context.to_path_buf(),
    };
    let mut parts: Vec<String> = Vec::new();
    for component in Path::new(dockerfile).components() {
        match component {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop().ok_or_else(outside)?;
            }
            Component::RootDir | Component::Prefix(_) => return Err(outside()),
        }
    }
    if parts.is_empty() {
        return Err(outside());
    }
    Ok(parts.join("/"))
}

fn relative_slash_path(root: &Path, path: &Path) -> Result<String, BuildError> {
    let rel = path
        .strip_prefix(root)
        .map_err(|e| context_err(path, io::Error::other(e.to_string())))?;
    let mut parts = Vec::new();
    for component in rel.components() {
        let part = component.as_os_str().to_str().ok_or_else(|| {
            context_err(
                path,
                io::Error::new(io::ErrorKind::InvalidData, "file name is not valid UTF-8"),
            )
        })?;
        parts.push(part);
    }
    Ok(parts.join("/"))
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

fn context_err(path: &Path, source: io::Error) -> BuildError {
    BuildError::Context {
        path: PathBuf::from(path),
        source,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeMap;
    use std::fs;

    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn project() -> (tempfile::TempDir, ImageSpec) {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "Dockerfile",
            "FROM scratch\nCOPY hello.txt /hello.txt\n",
        );
        write(dir.path(), "hello.txt", "hello\n");
        write(dir.path(), "src/app.py", "print(1)\n");
        write(dir.path(), "notes/todo.md", "nothing\n");
        write(dir.path(), ".dockerignore", "notes\n*.log\n");
        write(dir.path(), "debug.log", "noise\n");
        let spec = ImageSpec {
            logical_id: "Fn".into(),
            context_dir: dir.path().to_path_buf(),
            dockerfile: "Dockerfile".into(),
            build_args: BTreeMap::new(),
            target: None,
            platform: None,
            tag: None,
        };
        (dir, spec)
    }

    fn paths(ctx: &Context) -> Vec<&str> {
        ctx.entries.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    fn context_leaves_out_ignored_files() {
        let (_dir, spec) = project();
        let ctx = collect(&spec).unwrap();
        assert_eq!(
            paths(&ctx),
            [
                ".dockerignore",
                "Dockerfile",
                "hello.txt",
                "src",
                "src/app.py"
            ]
        );
    }

    #[test]
    fn ssams_state_dir_is_never_sent() {
        let (dir, spec) = project();
        let before = collect(&spec).unwrap().hash(&spec);
        write(
            dir.path(),
            ".ssam/s3/bucket/video.mp4",
            "uploaded while ssam runs",
        );
        let ctx = collect(&spec).unwrap();
        assert!(!paths(&ctx).iter().any(|p| p.starts_with(".ssam")));
        assert_eq!(
            ctx.hash(&spec),
            before,
            "an upload must not make the image stale"
        );
    }

    #[test]
    fn dockerfile_and_dockerignore_are_always_sent() {
        let (dir, spec) = project();
        write(dir.path(), ".dockerignore", "*\n");
        let ctx = collect(&spec).unwrap();
        assert_eq!(paths(&ctx), [".dockerignore", "Dockerfile"]);
    }

    #[test]
    fn an_exception_inside_an_ignored_dir_is_sent() {
        let (dir, spec) = project();
        write(dir.path(), ".dockerignore", "notes\n!notes/todo.md\n");
        let ctx = collect(&spec).unwrap();
        assert!(paths(&ctx).contains(&"notes/todo.md"), "{:?}", paths(&ctx));
    }

    #[test]
    fn tar_is_deterministic() {
        let (dir, spec) = project();
        let first = collect(&spec).unwrap().to_tar().unwrap();
        // Touch every file: new mtimes must not change a byte.
        write(dir.path(), "hello.txt", "hello\n");
        write(dir.path(), "src/app.py", "print(1)\n");
        let second = collect(&spec).unwrap().to_tar().unwrap();
        assert_eq!(first, second);

        let mut archive = tar::Archive::new(first.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                ".dockerignore",
                "Dockerfile",
                "hello.txt",
                "src/",
                "src/app.py"
            ]
        );
    }

    #[test]
    fn hash_changes_when_a_sent_file_changes() {
        let (dir, spec) = project();
        let before = content_hash(&spec).unwrap();
        write(dir.path(), "hello.txt", "hello, world\n");
        assert_ne!(before, content_hash(&spec).unwrap());
    }

    #[test]
    fn hash_ignores_ignored_files() {
        let (dir, spec) = project();
        let before = content_hash(&spec).unwrap();
        write(dir.path(), "notes/todo.md", "changed\n");
        write(dir.path(), "debug.log", "more noise\n");
        write(dir.path(), "notes/new.md", "new\n");
        assert_eq!(before, content_hash(&spec).unwrap());
    }

    #[test]
    fn hash_covers_build_args_target_platform_and_dockerfile() {
        let (dir, spec) = project();
        let base = content_hash(&spec).unwrap();
        let mut with_arg = spec.clone();
        with_arg.build_args.insert("GREETING".into(), "hi".into());
        let mut with_target = spec.clone();
        with_target.target = Some("final".into());
        let mut with_platform = spec.clone();
        with_platform.platform = Some("linux/arm64".into());
        let hashes = [
            content_hash(&with_arg).unwrap(),
            content_hash(&with_target).unwrap(),
            content_hash(&with_platform).unwrap(),
        ];
        for h in &hashes {
            assert_ne!(&base, h);
        }
        write(dir.path(), "Dockerfile", "FROM scratch\n");
        assert_ne!(base, content_hash(&spec).unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn hash_covers_the_executable_bit() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, spec) = project();
        let before = content_hash(&spec).unwrap();
        let script = dir.path().join("hello.txt");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        assert_ne!(before, content_hash(&spec).unwrap());
    }

    #[test]
    fn dockerfile_must_be_inside_the_context() {
        let (_dir, mut spec) = project();
        for bad in ["../Dockerfile", "/etc/Dockerfile", "a/../../Dockerfile"] {
            spec.dockerfile = bad.into();
            let err = collect(&spec).unwrap_err();
            assert!(
                matches!(err, BuildError::DockerfileOutsideContext { .. }),
                "{bad}: {err}"
            );
        }
        spec.dockerfile = "./Dockerfile".into();
        assert_eq!(collect(&spec).unwrap().dockerfile, "Dockerfile");
    }

    #[test]
    fn a_missing_dockerfile_names_the_path() {
        let (_dir, mut spec) = project();
        spec.dockerfile = "docker/Dockerfile".into();
        let err = collect(&spec).unwrap_err().to_string();
        assert!(err.contains("docker/Dockerfile does not exist"), "{err}");
        assert!(err.contains("hint:"), "{err}");
    }
}
