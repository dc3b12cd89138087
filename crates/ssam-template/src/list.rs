//! The `ssam list --json` document (specified in the conformance corpus README):
//! `functions`, `routes`, `s3Bindings`, plus `apis` and `buckets` for tools.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::*;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDocument {
    pub functions: Vec<ListFunction>,
    pub routes: Vec<ListRoute>,
    pub s3_bindings: Vec<S3Binding>,
    pub apis: Vec<ListApi>,
    pub buckets: Vec<ListBucket>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListFunction {
    pub logical_id: String,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub package_type: PackageType,
    pub code_uri: Option<String>,
    pub inline_code: bool,
    pub image_uri: Option<String>,
    pub memory_size: u32,
    pub timeout: u32,
    pub architectures: Vec<String>,
    pub environment: Vec<String>,
    pub layers: usize,
    pub events: BTreeMap<String, usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRoute {
    pub api_type: ApiType,
    pub api: String,
    pub method: String,
    pub path: String,
    pub function: String,
    pub payload_format_version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListApi {
    pub logical_id: String,
    pub api_type: ApiType,
    pub stage_name: String,
    pub implicit: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListBucket {
    pub logical_id: String,
    pub name: String,
}

/// `codeUri` as the corpus writes it: the CodeUri as written, `s3://Bucket/Key`
/// for an S3 location, null for inline code and images.
pub fn code_uri(code: &Code) -> Option<String> {
    match code {
        Code::Dir { as_written, .. } | Code::Archive { as_written, .. } => Some(as_written.clone()),
        Code::S3 { bucket, key, .. } => {
            Some(format!("s3://{}/{}", bucket.display(), key.display()))
        }
        Code::Unresolved { value } => Some(value.0.to_string()),
        Code::Inline { .. } | Code::Image { .. } => None,
    }
}

pub fn list_document(app: &App) -> ListDocument {
    let functions = app
        .functions
        .iter()
        .map(|f| {
            let mut environment: Vec<String> = f.environment.keys().cloned().collect();
            environment.sort();
            let mut events = BTreeMap::new();
            for e in &f.events {
                *events.entry(e.event_type.clone()).or_insert(0) += 1;
            }
            ListFunction {
                logical_id: f.logical_id.clone(),
                runtime: f.runtime.clone(),
                handler: f.handler.clone(),
                package_type: f.package_type,
                code_uri: code_uri(&f.code),
                inline_code: matches!(f.code, Code::Inline { .. }),
                image_uri: match &f.code {
                    Code::Image { uri } => uri.as_ref().map(Text::display),
                    _ => None,
                },
                memory_size: f.memory_size,
                timeout: f.timeout,
                architectures: f.architectures.clone(),
                environment,
                layers: f.layers.len(),
                events,
            }
        })
        .collect();
    ListDocument {
        functions,
        routes: app
            .routes
            .iter()
            .map(|r| ListRoute {
                api_type: r.api_type,
                api: r.api.clone(),
                method: r.method.clone(),
                path: r.path.clone(),
                function: r.function.clone(),
                payload_format_version: r.payload_format_version.clone(),
            })
            .collect(),
        s3_bindings: app.s3_bindings.clone(),
        apis: app
            .apis
            .iter()
            .map(|a| ListApi {
                logical_id: a.logical_id.clone(),
                api_type: a.api_type,
                stage_name: a.stage_name.clone(),
                implicit: a.implicit,
            })
            .collect(),
        buckets: app
            .buckets
            .iter()
            .map(|b| ListBucket {
                logical_id: b.logical_id.clone(),
                name: b.name.clone(),
            })
            .collect(),
    }
}
