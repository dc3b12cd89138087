//! Debugging a function (`--debug-port`, `--debugger-path`, `--debug-args`, as SAM CLI has
//! them): how the debugged function's runtime is started under a debugger, and the limits
//! that change while a debugger holds it.
//!
//! - Python runs under debugpy (`python -m debugpy --listen PORT --wait-for-client -c
//!   <bootstrap>`), so the debugger is there before the handler module is imported; debugpy
//!   comes from the function's environment, else from ssam's cache (installed once per Python
//!   version, as boto3 is). `--debug-args` replaces debugpy's arguments, as SAM puts them
//!   between the interpreter and the bootstrap.
//! - Node runs with `--inspect-brk`, `--debug-args` before the bootstrap (as SAM does).
//! - `provided*` runtimes run `--debug-args` with the bootstrap as the last argument, the
//!   first word looked up in `--debugger-path` (e.g. `gdbserver :PORT` wraps `./bootstrap`).
//!
//! The debugged function's Timeout is suspended (SAM CLI's `MAX_DEBUG_TIMEOUT`, 10 hours:
//! "When debugging with short timeouts, developer need time to debug"), also for its init,
//! which waits for the debugger; it runs one instance at a time, since the port is one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::sandbox::{LaunchError, NativeLaunch};
use crate::spec::{FunctionSpec, RuntimeKind};

/// How one function is debugged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugSpec {
    /// The port the debugger listens on (`-d/--debug-port`).
    pub port: u16,
    /// `--debugger-path`: a directory holding the debugger (on `PYTHONPATH` for Python, where
    /// the first word of `--debug-args` is looked up for `provided` runtimes; mounted
    /// read-only at `/tmp/lambci_debug_files` in containers, as SAM mounts it).
    pub debugger_path: Option<PathBuf>,
    /// `--debug-args`, split as a shell would.
    pub debug_args: Vec<String>,
}

/// The Timeout of a debugged function: SAM CLI's `MAX_DEBUG_TIMEOUT` (36000 s), so a
/// breakpoint can be held as long as a developer needs (samcli/commands/local/lib/local_lambda.py).
pub const DEBUG_TIMEOUT: Duration = Duration::from_secs(36_000);

/// Where `--debugger-path` is mounted in a container, as SAM CLI mounts it.
pub(crate) const CONTAINER_DEBUGGER_PATH: &str = "/tmp/lambci_debug_files";

/// Where ssam mounts debugpy (`lib`) and the hook starting it (`hook`) in a container.
const CONTAINER_DEBUGPY: &str = "/tmp/ssam-debug";

/// debugpy releases ssam installs: 1.8 supports every Python Lambda runs (3.8 to 3.13).
const DEBUGPY: &str = "debugpy>=1.8,<2";

/// The Timeout an invocation of `spec` is held to.
pub(crate) fn timeout(spec: &FunctionSpec) -> Duration {
    if spec.debug.is_some() {
        DEBUG_TIMEOUT
    } else {
        spec.timeout
    }
}

/// How long `spec`'s runtime may take to ask for its first invocation: a debugged one waits
/// for its debugger first.
pub(crate) fn init_timeout(spec: &FunctionSpec, normal: Duration) -> Duration {
    if spec.debug.is_some() {
        DEBUG_TIMEOUT
    } else {
        normal
    }
}

/// Where to attach, for people: printed when the service starts and at each cold start of a
/// debugged instance, since each new instance waits for its debugger again.
pub fn attach_hint(spec: &FunctionSpec) -> Option<String> {
    let debug = spec.debug.as_ref()?;
    let port = debug.port;
    let what = match spec.runtime_kind() {
        RuntimeKind::Python { .. } if debug.debug_args.is_empty() => {
            format!("debugpy waits for a client on 127.0.0.1:{port} (VS Code: a \"debugpy\" attach configuration)")
        }
        RuntimeKind::Node { .. } => format!(
            "the Node inspector waits on 127.0.0.1:{port} (VS Code: a \"node\" attach configuration; chrome://inspect)"
        ),
        _ => format!(
            "the debugger ({}) is given port {port}",
            if debug.debug_args.is_empty() {
                "none given".to_string()
            } else {
                debug.debug_args.join(" ")
            }
        ),
    };
    Some(format!(
        "Debugging {}: {what}; its Timeout is suspended and it runs one instance at a time",
        spec.name
    ))
}

/// Wraps a native launch of `spec` in its debugger.
pub(crate) fn wrap_native(
    spec: &FunctionSpec,
    launch: &mut NativeLaunch,
    cache_dir: &Path,
) -> Result<(), LaunchError> {
    let Some(debug) = &spec.debug else {
        return Ok(());
    };
    match spec.runtime_kind() {
        RuntimeKind::Python { .. } => {
            let mut extra = Vec::new();
            if let Some(dir) = &debug.debugger_path {
                extra.push(dir.clone());
            }
            let python_path = env_value(&launch.env, "PYTHONPATH");
            if !has_debugpy(&launch.program, python_path.as_deref(), &extra) {
                extra.push(debugpy_dir(&launch.program, cache_dir)?);
            }
            append_path(&mut launch.env, "PYTHONPATH", &extra);
            launch.env.extend(quiet_debugpy());
            let loader = std::mem::take(&mut launch.args);
            launch.args = python_args(debug, "127.0.0.1", loader);
        }
        RuntimeKind::Node { .. } => {
            let script = std::mem::take(&mut launch.args);
            launch.args = node_args(debug, "127.0.0.1", script);
        }
        RuntimeKind::Provided => {
            let (program, args) = provided_command(debug, &launch.program)?;
            launch.program = program;
            launch.args = args;
        }
        RuntimeKind::Unsupported(_) => {}
    }
    Ok(())
}

/// debugpy warns on Python 3.11+ that frozen modules may hide breakpoints in the standard
/// library, on every start, in the function's log; handler code is never frozen.
fn quiet_debugpy() -> [(String, String); 1] {
    [("PYDEVD_DISABLE_FILE_VALIDATION".into(), "1".into())]
}

/// Makes a container of `spec` start under its debugger. The port is published on the host's
/// loopback (on the host network it is the host's already) and `--debugger-path` is mounted
/// where SAM mounts it. Python (runtime images): debugpy from ssam's cache, started by a
/// `sitecustomize` hook before the image's runtime client imports the handler, whatever the
/// image's entrypoint; with `--debug-args`, SAM's entrypoint (`/var/lang/bin/python3.X ARGS
/// /var/runtime/bootstrap.py`). Node: `NODE_OPTIONS=--inspect-brk=0.0.0.0:PORT`, as SAM sets
/// it. `provided`: `--debug-args` wrapping the bootstrap. Image functions: the port and the
/// debugger's directory only; the image starts its own debugger.
pub(crate) fn wrap_container(
    spec: &FunctionSpec,
    runtime_image: bool,
    run: &mut crate::container::RunSpec,
    cache_dir: &Path,
) -> Result<(), LaunchError> {
    let Some(debug) = &spec.debug else {
        return Ok(());
    };
    run.publish.push(debug.port);
    if let Some(dir) = &debug.debugger_path {
        run.binds.push(ssam_docker::Bind {
            host: dir.clone(),
            container: CONTAINER_DEBUGGER_PATH.into(),
            read_only: true,
        });
    }
    if !runtime_image {
        return Ok(());
    }
    let listen = format!("0.0.0.0:{}", debug.port);
    match spec.runtime_kind() {
        RuntimeKind::Python { minor } if debug.debug_args.is_empty() => {
            // debugpy is installed for the same Python version as the image's runtime.
            let py = crate::interpreter::python(minor).map_err(|m| LaunchError {
                error_type: "Runtime.Unknown",
                message: format!("debugpy for python3.{minor} needs that interpreter here to install it: {m}; hint: give a directory holding debugpy with --debugger-path and --debug-args \"-m debugpy --listen 0.0.0.0:{}\"", debug.port),
            })?;
            let lib = debugpy_dir(&py.path, cache_dir)?;
            let hook =
                crate::bootstrap::ensure(cache_dir, crate::bootstrap::Bootstrap::DebugpyHook)
                    .map_err(|e| LaunchError {
                        error_type: "Runtime.Unknown",
                        message: format!(
                            "could not write the debugpy hook to {}: {e}",
                            cache_dir.display()
                        ),
                    })?;
            let hook_dir = hook.parent().map(Path::to_path_buf).unwrap_or_default();
            for (host, sub) in [(hook_dir, "hook"), (lib, "lib")] {
                run.binds.push(ssam_docker::Bind {
                    host,
                    container: format!("{CONTAINER_DEBUGPY}/{sub}"),
                    read_only: true,
                });
            }
            let mut python_path = format!("{CONTAINER_DEBUGPY}/hook:{CONTAINER_DEBUGPY}/lib");
            if debug.debugger_path.is_some() {
                python_path.push(':');
                python_path.push_str(CONTAINER_DEBUGGER_PATH);
            }
            run.env.push(("PYTHONPATH".into(), python_path));
            run.env.push(("_SSAM_DEBUGPY_LISTEN".into(), listen));
            run.env.extend(quiet_debugpy());
        }
        RuntimeKind::Python { minor } => {
            let rest = vec!["/var/runtime/bootstrap.py".to_string()];
            let mut entry = vec![format!("/var/lang/bin/python3.{minor}")];
            entry.extend(python_args(debug, "0.0.0.0", rest));
            run.entrypoint = Some(entry);
            run.cmd = Some(vec![spec.handler.clone()]);
            run.handler = Some(spec.handler.clone());
            if debug.debugger_path.is_some() {
                run.env
                    .push(("PYTHONPATH".into(), CONTAINER_DEBUGGER_PATH.to_string()));
            }
        }
        RuntimeKind::Node { .. } => {
            let mut options = vec![format!("--inspect-brk={listen}")];
            options.extend(debug.debug_args.iter().cloned());
            run.env.push(("NODE_OPTIONS".into(), options.join(" ")));
        }
        RuntimeKind::Provided => {
            let bootstrap = run
                .entrypoint
                .as_ref()
                .and_then(|e| e.first().cloned())
                .unwrap_or_else(|| "/var/runtime/bootstrap".to_string());
            let (program, args) = provided_command(debug, Path::new(&bootstrap))?;
            // Found in --debugger-path on the host: run from where that is mounted.
            let program = match debug
                .debugger_path
                .as_ref()
                .and_then(|dir| program.strip_prefix(dir).ok())
            {
                Some(rel) => format!("{CONTAINER_DEBUGGER_PATH}/{}", rel.display()),
                None => program.to_string_lossy().into_owned(),
            };
            let mut entry = vec![program];
            entry.extend(args);
            run.entrypoint = Some(entry);
            run.cmd = Some(Vec::new());
        }
        RuntimeKind::Unsupported(_) => {}
    }
    Ok(())
}

/// The interpreter's arguments: debugpy listening on `host:PORT` and waiting for its
/// client, then the bootstrap (`rest`: `-c <loader>` natively, the runtime's bootstrap in an
/// image); or `--debug-args` in debugpy's place.
pub(crate) fn python_args(debug: &DebugSpec, host: &str, rest: Vec<String>) -> Vec<String> {
    let mut args = if debug.debug_args.is_empty() {
        vec![
            "-m".to_string(),
            "debugpy".to_string(),
            "--listen".to_string(),
            format!("{host}:{}", debug.port),
            "--wait-for-client".to_string(),
        ]
    } else {
        debug.debug_args.clone()
    };
    args.extend(rest);
    args
}

/// Node's arguments: `--inspect-brk` on `host:PORT`, `--debug-args`, then the bootstrap.
pub(crate) fn node_args(debug: &DebugSpec, host: &str, script: Vec<String>) -> Vec<String> {
    let mut args = vec![format!("--inspect-brk={host}:{}", debug.port)];
    args.extend(debug.debug_args.iter().cloned());
    args.extend(script);
    args
}

/// A `provided` runtime's bootstrap wrapped in `--debug-args`: the first word (found in
/// `--debugger-path` when it is there), its arguments, then the bootstrap.
fn provided_command(
    debug: &DebugSpec,
    bootstrap: &Path,
) -> Result<(PathBuf, Vec<String>), LaunchError> {
    let Some((first, rest)) = debug.debug_args.split_first() else {
        return Err(LaunchError {
            error_type: "Runtime.InvalidEntrypoint",
            message: format!(
                "debugging a provided runtime needs the debugger to run; hint: --debug-args \"gdbserver :{0}\" (or \"lldb-server gdbserver :{0}\"), with --debugger-path DIR when it is not on PATH",
                debug.port
            ),
        });
    };
    let program = match &debug.debugger_path {
        Some(dir) if dir.join(first).is_file() => dir.join(first),
        _ => PathBuf::from(first),
    };
    let mut args: Vec<String> = rest.to_vec();
    args.push(bootstrap.to_string_lossy().into_owned());
    Ok((program, args))
}

fn env_value(env: &[(String, String)], key: &str) -> Option<String> {
    env.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

/// Appends `dirs` to the variable `key` in `env` (the function's own entries stay first).
fn append_path(env: &mut Vec<(String, String)>, key: &str, dirs: &[PathBuf]) {
    if dirs.is_empty() {
        return;
    }
    let mut all: Vec<PathBuf> = env_value(env, key)
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    all.extend(dirs.iter().cloned());
    let Ok(joined) = std::env::join_paths(&all) else {
        return;
    };
    let joined = joined.to_string_lossy().into_owned();
    env.retain(|(k, _)| k != key);
    env.push((key.to_string(), joined));
}

/// Whether debugpy is importable in the function's environment (its code, dependencies and
/// layers on `python_path`, or the interpreter's own site-packages).
fn has_debugpy(python: &Path, python_path: Option<&str>, extra: &[PathBuf]) -> bool {
    let mut paths: Vec<PathBuf> = python_path
        .map(|v| std::env::split_paths(v).collect())
        .unwrap_or_default();
    paths.extend(extra.iter().cloned());
    let mut cmd = std::process::Command::new(python);
    cmd.args([
        "-c",
        "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('debugpy') else 1)",
    ])
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    if let Ok(p) = std::env::join_paths(&paths) {
        cmd.env("PYTHONPATH", p);
    }
    cmd.status().is_ok_and(|s| s.success())
}

/// `<cache>/debugpy/3.N`, installed on first use (one install per Python version, because
/// pip picks the wheel for the interpreter it runs under).
pub(crate) fn debugpy_dir(python: &Path, cache_dir: &Path) -> Result<PathBuf, LaunchError> {
    let version = crate::python_sdk::python_version(python).unwrap_or_else(|| "any".to_string());
    let dir = cache_dir.join("debugpy").join(&version);
    if dir.join("debugpy").is_dir() {
        return Ok(dir);
    }
    tracing::info!(
        "installing debugpy into {} (for --debug-port; this happens once per Python version)",
        dir.display()
    );
    crate::python_sdk::pip_install_into(python, cache_dir, &dir, DEBUGPY).map_err(|e| {
        LaunchError {
            error_type: "Runtime.Unknown",
            message: format!(
                "debugpy could not be installed for {} ({e}); hint: pip install debugpy into that interpreter or the function's requirements.txt, or give its directory with --debugger-path",
                python.display()
            ),
        }
    })?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debug(args: &[&str]) -> DebugSpec {
        DebugSpec {
            port: 5890,
            debugger_path: None,
            debug_args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn python_waits_for_the_client_before_the_bootstrap() {
        let args = python_args(&debug(&[]), "127.0.0.1", vec!["-c".into(), "boot".into()]);
        assert_eq!(
            args,
            [
                "-m",
                "debugpy",
                "--listen",
                "127.0.0.1:5890",
                "--wait-for-client",
                "-c",
                "boot"
            ]
        );
    }

    #[test]
    fn debug_args_replace_debugpys_as_in_sam() {
        let d = debug(&["-m", "debugpy", "--listen", "0.0.0.0:5890"]);
        let args = python_args(&d, "127.0.0.1", vec!["/var/runtime/bootstrap.py".into()]);
        assert_eq!(
            args.last().map(String::as_str),
            Some("/var/runtime/bootstrap.py")
        );
        assert_eq!(args[3], "0.0.0.0:5890");
    }

    #[test]
    fn node_breaks_before_the_bootstrap() {
        let args = node_args(&debug(&["--nolazy"]), "0.0.0.0", vec!["boot.js".into()]);
        assert_eq!(args, ["--inspect-brk=0.0.0.0:5890", "--nolazy", "boot.js"]);
    }

    #[test]
    fn provided_wraps_the_bootstrap() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("gdbserver"), "").expect("write");
        let mut d = debug(&["gdbserver", ":5890"]);
        d.debugger_path = Some(dir.path().to_path_buf());
        let (program, args) = provided_command(&d, Path::new("/code/bootstrap")).expect("ok");
        assert_eq!(program, dir.path().join("gdbserver"));
        assert_eq!(args, [":5890", "/code/bootstrap"]);
        let err = provided_command(&debug(&[]), Path::new("/b")).expect_err("needs args");
        assert!(
            err.message.contains("hint: --debug-args"),
            "{}",
            err.message
        );
    }

    #[test]
    fn timeouts_are_suspended_only_for_the_debugged_function() {
        let mut spec = FunctionSpec::new("F", "python3.12", "app.handler", "/tmp");
        assert_eq!(timeout(&spec), Duration::from_secs(3));
        spec.debug = Some(debug(&[]));
        assert_eq!(timeout(&spec), DEBUG_TIMEOUT);
        assert_eq!(init_timeout(&spec, Duration::from_secs(10)), DEBUG_TIMEOUT);
    }
}
