//! `ssam build`: the template's functions and layers packaged as `sam build` packages them
//! (`.aws-sam/build/<LogicalId>/`, and `.aws-sam/build/template.yaml` rewritten to point at
//! them), so `sam deploy`, `sam local` and `ssam local` run the result unchanged.
//!
//! - [`plan`] turns the template into build units: functions that share a CodeUri and build
//!   settings are one unit (SAM's build definitions), makefile functions never share.
//! - Each unit is keyed by a hash of what it reads (its sources, the build method, runtime
//!   and architecture); a unit whose key did not change since the last build is skipped,
//!   whatever its workflow. Python dependencies are cached apart, keyed by the manifest
//!   ([`python`]), so a source edit never reinstalls them.
//! - Image functions go through `ssam-docker`'s builder (rebuilt when their inputs change).
//! - [`rewrite`] writes the built template.

mod cache;
mod cargo;
pub mod node;
mod plan;
pub mod python;
pub mod rewrite;
pub mod run;
pub mod tree;
pub mod yaml;

use std::path::{Path, PathBuf};

pub use plan::{plan, Method, Unit, UnitKind};
pub use run::{build, BuildRequest, OnProgress, Outcome, Progress, Report, UnitReport};

/// A build step that failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A tool (pip, make, cargo, docker build) failed; `message` ends with its last lines.
    #[error("{step} failed: {message}")]
    Step { step: String, message: String },
}

impl BuildError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        BuildError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
