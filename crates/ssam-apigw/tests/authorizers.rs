//! End-to-end: Lambda authorizers ("Use API Gateway Lambda authorizers", "Working with AWS
//! Lambda authorizers for HTTP APIs") in front of real functions.
#![allow(clippy::unwrap_used)]

mod common;

use common::{client, json, start};
use ssam_apigw::GatewayOptions;

fn opts() -> GatewayOptions {
    GatewayOptions {
        log_requests: true,
        ..GatewayOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_token_authorizer_allows_denies_and_caches() {
    let s = start("auth.yaml", opts()).await;
    let c = client();
    // No token: 401 without invoking the authorizer.
    let r = c.get(s.url("/rest/1")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.text().await.unwrap(), r#"{"message":"Unauthorized"}"#);
    // The authorizer raises "Unauthorized": 401.
    let r = c
        .get(s.url("/rest/1"))
        .header("Authorization", "nobody")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // An explicit Deny: 403.
    let r = c
        .get(s.url("/rest/1"))
        .header("Authorization", "deny")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#
    );
    // Allow: the function sees principalId and the context.
    let r = c
        .get(s.url("/rest/1"))
        .header("Authorization", "allow")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let e = json(&r.bytes().await.unwrap());
    let a = &e["requestContext"]["authorizer"];
    assert_eq!(a["principalId"], "user-1");
    assert_eq!(a["tier"], "gold");
    let first_call = a["calls"].as_i64().unwrap();
    // Cached for ReauthorizeEvery (300 s): the authorizer is not invoked again.
    let r = c
        .get(s.url("/rest/1"))
        .header("Authorization", "allow")
        .send()
        .await
        .unwrap();
    let e = json(&r.bytes().await.unwrap());
    assert_eq!(
        e["requestContext"]["authorizer"]["calls"].as_i64().unwrap(),
        first_call
    );
    // The cached policy names /rest/1 only: another path is denied by the same result.
    let r = c
        .get(s.url("/rest/2"))
        .header("Authorization", "allow")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Auth: Authorizer: NONE opts a route out.
    let r = c.get(s.url("/open")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_request_authorizer_sees_the_request() {
    let s = start("auth.yaml", opts()).await;
    let c = client();
    // Caching is off (ReauthorizeEvery: 0): a missing identity source goes to the authorizer.
    let r = c.get(s.url("/by-request")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = c.get(s.url("/by-request?key=open")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let e = json(&r.bytes().await.unwrap());
    let a = &e["requestContext"]["authorizer"];
    assert_eq!(a["principalId"], "req-user");
    assert_eq!(a["path"], "/by-request");
    assert_eq!(a["method"], "GET");
    assert!(a["integrationLatency"].is_u64());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_simple_response_authorizer() {
    let s = start("auth.yaml", opts()).await;
    let c = client();
    let r = c.get(s.url("/http/1")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(s.url("/http/1"))
        .header("Authorization", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.text().await.unwrap(), r#"{"message":"Forbidden"}"#);
    let r = c
        .get(s.url("/http/1"))
        .header("Authorization", "secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let e = json(&r.bytes().await.unwrap());
    assert_eq!(e["requestContext"]["authorizer"]["lambda"]["user"], "alice");
    // TTL 0: every request runs the authorizer.
    let n1 = e["requestContext"]["authorizer"]["lambda"]["calls"]
        .as_i64()
        .unwrap();
    let r = c
        .get(s.url("/http/1"))
        .header("Authorization", "secret")
        .send()
        .await
        .unwrap();
    let e = json(&r.bytes().await.unwrap());
    assert!(
        e["requestContext"]["authorizer"]["lambda"]["calls"]
            .as_i64()
            .unwrap()
            > n1
    );
    s.shutdown().await;
}

// "Configuring CORS for an HTTP API with a $default route and an authorizer": a route that
// catches OPTIONS runs its authorizer on preflights too.
#[tokio::test(flavor = "multi_thread")]
async fn preflight_caught_by_an_any_route_runs_its_authorizer() {
    let s = start("auth.yaml", opts()).await;
    let c = client();
    let preflight = |path: &str| {
        c.request(reqwest::Method::OPTIONS, s.url(path))
            .header("Origin", "https://app.example")
            .header("Access-Control-Request-Method", "GET")
    };
    // OPTIONS matches no route here: the gateway answers.
    let r = preflight("/http/1").send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    // ANY /anything/{proxy+} catches OPTIONS and its authorizer wants a token.
    let r = preflight("/anything/x").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = preflight("/anything/x")
        .header("Authorization", "secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn disable_authorizer_lets_everything_through() {
    let s = start(
        "auth.yaml",
        GatewayOptions {
            disable_authorizer: true,
            ..opts()
        },
    )
    .await;
    let c = client();
    assert_eq!(c.get(s.url("/rest/1")).send().await.unwrap().status(), 200);
    assert_eq!(c.get(s.url("/http/1")).send().await.unwrap().status(), 200);
    s.shutdown().await;
}
