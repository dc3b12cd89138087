//! Native process sandboxes: how a function's runtime is started, with which environment,
//! and how it is stopped without leaving orphans.
//!
//! Each sandbox is the leader of its own process group, so killing the group also ends
//! whatever the function spawned (a `bootstrap` shell script and its `exec`ed child, worker
//! processes, ...).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use indexmap::IndexMap;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::sync::watch;

use crate::bootstrap::{self, Bootstrap};
use crate::interpreter;
use crate::logs::InstanceLog;
use crate::spec::{FunctionSpec, RuntimeKind};

/// How the process ended, worded as Lambda words it ("exit status 1", "signal: killed").
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExitInfo {
    pub text: String,
    /// The kernel killed it at its memory limit (a container's cgroup): Lambda's
    /// `Runtime.OutOfMemory` rather than an exit.
    pub out_of_memory: bool,
}

impl ExitInfo {
    pub(crate) fn new(text: impl Into<String>) -> Self {
        ExitInfo {
            text: text.into(),
            out_of_memory: false,
        }
    }

    /// A container's exit code, as a shell reports it: 128 + N is signal N.
    pub(crate) fn from_container(exit: &ssam_docker::Exit) -> Self {
        let text = match exit.code {
            code if code > 128 && code < 128 + 65 => signal_text((code - 128) as i32),
            code => format!("exit status {code}"),
        };
        ExitInfo {
            text,
            out_of_memory: exit.out_of_memory,
        }
    }

    /// Lambda's wording: "Runtime exited with error: exit status 1", or, for a clean exit
    /// the runtime should not have made, "Runtime exited without providing a reason".
    pub(crate) fn describe(&self) -> String {
        if self.text == "exit status 0" {
            "Runtime exited without providing a reason".to_string()
        } else {
            format!("Runtime exited with error: {}", self.text)
        }
    }

    fn from_status(status: &std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(code) = status.code() {
            return ExitInfo::new(format!("exit status {code}"));
        }
        ExitInfo::new(signal_text(status.signal().unwrap_or(0)))
    }
}

/// `signal: killed`, as Lambda names the signal that ended a runtime.
fn signal_text(sig: i32) -> String {
    let name = match Signal::try_from(sig) {
        Ok(Signal::SIGKILL) => "killed".to_string(),
        Ok(Signal::SIGSEGV) => "segmentation fault".to_string(),
        Ok(Signal::SIGABRT) => "aborted".to_string(),
        Ok(Signal::SIGTERM) => "terminated".to_string(),
        Ok(s) => s.as_str().to_string(),
        Err(_) => sig.to_string(),
    };
    format!("signal: {name}")
}

/// Why a sandbox could not be started; reported to the caller as an init error.
#[derive(Debug)]
pub(crate) struct LaunchError {
    pub error_type: &'static str,
    pub message: String,
}

/// How to start a function's runtime, worked out once per pool generation.
pub(crate) enum Launch {
    Native(NativeLaunch),
    Container(Box<crate::container::Prepared>),
}

/// The program, arguments and extra environment of a native runtime.
pub(crate) struct NativeLaunch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// A note to print once (e.g. the interpreter is not the exact version).
    pub warning: Option<String>,
    /// External extensions from the layers' `extensions/`, started before the runtime.
    pub extensions: Vec<PathBuf>,
}

/// Works out how to start `spec`'s runtime.
pub(crate) fn launch_for(
    spec: &FunctionSpec,
    cache_dir: &Path,
) -> Result<NativeLaunch, LaunchError> {
    let cache_err = |e: std::io::Error| LaunchError {
        error_type: "Runtime.Unknown",
        message: format!(
            "could not write the runtime bootstrap to {}: {e}",
            cache_dir.display()
        ),
    };
    match spec.runtime_kind() {
        RuntimeKind::Python { minor } => {
            let py = interpreter::python(minor).map_err(|m| LaunchError {
                error_type: "Runtime.InvalidEntrypoint",
                message: m,
            })?;
            let script = bootstrap::ensure(cache_dir, Bootstrap::Python).map_err(cache_err)?;
            let mut env = vec![("LAMBDA_RUNTIME_DIR".into(), parent_str(&script))];
            // Lambda's order: the code, then layers (`/opt/python`, and its site-packages),
            // then the runtime's own boto3.
            let mut python_path: Vec<PathBuf> = Vec::new();
            python_path.extend(crate::deps::python_dependencies(spec, &py.path, cache_dir));
            for layer in &spec.layers {
                // A layer's source dir without `python/` is what `sam build` would put there.
                if !layer.join("python").is_dir() {
                    python_path.push(layer.clone());
                }
                python_path.push(layer.join("python"));
                python_path.push(
                    layer
                        .join("python/lib")
                        .join(format!("python3.{minor}"))
                        .join("site-packages"),
                );
            }
            if let Some(sdk) = crate::python_sdk::sdk_path(&py.path, cache_dir) {
                python_path.push(sdk);
            }
            if let Some(p) = join_paths(&python_path) {
                env.push(("PYTHONPATH".into(), p));
            }
            env.extend(layer_env(spec));
            Ok(NativeLaunch {
                program: py.path,
                args: vec!["-c".into(), bootstrap::PYTHON_LOADER.into()],
                env,
                warning: py.warning,
                extensions: crate::extensions::discover(&spec.layers),
            })
        }
        RuntimeKind::Node { major } => {
            let node = interpreter::node(major).map_err(|m| LaunchError {
                error_type: "Runtime.InvalidEntrypoint",
                message: m,
            })?;
            let script = bootstrap::ensure(cache_dir, Bootstrap::Node).map_err(cache_err)?;
            let mut node_path: Vec<PathBuf> = Vec::new();
            // Dependencies of package.json from ssam build's cache, where the code has no
            // node_modules of its own (a developer's own `npm install` wins). NODE_PATH
            // serves `require`; ES module imports resolve node_modules next to the code only.
            node_path.extend(crate::deps::node_dependencies(spec, cache_dir));
            for layer in &spec.layers {
                node_path.push(layer.join(format!("nodejs/node{major}/node_modules")));
                node_path.push(layer.join("nodejs/node_modules"));
            }
            node_path.push(spec.code_dir.join("node_modules"));
            node_path.push(spec.code_dir.clone());
            let mut env = vec![("LAMBDA_RUNTIME_DIR".into(), parent_str(&script))];
            if let Some(p) = join_paths(&node_path) {
                env.push(("NODE_PATH".into(), p));
            }
            env.extend(layer_env(spec));
            Ok(NativeLaunch {
                program: node.path,
                args: vec![script.to_string_lossy().into_owned()],
                env,
                warning: node.warning,
                extensions: crate::extensions::discover(&spec.layers),
            })
        }
        RuntimeKind::Provided => {
            // Lambda looks in the code (/var/task), then in the layers (/opt).
            let candidates: Vec<PathBuf> = std::iter::once(spec.code_dir.join("bootstrap"))
                .chain(spec.layers.iter().map(|l| l.join("bootstrap")))
                .collect();
            let Some(bootstrap) = candidates.iter().find(|p| p.is_file()).cloned() else {
                let list: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
                return Err(LaunchError {
                    error_type: "Runtime.InvalidEntrypoint",
                    message: format!("Couldn't find valid bootstrap(s): [{}]", list.join(" ")),
                });
            };
            Ok(NativeLaunch {
                program: bootstrap,
                args: Vec::new(),
                env: layer_env(spec),
                warning: None,
                extensions: crate::extensions::discover(&spec.layers),
            })
        }
        RuntimeKind::Unsupported(r) => Err(LaunchError {
            error_type: "Runtime.InvalidRuntime",
            message: format!(
                "runtime {r} cannot run as a native process (supported: python3.x, nodejsN.x, provided*)"
            ),
        }),
    }
}

fn join_paths(paths: &[PathBuf]) -> Option<String> {
    if paths.is_empty() {
        return None;
    }
    std::env::join_paths(paths)
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// `PATH` and `LD_LIBRARY_PATH` with the layers' `bin` and `lib` first, as `/opt/bin` and
/// `/opt/lib` are on Lambda.
fn layer_env(spec: &FunctionSpec) -> Vec<(String, String)> {
    if spec.layers.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (var, sub) in [("PATH", "bin"), ("LD_LIBRARY_PATH", "lib")] {
        let mut dirs: Vec<PathBuf> = spec.layers.iter().map(|l| l.join(sub)).collect();
        if let Some(host) = std::env::var_os(var) {
            dirs.extend(std::env::split_paths(&host));
        }
        if let Some(p) = join_paths(&dirs) {
            out.push((var.to_string(), p));
        }
    }
    out
}

/// Whether `program` (a path; a bare name is looked up by the shell) can be executed.
fn executable(program: &Path) -> std::io::Result<()> {
    if program.components().count() < 2 {
        return Ok(());
    }
    std::fs::metadata(program)?;
    if interpreter::is_executable(program) {
        Ok(())
    } else {
        Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
    }
}

fn parent_str(p: &Path) -> String {
    p.parent()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The caller's AWS credentials, passed into every sandbox (as SAM CLI passes them into its
/// containers).
pub(crate) const CREDENTIALS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// Host variables passed through: what a process needs to run at all, proxies and CA bundles,
/// and the caller's AWS credentials (as SAM CLI passes them into its containers).
const PASS_THROUGH: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "TMPDIR",
    "PYENV_ROOT",
    "VIRTUAL_ENV",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "AWS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    // Without explicit keys, SDKs in the function resolve the developer's profile.
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
];

/// The execution environment's variables, in Lambda's order of precedence: reserved
/// variables, then `extra` (service-wide), then the function's own (template, then
/// `--env-vars`). `AWS_LAMBDA_RUNTIME_API` is always ssam's.
pub(crate) fn environment(
    spec: &FunctionSpec,
    api: SocketAddr,
    launch_env: &[(String, String)],
    extra: &IndexMap<String, String>,
    log_stream: &str,
) -> IndexMap<String, String> {
    let mut env: IndexMap<String, String> = IndexMap::new();
    for key in PASS_THROUGH {
        if let Some(v) = std::env::var_os(key) {
            env.insert((*key).to_string(), v.to_string_lossy().into_owned());
        }
    }
    let task_root = spec.code_dir.to_string_lossy().into_owned();
    let native = [
        ("_HANDLER", spec.handler.clone()),
        ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", spec.runtime)),
        ("LAMBDA_TASK_ROOT", task_root),
        ("LANG", "en_US.UTF-8".to_string()),
    ];
    let reserved = native.into_iter().chain(reserved(spec, log_stream));
    for (k, v) in reserved {
        env.insert(k.to_string(), v);
    }
    for (k, v) in launch_env {
        env.insert(k.clone(), v.clone());
    }
    for (k, v) in extra {
        env.insert(k.clone(), v.clone());
    }
    for (k, v) in &spec.env {
        env.insert(k.clone(), v.clone());
    }
    env.insert("AWS_LAMBDA_RUNTIME_API".to_string(), api.to_string());
    env
}

/// The variables Lambda sets in every execution environment, native or container (the
/// runtime-specific ones, `_HANDLER`, `AWS_EXECUTION_ENV`, `LAMBDA_TASK_ROOT`, come from the
/// native launch or the image).
pub(crate) fn reserved(spec: &FunctionSpec, log_stream: &str) -> [(&'static str, String); 9] {
    [
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", spec.name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.to_string()),
        ("AWS_REGION", spec.region.clone()),
        ("AWS_DEFAULT_REGION", spec.region.clone()),
        ("TZ", ":UTC".to_string()),
    ]
}

/// A running runtime: a native process group, or a container.
pub(crate) struct Sandbox {
    /// The process (for a container, its first process as the host sees it; 0 if unknown),
    /// whose tree is measured against MemorySize.
    pub pid: u32,
    pub exit: watch::Receiver<Option<ExitInfo>>,
    /// Set for a container sandbox.
    pub container: Option<crate::container::Handle>,
}

impl Sandbox {
    /// Starts the runtime in its own process group, its output going to `log`, with
    /// Lambda's filesystem `rules` (`filesystem.rs`).
    pub(crate) fn spawn(
        launch: &NativeLaunch,
        code_dir: &Path,
        rules: &crate::filesystem::Rules,
        env: &IndexMap<String, String>,
        log: &Arc<InstanceLog>,
    ) -> Result<Sandbox, LaunchError> {
        Sandbox::spawn_program(
            &launch.program,
            &launch.args,
            code_dir,
            rules,
            env,
            log,
            crate::telemetry::Kind::Function,
        )
    }

    /// Starts `program` in its own process group, its output going to `log` as `kind`'s
    /// (the runtime's, or an extension's).
    pub(crate) fn spawn_program(
        program: &Path,
        args: &[String],
        code_dir: &Path,
        rules: &crate::filesystem::Rules,
        env: &IndexMap<String, String>,
        log: &Arc<InstanceLog>,
        kind: crate::telemetry::Kind,
    ) -> Result<Sandbox, LaunchError> {
        // One pipe behind both stdout and stderr: Lambda keeps a function's output in one log
        // stream, in the order it was written. (Two pipes, each read by its own task, let a
        // multi-threaded runtime such as `start-lambda`'s take in one pipe's lines before the
        // other's earlier ones; `local invoke`'s single thread only made that rarer.)
        let (output, writer) = std::io::pipe().map_err(|e| LaunchError {
            error_type: "Runtime.Unknown",
            message: format!("could not make the function's output pipe: {e}"),
        })?;
        let stderr = writer.try_clone().map_err(|e| LaunchError {
            error_type: "Runtime.Unknown",
            message: format!("could not make the function's output pipe: {e}"),
        })?;
        let (program, args) = if rules.is_empty() {
            (program.to_path_buf(), args.to_vec())
        } else {
            // The launcher `exec`s the program: say what starting it directly would have.
            if let Err(e) = executable(program) {
                return Err(LaunchError {
                    error_type: "Runtime.InvalidEntrypoint",
                    message: format!("could not start {}: {e}", program.display()),
                });
            }
            crate::filesystem::wrap(program, args, code_dir, rules)
        };
        let mut cmd = tokio::process::Command::new(&program);
        cmd.args(&args)
            .env_clear()
            .envs(env)
            .current_dir(code_dir)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(stderr)
            .process_group(0)
            .kill_on_drop(true);
        let spawned = cmd.spawn();
        // The command holds ssam's copies of the write end: without them, the pipe ends
        // when the sandbox's last process does.
        drop(cmd);
        let mut child = spawned.map_err(|e| LaunchError {
            error_type: "Runtime.InvalidEntrypoint",
            message: format!("could not start {}: {e}", program.display()),
        })?;
        let pid = child.id().unwrap_or(0);
        match tokio::net::unix::pipe::Receiver::from_owned_fd(output.into()) {
            Ok(pipe) => log.pump_as(pipe, kind),
            Err(e) => log.line(&format!("ssam: cannot read the function's output: {e}")),
        }
        let (tx, rx) = watch::channel(None);
        tokio::spawn(async move {
            let info = match child.wait().await {
                Ok(status) => ExitInfo::from_status(&status),
                Err(e) => ExitInfo::new(format!("wait failed: {e}")),
            };
            let _ = tx.send(Some(info));
        });
        Ok(Sandbox {
            pid,
            exit: rx,
            container: None,
        })
    }

    pub(crate) fn exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// SIGKILL to the whole process group (or the container); the exit watcher reaps the
    /// leader (and removes the container).
    pub(crate) fn kill(&self) {
        if let Some(c) = &self.container {
            c.kill(self.pid);
        } else if self.pid != 0 {
            let _ = killpg(Pid::from_raw(self.pid as i32), Signal::SIGKILL);
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.kill();
    }
}
