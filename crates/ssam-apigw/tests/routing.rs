//! End-to-end: the route matching table ("Routing API requests", "Working with routes for
//! HTTP APIs"): the most specific route wins, whatever the declaration order.
#![allow(clippy::unwrap_used)]

mod common;

use common::{client, json, start};
use ssam_apigw::GatewayOptions;

#[tokio::test(flavor = "multi_thread")]
async fn route_matching_table() {
    let s = start("routing.yaml", GatewayOptions::default()).await;
    let c = client();
    let table = [
        ("GET", "/pets/dog", "GET /pets/dog", None),
        ("POST", "/pets/dog", "ANY /pets/dog", None),
        ("GET", "/pets/cat", "GET /pets/{id}", Some(("id", "cat"))),
        (
            "GET",
            "/pets/cat/owner",
            "GET /pets/{id}/owner",
            Some(("id", "cat")),
        ),
        (
            "GET",
            "/pets/cat/toys/1",
            "GET /pets/{proxy+}",
            Some(("proxy", "cat/toys/1")),
        ),
        (
            "POST",
            "/pets/cat",
            "ANY /{proxy+}",
            Some(("proxy", "pets/cat")),
        ),
        (
            "DELETE",
            "/stores/1",
            "ANY /{proxy+}",
            Some(("proxy", "stores/1")),
        ),
        ("GET", "/", "GET /", None),
        ("POST", "/", "$default", None),
    ];
    for (method, path, route_key, param) in table {
        let r = c
            .request(method.parse().unwrap(), s.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{method} {path}");
        let e = json(&r.bytes().await.unwrap());
        assert_eq!(e["routeKey"], route_key, "{method} {path}");
        if let Some((name, value)) = param {
            assert_eq!(e["pathParameters"][name], value, "{method} {path}");
        }
    }
    s.shutdown().await;
}
