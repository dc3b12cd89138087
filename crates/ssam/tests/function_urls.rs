//! Function URLs (`FunctionUrlConfig`) end to end: `ssam local start-api` serves each at
//! its own address; curl and a SigV4-signing client (botocore) as the clients, real Python
//! and Node functions. Behaviour from "Invoking Lambda function URLs" and "Security and auth
//! model for Lambda function URLs" (AWS Lambda Developer Guide).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::process::Command;

fn fixture() -> std::path::PathBuf {
    ssam_testkit::workspace_root().join("crates/ssam/tests/fixtures/function_urls/template.yaml")
}

struct Urls {
    server: ssam_testkit::Server,
    by_function: HashMap<String, String>,
}

fn start() -> Urls {
    start_with(&[])
}

fn start_with(extra: &[&str]) -> Urls {
    let template = fixture();
    let args: Vec<&std::ffi::OsStr> = [
        "local",
        "start-api",
        "--port",
        "0",
        "--function-url-port",
        "0",
        "-t",
    ]
    .iter()
    .map(std::ffi::OsStr::new)
    .chain([template.as_os_str()])
    .chain(extra.iter().map(std::ffi::OsStr::new))
    .collect();
    let server = ssam_testkit::Server::start(&args, " * Running on ");
    let mut by_function = HashMap::new();
    for line in server.lines() {
        // "Function URL Hello at http://127.0.0.1:PORT/ (NONE, BUFFERED, CORS)"
        if let Some(rest) = line.split("Function URL ").nth(1) {
            let mut words = rest.split_whitespace();
            let name = words.next().unwrap().to_string();
            let url = words.nth(1).unwrap().trim_end_matches('/').to_string();
            by_function.insert(name, url);
        }
    }
    assert_eq!(by_function.len(), 3, "{:?}", server.lines());
    Urls {
        server,
        by_function,
    }
}

/// `curl -s -i`: (status, headers lowercased, body).
fn curl(args: &[&str], url: &str) -> (u16, HashMap<String, Vec<String>>, String) {
    let out = Command::new("curl")
        .args(["-s", "-i", "--max-time", "60"])
        .args(args)
        .arg(url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers: HashMap<String, Vec<String>> = HashMap::new();
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            headers
                .entry(k.trim().to_ascii_lowercase())
                .or_default()
                .push(v.trim().to_string());
        }
    }
    (status, headers, body.to_string())
}

#[test]
fn a_function_url_sends_the_2_0_event_and_maps_the_response() {
    let urls = start();
    let hello = &urls.by_function["Hello"];
    let (status, headers, body) = curl(
        &["-H", "Origin: https://example.com", "-H", "X-Custom: 1"],
        &format!("{hello}/some/path?x=1&x=2&y=a%20b"),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(headers["x-fn"], ["yes"]);
    assert_eq!(headers["set-cookie"], ["a=1", "b=2"]);
    // Lambda applies the URL's CORS configuration and drops the function's own CORS headers.
    assert_eq!(
        headers["access-control-allow-origin"],
        ["https://example.com"]
    );
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "$default");
    assert_eq!(event["rawPath"], "/some/path");
    assert_eq!(event["rawQueryString"], "x=1&x=2&y=a%20b");
    assert_eq!(event["queryStringParameters"]["x"], "1,2");
    assert_eq!(event["queryStringParameters"]["y"], "a b");
    assert_eq!(event["headers"]["x-custom"], "1");
    let ctx = &event["requestContext"];
    assert_eq!(ctx["http"]["method"], "GET");
    assert_eq!(ctx["http"]["path"], "/some/path");
    assert_eq!(ctx["stage"], "$default");
    assert_eq!(ctx["accountId"], "anonymous");
    let domain = ctx["domainName"].as_str().unwrap();
    let url_id = ctx["apiId"].as_str().unwrap();
    assert_eq!(domain, format!("{url_id}.lambda-url.us-east-1.on.aws"));
    assert_eq!(ctx["domainPrefix"], url_id);
    assert_eq!(url_id.len(), 32);

    // A POST body of a binary type arrives base64-encoded, text as it is.
    let (_, _, body) = curl(
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"k":1}"#,
        ],
        &format!("{hello}/post"),
    );
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["body"], r#"{"k":1}"#);
    assert_eq!(event["isBase64Encoded"], false);

    // A plain JSON value is answered as 200 application/json.
    let (status, headers, body) = curl(&[], &format!("{hello}/plain"));
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], ["application/json"]);
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value, serde_json::json!({"just": "json"}));

    // A function error is Lambda's 502.
    let (status, _, body) = curl(&[], &format!("{hello}/boom"));
    assert_eq!(status, 502);
    assert_eq!(body, "Internal Server Error");
    drop(urls.server);
}

/// `ssam local start` serves the function URLs too, printed at start with the other
/// addresses.
#[test]
fn local_start_serves_the_function_urls_too() {
    let server = ssam_testkit::Server::local_start(
        &fixture(),
        &[
            "--ephemeral",
            "--function-url-port",
            "0",
            "--dashboard-port",
            "0",
        ],
    );
    let hello = server
        .lines()
        .iter()
        .find_map(|l| l.split("Function URL Hello at ").nth(1).map(str::to_string))
        .unwrap_or_else(|| panic!("no URL for Hello: {:?}", server.lines()));
    let hello = hello
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches('/');
    let (status, _, body) = curl(&[], &format!("{hello}/from/start?q=1"));
    assert_eq!(status, 201, "{body}");
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["rawPath"], "/from/start");
    assert_eq!(event["rawQueryString"], "q=1");
}

/// An HTTP/1.0 request gets an `HTTP/1.1` status line, as from API routes (a raw socket:
/// curl and the SDKs speak HTTP/1.1).
#[test]
fn http_1_0_requests_get_an_http_1_1_status_line() {
    use std::io::{Read as _, Write as _};
    let urls = start();
    let hello = &urls.by_function["Hello"];
    let addr = hello.trim_start_matches("http://");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.write_all(format!("GET /plain HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(value, serde_json::json!({"just": "json"}), "{answer}");
}

/// CORS preflights are answered by Lambda from `FunctionUrlConfig.Cors`, without invoking
/// the function.
#[test]
fn cors_preflights_are_answered_without_the_function() {
    let urls = start();
    let hello = &urls.by_function["Hello"];
    let (status, headers, _) = curl(
        &[
            "-X",
            "OPTIONS",
            "-H",
            "Origin: https://example.com",
            "-H",
            "Access-Control-Request-Method: POST",
            "-H",
            "Access-Control-Request-Headers: x-custom",
        ],
        &format!("{hello}/anything"),
    );
    assert_eq!(status, 200);
    assert_eq!(
        headers["access-control-allow-origin"],
        ["https://example.com"]
    );
    assert_eq!(headers["access-control-allow-methods"], ["GET,POST"]);
    assert_eq!(headers["access-control-allow-headers"], ["x-custom"]);
    assert_eq!(headers["access-control-max-age"], ["300"]);
    assert!(!headers.contains_key("x-fn"), "the function did not run");
    // Another origin gets no CORS headers.
    let (_, headers, _) = curl(
        &[
            "-X",
            "OPTIONS",
            "-H",
            "Origin: https://evil.example",
            "-H",
            "Access-Control-Request-Method: POST",
        ],
        &format!("{hello}/anything"),
    );
    assert!(!headers.contains_key("access-control-allow-origin"));
    let log = urls.server.stop();
    assert!(
        !log.iter().any(|l| l.contains("START RequestId")),
        "no invocation for preflights: {log:?}"
    );
}

/// `AuthType: AWS_IAM`: an unsigned request is refused before the function runs; a
/// SigV4-signed one (botocore's signer, as the AWS SDKs sign) reaches it with the caller's
/// access key in `requestContext.authorizer.iam`.
#[test]
fn aws_iam_function_urls_need_a_sigv4_signature() {
    let urls = start();
    let private = &urls.by_function["Private"];
    let (status, headers, body) = curl(&[], &format!("{private}/secret"));
    assert_eq!(status, 403);
    assert_eq!(body, r#"{"Message":"Forbidden"}"#);
    assert_eq!(headers["x-amzn-errortype"], ["AccessDeniedException"]);
    let (status, _, _) = curl(
        &["-H", "Authorization: Bearer not-sigv4"],
        &format!("{private}/secret"),
    );
    assert_eq!(status, 403);

    assert!(
        urls.server.lines().iter().any(|l| l
            .contains("the function URL of Private accepts any SigV4-signed request: signatures are not checked")),
        "{:?}",
        urls.server.lines()
    );
    let (status, body) = signed_get(&format!("{private}/secret?a=1"), "AKIDLOCALTEST");
    assert_eq!(status, 200);
    let ctx: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ctx["authorizer"]["iam"]["accessKey"], "AKIDLOCALTEST");
    assert_eq!(ctx["accountId"], "123456789012");
    drop(urls.server);

    // --iam-credentials names the access keys accepted, as for AWS_IAM API routes.
    let urls = start_with(&["--iam-credentials", "AKIDALLOWED:secret"]);
    let private = &urls.by_function["Private"];
    let (status, body) = signed_get(&format!("{private}/secret"), "AKIDLOCALTEST");
    assert_eq!(status, 403);
    assert!(
        body.contains("The security token included in the request is invalid."),
        "{body}"
    );
    assert_eq!(
        signed_get(&format!("{private}/secret"), "AKIDALLOWED").0,
        200
    );
    drop(urls.server);
}

/// `--iam-credentials KEY:SECRET`: the function URL recomputes the signature for the service
/// `lambda`. Right secret: 200; wrong secret, a query changed after signing: 403
/// `InvalidSignatureException` with AWS's message; unsigned: 403 Forbidden; signed for
/// `execute-api` instead of `lambda`: 403. None of them reaches the function.
#[test]
fn aws_iam_function_urls_check_the_signature_with_the_secret() {
    use ssam_testkit::sigv4::{send, Signed, Tamper};
    let urls = start_with(&["--iam-credentials", "AKIDALLOWED:right-secret"]);
    assert!(
        !urls
            .server
            .lines()
            .iter()
            .any(|l| l.contains("signatures are not checked")),
        "{:?}",
        urls.server.lines()
    );
    let url = format!("{}/secret?a=1", urls.by_function["Private"]);
    let ok = Signed::get(url.clone(), "lambda", "AKIDALLOWED", "right-secret");
    let answers = send(&[
        ok.clone(),
        Signed::get(url.clone(), "lambda", "AKIDALLOWED", "wrong-secret"),
        Signed {
            tamper: Tamper::Query,
            ..ok.clone()
        },
        Signed {
            credentials: None,
            ..ok.clone()
        },
        Signed::get(url.clone(), "execute-api", "AKIDALLOWED", "right-secret"),
        Signed {
            minutes_ago: 10,
            ..ok.clone()
        },
    ]);
    let [good, wrong, query, unsigned, service, stale] = &answers[..] else {
        panic!("{answers:?}");
    };
    assert_eq!(good.status, 200, "{good:?}");
    let mismatch = r#"{"Message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#;
    for a in [wrong, query] {
        assert_eq!(a.status, 403, "{a:?}");
        assert_eq!(a.body, mismatch);
        assert_eq!(a.error_type, "InvalidSignatureException");
    }
    assert_eq!(
        (unsigned.status, unsigned.body.as_str()),
        (403, r#"{"Message":"Forbidden"}"#)
    );
    assert_eq!(service.status, 403, "{service:?}");
    assert!(
        service.body.contains("scoped to correct service: 'lambda'"),
        "{service:?}"
    );
    assert_eq!(stale.status, 403, "{stale:?}");
    assert!(stale.body.contains("Signature expired"), "{stale:?}");
    let log = urls.server.stop();
    let reached = log.iter().filter(|l| l.contains("START RequestId")).count();
    assert_eq!(
        reached, 1,
        "only the good request reaches the function: {log:?}"
    );
}

/// A GET signed with botocore's SigV4 signer (as the AWS SDKs sign): (status, body).
fn signed_get(url: &str, access_key: &str) -> (u16, String) {
    let script = format!(
        r#"
import json, urllib.request, urllib.error
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
req = AWSRequest(method="GET", url="{url}")
SigV4Auth(Credentials("{access_key}", "secret"), "lambda", "us-east-1").add_auth(req)
try:
    r = urllib.request.urlopen(urllib.request.Request(req.url, headers=dict(req.headers.items())))
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
"#
    );
    let out = ssam_testkit::run_python(&script, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    let (status, body) = text.trim().split_once(' ').unwrap();
    (status.parse().unwrap(), body.to_string())
}

/// `InvokeMode: RESPONSE_STREAM`: the status and headers of the function's prelude, then each
/// write reaches the client as it is made (three lines half a second apart).
#[test]
fn response_streams_reach_the_client_chunk_by_chunk() {
    let urls = start();
    let streamer = &urls.by_function["Streamer"];
    let script = format!(
        r#"
import http.client, time, urllib.parse
u = urllib.parse.urlparse("{streamer}/live")
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
c.request("GET", u.path)
r = c.getresponse()
print(r.status, r.getheader("x-streamed"), r.getheader("content-type"))
start = time.time()
for _ in range(3):
    line = r.readline().decode().strip()
    print(round(time.time() - start, 2), line)
"#
    );
    let out = ssam_testkit::run_python(&script, &[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "202 yes text/plain", "{text}");
    let at = |i: usize| -> f64 { lines[i].split(' ').next().unwrap().parse().unwrap() };
    assert!(lines[1].ends_with("chunk-1 /live"), "{text}");
    assert!(lines[3].ends_with("chunk-3 /live"), "{text}");
    assert!(
        at(3) - at(1) > 0.8,
        "the last chunk came about a second after the first, not all at once: {text}"
    );
    drop(urls.server);
}
