//! Builders for every event in the registry: `core` turns flags into the typed models,
//! `misc` writes the events ssam has no typed model for as JSON.

pub mod core;
pub mod misc;

use crate::registry::Params;
use crate::Error;

/// Parses a `true`/`false` flag.
fn boolean(p: &Params, name: &str) -> Result<bool, Error> {
    match p.get(name) {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(Error::InvalidValue {
            flag: name.to_owned(),
            value: other.to_owned(),
            reason: "expected true or false".to_owned(),
        }),
    }
}

/// A path as API Gateway shows it: exactly one leading `/`. SAM's defaults omit it
/// (`path/to/resource`); users often type it.
fn slash_path(raw: &str) -> String {
    format!("/{}", raw.trim_start_matches('/'))
}
