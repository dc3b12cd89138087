//! SAM/CloudFormation templates: load with positions, resolve intrinsics, build the typed App model.
//!
//! Pipeline: [`node`] (YAML/JSON → spanned tree) → [`resolve`] (parameters, conditions,
//! intrinsics) → [`sam`] (Globals, implicit APIs, events) → [`model::App`].
//! Nothing else in ssam reads raw YAML.

pub mod diag;
pub mod list;
pub mod model;
pub mod node;
pub mod params;
pub mod resolve;
pub mod runnable;
pub mod sam;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

pub use diag::{Diagnostic, Diagnostics, Location, Severity};
pub use model::*;

/// What to load and with which parameter values.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub template: PathBuf,
    /// `--parameter-overrides` (already parsed, see [`params::parse_overrides`]).
    pub parameter_overrides: IndexMap<String, String>,
    /// AWS::Region (default us-east-1, as SAM CLI).
    pub region: Option<String>,
    /// AWS::StackName (default: the template directory's name, as ssam shows it).
    pub stack_name: Option<String>,
}

/// A loaded application and the problems found on the way (errors that did not prevent
/// building the model, e.g. a Ref to a missing resource, and warnings).
#[derive(Clone, Debug)]
pub struct Loaded {
    pub app: App,
    pub diagnostics: Diagnostics,
}

/// Loads, resolves and checks a template. `Err` only when no model could be built
/// (unreadable file, invalid YAML, no Resources); every other problem is in
/// [`Loaded::diagnostics`], so `validate` reports them all and `list` still works.
pub fn load(opts: &LoadOptions) -> Result<Loaded, Diagnostics> {
    sam::load(opts)
}

/// Like [`load`], for template text already in memory (`opts.template` names it).
pub fn load_from_str(text: &str, opts: &LoadOptions) -> Result<Loaded, Diagnostics> {
    sam::load_from_str(text, opts)
}

/// The template SAM CLI would pick in `dir`: `template.yaml`, then `template.yml`, then `template.json`.
pub fn find_template(dir: &Path) -> Option<PathBuf> {
    ["template.yaml", "template.yml", "template.json"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}
