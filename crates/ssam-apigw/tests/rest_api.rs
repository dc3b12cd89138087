//! End-to-end: a REST API (payload 1.0) served by the real gateway and Lambda service.
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

// "Set up Lambda proxy integrations in API Gateway": input format of a Lambda function for
// proxy integration.
#[tokio::test(flavor = "multi_thread")]
async fn v1_event_has_every_documented_field() {
    let s = start("rest.yaml", opts()).await;
    let before = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let r = client()
        .get(s.url("/Prod/items/42?name=me&multi=you&multi=me"))
        .header("headerName", "headerValue")
        .header("User-Agent", "ssam-test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let request_id = r.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    let apigw_id = r.headers()["x-amz-apigw-id"].to_str().unwrap().to_string();
    let e = json(&r.bytes().await.unwrap());
    assert_eq!(e["requestContext"]["requestId"], request_id.as_str());
    assert_eq!(e["requestContext"]["extendedRequestId"], apigw_id.as_str());
    assert_eq!(e["resource"], "/items/{id}");
    assert_eq!(e["path"], "/items/42");
    assert_eq!(e["httpMethod"], "GET");
    // Names as the client spelled them (reqwest sends lower case).
    assert_eq!(e["headers"]["headername"], "headerValue");
    assert_eq!(e["headers"]["user-agent"], "ssam-test");
    // Headers API Gateway adds, as in the documented sample event.
    assert_eq!(e["headers"]["X-Forwarded-For"], "127.0.0.1");
    assert_eq!(e["headers"]["X-Forwarded-Proto"], "http");
    assert!(e["headers"]["X-Forwarded-Port"]
        .as_str()
        .unwrap()
        .parse::<u16>()
        .is_ok());
    assert!(e["headers"]["X-Amzn-Trace-Id"]
        .as_str()
        .unwrap()
        .starts_with("Root=1-"));
    assert_eq!(
        e["multiValueHeaders"]["user-agent"],
        serde_json::json!(["ssam-test"])
    );
    assert_eq!(e["queryStringParameters"]["multi"], "me");
    assert_eq!(
        e["multiValueQueryStringParameters"]["multi"],
        serde_json::json!(["you", "me"])
    );
    assert_eq!(e["pathParameters"]["id"], "42");
    assert_eq!(e["stageVariables"]["color"], "red");
    assert_eq!(e["body"], serde_json::Value::Null);
    assert_eq!(e["isBase64Encoded"], false);
    let rc = &e["requestContext"];
    assert_eq!(rc["stage"], "Prod");
    assert_eq!(rc["resourcePath"], "/items/{id}");
    // The real path with its stage (SAM CLI sends the resource template).
    assert_eq!(rc["path"], "/Prod/items/42");
    assert_eq!(rc["httpMethod"], "GET");
    assert_eq!(rc["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(rc["identity"]["userAgent"], "ssam-test");
    assert_eq!(rc["protocol"], "HTTP/1.1");
    for null in [
        "apiKey",
        "apiKeyId",
        "principalOrgId",
        "clientCert",
        "accessKey",
        "caller",
        "userArn",
    ] {
        assert!(rc["identity"][null].is_null(), "{null}");
        assert!(
            rc["identity"].as_object().unwrap().contains_key(null),
            "{null} is missing"
        );
    }
    assert_eq!(rc["requestId"].as_str().unwrap().len(), 36);
    assert_eq!(rc["extendedRequestId"].as_str().unwrap().len(), 16);
    assert_eq!(rc["resourceId"].as_str().unwrap().len(), 6);
    let epoch = rc["requestTimeEpoch"].as_i64().unwrap();
    assert!(
        epoch >= before && epoch < before + 120_000,
        "requestTimeEpoch {epoch} is not in ms"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_route_is_403_missing_authentication_token() {
    let s = start("rest.yaml", opts()).await;
    let c = client();
    for (m, path) in [
        ("GET", "/nope"),
        ("POST", "/items/1"),
        ("GET", "/Prod/nope"),
    ] {
        let r = c
            .request(m.parse().unwrap(), s.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{m} {path}");
        assert_eq!(
            r.headers()["x-amzn-errortype"],
            "MissingAuthenticationTokenException"
        );
        assert_eq!(
            r.text().await.unwrap(),
            r#"{"message":"Missing Authentication Token"}"#
        );
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn greedy_proxy_and_any_method() {
    let s = start("rest.yaml", opts()).await;
    let r = client().delete(s.url("/proxy/a/b/c")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let e = json(&r.bytes().await.unwrap());
    assert_eq!(e["pathParameters"]["proxy"], "a/b/c");
    assert_eq!(e["resource"], "/proxy/{proxy+}");
    assert_eq!(e["httpMethod"], "DELETE");
    s.shutdown().await;
}

// "If the function output is of a different format, API Gateway returns a 502 Bad Gateway".
#[tokio::test(flavor = "multi_thread")]
async fn rest_malformed_response_and_function_error_are_502() {
    let s = start("rest.yaml", opts()).await;
    let c = client();
    for path in ["/extra", "/fail"] {
        let r = c.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 502, "{path}");
        assert_eq!(
            r.text().await.unwrap(),
            r#"{"message":"Internal server error"}"#
        );
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn multi_value_headers_reach_the_client() {
    let s = start("rest.yaml", opts()).await;
    let r = client().get(s.url("/multi")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let multi: Vec<_> = r
        .headers()
        .get_all("x-multi")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(multi, ["m1", "m2"]);
    assert_eq!(r.headers()["x-single"], "s");
    // REST answers application/json when the function sets no Content-Type.
    assert_eq!(r.headers()["content-type"], "application/json");
    s.shutdown().await;
}

// "Content type conversions in API Gateway": BinaryMediaTypes decide both directions.
#[tokio::test(flavor = "multi_thread")]
async fn binary_media_types_round_trip() {
    let s = start("rest.yaml", opts()).await;
    let c = client();
    let data: Vec<u8> = (0..=255u8).collect();
    let r = c
        .post(s.url("/binary"))
        .header("content-type", "image/png")
        .header("accept", "image/png")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), data);
    // A text type is not base64-encoded on the way in.
    let r = c
        .post(s.url("/binary"))
        .header("content-type", "text/plain")
        .header("accept", "application/octet-stream")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().to_vec(), b"hello");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_preflight_is_answered_from_cors() {
    let s = start("rest.yaml", opts()).await;
    let r = client()
        .request(reqwest::Method::OPTIONS, s.url("/items/1"))
        .header("Origin", "https://x.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(r.headers()["access-control-allow-methods"], "GET,OPTIONS");
    assert_eq!(
        r.headers()["access-control-allow-headers"],
        "Content-Type,Authorization"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn integration_timeout_is_504_endpoint_request_timed_out() {
    let s = start(
        "rest.yaml",
        GatewayOptions {
            integration_timeout: Some(Duration::from_millis(1500)),
            ..opts()
        },
    )
    .await;
    let r = client().get(s.url("/sleep")).send().await.unwrap();
    assert_eq!(r.status(), 504);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"message": "Endpoint request timed out"}"#
    );
    s.shutdown().await;
}

// REST events keep header names as the client spelled them (hyper lower-cases them).
#[tokio::test(flavor = "multi_thread")]
async fn header_names_keep_their_spelling() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let s = start("rest.yaml", opts()).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    conn.write_all(
        b"POST /proxy/a HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nheaderX: no\r\n\
          GET /proxy/b HTTP/1.1\r\nHost: x\r\nheaderName: v\r\nx-api-key: k\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    conn.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let last = text.rsplit("\r\n\r\n").next().unwrap();
    let e = json(last.as_bytes());
    assert_eq!(e["path"], "/proxy/b");
    assert_eq!(e["headers"]["headerName"], "v");
    assert_eq!(e["headers"]["x-api-key"], "k");
    assert_eq!(e["headers"]["Host"], "x");
    // A body line that looks like a header is not taken for one.
    assert!(e["headers"].get("headerX").is_none());
    // Headers the gateway adds use API Gateway's spelling.
    assert_eq!(e["headers"]["X-Forwarded-Proto"], "http");
    s.shutdown().await;
}
