//! End-to-end: an HTTP API (payload 2.0 and 1.0) served by the real gateway and Lambda
//! service, driven with reqwest. Each test names the AWS behaviour it pins.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{client, json, start};
use ssam_apigw::GatewayOptions;

fn opts() -> GatewayOptions {
    GatewayOptions {
        log_requests: true,
        ..GatewayOptions::default()
    }
}

// "Working with AWS Lambda proxy integrations for HTTP APIs", payload format 2.0.
#[tokio::test(flavor = "multi_thread")]
async fn v2_event_has_every_documented_field() {
    let s = start("http.yaml", opts()).await;
    let c = client();
    let before = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let resp = c
        .get(s.url("/items/a%20b?x=1&x=2&y=a+b&z=%2F"))
        .header("X-Tag", "one")
        .header("Cookie", "c1=1; c2=2")
        .header("User-Agent", "ssam-test")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let header_id = resp.headers()["apigw-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    let e = json(&resp.bytes().await.unwrap());
    assert_eq!(e["requestContext"]["requestId"], header_id.as_str());
    assert_eq!(e["version"], "2.0");
    assert_eq!(e["routeKey"], "GET /items/{id}");
    assert_eq!(e["rawPath"], "/items/a%20b");
    assert_eq!(e["rawQueryString"], "x=1&x=2&y=a+b&z=%2F");
    assert_eq!(e["cookies"], serde_json::json!(["c1=1", "c2=2"]));
    assert_eq!(e["headers"]["x-tag"], "one");
    assert_eq!(e["headers"]["user-agent"], "ssam-test");
    assert!(e["headers"].get("cookie").is_none());
    assert_eq!(e["headers"]["x-forwarded-for"], "127.0.0.1");
    assert!(e["headers"]["x-amzn-trace-id"]
        .as_str()
        .unwrap()
        .starts_with("Root=1-"));
    assert_eq!(e["queryStringParameters"]["x"], "1,2");
    assert_eq!(e["queryStringParameters"]["z"], "/");
    assert_eq!(e["pathParameters"]["id"], "a b");
    assert_eq!(e["isBase64Encoded"], false);
    let rc = &e["requestContext"];
    assert_eq!(rc["accountId"], "123456789012");
    assert_eq!(rc["apiId"].as_str().unwrap().len(), 10);
    assert_eq!(rc["http"]["method"], "GET");
    assert_eq!(rc["http"]["path"], "/items/a%20b");
    assert_eq!(rc["http"]["protocol"], "HTTP/1.1");
    assert_eq!(rc["http"]["sourceIp"], "127.0.0.1");
    assert_eq!(rc["http"]["userAgent"], "ssam-test");
    assert_eq!(rc["routeKey"], "GET /items/{id}");
    assert_eq!(rc["stage"], "$default");
    assert_eq!(rc["requestId"].as_str().unwrap().len(), 16);
    assert!(rc["domainName"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(rc["time"].as_str().unwrap().ends_with(" +0000"));
    // timeEpoch is in milliseconds (SAM CLI sends seconds).
    let epoch = rc["timeEpoch"].as_i64().unwrap();
    assert!(
        epoch >= before && epoch < before + 120_000,
        "timeEpoch {epoch} is not in ms"
    );
    s.shutdown().await;
}

// SAM CLI freezes requestId for the life of the process (aws-sam-cli#9279).
#[tokio::test(flavor = "multi_thread")]
async fn request_id_is_fresh_for_every_request_regression_sam_9279() {
    let s = start("http.yaml", opts()).await;
    let c = client();
    let mut ids = std::collections::HashSet::new();
    for _ in 0..3 {
        let e = json(
            &c.get(s.url("/items/1"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap(),
        );
        ids.insert(
            e["requestContext"]["requestId"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(ids.len(), 3);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn named_stage_is_served_with_and_without_prefix() {
    let s = start("http.yaml", opts()).await;
    let c = client();
    for path in ["/test/upload/url", "/upload/url"] {
        let resp = c.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let e = json(&resp.bytes().await.unwrap());
        assert_eq!(e["requestContext"]["stage"], "test");
        // As deployed, rawPath carries the stage.
        assert_eq!(e["rawPath"], "/test/upload/url");
        assert_eq!(e["stageVariables"]["color"], "blue");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn payload_1_0_on_http_api_has_multi_value_maps() {
    let s = start("http.yaml", opts()).await;
    let c = client();
    let resp = c
        .post(s.url("/v1/a/b?q=1&q=2"))
        .header("content-type", "application/json")
        .body(r#"{"k":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let e = json(&resp.bytes().await.unwrap());
    assert_eq!(e["version"], "1.0");
    assert_eq!(e["resource"], "/v1/{proxy+}");
    assert_eq!(e["path"], "/v1/a/b");
    assert_eq!(e["httpMethod"], "POST");
    assert_eq!(
        e["multiValueQueryStringParameters"]["q"],
        serde_json::json!(["1", "2"])
    );
    assert_eq!(e["queryStringParameters"]["q"], "2");
    assert_eq!(e["pathParameters"]["proxy"], "a/b");
    assert_eq!(e["body"], r#"{"k":1}"#);
    assert_eq!(e["isBase64Encoded"], false);
    let epoch = e["requestContext"]["requestTimeEpoch"].as_i64().unwrap();
    assert!(epoch > 1_000_000_000_000);
    s.shutdown().await;
}

// "Lambda function response for format 2.0": inferred responses.
#[tokio::test(flavor = "multi_thread")]
async fn v2_simple_responses_become_json_200s() {
    let s = start("http.yaml", opts()).await;
    let c = client();
    let r = c.get(s.url("/hello/string")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.text().await.unwrap(), "Hello from Lambda!");
    let r = c.get(s.url("/hello/object")).send().await.unwrap();
    assert_eq!(
        json(&r.bytes().await.unwrap())["message"],
        "Hello from Lambda!"
    );
    // An event echoed whole is a simple response too (it has no statusCode).
    let r = c.get(s.url("/raw")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(&r.bytes().await.unwrap())["rawPath"], "/raw");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn v2_cookies_become_set_cookie_headers() {
    let s = start("http.yaml", opts()).await;
    let r = client().get(s.url("/cookies")).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let cookies: Vec<_> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(cookies, ["a=1; Path=/", "b=2"]);
    assert_eq!(r.headers()["x-one"], "1");
    assert_eq!(r.text().await.unwrap(), "made");
    s.shutdown().await;
}

// "Troubleshooting issues with HTTP API Lambda integrations": an HTTP API answers a function
// error or a malformed response with 500 {"message":"Internal Server Error"} (REST: 502).
#[tokio::test(flavor = "multi_thread")]
async fn function_error_and_malformed_response_are_500_on_http_apis() {
    let s = start("http.yaml", opts()).await;
    let c = client();
    for path in ["/fail", "/malformed"] {
        let r = c.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 500, "{path}");
        assert_eq!(
            r.text().await.unwrap(),
            r#"{"message":"Internal Server Error"}"#
        );
    }
    // The server survives and keeps serving.
    assert_eq!(
        c.get(s.url("/hello/string")).send().await.unwrap().status(),
        200
    );
    s.shutdown().await;
}

// SAM CLI answers 403 Missing Authentication Token for HTTP APIs too.
#[tokio::test(flavor = "multi_thread")]
async fn unknown_route_is_404_not_found() {
    let s = start("http.yaml", opts()).await;
    let c = client();
    for (m, path) in [
        ("GET", "/nope"),
        ("DELETE", "/items/1"),
        ("GET", "/test/nope"),
    ] {
        let r = c
            .request(m.parse().unwrap(), s.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{m} {path}");
        assert_eq!(r.text().await.unwrap(), r#"{"message":"Not Found"}"#);
    }
    s.shutdown().await;
}

// "Configuring CORS for an HTTP API": preflights are answered without invoking a function.
#[tokio::test(flavor = "multi_thread")]
async fn cors_preflight_answered_by_gateway() {
    let s = start("http.yaml", opts()).await;
    let c = client();
    let r = c
        .request(reqwest::Method::OPTIONS, s.url("/test/upload/url"))
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(r.headers()["access-control-allow-methods"], "GET");
    assert_eq!(
        r.headers()["access-control-allow-headers"],
        "content-type,x-custom"
    );
    assert_eq!(r.headers()["access-control-max-age"], "600");
    // An origin that is not allowed gets no CORS headers.
    let r = c
        .request(reqwest::Method::OPTIONS, s.url("/upload/url"))
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // Actual requests get the configured headers.
    let r = c
        .get(s.url("/upload/url"))
        .header("Origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(r.headers()["access-control-expose-headers"], "x-echo");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_body_round_trips_base64() {
    let s = start("http.yaml", opts()).await;
    let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let r = client()
        .post(s.url("/binary"))
        .header("content-type", "image/png")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.bytes().await.unwrap().to_vec(), data);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn text_bodies_stay_text_and_forms_are_base64() {
    let s = start("http.yaml", opts()).await;
    let c = client();
    let r = c
        .post(s.url("/size"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(json(&r.bytes().await.unwrap())["b64"], false);
    let r = c
        .post(s.url("/size"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(json(&r.bytes().await.unwrap())["b64"], true);
    s.shutdown().await;
}

// HTTP API payload quota: 10 MB.
#[tokio::test(flavor = "multi_thread")]
async fn body_over_10_mb_is_413() {
    let s = start("http.yaml", opts()).await;
    let r = client()
        .post(s.url("/size"))
        .header("content-type", "text/plain")
        .body(vec![b'a'; 10 * 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"message":"Request Entity Too Large"}"#
    );
    s.shutdown().await;
}

// The seed's pitfall: exactly 6 MB of binary is 8 MB of base64 in the event.
#[tokio::test(flavor = "multi_thread")]
async fn six_mb_binary_body_is_413_with_the_reason() {
    let s = start("http.yaml", opts()).await;
    let c = client();
    let r = c
        .post(s.url("/size"))
        .header("content-type", "application/octet-stream")
        .body(vec![7u8; 6 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body = json(&r.bytes().await.unwrap());
    assert_eq!(body["message"], "Request Entity Too Large");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.contains("6291456") && reason.contains("base64"),
        "{reason}"
    );
    // 4 MB of binary (5.3 MB of base64) still fits.
    let r = c
        .post(s.url("/size"))
        .header("content-type", "application/octet-stream")
        .body(vec![7u8; 4 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn integration_timeout_is_503_service_unavailable() {
    let s = start(
        "http.yaml",
        GatewayOptions {
            integration_timeout: Some(Duration::from_millis(1500)),
            ..opts()
        },
    )
    .await;
    let r = client().get(s.url("/sleep")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"message":"Service Unavailable"}"#
    );
    s.shutdown().await;
}

// The event's TimeoutInMillis shortens the integration timeout of its route.
#[tokio::test(flavor = "multi_thread")]
async fn route_timeout_in_millis_is_the_integration_timeout() {
    let s = start("http.yaml", opts()).await;
    let started = std::time::Instant::now();
    let r = client().get(s.url("/sleep-short")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2900),
        "{took:?}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_run_in_parallel_instances() {
    let s = start(
        "http.yaml",
        GatewayOptions {
            integration_timeout: Some(Duration::from_secs(20)),
            ..opts()
        },
    )
    .await;
    let c = client();
    let started = std::time::Instant::now();
    let futs: Vec<_> = (0..4).map(|_| c.get(s.url("/sleep")).send()).collect();
    for r in futures::future::join_all(futs).await {
        assert_eq!(r.unwrap().status(), 200);
    }
    // Four 3-second sleeps in parallel, not in series.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn odd_requests_do_not_take_the_server_down() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let s = start("http.yaml", opts()).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let raw: &[&[u8]] = &[
        b"GET /items/%ff%fe?%=&a=%zz&&b HTTP/1.1\r\nHost: x\r\nX-Bin: \xff\xfe\r\nConnection: close\r\n\r\n",
        b"GET /items/%ff HTTP/1.1\r\nHost: x\r\nCookie: ;;=;\r\nConnection: close\r\n\r\n",
        b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{oops",
        b"NONSENSE\r\n\r\n",
    ];
    for req in raw {
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        conn.write_all(req).await.unwrap();
        let mut out = Vec::new();
        let _ = conn.read_to_end(&mut out).await;
        let head = String::from_utf8_lossy(&out);
        assert!(
            head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.1 400") || head.is_empty(),
            "{head}"
        );
    }
    let r = client().get(s.url("/hello/string")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    s.shutdown().await;
}

// A burst beyond the function's concurrency (10) queues instead of failing, and failing
// invocations in the burst release their instances.
#[tokio::test(flavor = "multi_thread")]
async fn burst_of_mixed_requests_queues_and_recovers() {
    let s = start("http.yaml", opts()).await;
    let c = client();
    let futs: Vec<_> = (0..40)
        .map(|i| {
            let path = if i % 3 == 0 { "/fail" } else { "/hello/string" };
            c.get(s.url(path)).send()
        })
        .collect();
    let mut ok = 0;
    let mut bad_gateway = 0;
    for r in futures::future::join_all(futs).await {
        match r.unwrap().status().as_u16() {
            200 => ok += 1,
            500 => bad_gateway += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, bad_gateway), (26, 14));
    assert_eq!(
        c.get(s.url("/hello/string")).send().await.unwrap().status(),
        200
    );
    s.shutdown().await;
}
