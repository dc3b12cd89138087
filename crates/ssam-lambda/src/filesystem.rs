//! Lambda's filesystem rules in local sandboxes: on Lambda the function's code
//! (`/var/task`) and its layers (`/opt`) are read-only, and only `/tmp` is writable, sized
//! by `EphemeralStorage` (512 MB by default)
//! (https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html,
//! https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html). A
//! function that writes next to its code works on a laptop and fails in the cloud; ssam
//! makes it fail locally too, with the same `EROFS` ("Read-only file system") error.
//!
//! Native sandboxes: the runtime is started by the sandbox launcher (`launcher.rs`, the ssam
//! binary run as `ssam __sandbox ...`) inside its own user and mount namespaces
//! (unprivileged), where the code and layer directories are bind mounted read-only onto
//! themselves and `/tmp` is a private tmpfs of `EphemeralStorage` MB. Nothing changes outside the sandbox: the developer's
//! editor still writes the same files, and ssam's watcher still sees them. The kernel
//! must allow unprivileged user namespaces; [`native_support`] says whether it does, once.
//!
//! Containers: the root filesystem is read-only and `/tmp` is a tmpfs of the function's
//! `EphemeralStorage` size (`container.rs`), exactly Lambda's layout.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub mod launcher;

/// The sandbox launcher: the ssam binary, registered by it at start ([`use_launcher`]).
static LAUNCHER: OnceLock<PathBuf> = OnceLock::new();

/// Registers `exe` (the running ssam binary) as the sandbox launcher; without one, native
/// sandboxes keep the machine's filesystem as it is.
pub fn use_launcher(exe: PathBuf) {
    let _ = LAUNCHER.set(exe);
}

/// What a native sandbox's filesystem looks like ([`rules`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Rules {
    /// Read-only for the runtime: the code and layer directories.
    pub read_only: Vec<PathBuf>,
    /// A private `/tmp`, when the machine allows it.
    pub tmp: Option<PrivateTmp>,
    /// Enter the namespaces of this process (the instance's first extension) instead of
    /// making new ones: an instance's extensions and runtime share one `/tmp`, as on Lambda.
    /// When that process has already ended (an extension that crashed at once), the
    /// launcher makes new ones from the other rules, so the runtime still starts and the
    /// crash is reported as the extension's.
    pub join: Option<u32>,
}

/// `/tmp` as Lambda gives it: the function's own, `EphemeralStorage` MB, gone with the
/// instance.
#[derive(Clone, Debug, PartialEq)]
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
        self.read_only.is_empty() && self.tmp.is_none() && self.join.is_none()
    }

    /// The same filesystem as `pid`'s, which was started with these rules.
    pub(crate) fn joining(&self, pid: u32) -> Rules {
        if self.is_empty() || pid == 0 {
            return Rules::default();
        }
        Rules {
            join: Some(pid),
            ..self.clone()
        }
    }
}

/// Waits until the launcher started as `pid` has set up its namespaces and become its
/// program (or ended), so that others can join them.
pub(crate) async fn settled(pid: u32) {
    let Some(launcher) = LAUNCHER.get() else {
        return;
    };
    let exe = format!("/proc/{pid}/exe");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while tokio::time::Instant::now() < deadline {
        match std::fs::read_link(&exe) {
            Ok(p) if p == *launcher => {}
            _ => return,
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

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

/// Whether a native sandbox can get a private tmpfs at `/tmp`, the machine's `/tmp` kept at
/// `stage` (checked once).
fn tmpfs_support(stage: &Path) -> bool {
    static SUPPORT: OnceLock<bool> = OnceLock::new();
    *SUPPORT.get_or_init(|| {
        let Some(exe) = LAUNCHER.get() else {
            return false;
        };
        native_support().is_ok()
            && std::process::Command::new(exe)
                .arg(launcher::ARG)
                .args([Path::new("/"), Path::new("1"), stage])
                .args(["--", "--", "/bin/sh", "-c", ": > /tmp/probe"])
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    })
}

/// Tries the launcher once: a write into a directory it made read-only must fail as on
/// Lambda.
fn probe() -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Err("read-only mounts for native sandboxes need Linux namespaces".into());
    }
    let exe = LAUNCHER
        .get()
        .ok_or("no sandbox launcher is registered (only the ssam binary has one)")?;
    let dir = std::env::temp_dir().join(format!("ssam-fs-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let out = std::process::Command::new(exe)
        .arg(launcher::ARG)
        .arg(&dir)
        .args(["0", "/", "--"])
        .arg(&dir)
        .args(["--", "/bin/sh", "-c", ": > ./probe"])
        .stdin(std::process::Stdio::null())
        .output();
    let _ = std::fs::remove_file(dir.join("probe"));
    let _ = std::fs::remove_dir(&dir);
    let out = out.map_err(|e| format!("cannot run the sandbox launcher: {e}"))?;
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
    Err(format!(
        "the sandbox's user and mount namespaces failed ({why})"
    ))
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
    let launcher = LAUNCHER
        .get()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("ssam"));
    let mut out = vec![launcher::ARG.to_string()];
    if let Some(pid) = rules.join {
        out.extend([launcher::JOIN.to_string(), pid.to_string()]);
    }
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
    (launcher, out)
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
    let tmp = (!stage.starts_with("/tmp")
        && std::fs::create_dir_all(&stage).is_ok()
        && tmpfs_support(&stage))
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
    Rules {
        read_only,
        tmp,
        join: None,
    }
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
            join: None,
        };
        let (program, args) = wrap(
            Path::new("/usr/bin/python3"),
            &["-u".into(), "boot.py".into()],
            Path::new("/code"),
            &rules,
        );
        assert_eq!(program, PathBuf::from("ssam"));
        assert_eq!(
            args,
            [
                launcher::ARG,
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
        let (_, args) = wrap(
            Path::new("/opt/extensions/agent"),
            &[],
            Path::new("/code"),
            &rules.joining(42),
        );
        assert_eq!(
            args,
            [
                launcher::ARG,
                launcher::JOIN,
                "42",
                "/code",
                "512",
                "/cache/sandbox-tmp",
                "/tmp/venv",
                "--",
                "/code",
                "/layer one",
                "--",
                "/opt/extensions/agent"
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
}
