//! Docker Engine client and image builder for `PackageType: Image` functions.
//!
//! What this crate owns today:
//! - [`Docker`]: a connection to the engine (`DOCKER_HOST` or `/var/run/docker.sock`), with the
//!   API version negotiated (this machine's engine speaks 1.41, bollard defaults to 1.53).
//! - [`ImageSpec`] and [`Docker::ensure_image`]: build an image from a Dockerfile and a context
//!   directory, skipping the build when the image already carries the content hash of its inputs.
//! - [`context`]: the build context tar (honouring `.dockerignore`) and its content hash.
//!
//! - [`ContainerConfig`] and [`Docker::run_container`]: the containers Image functions (and Zip
//!   functions with `--docker`) run in, labelled [`LABEL_MANAGED`] so leftovers can be found.
//! - [`Docker::list_dir`]: what a directory of an image holds ([`ImageFile`]s), read without
//!   running the image, cached per image id.
//!
//! It takes plain inputs, not the template model: `ssam-docker` depends on no other ssam crate.

mod client;
mod container;
pub mod context;
mod error;
mod files;
pub mod ignore;
mod spec;

pub use client::{
    socket_path_from_env, Built, Docker, DEFAULT_SOCKET, LABEL_CONTENT_HASH, LABEL_FUNCTION,
};
pub use container::{
    Bind, ContainerConfig, Exit, ImageFacts, Network, Output, OutputStream, Started, LABEL_MANAGED,
    LABEL_PID, LABEL_TEMPLATE,
};
pub use context::content_hash;
pub use error::{BuildError, DockerError};
pub use files::ImageFile;
pub use spec::{platform_for_architecture, ImageSpec};
