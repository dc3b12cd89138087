//! Container sandboxes: a function's instance as a container of its image, beside native
//! processes in the same pool, with the same limits, logs and errors.
//!
//! ssam serves the Runtime API and the container runs the image's own entrypoint with
//! `AWS_LAMBDA_RUNTIME_API` pointing at it: AWS's base images call their runtime client when
//! that variable is set, so no emulator runs inside the container. On Linux the container
//! shares the host's network (127.0.0.1 is ssam); on a named network (`--docker-network`) the
//! Runtime API listens on that network's gateway and the container reaches ssam's other
//! services as `host.docker.internal`.
//!
//! Every container is labelled as ssam's (function, template, ssam's pid) and removed when
//! its instance ends (reaped, killed, shut down). [`Docker::remove_orphans`] clears those of
//! an ssam that was killed, at the next start.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ssam_docker::{Bind, ContainerConfig, Docker, Network};
use tokio::sync::watch;

use crate::logs::InstanceLog;
use crate::sandbox::{ExitInfo, LaunchError, Sandbox};
use crate::spec::{ContainerSpec, DockerOptions, FunctionSpec, ImageSource, RuntimeKind};

/// Label holding the function's name on its containers.
pub(crate) const LABEL_FUNCTION_NAME: &str = "ssam.function-name";

/// What a function's containers are created from, worked out once per pool generation.
pub(crate) struct Prepared {
    pub run: RunSpec,
    /// Names of the external extensions in the container's `/opt/extensions` (the layers'
    /// mounted at `/opt`, or the image's own), which the container starts before the runtime.
    pub extensions: Vec<String>,
    /// What starts the line the container's extension wrapper writes on stderr when an
    /// extension exits (`MARKER CODE NAME`): the exit is noticed at once, as natively.
    pub exit_marker: String,
    pub docker: Docker,
    /// Where the containers reach ssam.
    pub reach: Reach,
}

/// The image (built or checked), its entrypoint and command, and the mounts.
pub(crate) struct RunSpec {
    /// The image id (not the tag: a rebuild moves the tag, running containers keep theirs).
    pub image: String,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub binds: Vec<Bind>,
    /// `_HANDLER` for a Zip function whose bootstrap ssam names itself (provided runtimes).
    pub handler: Option<String>,
    /// Variables added after the function's own (a debugger's, `--debug-port`).
    pub env: Vec<(String, String)>,
    /// Ports published on the host's loopback (the debugger's).
    pub publish: Vec<u16>,
}

/// The containers alive (not yet removed), so shutdown can wait for them.
#[derive(Clone, Default)]
pub(crate) struct Containers(Arc<Mutex<std::collections::HashSet<String>>>);

impl Containers {
    fn insert(&self, id: &str) {
        self.lock().insert(id.to_string());
    }

    fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running container, as its [`Sandbox`] holds it.
pub(crate) struct Handle {
    id: String,
    docker: Docker,
}

impl Handle {
    /// SIGKILL: at once to the container's process when ssam may signal it (the host sees it
    /// as any process), and through the engine in any case. The exit watcher removes it.
    pub(crate) fn kill(&self, pid: u32) {
        if pid != 0 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let (docker, id) = (self.docker.clone(), self.id.clone());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { docker.kill_container(&id).await });
        }
    }
}

fn launch_error(message: impl Into<String>) -> LaunchError {
    LaunchError {
        error_type: "Runtime.InvalidEntrypoint",
        message: message.into(),
    }
}

/// Makes sure the function's image is there (built when missing or stale, checked when it
/// must be present) and works out how its containers start. Build output goes to `log`,
/// under the function's name.
pub(crate) async fn prepare(
    spec: &FunctionSpec,
    container: &ContainerSpec,
    docker: &Docker,
    options: &DockerOptions,
    force_build: bool,
    log: &InstanceLog,
    cache_dir: &Path,
) -> Result<Prepared, LaunchError> {
    let facts = match &container.image {
        ImageSource::Build(image) => {
            let built = docker
                .ensure_image(image, force_build, |line| log.line(line))
                .await
                .map_err(|e| launch_error(e.to_string()))?;
            if let ssam_docker::Built::Built { .. } = built {
                tracing::info!("{}: built image {}", spec.name, image.image_tag());
            }
            local_image(docker, &image.image_tag()).await?
        }
        ImageSource::Local(name) => match docker.local_image(name).await {
            Ok(Some(facts)) => facts,
            Ok(None) if options.pull => {
                tracing::info!("{}: pulling {name}", spec.name);
                docker
                    .pull(name, |line| log.line(line))
                    .await
                    .map_err(|e| launch_error(e.to_string()))?;
                local_image(docker, name).await?
            }
            Ok(None) => {
                return Err(launch_error(format!(
                    "the image {name} is not present locally; hint: run `docker pull {name}` \
                     (ssam never pulls unless asked with --pull), or name a local image with \
                     --invoke-image"
                )))
            }
            Err(e) => return Err(launch_error(e.to_string())),
        },
    };
    let (image_entrypoint, image_cmd) = (facts.entrypoint.clone(), facts.cmd.clone());
    let mut run = RunSpec {
        image: facts.id,
        entrypoint: container.entry_point.clone(),
        cmd: container.command.clone(),
        working_dir: container.working_dir.clone(),
        binds: Vec::new(),
        handler: None,
        env: Vec::new(),
        publish: Vec::new(),
    };
    // Docker drops the image's CMD when the entrypoint is replaced; Lambda keeps it.
    if run.entrypoint.is_some() && run.cmd.is_none() && !facts.cmd.is_empty() {
        run.cmd = Some(facts.cmd);
    }
    if container.mount_code {
        mount_code(spec, &mut run, cache_dir)?;
    }
    crate::debug::wrap_container(spec, container.mount_code, &mut run, cache_dir)?;
    // External extensions live in /opt/extensions: the layers' (mounted at /opt) for a Zip
    // function, the image's own for an Image function (which has no layers). Lambda's init
    // starts them, not the runtime, so the container's command starts them first.
    let extensions = if container.mount_code {
        crate::extensions::discover(&spec.layers)
            .iter()
            .map(|p| crate::extensions::name_of(p))
            .collect()
    } else {
        image_extensions(docker, &run.image).await?
    };
    let exit_marker = format!("ssam-extension-exited-{}", uuid::Uuid::new_v4().simple());
    if !extensions.is_empty() {
        wrap_with_extensions(
            &mut run,
            &exit_marker,
            &extensions,
            image_entrypoint,
            image_cmd,
        );
    }
    Ok(Prepared {
        run,
        extensions,
        exit_marker,
        docker: docker.clone(),
        reach: reach(docker, options.network.as_deref()).await?,
    })
}

/// Where a container's external extensions are, as on Lambda.
const EXTENSIONS_DIR: &str = "/opt/extensions";

/// The executables directly inside an Image function's own `/opt/extensions`, by name, read
/// from the image without running it (cached per image id by `ssam-docker`).
async fn image_extensions(docker: &Docker, image: &str) -> Result<Vec<String>, LaunchError> {
    let files = docker
        .list_dir(image, EXTENSIONS_DIR)
        .await
        .map_err(|e| launch_error(format!("cannot look into {EXTENSIONS_DIR}: {e}")))?;
    Ok(files
        .into_iter()
        .filter(ssam_docker::ImageFile::is_executable)
        .map(|f| f.name)
        .collect())
}

/// The shell that starts the `$2` extensions named next (`/opt/extensions/NAME`) in the
/// background, then `exec`s the container's own entrypoint and command (the rest). Each
/// extension runs in a subshell that marks its output lines `$1+ LINE` (so telemetry gets
/// them as `extension` lines, not the function's) and writes `$1 CODE NAME` on stderr when
/// it exits. Named, not globbed: the Extensions API waits for exactly the names ssam found.
const START_EXTENSIONS: &str = r#"m=$1; n=$2; shift 2; while [ "$n" -gt 0 ]; do ( { "/opt/extensions/$1" 2>&1; echo "$m $? $1"; } | while IFS= read -r l || [ -n "$l" ]; do case "$l" in "$m "*) printf '%s\n' "$l" >&2;; *) printf '%s+ %s\n' "$m" "$l";; esac; done ) & shift; n=$((n - 1)); done; exec "$@""#;

/// Runs the extensions before the entrypoint: `/bin/sh -c START_EXTENSIONS` with the exit
/// marker, their count, their names, and the entrypoint and command (the image's, unless
/// replaced) as its arguments.
fn wrap_with_extensions(
    run: &mut RunSpec,
    exit_marker: &str,
    extensions: &[String],
    image_entrypoint: Vec<String>,
    image_cmd: Vec<String>,
) {
    let entrypoint = run.entrypoint.take().unwrap_or(image_entrypoint);
    let cmd = run.cmd.take().unwrap_or(image_cmd);
    let mut wrapped = vec![
        "/bin/sh".to_string(),
        "-c".to_string(),
        START_EXTENSIONS.to_string(),
        "ssam-extensions".to_string(),
        exit_marker.to_string(),
        extensions.len().to_string(),
    ];
    wrapped.extend(extensions.iter().cloned());
    wrapped.extend(entrypoint);
    wrapped.extend(cmd);
    run.entrypoint = Some(wrapped);
    run.cmd = Some(Vec::new());
}

async fn local_image(docker: &Docker, name: &str) -> Result<ssam_docker::ImageFacts, LaunchError> {
    docker
        .local_image(name)
        .await
        .map_err(|e| launch_error(e.to_string()))?
        .ok_or_else(|| launch_error(format!("the image {name} disappeared")))
}

/// A Zip function in a runtime image: the code read-only at `/var/task`, the layers merged
/// read-only at `/opt`, and the handler as the command (the image's entrypoint exports it as
/// `_HANDLER`); a `provided` runtime starts the first bootstrap Lambda would find.
fn mount_code(
    spec: &FunctionSpec,
    prepared: &mut RunSpec,
    cache_dir: &Path,
) -> Result<(), LaunchError> {
    prepared.binds.push(Bind {
        host: spec.code_dir.clone(),
        container: "/var/task".into(),
        read_only: true,
    });
    if let Some(opt) = merged_layers(spec, cache_dir)? {
        prepared.binds.push(Bind {
            host: opt,
            container: "/opt".into(),
            read_only: true,
        });
    }
    if prepared.cmd.is_none() && prepared.entrypoint.is_none() {
        if spec.runtime_kind() == RuntimeKind::Provided {
            let bootstrap = if spec.code_dir.join("bootstrap").is_file() {
                "/var/task/bootstrap"
            } else if spec.layers.iter().any(|l| l.join("bootstrap").is_file()) {
                "/opt/bootstrap"
            } else {
                "/var/runtime/bootstrap"
            };
            prepared.entrypoint = Some(vec![bootstrap.to_string()]);
            prepared.cmd = Some(Vec::new());
            prepared.handler = Some(spec.handler.clone());
        } else {
            prepared.cmd = Some(vec![spec.handler.clone()]);
        }
    }
    Ok(())
}

/// The function's layers as one directory (Lambda extracts them into `/opt` in order, later
/// ones over earlier ones): the layer itself when there is one, else a merged copy in the
/// cache.
fn merged_layers(spec: &FunctionSpec, cache_dir: &Path) -> Result<Option<PathBuf>, LaunchError> {
    match spec.layers.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        many => {
            let dir = cache_dir.join("opt").join(&spec.logical_id);
            let fail = |e: std::io::Error| {
                launch_error(format!(
                    "cannot merge the layers into {}: {e}",
                    dir.display()
                ))
            };
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(fail)?;
            }
            for layer in many {
                ssam_build::tree::copy_tree(layer, &dir, &[]).map_err(fail)?;
            }
            Ok(Some(dir))
        }
    }
}

/// Where a container reaches ssam: the address the Runtime API must listen on and the host
/// name containers use for ssam's other services.
pub(crate) struct Reach {
    pub bind: IpAddr,
    /// Replaces `127.0.0.1`/`localhost` in service-wide variables (endpoints), on networks
    /// where loopback is the container itself.
    pub host_alias: Option<&'static str>,
}

/// The address the Runtime API binds for containers on `network`.
pub(crate) async fn reach(docker: &Docker, network: Option<&str>) -> Result<Reach, LaunchError> {
    match network {
        None | Some("host") => Ok(Reach {
            bind: IpAddr::from([127, 0, 0, 1]),
            host_alias: None,
        }),
        Some(name) => {
            let gateway = docker
                .network_gateway(name)
                .await
                .map_err(|e| launch_error(e.to_string()))?
                .ok_or_else(|| {
                    launch_error(format!(
                        "the docker network {name} has no gateway address; hint: use \
                         --docker-network host, or a bridge network"
                    ))
                })?;
            Ok(Reach {
                bind: gateway,
                host_alias: Some("host.docker.internal"),
            })
        }
    }
}

/// The container's variables, added to the image's own: Lambda's reserved ones, the
/// caller's credentials, the service-wide ones, the function's (with `--container-env-vars`),
/// and `AWS_LAMBDA_RUNTIME_API` last.
pub(crate) fn environment(
    spec: &FunctionSpec,
    handler: Option<&str>,
    runtime_api: &str,
    extra: &indexmap::IndexMap<String, String>,
    reach: &Reach,
    log_stream: &str,
) -> Vec<(String, String)> {
    let mut env: indexmap::IndexMap<String, String> = indexmap::IndexMap::new();
    for (k, v) in crate::sandbox::reserved(spec, log_stream) {
        env.insert(k.to_string(), v);
    }
    if let Some(h) = handler {
        env.insert("_HANDLER".into(), h.to_string());
    }
    // The SDKs in the container need credentials to sign requests (to ssam's S3 too); SAM
    // passes the caller's, or placeholders.
    for key in crate::sandbox::CREDENTIALS {
        if let Ok(v) = std::env::var(key) {
            env.insert((*key).to_string(), v);
        }
    }
    if !env.contains_key("AWS_ACCESS_KEY_ID") {
        env.insert("AWS_ACCESS_KEY_ID".into(), "defaultkey".into());
        env.insert("AWS_SECRET_ACCESS_KEY".into(), "defaultsecret".into());
    }
    for (k, v) in extra {
        let v = match reach.host_alias {
            Some(alias) => ["//127.0.0.1", "//localhost", "//0.0.0.0"]
                .iter()
                .fold(v.clone(), |v, host| v.replace(host, &format!("//{alias}"))),
            None => v.clone(),
        };
        env.insert(k.clone(), v);
    }
    for (k, v) in &spec.env {
        env.insert(k.clone(), v.clone());
    }
    env.insert("AWS_LAMBDA_RUNTIME_API".into(), runtime_api.to_string());
    env.into_iter().collect()
}

/// Starts one container of `prepared`, its output going to `log`. The returned sandbox's
/// exit watch fires when the container stops; the container is then removed.
pub(crate) async fn start(
    spec: &FunctionSpec,
    prepared: &Prepared,
    env: Vec<(String, String)>,
    options: &DockerOptions,
    log: &Arc<InstanceLog>,
    containers: &Containers,
) -> Result<Sandbox, LaunchError> {
    let docker = &prepared.docker;
    let mut labels = HashMap::from([
        (ssam_docker::LABEL_MANAGED.to_string(), "true".to_string()),
        (
            ssam_docker::LABEL_PID.to_string(),
            std::process::id().to_string(),
        ),
        (
            ssam_docker::LABEL_FUNCTION.to_string(),
            spec.logical_id.clone(),
        ),
        (LABEL_FUNCTION_NAME.to_string(), spec.name.clone()),
    ]);
    if let Some(t) = &options.template {
        labels.insert(ssam_docker::LABEL_TEMPLATE.to_string(), t.clone());
    }
    let mut extra_hosts = options.add_hosts.clone();
    let network = match options.network.as_deref() {
        None | Some("host") => Network::Host,
        Some(name) => {
            extra_hosts.push("host.docker.internal:host-gateway".into());
            Network::Named(name.to_string())
        }
    };
    let run = &prepared.run;
    let mut env = env;
    env.extend(run.env.iter().cloned());
    let config = ContainerConfig {
        image: run.image.clone(),
        entrypoint: run.entrypoint.clone(),
        cmd: run.cmd.clone(),
        working_dir: run.working_dir.clone(),
        env,
        binds: run.binds.clone(),
        memory_mb: Some(u64::from(spec.memory_mb)),
        network,
        extra_hosts,
        labels,
        publish: run.publish.clone(),
        // Lambda's filesystem: everything read-only but /tmp, sized by EphemeralStorage
        // (filesystem.rs).
        read_only_root: spec.lambda_filesystem,
        tmpfs: if spec.lambda_filesystem {
            vec![(
                "/tmp".to_string(),
                format!("size={}m,mode=1777", spec.ephemeral_storage_mb),
            )]
        } else {
            Vec::new()
        },
    };
    let started = docker
        .run_container(&config)
        .await
        .map_err(|e| LaunchError {
            error_type: "Runtime.Unknown",
            message: e.to_string(),
        })?;
    containers.insert(&started.id);
    log.pump_container(started.output);
    let (tx, rx) = watch::channel(None);
    let (watcher, id, registry) = (docker.clone(), started.id.clone(), containers.clone());
    tokio::spawn(async move {
        let exit = watcher.wait_exit(&id).await;
        let _ = tx.send(Some(ExitInfo::from_container(&exit)));
        if let Err(e) = watcher.remove_container(&id).await {
            tracing::warn!("cannot remove container {id}: {e}");
        }
        registry.remove(&id);
    });
    Ok(Sandbox {
        pid: started.pid,
        exit: rx,
        container: Some(Handle {
            id: started.id,
            docker: docker.clone(),
        }),
    })
}

/// Whether `pid` is a live ssam process (its containers are not orphans).
pub(crate) fn is_live_ssam(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|comm| comm.trim() == "ssam" || pid == std::process::id())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn prepared() -> RunSpec {
        RunSpec {
            image: "sha256:abc".into(),
            entrypoint: None,
            cmd: None,
            working_dir: None,
            binds: Vec::new(),
            handler: None,
            env: Vec::new(),
            publish: Vec::new(),
        }
    }

    #[test]
    fn container_environment_order_and_runtime_api() {
        let mut spec = FunctionSpec::new("Fn", "", "", "/nowhere");
        spec.env.insert("TZ".into(), "Europe/Paris".into());
        spec.env.insert("MINE".into(), "1".into());
        let extra = indexmap::IndexMap::from([(
            "AWS_ENDPOINT_URL_S3".to_string(),
            "http://127.0.0.1:3001".to_string(),
        )]);
        let host = Reach {
            bind: IpAddr::from([127, 0, 0, 1]),
            host_alias: None,
        };
        let env = environment(&spec, None, "127.0.0.1:9001", &extra, &host, "stream");
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("AWS_LAMBDA_FUNCTION_NAME"), Some("Fn"));
        assert_eq!(get("TZ"), Some("Europe/Paris"), "the function's own win");
        assert_eq!(get("AWS_ENDPOINT_URL_S3"), Some("http://127.0.0.1:3001"));
        assert_eq!(env.last().unwrap().0, "AWS_LAMBDA_RUNTIME_API");
        assert_eq!(get("PATH"), None, "the image keeps its own PATH");
        assert_eq!(get("_HANDLER"), None, "the image's entrypoint sets it");

        let bridge = Reach {
            bind: IpAddr::from([172, 17, 0, 1]),
            host_alias: Some("host.docker.internal"),
        };
        let env = environment(&spec, None, "172.17.0.1:9001", &extra, &bridge, "stream");
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(
            get("AWS_ENDPOINT_URL_S3"),
            Some("http://host.docker.internal:3001")
        );
    }

    #[test]
    fn zip_functions_mount_code_and_pass_the_handler() {
        let dir = tempfile::tempdir().unwrap();
        let spec = FunctionSpec::new("Fn", "python3.12", "app.handler", dir.path());
        let mut p = prepared();
        mount_code(&spec, &mut p, dir.path()).unwrap();
        assert_eq!(p.cmd, Some(vec!["app.handler".to_string()]));
        assert_eq!(p.binds[0].container, "/var/task");
        assert!(p.binds[0].read_only);

        std::fs::write(dir.path().join("bootstrap"), "#!/bin/sh\n").unwrap();
        let spec = FunctionSpec::new("Fn", "provided.al2023", "bootstrap", dir.path());
        let mut p = prepared();
        mount_code(&spec, &mut p, dir.path()).unwrap();
        assert_eq!(p.entrypoint, Some(vec!["/var/task/bootstrap".to_string()]));
        assert_eq!(p.handler.as_deref(), Some("bootstrap"));
    }

    #[test]
    fn extensions_start_by_name_before_the_entrypoint() {
        let mut p = prepared();
        p.cmd = Some(vec!["app.handler".into()]);
        let names = vec!["one".to_string(), "two words".to_string()];
        wrap_with_extensions(
            &mut p,
            "MARK",
            &names,
            vec!["/lambda-entrypoint.sh".into()],
            vec![],
        );
        let entry = p.entrypoint.clone().unwrap();
        assert_eq!(&entry[..2], ["/bin/sh", "-c"]);
        assert_eq!(
            &entry[3..],
            [
                "ssam-extensions",
                "MARK",
                "2",
                "one",
                "two words",
                "/lambda-entrypoint.sh",
                "app.handler"
            ]
        );
        assert_eq!(p.cmd, Some(Vec::new()));
        // With no extension to start, the shell runs the rest as given.
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", START_EXTENSIONS, "ssam-extensions", "MARK", "0"])
            .args(["echo", "a b", "c"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b c\n");
        assert!(out.stderr.is_empty());
    }

    #[test]
    fn several_layers_merge_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(a.join("python")).unwrap();
        std::fs::create_dir_all(b.join("python")).unwrap();
        std::fs::write(a.join("python/x.py"), "a").unwrap();
        std::fs::write(b.join("python/x.py"), "b").unwrap();
        std::fs::write(a.join("python/only_a.py"), "a").unwrap();
        let mut spec = FunctionSpec::new("Fn", "python3.12", "app.handler", dir.path());
        spec.layers = vec![a, b];
        let merged = merged_layers(&spec, &dir.path().join("cache"))
            .unwrap()
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(merged.join("python/x.py")).unwrap(),
            "b"
        );
        assert!(merged.join("python/only_a.py").is_file());
    }
}
