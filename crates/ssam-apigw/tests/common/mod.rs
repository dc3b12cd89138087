//! Helpers shared by ssam-apigw's end-to-end tests: a real gateway on port 0 with a real
//! Lambda service running the Python fixtures.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ssam_apigw::{Gateway, GatewayOptions};
use ssam_lambda::ServiceOptions;

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub struct Server {
    pub base: String,
    pub gateway: Arc<Gateway>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn shutdown(mut self) {
        self.gateway.functions.shutdown().await;
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub fn load(template: &Path) -> ssam_template::App {
    let loaded = ssam_template::load(&ssam_template::LoadOptions {
        template: template.to_path_buf(),
        parameter_overrides: Default::default(),
        region: None,
        stack_name: None,
    })
    .unwrap_or_else(|d| panic!("template {} does not load: {d:?}", template.display()));
    loaded.app
}

/// Starts a gateway for `template` (a path under tests/fixtures, or absolute).
pub async fn start(template: &str, options: GatewayOptions) -> Server {
    let path = if Path::new(template).is_absolute() {
        PathBuf::from(template)
    } else {
        fixtures().join(template)
    };
    let app = load(&path);
    let cache = std::env::temp_dir().join("ssam-apigw-tests");
    let mapped = ssam_lambda::from_template::specs_from_app(&app, None, &cache);
    assert!(
        mapped.skipped.is_empty(),
        "functions left out: {:?}",
        mapped.skipped
    );
    let service_options = ServiceOptions {
        cache_dir: Some(cache),
        idle_timeout: Some(Duration::from_secs(60)),
        ..ServiceOptions::default()
    };
    let mut warnings = Vec::new();
    let gateway = Gateway::new(
        &app,
        mapped.specs,
        mapped.skipped,
        service_options,
        options,
        &mut warnings,
    );
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(ssam_apigw::serve(
        Arc::clone(&gateway),
        listener,
        async move {
            let _ = rx.await;
        },
    ));
    Server {
        base: format!("http://{addr}"),
        gateway,
        stop: Some(tx),
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

pub fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}
