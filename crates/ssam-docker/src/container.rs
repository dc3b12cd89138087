//! Containers: what ssam runs a function's image as. [`ContainerConfig`] is the plain-data
//! description (image, entrypoint, command, environment, read-only binds, memory limit,
//! network, labels); [`Docker::run_container`] creates, attaches to and starts one and hands
//! back its output and its end; [`Docker::remove_labelled`] clears what an earlier ssam left.
//!
//! Every container carries [`LABEL_MANAGED`], so ssam can find its own containers and only
//! those.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;

use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateImageOptionsBuilder, KillContainerOptionsBuilder,
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::client::Docker;
use crate::error::DockerError;

/// Label every ssam container carries (value `true`).
pub const LABEL_MANAGED: &str = "ssam.managed";
/// Label holding the pid of the ssam process that started the container.
pub const LABEL_PID: &str = "ssam.pid";
/// Label holding the template the function came from.
pub const LABEL_TEMPLATE: &str = "ssam.template";

/// Where a container's network lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// The host's network namespace: 127.0.0.1 in the container is the host (Linux).
    Host,
    /// A named Docker network (`bridge`, or the user's `--docker-network`).
    Named(String),
}

/// A host directory mounted into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub host: PathBuf,
    pub container: String,
    pub read_only: bool,
}

/// How to run one container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerConfig {
    /// Image id or tag.
    pub image: String,
    /// Overrides the image's ENTRYPOINT when set.
    pub entrypoint: Option<Vec<String>>,
    /// Overrides the image's CMD when set.
    pub cmd: Option<Vec<String>>,
    pub working_dir: Option<String>,
    /// Added to the image's own environment (which it keeps for everything not named here).
    pub env: Vec<(String, String)>,
    pub binds: Vec<Bind>,
    /// Hard memory limit (swap included), in MiB.
    pub memory_mb: Option<u64>,
    pub network: Network,
    /// `host:ip` entries for `/etc/hosts` (`host.docker.internal:host-gateway`).
    pub extra_hosts: Vec<String>,
    pub labels: HashMap<String, String>,
    /// Container ports published on the host's 127.0.0.1 at the same number (a debugger's
    /// port); on the host network they are the host's already.
    pub publish: Vec<u16>,
    /// The image's filesystem mounted read-only (`docker run --read-only`).
    pub read_only_root: bool,
    /// tmpfs mounts: path and options (`/tmp`, `size=512m`), as `docker run --tmpfs`.
    pub tmpfs: Vec<(String, String)>,
}

/// A chunk of a container's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout(Bytes),
    Stderr(Bytes),
}

/// The output stream of a running container; ends when the container's output closes.
pub type OutputStream = Pin<Box<dyn Stream<Item = Output> + Send>>;

/// A started container.
pub struct Started {
    pub id: String,
    /// The host pid of the container's first process (0 when the engine does not say).
    pub pid: u32,
    pub output: OutputStream,
}

/// How a container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// The exit code (128 + N for a process killed by signal N).
    pub code: i64,
    /// The kernel killed it for going over its memory limit.
    pub out_of_memory: bool,
}

/// Facts about a local image that a container's configuration depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    pub id: String,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
}

impl Docker {
    /// The image `name` when it is present locally, `None` otherwise.
    pub async fn local_image(&self, name: &str) -> Result<Option<ImageFacts>, DockerError> {
        match self.bollard().inspect_image(name).await {
            Ok(image) => {
                let config = image.config.unwrap_or_default();
                Ok(Some(ImageFacts {
                    id: image.id.unwrap_or_default(),
                    entrypoint: config.entrypoint.unwrap_or_default(),
                    cmd: config.cmd.unwrap_or_default(),
                }))
            }
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(source) => Err(DockerError::Api {
                what: format!("inspect image {name}"),
                source,
            }),
        }
    }

    /// `docker pull name`, each progress line to `on_line`.
    pub async fn pull(
        &self,
        name: &str,
        mut on_line: impl FnMut(&str) + Send,
    ) -> Result<(), DockerError> {
        let options = CreateImageOptionsBuilder::new().from_image(name).build();
        let mut stream = self.bollard().create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(status) = info.status {
                        on_line(&status);
                    }
                }
                Err(source) => {
                    return Err(DockerError::Api {
                        what: format!("pull {name}"),
                        source,
                    })
                }
            }
        }
        Ok(())
    }

    /// Creates the container, attaches to its output, starts it and reads its host pid.
    /// A container that fails to start is removed before the error returns.
    pub async fn run_container(&self, config: &ContainerConfig) -> Result<Started, DockerError> {
        let api = |what: &str, source| DockerError::Api {
            what: format!("{what} ({})", config.image),
            source,
        };
        let host_config = HostConfig {
            binds: Some(config.binds.iter().map(bind_spec).collect()),
            network_mode: Some(match &config.network {
                Network::Host => "host".to_string(),
                Network::Named(n) => n.clone(),
            }),
            memory: config.memory_mb.map(|mb| (mb * 1024 * 1024) as i64),
            memory_swap: config.memory_mb.map(|mb| (mb * 1024 * 1024) as i64),
            extra_hosts: Some(config.extra_hosts.clone()),
            port_bindings: published(config),
            readonly_rootfs: config.read_only_root.then_some(true),
            tmpfs: (!config.tmpfs.is_empty()).then(|| config.tmpfs.iter().cloned().collect()),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(config.image.clone()),
            entrypoint: config.entrypoint.clone(),
            cmd: config.cmd.clone(),
            working_dir: config.working_dir.clone(),
            env: Some(config.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(config.labels.clone()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            host_config: Some(host_config),
            exposed_ports: published(config).map(|ports| ports.into_keys().collect()),
            ..Default::default()
        };
        let created = self
            .bollard()
            .create_container(
                None::<bollard::query_parameters::CreateContainerOptions>,
                body,
            )
            .await
            .map_err(|e| api("create container", e))?;
        let id = created.id;
        match self.attach_and_start(&id).await {
            Ok((pid, output)) => Ok(Started { id, pid, output }),
            Err(source) => {
                let _ = self.remove_container(&id).await;
                Err(api("start container", source))
            }
        }
    }

    async fn attach_and_start(&self, id: &str) -> Result<(u32, OutputStream), BollardError> {
        let options = AttachContainerOptionsBuilder::new()
            .stream(true)
            .stdout(true)
            .stderr(true)
            .build();
        let attached = self.bollard().attach_container(id, Some(options)).await?;
        self.bollard()
            .start_container(id, None::<bollard::query_parameters::StartContainerOptions>)
            .await?;
        let pid = self
            .bollard()
            .inspect_container(
                id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await?
            .state
            .and_then(|s| s.pid)
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(0);
        let output = attached
            .output
            .filter_map(|item| async move {
                match item {
                    Ok(bollard::container::LogOutput::StdOut { message })
                    | Ok(bollard::container::LogOutput::Console { message }) => {
                        Some(Output::Stdout(message))
                    }
                    Ok(bollard::container::LogOutput::StdErr { message }) => {
                        Some(Output::Stderr(message))
                    }
                    _ => None,
                }
            })
            .boxed();
        Ok((pid, output))
    }

    /// Waits until the container has stopped and says how.
    pub async fn wait_exit(&self, id: &str) -> Exit {
        let options = WaitContainerOptionsBuilder::new()
            .condition("not-running")
            .build();
        let code = match self
            .bollard()
            .wait_container(id, Some(options))
            .next()
            .await
        {
            Some(Ok(r)) => r.status_code,
            // bollard reports a non-zero exit as an error carrying the code.
            Some(Err(BollardError::DockerContainerWaitError { code, .. })) => code,
            _ => -1,
        };
        let out_of_memory = self
            .bollard()
            .inspect_container(
                id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .ok()
            .and_then(|c| c.state)
            .and_then(|s| s.oom_killed)
            .unwrap_or(false);
        Exit {
            code,
            out_of_memory,
        }
    }

    /// SIGKILL to the container (nothing happens if it already stopped).
    pub async fn kill_container(&self, id: &str) {
        let options = KillContainerOptionsBuilder::new().signal("KILL").build();
        let _ = self.bollard().kill_container(id, Some(options)).await;
    }

    /// Removes the container, running or not; a container already gone is not an error.
    pub async fn remove_container(&self, id: &str) -> Result<(), DockerError> {
        let options = RemoveContainerOptionsBuilder::new().force(true).build();
        match self.bollard().remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(BollardError::DockerResponseServerError {
                status_code: 404 | 409,
                ..
            }) => Ok(()),
            Err(source) => Err(DockerError::Api {
                what: format!("remove container {id}"),
                source,
            }),
        }
    }

    /// The containers (running or not) carrying `label` (`key` or `key=value`), with their labels.
    pub async fn labelled(
        &self,
        label: &str,
    ) -> Result<Vec<(String, HashMap<String, String>)>, DockerError> {
        let filters = HashMap::from([("label", vec![label])]);
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let list = self
            .bollard()
            .list_containers(Some(options))
            .await
            .map_err(|source| DockerError::Api {
                what: format!("list containers labelled {label}"),
                source,
            })?;
        Ok(list
            .into_iter()
            .filter_map(|c| Some((c.id?, c.labels.unwrap_or_default())))
            .collect())
    }

    /// The IPv4 gateway of the docker network `name` (where the host answers containers on
    /// that network), `None` when it has none. The default `bridge` network often states
    /// only its subnet: its gateway is then the subnet's first address, as the engine
    /// assigns it (172.17.0.1).
    pub async fn network_gateway(&self, name: &str) -> Result<Option<IpAddr>, DockerError> {
        let net = self
            .bollard()
            .inspect_network(
                name,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await
            .map_err(|source| DockerError::Api {
                what: format!("inspect network {name}"),
                source,
            })?;
        Ok(net
            .ipam
            .and_then(|i| i.config)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| {
                c.gateway
                    .and_then(|g| g.parse::<IpAddr>().ok())
                    .or_else(|| first_address(c.subnet.as_deref()?))
            })
            .find(IpAddr::is_ipv4))
    }

    /// Removes ssam's containers whose ssam process is gone (`keep(pid)` false): what an ssam
    /// killed with SIGKILL left behind. Returns how many were removed.
    pub async fn remove_orphans(&self, keep: impl Fn(u32) -> bool) -> Result<usize, DockerError> {
        let mut removed = 0;
        for (id, labels) in self.labelled(LABEL_MANAGED).await? {
            let owner = labels.get(LABEL_PID).and_then(|p| p.parse::<u32>().ok());
            if owner.is_some_and(&keep) {
                continue;
            }
            self.remove_container(&id).await?;
            removed += 1;
        }
        Ok(removed)
    }
}

/// The first host address of an IPv4 subnet (`172.17.0.0/16` → `172.17.0.1`).
fn first_address(subnet: &str) -> Option<IpAddr> {
    let (net, bits) = subnet.split_once('/')?;
    let net: std::net::Ipv4Addr = net.parse().ok()?;
    let bits: u32 = bits.parse().ok().filter(|b| *b <= 30)?;
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    Some(IpAddr::V4(std::net::Ipv4Addr::from(
        (u32::from(net) & mask) + 1,
    )))
}

/// `host:container[:ro]`, as the engine's `Binds` expects.
fn bind_spec(b: &Bind) -> String {
    format!(
        "{}:{}{}",
        b.host.display(),
        b.container,
        if b.read_only { ":ro" } else { "" }
    )
}

/// `PORT/tcp` → `127.0.0.1:PORT` for each published port (none on the host network).
fn published(config: &ContainerConfig) -> Option<bollard::models::PortMap> {
    if config.publish.is_empty() || config.network == Network::Host {
        return None;
    }
    Some(
        config
            .publish
            .iter()
            .map(|port| {
                let binding = bollard::models::PortBinding {
                    host_ip: Some("127.0.0.1".to_string()),
                    host_port: Some(port.to_string()),
                };
                (format!("{port}/tcp"), Some(vec![binding]))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subnets_first_address_is_its_gateway() {
        let cases = [
            ("172.17.0.0/16", Some("172.17.0.1")),
            ("10.1.2.0/24", Some("10.1.2.1")),
            ("10.1.2.7/24", Some("10.1.2.1")),
            ("fd00::/64", None),
            ("10.0.0.0/31", None),
            ("junk", None),
        ];
        for (subnet, want) in cases {
            let got = first_address(subnet).map(|a| a.to_string());
            assert_eq!(got.as_deref(), want, "{subnet}");
        }
    }

    #[test]
    fn binds_are_written_as_the_engine_reads_them() {
        let b = Bind {
            host: PathBuf::from("/src/app"),
            container: "/var/task".into(),
            read_only: true,
        };
        assert_eq!(bind_spec(&b), "/src/app:/var/task:ro");
        let rw = Bind {
            read_only: false,
            ..b
        };
        assert_eq!(bind_spec(&rw), "/src/app:/var/task");
    }
}
