//! "Start with what can run": the local commands serve a template that has errors, as SAM
//! CLI does, but leave out every resource an error is about and say why. `validate` (and
//! `--strict`) still refuse such a template.

use std::collections::HashSet;

use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::model::{App, RouteAuth};

/// A resource left out because of an error written inside its definition.
#[derive(Clone, Debug, PartialEq)]
pub struct LeftOut {
    pub logical_id: String,
    pub resource_type: String,
    /// The first error about it.
    pub reason: Diagnostic,
}

/// Removes from `app` every resource an error of `diags` points into (by file and line
/// range), and what depends on it: routes to a left-out function or API, S3 bindings of a
/// left-out function or bucket. Errors outside any resource (a parameter without a value, an
/// output) leave out nothing: what uses them keeps the value unresolved.
pub fn leave_out_broken(app: &mut App, diags: &Diagnostics) -> Vec<LeftOut> {
    let mut left_out: Vec<LeftOut> = Vec::new();
    for d in diags.0.iter().filter(|d| d.severity == Severity::Error) {
        let owner = app.resources.iter().find(|r| {
            r.location.file == d.location.file
                && r.location.line <= d.location.line
                && d.location.line <= r.last_line.max(r.location.line)
        });
        if let Some(r) = owner {
            if !left_out.iter().any(|l| l.logical_id == r.logical_id) {
                left_out.push(LeftOut {
                    logical_id: r.logical_id.clone(),
                    resource_type: r.resource_type.clone(),
                    reason: d.clone(),
                });
            }
        }
    }
    let gone: HashSet<&str> = left_out.iter().map(|l| l.logical_id.as_str()).collect();
    if gone.is_empty() {
        return left_out;
    }
    app.functions
        .retain(|f| !gone.contains(f.logical_id.as_str()));
    app.apis.retain(|a| !gone.contains(a.logical_id.as_str()));
    app.routes.retain(|r| {
        let authorizer_gone = match &r.auth {
            RouteAuth::Lambda(a) => gone.contains(a.function.as_str()),
            _ => false,
        };
        !gone.contains(r.function.as_str()) && !gone.contains(r.api.as_str()) && !authorizer_gone
    });
    app.mock_methods.retain(|m| !gone.contains(m.api.as_str()));
    app.buckets
        .retain(|b| !gone.contains(b.logical_id.as_str()));
    app.layers.retain(|l| !gone.contains(l.logical_id.as_str()));
    app.s3_bindings
        .retain(|s| !gone.contains(s.function.as_str()) && !gone.contains(s.bucket.as_str()));
    left_out
}
