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

/// The shell run between `unshare` and the runtime: makes each directory before `--`
/// read-only, moves the working directory onto the read-only mount (a working directory
/// taken before the mount would still reach the writable one), then becomes the runtime.
const SCRIPT: &str = r#"while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  mount --bind -o ro -- "$1" "$1" || {
    echo "ssam: cannot make $1 read-only as it is on Lambda; hint: run with --writable-code" >&2
    exit 126
  }
  shift
done
shift
cd -- "$(pwd -P)" || exit 126
exec "$@""#;

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

#[cfg(target_os = "linux")]
fn probe() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("ssam-fs-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let out = std::process::Command::new("unshare")
        .args(UNSHARE_ARGS)
        .args(["/bin/sh", "-c", SCRIPT, "ssam-sandbox"])
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

/// `program args...` wrapped so that `read_only` directories are read-only for it and
/// everything it starts.
pub(crate) fn wrap(
    program: &Path,
    args: &[String],
    read_only: &[PathBuf],
) -> (PathBuf, Vec<String>) {
    let mut out: Vec<String> = UNSHARE_ARGS.iter().map(|s| s.to_string()).collect();
    out.extend(["/bin/sh", "-c", SCRIPT, "ssam-sandbox"].map(String::from));
    out.extend(read_only.iter().map(|d| d.to_string_lossy().into_owned()));
    out.push("--".into());
    out.push(program.to_string_lossy().into_owned());
    out.extend(args.iter().cloned());
    (PathBuf::from("unshare"), out)
}

/// The directories Lambda makes read-only for `spec` that exist here: its code and layers.
pub(crate) fn read_only_dirs(spec: &crate::FunctionSpec) -> Vec<PathBuf> {
    std::iter::once(&spec.code_dir)
        .chain(spec.layers.iter())
        .filter(|d| d.is_dir())
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_comes_after_the_directories() {
        let (program, args) = wrap(
            Path::new("/usr/bin/python3"),
            &["-u".into(), "boot.py".into()],
            &[PathBuf::from("/code"), PathBuf::from("/layer one")],
        );
        assert_eq!(program, PathBuf::from("unshare"));
        let tail: Vec<&str> = args.iter().map(String::as_str).skip(7).collect();
        assert_eq!(
            tail,
            [
                "ssam-sandbox",
                "/code",
                "/layer one",
                "--",
                "/usr/bin/python3",
                "-u",
                "boot.py"
            ]
        );
    }

    /// On a kernel that allows it (this one when the probe says so), a write into the
    /// code directory fails with Lambda's error and nothing lands on disk.
    #[test]
    fn a_write_into_a_read_only_directory_fails_as_on_lambda() {
        if let Err(why) = native_support() {
            eprintln!("skipped: {why}");
            return;
        }
        let dir = std::env::temp_dir().join(format!("ssam-fs-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (program, args) = wrap(
            Path::new("/bin/sh"),
            &["-c".into(), "echo x > written; cat kept".into()],
            std::slice::from_ref(&dir),
        );
        std::fs::write(dir.join("kept"), "readable").unwrap();
        let out = std::process::Command::new(program)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("Read-only file system"), "{stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "readable");
        assert!(!dir.join("written").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
