//! `ssam local start-api` end to end: the real binary, curl as the client, real Python
//! functions; SAM's `Mounting` lines, stage prefixes, gateway errors, hot reload of code and
//! template, and `--warm-containers EAGER`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct StartApi {
    server: ssam_testkit::Server,
    base: String,
}

impl StartApi {
    fn start(template: &Path, extra: &[&str]) -> StartApi {
        let args: Vec<&std::ffi::OsStr> = ["local", "start-api", "--port", "0", "-t"]
            .iter()
            .map(std::ffi::OsStr::new)
            .chain([template.as_os_str()])
            .chain(extra.iter().map(std::ffi::OsStr::new))
            .collect();
        let server = ssam_testkit::Server::start(&args, " * Running on ");
        let base = server
            .word_after(" * Running on ")
            .expect("the Running on line")
            .trim_end_matches('/')
            .to_string();
        StartApi { server, base }
    }

    fn lines(&self) -> Vec<String> {
        self.server.lines()
    }

    /// `curl -s -i`: (status, headers+body text).
    fn curl(&self, args: &[&str], path: &str) -> (u16, String) {
        let out = Command::new("curl")
            .args(["-s", "-i", "--max-time", "30"])
            .args(args)
            .arg(format!("{}{path}", self.base))
            .output()
            .expect("run curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let status = text
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    fn body(&self, path: &str) -> (u16, String) {
        let (status, text) = self.curl(&[], path);
        let body = text
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        (status, body)
    }
}

fn fixtures() -> PathBuf {
    ssam_testkit::workspace_root().join("crates/ssam-apigw/tests/fixtures")
}

#[test]
fn mounts_like_sam_and_serves_with_and_without_stage() {
    let s = StartApi::start(&fixtures().join("http.yaml"), &[]);
    let lines = s.lines();
    let mount = format!(
        "Mounting VideoUploader at {}/upload/url [GET, OPTIONS]",
        s.base
    );
    assert!(lines.contains(&mount), "no `{mount}` in {lines:?}");
    let (status, body) = s.body("/upload/url");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""rawPath": "/test/upload/url""#), "{body}");
    assert_eq!(s.body("/test/upload/url").0, 200);
    assert_eq!(
        s.body("/nope"),
        (404, r#"{"message":"Not Found"}"#.to_string())
    );
    assert_eq!(
        s.body("/fail"),
        (500, r#"{"message":"Internal Server Error"}"#.to_string())
    );
    // Every request is logged.
    assert!(s
        .lines()
        .iter()
        .any(|l| l.contains("\"GET /upload/url HTTP/1.1\" 200")));
}

#[test]
fn mounting_lines_snapshot() {
    let s = StartApi::start(&fixtures().join("rest.yaml"), &[]);
    let lines: Vec<String> = s
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("Mounting") || l.starts_with("Routes of"))
        .map(|l| l.replace(&s.base, "http://127.0.0.1:PORT"))
        .collect();
    insta::assert_snapshot!(lines.join("\n"), @r"
    Mounting Echo at http://127.0.0.1:PORT/items/{id} [GET, OPTIONS]
    Mounting Echo at http://127.0.0.1:PORT/proxy/{proxy+} [DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT]
    Mounting ExtraKey at http://127.0.0.1:PORT/extra [GET, OPTIONS]
    Mounting MultiValue at http://127.0.0.1:PORT/multi [GET, OPTIONS]
    Mounting Fail at http://127.0.0.1:PORT/fail [GET, OPTIONS]
    Mounting Binary at http://127.0.0.1:PORT/binary [OPTIONS, POST]
    Mounting Sleep at http://127.0.0.1:PORT/sleep [GET, OPTIONS]
    Routes of RestApi are also served under /Prod, as its deployed URL has them.
    ");
}

#[test]
fn rest_api_unknown_route_is_403() {
    let s = StartApi::start(&fixtures().join("rest.yaml"), &[]);
    assert_eq!(
        s.body("/nope"),
        (
            403,
            r#"{"message":"Missing Authentication Token"}"#.to_string()
        )
    );
    let (status, _) = s.body("/Prod/items/1");
    assert_eq!(status, 200);
}

fn write_app(dir: &Path, version: &str, extra_route: bool) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("src/app.py"),
        format!(
            "def handler(event, context):\n    return {{'statusCode': 200, 'body': '{version}'}}\n"
        ),
    )
    .unwrap();
    let extra = if extra_route {
        "        Extra:\n          Type: HttpApi\n          Properties:\n            Path: /extra\n            Method: GET\n"
    } else {
        ""
    };
    std::fs::write(
        dir.join("template.yaml"),
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.11\n      CodeUri: src\n      Handler: app.handler\n      Events:\n        V:\n          Type: HttpApi\n          Properties:\n            Path: /v\n            Method: GET\n{extra}"
        ),
    )
    .unwrap();
}

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn hot_reload_picks_up_code_and_template_changes() {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), "one", false);
    let s = StartApi::start(&dir.path().join("template.yaml"), &[]);
    assert_eq!(s.body("/v"), (200, "one".to_string()));
    assert_eq!(s.body("/extra").0, 404);
    // Edit the code: the warm instance is recycled, the next request sees the change. (The
    // new text has another length: Python trusts a .pyc written in the same second as an
    // edit of the same size, whoever runs it.)
    std::thread::sleep(Duration::from_millis(300));
    write_app(dir.path(), "second", false);
    eventually("the code change", || s.body("/v").1 == "second");
    // Edit the template: the new route is served.
    write_app(dir.path(), "second", true);
    eventually("the new route", || s.body("/extra").0 == 200);
    // A template that does not load leaves the previous routes in service.
    std::fs::write(dir.path().join("template.yaml"), "Resources: [").unwrap();
    eventually("the reload error", || {
        s.lines()
            .iter()
            .any(|l| l.contains("cannot be loaded; still serving"))
    });
    assert_eq!(s.body("/extra").0, 200);
}

#[test]
fn warm_containers_eager_starts_functions_before_the_first_request() {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), "warm", false);
    let s = StartApi::start(
        &dir.path().join("template.yaml"),
        &["--warm-containers", "EAGER"],
    );
    // The instance started at start-up: its INIT line is logged before any request.
    let lines = s.lines();
    let running = lines.iter().position(|l| l.contains("Running on")).unwrap();
    assert!(
        lines[..running].iter().any(|l| l.contains("[Fn]")),
        "no instance output before the first request: {lines:?}"
    );
    assert_eq!(s.body("/v"), (200, "warm".to_string()));
}

// SAM users keep start-api's flags in samconfig.toml; a flag on the command line wins.
#[test]
fn samconfig_flags_apply() {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), "cfg", false);
    std::fs::create_dir_all(dir.path().join("web")).unwrap();
    std::fs::write(dir.path().join("web/hello.txt"), "from samconfig").unwrap();
    std::fs::write(
        dir.path().join("samconfig.toml"),
        "version = 0.1\n[default.local_start_api.parameters]\nstatic_dir = \"web\"\nport = 1\nwarm_containers = \"EAGER\"\n",
    )
    .unwrap();
    // --port 0 (from StartApi) wins over the samconfig's port 1.
    let s = StartApi::start(&dir.path().join("template.yaml"), &[]);
    assert_eq!(s.body("/hello.txt"), (200, "from samconfig".to_string()));
    assert_eq!(s.body("/v"), (200, "cfg".to_string()));
}

/// Authorization declared outside SAM's `Auth` (an OpenAPI body's API-key scheme, a
/// CloudFormation authorizer whose function is not in the template) that ssam cannot check
/// fails closed: 500 and a line saying why, never an open route; `--disable-authorizer`
/// opens it explicitly; an open operation next to it stays open.
#[test]
fn authorization_declared_in_openapi_or_cloudformation_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/app.py"),
        "def handler(event, context):\n    return {'statusCode': 200, 'body': 'reached the function'}\n",
    )
    .unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        r#"Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      DefinitionBody:
        openapi: "3.0.1"
        info: {title: t, version: "1"}
        components:
          securitySchemes:
            Pool:
              type: apiKey
              name: x-api-key
              in: header
        paths:
          /secret:
            get:
              security: [{Pool: []}]
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
          /public:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
  Raw:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: raw}
  RawRes:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Raw, ParentId: !GetAtt Raw.RootResourceId, PathPart: guarded}
  RawAuth:
    Type: AWS::ApiGateway::Authorizer
    Properties: {RestApiId: !Ref Raw, Type: TOKEN, Name: elsewhere, IdentitySource: method.request.header.Authorization, AuthorizerUri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:elsewhere/invocations"}
  RawGet:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Raw
      ResourceId: !Ref RawRes
      HttpMethod: GET
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref RawAuth
      Integration:
        Type: AWS_PROXY
        IntegrationHttpMethod: POST
        Uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
"#,
    )
    .unwrap();
    let api = StartApi::start(&template, &[]);
    let (status, body) = api.body("/v1/secret");
    assert_eq!(status, 500, "never open: {body}");
    assert!(!body.contains("reached the function"));
    let (status, body) = api.body("/v1/public");
    assert_eq!((status, body.as_str()), (200, "reached the function"));
    let (status, body) = api.body("/guarded");
    assert_eq!(status, 500, "{body}");
    let lines = api.lines().join("\n");
    assert!(
        lines.contains("authorizer Pool (API key) cannot run locally")
            && lines.contains("--disable-authorizer opens them"),
        "{lines}"
    );
    assert!(
        lines.contains(
            "authorizer RawAuth (TOKEN) cannot run: its function is not in this template"
        ),
        "{lines}"
    );
    drop(api);

    let open = StartApi::start(&template, &["--disable-authorizer"]);
    let (status, body) = open.body("/v1/secret");
    assert_eq!((status, body.as_str()), (200, "reached the function"));
}

/// Quick create ("AWS::ApiGatewayV2::Api" `Target` with `RouteKey`): the function serves the
/// route the key names, nothing else; `--language-extensions` (SAM CLI's flag) is accepted.
#[test]
fn quick_create_http_api_serves_its_route_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/app.py"),
        "def handler(event, context):\n    return {'statusCode': 200, 'body': event['routeKey']}\n",
    )
    .unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        r#"Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.11}
  Quick:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: q, ProtocolType: HTTP, RouteKey: "GET /quick", Target: !GetAtt Fn.Arn}
"#,
    )
    .unwrap();
    let api = StartApi::start(&template, &["--language-extensions"]);
    assert_eq!(api.body("/quick"), (200, "GET /quick".to_string()));
    assert_eq!(
        api.body("/other"),
        (404, r#"{"message":"Not Found"}"#.to_string())
    );
}

/// HTTP/1.0 requests are answered with an `HTTP/1.1` status line, as API Gateway answers
/// them (hyper alone would answer `HTTP/1.0`): a raw socket sends `GET /v HTTP/1.0` and reads
/// to the end; a kept-alive HTTP/1.0 connection gets it on each response, a HEAD's
/// `Content-Length` does not confuse the next one, and the bodies arrive intact.
#[test]
fn http_1_0_requests_get_an_http_1_1_status_line() {
    use std::io::{Read as _, Write as _};
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), "HTTP/1.0 in a body", false);
    let s = StartApi::start(&dir.path().join("template.yaml"), &[]);
    let addr = s.base.trim_start_matches("http://").to_string();

    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c.write_all(format!("GET /v HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\nHTTP/1.0 in a body"), "{out}");

    // Unknown route: the gateway's own 404, also 1.1.
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c.write_all(b"GET /nothing HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 404 Not Found\r\n"), "{out}");

    // Keep-alive: three requests on one connection, the middle one a HEAD.
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    for method in ["GET", "HEAD", "GET"] {
        c.write_all(format!("{method} /v HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").as_bytes())
            .unwrap();
    }
    c.write_all(b"GET /v HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    assert_eq!(
        out.matches("HTTP/1.1 ").count(),
        4,
        "every status line says HTTP/1.1: {out}"
    );
    assert_eq!(out.matches("HTTP/1.1 200 OK\r\n").count(), 3, "{out}");
    assert_eq!(
        out.matches("HTTP/1.0 ").count(),
        3,
        "only in the bodies: {out}"
    );
    assert_eq!(
        out.matches("\r\n\r\nHTTP/1.0 in a body").count(),
        3,
        "{out}"
    );
    // HTTP/1.1 clients are answered as before.
    assert_eq!(s.body("/v"), (200, "HTTP/1.0 in a body".to_string()));
}
