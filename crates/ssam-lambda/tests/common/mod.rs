//! Helpers shared by ssam-lambda's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ssam_lambda::{FunctionSpec, LambdaService, ServiceOptions};

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn python_fn(name: &str, handler: &str) -> FunctionSpec {
    FunctionSpec::new(name, "python3.11", handler, fixture("python"))
}

/// A `provided.al2023` function running AWS's own Python runtime client (awslambdaric) on
/// the `awslambdaric` fixture's code.
pub fn ric_fn(name: &str, handler: &str) -> FunctionSpec {
    ric_fn_in(name, handler, fixture("awslambdaric"))
}

/// awslambdaric on the code in `code_dir`: its `bootstrap` comes from a layer, as a custom
/// runtime's does on Lambda.
pub fn ric_fn_in(name: &str, handler: &str, code_dir: PathBuf) -> FunctionSpec {
    let mut spec = FunctionSpec::new(name, "provided.al2023", handler, code_dir);
    if !spec.code_dir.join("bootstrap").is_file() {
        spec.layers.push(fixture("awslambdaric"));
    }
    spec.env.insert(
        "RIC_PYTHON".into(),
        ssam_testkit::python().to_string_lossy().into_owned(),
    );
    spec
}

/// The decoded `LogType: Tail` of a response.
pub fn tail_text(resp: &ssam_lambda::InvokeResponse) -> String {
    use base64::Engine as _;
    let tail = base64::engine::general_purpose::STANDARD
        .decode(resp.log_tail.as_deref().expect("asked for the tail"))
        .expect("base64");
    String::from_utf8(tail).expect("utf8")
}

pub fn node_fn(name: &str, handler: &str) -> FunctionSpec {
    FunctionSpec::new(name, "nodejs20.x", handler, fixture("node"))
}

pub fn options() -> ServiceOptions {
    ServiceOptions {
        cache_dir: Some(std::env::temp_dir().join("ssam-lambda-tests")),
        async_retry_delay: Duration::from_millis(50),
        ..ServiceOptions::default()
    }
}

pub fn service(functions: Vec<FunctionSpec>) -> Arc<LambdaService> {
    LambdaService::new(functions, options())
}

pub fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}
