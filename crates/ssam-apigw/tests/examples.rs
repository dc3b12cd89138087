//! End-to-end: the seed's video upload app, routes from OpenAPI definitions, static files.
#![allow(clippy::unwrap_used)]

mod common;

use common::{client, json, start};
use ssam_apigw::{GatewayOptions, Mount};

// The seed: `sam local start-api` prints `Mounting VideoUploader at
// http://127.0.0.1:3000/upload/url [GET, OPTIONS]`; the deployed URL has `/test`.
#[tokio::test(flavor = "multi_thread")]
async fn seed_video_upload_app() {
    let s = start(
        "video-upload/template/template.yaml",
        GatewayOptions::default(),
    )
    .await;
    assert_eq!(
        s.gateway.mounts(),
        vec![Mount {
            function: "VideoUploader".into(),
            path: "/upload/url".into(),
            methods: vec!["GET".into(), "OPTIONS".into()],
        }]
    );
    let c = client();
    for path in ["/upload/url", "/test/upload/url"] {
        let r = c
            .get(s.url(path))
            .header("Origin", "http://localhost:5173")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        let b = json(&r.bytes().await.unwrap());
        assert!(b["url"].as_str().unwrap().ends_with(".mp4"));
        assert_eq!(b["stage"], "test");
    }
    let r = c
        .request(reqwest::Method::OPTIONS, s.url("/test/upload/url"))
        .header("Origin", "http://localhost:5173")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(r.headers()["access-control-allow-methods"], "GET");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_from_openapi_definitions() {
    let s = start("openapi/template.yaml", GatewayOptions::default()).await;
    let c = client();
    let r = c.get(s.url("/defined/bob")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let e = json(&r.bytes().await.unwrap());
    assert_eq!(e["routeKey"], "GET /defined/{name}");
    assert_eq!(e["pathParameters"]["name"], "bob");
    let r = c
        .post(s.url("/v1/rest-defined"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let e = json(&r.bytes().await.unwrap());
    assert_eq!(e["resource"], "/rest-defined");
    assert_eq!(e["requestContext"]["path"], "/v1/rest-defined");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn static_dir_serves_files_routes_do_not_cover() {
    let dir = common::fixtures().join("openapi/public");
    let s = start(
        "openapi/template.yaml",
        GatewayOptions {
            static_dir: Some(dir),
            ..GatewayOptions::default()
        },
    )
    .await;
    let c = client();
    let r = c.get(s.url("/index.html")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(r.text().await.unwrap().trim(), "<h1>static</h1>");
    assert_eq!(c.get(s.url("/")).send().await.unwrap().status(), 200);
    // Path traversal stays inside the directory.
    let r = c.get(s.url("/../template.yaml")).send().await.unwrap();
    assert_ne!(r.status(), 200);
    s.shutdown().await;
}

// `ssam local start` runs the gateway on the Lambda service it shares with the Invoke API.
#[tokio::test(flavor = "multi_thread")]
async fn gateway_on_a_shared_lambda_service() {
    let app = common::load(&common::fixtures().join("video-upload/template/template.yaml"));
    let cache = std::env::temp_dir().join("ssam-apigw-tests");
    let mapped = ssam_lambda::from_template::specs_from_app(&app, None, &cache);
    let service = ssam_lambda::LambdaService::new(
        mapped.specs,
        ssam_lambda::ServiceOptions {
            cache_dir: Some(cache),
            ..Default::default()
        },
    );
    let mut warnings = Vec::new();
    let gw = ssam_apigw::Gateway::on_service(
        &app,
        std::sync::Arc::clone(&service),
        mapped.skipped,
        GatewayOptions::default(),
        &mut warnings,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ssam_apigw::serve(
        gw.clone(),
        listener,
        std::future::pending(),
    ));
    let r = client()
        .get(format!("http://{addr}/test/upload/url"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Code changes cannot recycle a service the gateway does not own.
    assert!(!gw.functions.recycle("VideoUploader"));
    service.shutdown().await;
}
