//! [`Docker`]: the connection to the Docker engine, and [`Docker::ensure_image`], which builds
//! an Image function's image unless the tagged image already carries the current content hash.

use std::collections::HashMap;

use bollard::errors::Error as BollardError;
use bollard::query_parameters::BuildImageOptionsBuilder;
use futures::StreamExt;

use crate::context::{self, Context};
use crate::error::{BuildError, DockerError};
use crate::spec::ImageSpec;

/// Where the engine listens when `DOCKER_HOST` is unset.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// Image label holding [`crate::content_hash`] of the inputs the image was built from.
pub const LABEL_CONTENT_HASH: &str = "ssam.content-hash";
/// Image label holding the logical id of the function the image was built for.
pub const LABEL_FUNCTION: &str = "ssam.function";

/// Per-request timeout in seconds. bollard's default (120 s) would cut off a long `docker
/// build`; an engine that does not answer at all fails at once on a unix socket anyway.
const REQUEST_TIMEOUT_SECS: u64 = 3600;

/// A connected Docker engine, its API version negotiated.
#[derive(Debug, Clone)]
pub struct Docker {
    inner: bollard::Docker,
    endpoint: String,
    /// [`Docker::list_dir`]'s cache, shared by the clones.
    pub(crate) listings: crate::files::Listings,
}

/// What [`Docker::ensure_image`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Built {
    /// The tagged image already carried the current content hash; nothing was sent.
    UpToDate { image_id: String },
    /// The image was (re)built.
    Built { image_id: String },
}

impl Built {
    pub fn image_id(&self) -> &str {
        match self {
            Built::UpToDate { image_id } | Built::Built { image_id } => image_id,
        }
    }
}

impl Docker {
    /// Connects to `DOCKER_HOST` (a unix socket, `unix:///path` or `/path`), else to
    /// [`DEFAULT_SOCKET`], and negotiates the API version (the engine here speaks 1.41).
    pub async fn connect() -> Result<Docker, DockerError> {
        let host = std::env::var("DOCKER_HOST").ok();
        let socket = socket_path(host.as_deref())?;
        Docker::connect_to(&socket).await
    }

    /// Connects to the unix socket at `socket_path`.
    pub async fn connect_to(socket_path: &str) -> Result<Docker, DockerError> {
        let endpoint = format!("unix://{socket_path}");
        let unreachable = |e: BollardError| DockerError::Unreachable {
            endpoint: endpoint.clone(),
            cause: e.to_string(),
        };
        let client = bollard::Docker::connect_with_unix(
            socket_path,
            REQUEST_TIMEOUT_SECS,
            bollard::API_DEFAULT_VERSION,
        )
        .map_err(unreachable)?;
        // negotiate_version is the first request: if nothing answers, this is where we learn it.
        let inner = client.negotiate_version().await.map_err(unreachable)?;
        tracing::debug!(%endpoint, version = ?inner.client_version(), "connected to the docker engine");
        Ok(Docker {
            inner,
            endpoint,
            listings: Default::default(),
        })
    }

    /// The underlying bollard client, for the container calls later sessions add.
    pub fn bollard(&self) -> &bollard::Docker {
        &self.inner
    }

    /// `unix:///var/run/docker.sock` or whatever was connected to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The labels of the image `tag`, or `None` when there is no such image.
    pub async fn image_labels(
        &self,
        tag: &str,
    ) -> Result<Option<(String, HashMap<String, String>)>, DockerError> {
        match self.inner.inspect_image(tag).await {
            Ok(image) => {
                let labels = image.config.and_then(|c| c.labels).unwrap_or_default();
                Ok(Some((image.id.unwrap_or_default(), labels)))
            }
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(source) => Err(DockerError::Api {
                what: format!("inspect image {tag}"),
                source,
            }),
        }
    }

    /// Builds `spec`'s image unless the image tagged [`ImageSpec::image_tag`] carries the
    /// current [`crate::content_hash`] (and `force` is false). Each line of the engine's build
    /// output goes to `on_line` as it arrives.
    ///
    /// Builds use `rm` + `forcerm`: the legacy builder otherwise leaves the intermediate
    /// container of a failed step behind.
    pub async fn ensure_image(
        &self,
        spec: &ImageSpec,
        force: bool,
        mut on_line: impl FnMut(&str) + Send,
    ) -> Result<Built, BuildError> {
        let tag = spec.image_tag();
        // Reading the context is blocking file I/O; keep it off the async workers.
        let owned = spec.clone();
        let ctx: Context = tokio::task::spawn_blocking(move || context::collect(&owned))
            .await
            .map_err(|e| BuildError::Context {
                path: spec.context_dir.clone(),
                source: std::io::Error::other(e.to_string()),
            })??;
        let hash = ctx.hash(spec);

        if !force {
            if let Some((image_id, labels)) = self.image_labels(&tag).await? {
                if labels.get(LABEL_CONTENT_HASH) == Some(&hash) {
                    tracing::debug!(%tag, %hash, "image is up to date");
                    return Ok(Built::UpToDate { image_id });
                }
            }
        }

        let tar = ctx.to_tar().map_err(|source| BuildError::Context {
            path: spec.context_dir.clone(),
            source,
        })?;
        let build_args: HashMap<String, String> = spec.build_args.clone().into_iter().collect();
        let labels: HashMap<String, String> = HashMap::from([
            (LABEL_CONTENT_HASH.to_string(), hash.clone()),
            (LABEL_FUNCTION.to_string(), spec.logical_id.clone()),
        ]);
        let options = BuildImageOptionsBuilder::new()
            .dockerfile(&ctx.dockerfile)
            .t(&tag)
            .buildargs(&build_args)
            .labels(&labels)
            .target(spec.target.as_deref().unwrap_or(""))
            .platform(spec.platform.as_deref().unwrap_or(""))
            .rm(true)
            .forcerm(true)
            .build();
        tracing::info!(
            "building image {tag} from {} ({} KB of context)",
            spec.context_dir.display(),
            tar.len().div_ceil(1024)
        );

        let mut stream =
            self.inner
                .build_image(options, None, Some(bollard::body_full(tar.into())));
        // The legacy builder prints `Step N/M : <instruction>` before each step; the last one
        // seen when an error arrives is the step that failed.
        let mut last_step: Option<String> = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    let text = info.stream.or(info.status).unwrap_or_default();
                    for line in text.lines() {
                        let line = line.trim_end();
                        if line.is_empty() {
                            continue;
                        }
                        if line.starts_with("Step ") {
                            last_step = Some(line.to_string());
                        }
                        on_line(line);
                    }
                }
                Err(BollardError::DockerStreamError { error }) => {
                    let message = with_base_image_hint(error.trim_end(), last_step.as_deref());
                    return Err(BuildError::Failed {
                        tag,
                        step: last_step,
                        message,
                    });
                }
                Err(BollardError::DockerResponseServerError { message, .. }) => {
                    // Rejected before any step ran (bad platform, bad target, ...).
                    return Err(BuildError::Failed {
                        tag,
                        step: last_step,
                        message,
                    });
                }
                Err(source) => {
                    return Err(DockerError::Api {
                        what: format!("build image {tag}"),
                        source,
                    }
                    .into())
                }
            }
        }

        // The stream's `aux` id differs by builder; asking for the tag is the same everywhere
        // and also proves the tag now points at an image.
        match self.image_labels(&tag).await? {
            Some((image_id, _)) => Ok(Built::Built { image_id }),
            None => Err(BuildError::Failed {
                tag: tag.clone(),
                step: last_step,
                message: format!("the engine reported success but no image is tagged {tag}"),
            }),
        }
    }
}

/// A `FROM` step that failed because its image is neither local nor pullable gets the
/// command that fixes it (no registry may answer on a developer's machine or in CI).
fn with_base_image_hint(message: &str, step: Option<&str>) -> String {
    let from = step
        .and_then(|s| s.split_once(" : "))
        .map(|(_, instruction)| instruction.trim())
        .and_then(|i| i.strip_prefix("FROM ").or_else(|| i.strip_prefix("from ")))
        .and_then(|rest| rest.split_whitespace().find(|w| !w.starts_with("--")));
    match from {
        Some(image) if !image.eq_ignore_ascii_case("scratch") => format!(
            "{message}; hint: the base image {image} is not on this machine and could not be pulled: run `docker pull {image}` where a registry answers, or build or load it locally"
        ),
        _ => message.to_string(),
    }
}

/// The socket [`Docker::connect`] would use (`DOCKER_HOST`, else [`DEFAULT_SOCKET`]).
pub fn socket_path_from_env() -> Result<String, DockerError> {
    socket_path(std::env::var("DOCKER_HOST").ok().as_deref())
}

/// The socket path for a `DOCKER_HOST` value (`None` or empty: [`DEFAULT_SOCKET`]).
pub(crate) fn socket_path(docker_host: Option<&str>) -> Result<String, DockerError> {
    match docker_host.map(str::trim) {
        None | Some("") => Ok(DEFAULT_SOCKET.to_string()),
        Some(host) => {
            if let Some(path) = host.strip_prefix("unix://") {
                Ok(path.to_string())
            } else if host.starts_with('/') {
                Ok(host.to_string())
            } else {
                Err(DockerError::UnsupportedHost {
                    host: host.to_string(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_missing_base_image_gets_the_pull_to_run() {
        let m = with_base_image_hint(
            "pull access denied for public.ecr.aws/lambda/python, repository does not exist",
            Some("Step 1/7 : FROM public.ecr.aws/lambda/python:3.9"),
        );
        assert!(
            m.ends_with("run `docker pull public.ecr.aws/lambda/python:3.9` where a registry answers, or build or load it locally"),
            "{m}"
        );
        let other = with_base_image_hint("exit 3", Some("Step 2/3 : RUN exit 3"));
        assert_eq!(other, "exit 3");
    }

    #[test]
    fn docker_host_values() {
        let ok = [
            (None, "/var/run/docker.sock"),
            (Some(""), "/var/run/docker.sock"),
            (
                Some("unix:///run/user/1000/docker.sock"),
                "/run/user/1000/docker.sock",
            ),
            (Some("/tmp/d.sock"), "/tmp/d.sock"),
        ];
        for (host, want) in ok {
            assert_eq!(socket_path(host).unwrap(), want, "{host:?}");
        }
        for host in [
            "tcp://127.0.0.1:2375",
            "ssh://me@box",
            "npipe:////./pipe/docker",
        ] {
            let err = socket_path(Some(host)).unwrap_err().to_string();
            assert!(err.contains("not supported yet"), "{err}");
            assert!(err.contains(host), "{err}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_engine_names_the_socket_and_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("no-docker.sock");
        let socket = socket.to_str().unwrap();
        let err = Docker::connect_to(socket).await.unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "cannot reach the Docker engine at unix://{socket}: "
            )),
            "{err}"
        );
        assert!(
            err.ends_with("hint: start Docker, or set DOCKER_HOST"),
            "{err}"
        );
    }
}
