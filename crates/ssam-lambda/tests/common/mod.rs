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
