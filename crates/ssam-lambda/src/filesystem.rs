//! Lambda's filesystem rules in local sandboxes: on Lambda the function's code
//! (`/var/task`) and its layers (`/opt`) are read-only, and only `/tmp` is writable, sized
//! by `EphemeralStorage` (512 MB by default)
//! (https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html,
//! https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html). A
//! function that writes next to its code works on a laptop and fails in the cloud; ssam
//! makes it fail locally too, with the same `EROFS` ("Read-only file system") error.
//!
//! Native sandboxes: the runtime is started inside its own user and mount namespaces
//! (util-linux `unshare`, unprivileged), where the code and layer directories are bind
//! mounted read-only onto themselves. Nothing changes outside the sandbox: the developer's
//! editor still writes the same files, and ssam's watcher still sees them. The kernel
//! must allow unprivileged user namespaces; [`native_support`] says whether it does, once.
//!
//! Containers: the root filesystem is read-only and `/tmp` is a tmpfs of the function's
//! `EphemeralStorage` size (`container.rs`), exactly Lambda's layout.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The shell run between `unshare` and the runtime. Its arguments:
/// `CWD TMP_MB STAGE KEEP... -- READ_ONLY... -- PROGRAM ARGS...`.
/// With `TMP_MB` above 0, `/tmp` becomes a private tmpfs of that size; the machine's `/tmp`
/// is first bind-mounted onto `STAGE` (outside `/tmp`) so that each `KEEP` path, the
/// runtime's own files that live under `/tmp`, can be mounted back in place. Then each
/// `READ_ONLY` directory is bind-mounted read-only onto itself, the working directory is
/// entered again (one taken before the mounts would still reach the writable directory),
/// and the shell becomes the runtime.
const SCRIPT: &str = r#"fail() { echo "ssam: $1; hint: run with --writable-code" >&2; exit 126; }
cwd=$1 mb=$2 stage=$3; shift 3
if [ "$mb" -gt 0 ]; then
  mount --rbind /tmp "$stage" || fail "cannot keep the machine's /tmp at $stage"
  mount -t tmpfs -o "size=${mb}m,mode=1777" ssam-tmp /tmp || fail "cannot give the function its own /tmp"
  while [ "$1" != "--" ]; do
    mkdir -p -- "$1" && mount --rbind -- "$stage/${1#/tmp/}" "$1" || fail "cannot keep $1"
    shift
  done
else
  while [ "$1" != "--" ]; do shift; done
fi
shift
while [ "$1" != "--" ]; do
  mount --bind -o ro -- "$1" "$1" || fail "cannot make $1 read-only as it is on Lambda"
  shift
done
shift
cd -- "$cwd" || fail "cannot enter $cwd"
exec "$@""#;

/// What a native sandbox's filesystem looks like ([`rules`]).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Rules {
    /// Read-only for the runtime: the code and layer directories.
    pub read_only: Vec<PathBuf>,
    /// A private `/tmp`, when the machine allows it.
    pub tmp: Option<PrivateTmp>,
}

/// `/tmp` as Lambda gives it: the function's own, `EphemeralStorage` MB, gone with the
/// instance.
#[derive(Debug, PartialEq)]
pub(crate) struct PrivateTmp {
    pub size_mb: u32,
    /// Where the machine's `/tmp` is kept inside the sandbox (an empty directory outside it).
    pub stage: PathBuf,
    /// The first-level directories of `/tmp` the runtime needs (its code, layers,
    /// interpreter or bootstrap when they live there), mounted back in place.
    pub keep: Vec<PathBuf>,
}

impl Rules {
    pub(crate) fn is_empty(&self) -> bool {
        self.read_only.is_empty() && self.tmp.is_none()
    }
}

/// The namespaces a native sandbox is started in.
const UNSHARE_ARGS: &[&str] = &["--user", "--map-current-user", "--mount", "--"];

/// Whether native sandboxes can get Lambda's read-only code directory on this machine:
/// `Err` says why not (checked once, by trying it).
pub fn native_support() -> &'static Result<(), String> {
    static SUPPORT: OnceLock<Result<(), String>> = OnceLock::new();
    SUPPORT.get_or_init(probe)
}

/// The warning to print at start when native sandboxes of `specs` want Lambda's
/// filesystem and the kernel cannot give it.
pub fn unavailable_warning(specs: &[crate::FunctionSpec]) -> Option<String> {
    let wanted = specs
        .iter()
        .any(|s| s.lambda_filesystem && s.sandbox == crate::SandboxKind::Native);
    match native_support() {
        Err(why) if wanted => Some(format!(
            "code directories stay writable in native sandboxes (on Lambda they are read-only): {why}\n  hint: allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or run functions in containers with --docker; --writable-code silences this"
        )),
        _ => None,
    }
}

/// Whether a native sandbox can get a private tmpfs at `/tmp` (checked once).
fn tmpfs_support() -> bool {
    static SUPPORT: OnceLock<bool> = OnceLock::new();
    *SUPPORT.get_or_init(|| {
        native_support().is_ok()
            && std::process::Command::new("unshare")
                .args(UNSHARE_ARGS)
                .args(["mount", "-t", "tmpfs", "-o", "size=1m", "ssam-tmp", "/tmp"])
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    })
}

#[cfg(target_os = "linux")]
fn probe() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("ssam-fs-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let out = std::process::Command::new("unshare")
        .args(UNSHARE_ARGS)
        .args(["/bin/sh", "-c", SCRIPT, "ssam-sandbox"])
        .arg(&dir)
        .args(["0", "/", "--"])
        .arg(&dir)
        .args(["--", "/bin/sh", "-c", ": > ./probe"])
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .output();
    let _ = std::fs::remove_file(dir.join("probe"));
    let _ = std::fs::remove_dir(&dir);
    let out = out.map_err(|e| format!("cannot run util-linux `unshare`: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Success is the write failing, as it does on Lambda.
    if stderr.contains("Read-only file system") {
        return Ok(());
    }
    let why = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("the probe could still write into a read-only mount")
        .trim()
        .to_string();
    Err(format!("unshare --user --mount failed ({why})"))
}

#[cfg(not(target_os = "linux"))]
fn probe() -> Result<(), String> {
    Err("read-only mounts for native sandboxes need Linux namespaces".into())
}

/// `program args...` wrapped so that it and everything it starts see `rules`, starting in
/// `cwd`.
pub(crate) fn wrap(
    program: &Path,
    args: &[String],
    cwd: &Path,
    rules: &Rules,
) -> (PathBuf, Vec<String>) {
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let mut out: Vec<String> = UNSHARE_ARGS.iter().map(|s| s.to_string()).collect();
    out.extend(["/bin/sh", "-c", SCRIPT, "ssam-sandbox"].map(String::from));
    out.push(path(cwd));
    match &rules.tmp {
        Some(t) => {
            out.push(t.size_mb.to_string());
            out.push(path(&t.stage));
            out.extend(t.keep.iter().map(|k| path(k)));
        }
        None => out.extend(["0".to_string(), "/".to_string()]),
    }
    out.push("--".into());
    out.extend(rules.read_only.iter().map(|d| path(d)));
    out.push("--".into());
    out.push(path(program));
    out.extend(args.iter().cloned());
    (PathBuf::from("unshare"), out)
}

/// Lambda's filesystem for `spec`'s native runtime `program` with environment `env`: its
/// code and layers read-only, and its own `/tmp` of `EphemeralStorage` MB, where the
/// machine allows them. `cache_dir` holds the empty directory the machine's `/tmp` is kept
/// at; without one outside `/tmp`, the function shares the machine's `/tmp`.
pub(crate) fn rules(
    spec: &crate::FunctionSpec,
    program: &Path,
    env: &indexmap::IndexMap<String, String>,
    cache_dir: &Path,
) -> Rules {
    if !spec.lambda_filesystem || native_support().is_err() {
        return Rules::default();
    }
    let read_only: Vec<PathBuf> = std::iter::once(&spec.code_dir)
        .chain(spec.layers.iter())
        .filter(|d| d.is_dir())
        .cloned()
        .collect();
    let stage = cache_dir.join("sandbox-tmp");
    let tmp =
        (tmpfs_support() && !stage.starts_with("/tmp") && std::fs::create_dir_all(&stage).is_ok())
            .then(|| {
                let mut keep: Vec<PathBuf> = Vec::new();
                let candidates = read_only
                    .iter()
                    .cloned()
                    .chain([program.to_path_buf(), spec.code_dir.clone()])
                    .chain(
                        env.values()
                            .flat_map(|v| v.split(':'))
                            .filter(|p| p.starts_with('/'))
                            .map(PathBuf::from),
                    );
                for p in candidates {
                    if let Some(first) = first_under_tmp(&p) {
                        if !keep.contains(&first) {
                            keep.push(first);
                        }
                    }
                }
                PrivateTmp {
                    size_mb: spec.ephemeral_storage_mb,
                    stage,
                    keep,
                }
            });
    Rules { read_only, tmp }
}

/// `/tmp/<first>` for a path below it (`/tmp/x/app` → `/tmp/x`).
fn first_under_tmp(p: &Path) -> Option<PathBuf> {
    let rest = p.strip_prefix("/tmp").ok()?;
    let first = rest.components().next()?;
    match first {
        std::path::Component::Normal(name) => Some(Path::new("/tmp").join(name)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_runtime_comes_after_the_mounts() {
        let rules = Rules {
            read_only: vec![PathBuf::from("/code"), PathBuf::from("/layer one")],
            tmp: Some(PrivateTmp {
                size_mb: 512,
                stage: PathBuf::from("/cache/sandbox-tmp"),
                keep: vec![PathBuf::from("/tmp/venv")],
            }),
        };
        let (program, args) = wrap(
            Path::new("/usr/bin/python3"),
            &["-u".into(), "boot.py".into()],
            Path::new("/code"),
            &rules,
        );
        assert_eq!(program, PathBuf::from("unshare"));
        let tail: Vec<&str> = args.iter().map(String::as_str).skip(7).collect();
        assert_eq!(
            tail,
            [
                "ssam-sandbox",
                "/code",
                "512",
                "/cache/sandbox-tmp",
                "/tmp/venv",
                "--",
                "/code",
                "/layer one",
                "--",
                "/usr/bin/python3",
                "-u",
                "boot.py"
            ]
        );
    }

    #[test]
    fn only_paths_below_tmp_are_kept() {
        assert_eq!(
            first_under_tmp(Path::new("/tmp/x/app")),
            Some(PathBuf::from("/tmp/x"))
        );
        assert_eq!(first_under_tmp(Path::new("/tmpfoo/x")), None);
        assert_eq!(first_under_tmp(Path::new("/tmp")), None);
        assert_eq!(first_under_tmp(Path::new("/home/x")), None);
    }

    /// On a kernel that allows it (this one when the probe says so), a write into the
    /// code directory fails with Lambda's error and nothing lands on disk; `/tmp` is the
    /// sandbox's own and full at its size.
    #[test]
    fn a_write_into_a_read_only_directory_fails_as_on_lambda() {
        if let Err(why) = native_support() {
            eprintln!("skipped: {why}");
            return;
        }
        let dir = std::env::temp_dir().join(format!("ssam-fs-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kept"), "readable").unwrap();
        let stage = crate::bootstrap::default_cache_dir().join("sandbox-tmp");
        std::fs::create_dir_all(&stage).unwrap();
        let rules = Rules {
            read_only: vec![dir.clone()],
            tmp: (tmpfs_support() && !stage.starts_with("/tmp")).then(|| PrivateTmp {
                size_mb: 1,
                stage: stage.clone(),
                keep: first_under_tmp(&dir).into_iter().collect(),
            }),
        };
        let (program, args) = wrap(
            Path::new("/bin/sh"),
            &[
                "-c".into(),
                "echo x > written; cat kept; head -c 2000000 /dev/zero > /tmp/big".into(),
            ],
            &dir,
            &rules,
        );
        let out = std::process::Command::new(program)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("Read-only file system"), "{stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "readable");
        assert!(!dir.join("written").exists());
        if rules.tmp.is_some() {
            assert!(stderr.contains("No space left on device"), "{stderr}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
