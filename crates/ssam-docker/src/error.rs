//! The errors of this crate: reaching the engine ([`DockerError`]) and building an image
//! ([`BuildError`]). Messages are lowercase and end with a hint where the user can act.

use std::path::PathBuf;

/// Talking to the Docker engine failed.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// Nothing answered at the endpoint; `cause` is the engine client's message, kept as text so
    /// the whole story reads as one line.
    #[error("cannot reach the Docker engine at {endpoint}: {cause}; hint: start Docker, or set DOCKER_HOST")]
    Unreachable { endpoint: String, cause: String },
    /// `DOCKER_HOST` names a transport this crate does not speak yet.
    #[error("DOCKER_HOST={host} is not supported yet (only unix sockets are); hint: set DOCKER_HOST=unix:///var/run/docker.sock or unset it")]
    UnsupportedHost { host: String },
    /// The engine answered but the request failed.
    #[error("docker engine request failed ({what}): {source}")]
    Api {
        what: String,
        #[source]
        source: bollard::errors::Error,
    },
}

/// Building an image failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the Dockerfile {dockerfile:?} is outside the docker context {context}; hint: make Metadata.Dockerfile a path inside Metadata.DockerContext")]
    DockerfileOutsideContext {
        dockerfile: String,
        context: PathBuf,
    },
    #[error("the Dockerfile {path} does not exist; hint: check Metadata.Dockerfile and Metadata.DockerContext")]
    MissingDockerfile { path: PathBuf },
    #[error("cannot read the docker context at {path}: {source}")]
    Context {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid .dockerignore pattern {pattern:?} in {path}: {reason}")]
    IgnorePattern {
        path: PathBuf,
        pattern: String,
        reason: String,
    },
    /// The engine reported an error mid-build; `step` is the last `Step N/M : ...` line it
    /// printed before the error (the step that failed), when there was one.
    #[error("building image {tag} failed{}: {message}", step.as_ref().map(|s| format!(" at {s}")).unwrap_or_default())]
    Failed {
        tag: String,
        step: Option<String>,
        message: String,
    },
    #[error(transparent)]
    Docker(#[from] DockerError),
}
