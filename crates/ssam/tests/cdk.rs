//! CDK output, as `cdk synth` writes it: the test synthesises `fixtures/cdk-app` (Python,
//! PyPI `aws-cdk-lib`; node runs jsii's JS, no `cdk` CLI) once per test run, then drives
//! `ssam local start-api` / `invoke` / `list` on `cdk.out/MyStack.template.json` with curl.
//! What is checked is what API Gateway answers for the deployed stack: the REST API under
//! its `prod` stage, CDK's MOCK `OPTIONS` methods answering CORS preflights with 204, the
//! HTTP API's payload 2.0, and functions whose code is an asset.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsStr;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cdk-app")
}

/// The synthesised cloud assembly, made once per fixture content: nextest runs each test in
/// its own process, so the cache is a directory, filled under a temporary name and renamed.
fn synth() -> PathBuf {
    let src = fixture();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for f in [
        "app.py",
        "hello/index.py",
        "authz/index.py",
        "child/index.py",
        "image/Dockerfile",
        "image/app.py",
    ] {
        std::fs::read(src.join(f)).unwrap().hash(&mut hasher);
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cdk-out-{:x}", hasher.finish()));
    if out.join("MyStack.template.json").is_file() {
        return out;
    }
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    let started = std::time::Instant::now();
    let run = Command::new(ssam_testkit::python())
        .arg("app.py")
        .arg(&tmp)
        .current_dir(&src)
        .output()
        .expect("run python app.py");
    assert!(
        run.status.success(),
        "cdk synth failed (pip install -r scripts/requirements-test.txt installs aws-cdk-lib):\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    eprintln!("cdk synth took {:?}", started.elapsed());
    // Another test process may have won the race: its output is as good.
    if std::fs::rename(&tmp, &out).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    out
}

fn template() -> PathBuf {
    synth().join("MyStack.template.json")
}

fn start_api(template: &Path) -> (ssam_testkit::Server, String) {
    start_api_with(template, &[])
}

fn start_api_with(template: &Path, extra: &[&OsStr]) -> (ssam_testkit::Server, String) {
    let args: Vec<&OsStr> = ["local", "start-api", "--port", "0", "--no-watch", "-t"]
        .iter()
        .map(OsStr::new)
        .chain([template.as_os_str()])
        .chain(extra.iter().copied())
        .collect();
    let server = ssam_testkit::Server::start(&args, "Running on");
    let url = server
        .lines()
        .iter()
        .find_map(|l| {
            l.split("Running on ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .map(|u| u.trim_end_matches('/').to_string())
        })
        .expect("the Running on line");
    (server, url)
}

/// curl `-i`: (status, lower-case headers, body).
fn curl(args: &[&str]) -> (u16, Vec<(String, String)>, String) {
    let out = Command::new("curl")
        .args(["-s", "-i", "--max-time", "30"])
        .args(args)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

// "Invoking a REST API in API Gateway": https://{api-id}.execute-api.{region}.amazonaws.com/{stage}/
#[test]
fn cdk_rest_api_is_served_under_its_prod_stage_from_the_asset_code() {
    let (server, url) = start_api(&template());
    let (status, _, body) = curl(&[&format!("{url}/prod/items/42")]);
    assert_eq!(status, 200, "{body}\n{}", server.lines().join("\n"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["function"], "hello");
    assert_eq!(v["version"], "1.0");
    assert_eq!(v["path"], "/items/42");
    assert_eq!(v["stage"], "prod");
    assert!(
        !server
            .lines()
            .iter()
            .any(|l| l.contains("the code is in S3")),
        "the asset metadata locates the code: {:?}",
        server.lines()
    );
}

// CDK's `defaultCorsPreflightOptions` adds a MOCK `OPTIONS` method whose integration response
// is 204 with the Access-Control-Allow-* headers ("Set up mock integrations in API Gateway").
#[test]
fn cdk_cors_preflight_is_answered_by_its_mock_integration() {
    let (server, url) = start_api(&template());
    let (status, headers, body) = curl(&[
        "-X",
        "OPTIONS",
        "-H",
        "Origin: https://example.com",
        "-H",
        "Access-Control-Request-Method: POST",
        &format!("{url}/prod/items"),
    ]);
    assert_eq!(
        status,
        204,
        "{headers:?} {body}\n{}",
        server.lines().join("\n")
    );
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&headers, "access-control-allow-methods"),
        Some("OPTIONS,GET,PUT,POST,DELETE,PATCH,HEAD")
    );
    assert_eq!(
        header(&headers, "access-control-allow-headers"),
        Some(
            "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent"
        )
    );
    assert_eq!(body, "");
    // The root resource has its own mock method too.
    let (status, headers, _) = curl(&["-X", "OPTIONS", &format!("{url}/prod/")]);
    assert_eq!(status, 204);
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
}

#[test]
fn cdk_http_api_route_gets_payload_2_0() {
    let (server, url) = start_api(&template());
    let (status, _, body) = curl(&[&format!("{url}/hello")]);
    assert_eq!(status, 200, "{body}\n{}", server.lines().join("\n"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["version"], "2.0");
    assert_eq!(v["path"], "/hello");
}

#[test]
fn cdk_template_validates_and_lists_its_functions() {
    let t = template();
    let out = Command::new(ssam_testkit::ssam_bin())
        .args(["validate", "-t"])
        .arg(&t)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(ssam_testkit::ssam_bin())
        .args(["list", "--json", "-t"])
        .arg(&t)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Hello"), "{text}");
    assert!(
        text.contains("asset."),
        "the code is the staged asset: {text}"
    );
}

/// The nested stack's function, named as SAM CLI names it (`StackResource/Function`).
fn child_function(template: &Path) -> String {
    let out = Command::new(ssam_testkit::ssam_bin())
        .args(["list", "functions", "-t"])
        .arg(template)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .find(|n| n.contains("/ChildFn"))
        .unwrap_or_else(|| {
            panic!(
                "no nested function in {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
        .to_string()
}

#[test]
fn cdk_nested_stack_function_runs_with_local_invoke() {
    let t = template();
    let name = child_function(&t);
    assert!(name.starts_with("ChildNestedStack"), "{name}");
    let out = Command::new(ssam_testkit::ssam_bin())
        .args(["local", "invoke", &name, "-e", "-", "-t"])
        .arg(&t)
        .env("PATH", ssam_testkit::path_with_venv())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(br#"{"from": "test"}"#)?;
            child.wait_with_output()
        })
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let body: serde_json::Value = serde_json::from_str(result["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["function"], "child");
    assert_eq!(body["event"]["from"], "test");
}

// `ssam build` on cdk.out: the built template's asset metadata names the artifact.
#[test]
fn cdk_output_builds_and_the_built_template_runs() {
    let work = tempfile::tempdir().unwrap();
    let out_dir = synth();
    let copy = work.path().join("cdk.out");
    let status = Command::new("cp")
        .arg("-r")
        .arg(&out_dir)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let build = Command::new(ssam_testkit::ssam_bin())
        .args(["build", "-t", "cdk.out/MyStack.template.json"])
        .current_dir(work.path())
        .env("PATH", ssam_testkit::path_with_venv())
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let built = work.path().join(".aws-sam/build/template.yaml");
    let list = Command::new(ssam_testkit::ssam_bin())
        .args(["list", "--json", "-t"])
        .arg(&built)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let hello = v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["logicalId"].as_str().unwrap().starts_with("Hello"))
        .unwrap();
    assert_eq!(
        hello["codeUri"], hello["logicalId"],
        "the built function runs from its artifact: {hello}"
    );
    let (server, url) = start_api(&built);
    let (status, _, body) = curl(&[&format!("{url}/prod/built")]);
    assert_eq!(status, 200, "{body}\n{}", server.lines().join("\n"));
}

// CDK's CORS preflight for several origins: a response template that sets the allow-origin
// header to the request's Origin when it is one of them (aws-cdk's `Cors` integration
// response); other origins get the first one, from the ResponseParameters.
#[test]
fn cdk_multi_origin_preflight_echoes_an_allowed_origin() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("template.json");
    let template = serde_json::json!({"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12",
            "Handler": "index.handler", "Code": {"ZipFile": "def handler(e, c):\n    return {'statusCode': 200}\n"}}},
        "Rest": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "r"}},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"RestApiId": {"Ref": "Rest"}, "StageName": "prod"}},
        "Any": {"Type": "AWS::ApiGateway::Method", "Properties": {"RestApiId": {"Ref": "Rest"},
            "ResourceId": {"Fn::GetAtt": ["Rest", "RootResourceId"]}, "HttpMethod": "GET", "AuthorizationType": "NONE",
            "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST",
                "Uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}}}},
        "Options": {"Type": "AWS::ApiGateway::Method", "Properties": {"RestApiId": {"Ref": "Rest"},
            "ResourceId": {"Fn::GetAtt": ["Rest", "RootResourceId"]}, "HttpMethod": "OPTIONS", "AuthorizationType": "NONE",
            "Integration": {"Type": "MOCK", "RequestTemplates": {"application/json": "{ statusCode: 200 }"},
                "IntegrationResponses": [{"StatusCode": "204",
                    "ResponseParameters": {
                        "method.response.header.Access-Control-Allow-Origin": "'https://a.example'",
                        "method.response.header.Vary": "'Origin'"},
                    "ResponseTemplates": {"application/json":
                        "#set($origin = $input.params(\"Origin\"))\n#if($origin == \"\") #set($origin = $input.params(\"origin\")) #end\n#if($origin.matches(\"https://b\\.example\") || $origin.matches(\"https://.+\\.c\\.example\"))\n  #set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)\n#end"}}]}}}
    }});
    std::fs::write(&t, template.to_string()).unwrap();
    let (server, url) = start_api(&t);
    let allow = |origin: &str| {
        let (status, headers, _) = curl(&[
            "-X",
            "OPTIONS",
            "-H",
            &format!("Origin: {origin}"),
            &format!("{url}/prod/"),
        ]);
        assert_eq!(status, 204, "{}", server.lines().join("\n"));
        header(&headers, "access-control-allow-origin").map(str::to_string)
    };
    assert_eq!(
        allow("https://b.example").as_deref(),
        Some("https://b.example")
    );
    assert_eq!(
        allow("https://x.c.example").as_deref(),
        Some("https://x.c.example")
    );
    assert_eq!(
        allow("https://evil.example").as_deref(),
        Some("https://a.example")
    );
}

/// A CDK `DockerImageFunction` whose code is an image asset (`DockerImageCode.from_image_asset`):
/// ssam builds the staged asset directory's Dockerfile and runs the function in a container
/// of it. Needs a Docker engine: without one the test says why it is skipped.
#[test]
fn cdk_docker_image_function_asset_runs_in_its_built_image() {
    use ssam_testkit::lambda_image;
    if let Err(e) = lambda_image::docker_engine() {
        eprintln!("skipped: {e}");
        return;
    }
    lambda_image::python_base_image("ssam-test/python:3.11")
        .unwrap_or_else(|e| panic!("cannot make the stand-in base image: {e}"));
    let t = synth().join("ImageStack.template.json");
    let out = Command::new(ssam_testkit::ssam_bin())
        .args(["list", "--json", "-t"])
        .arg(&t)
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let id = list["functions"]
        .as_array()
        .and_then(|fs| fs.iter().find_map(|f| f["logicalId"].as_str()))
        .unwrap_or_else(|| panic!("no function listed: {list}"))
        .to_string();
    assert!(id.starts_with("ImageFn"), "{list}");
    let out = Command::new(ssam_testkit::ssam_bin())
        .args(["local", "invoke", &id, "-e", "-", "-t"])
        .arg(&t)
        .env("NO_COLOR", "1")
        .env("PATH", ssam_testkit::path_with_venv())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().unwrap().write_all(br#"{"n": 7}"#)?;
            c.wait_with_output()
        })
        .unwrap();
    let _ = Command::new("docker")
        .args(["rmi", "-f", &format!("{}:latest", id.to_ascii_lowercase())])
        .output();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{err}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(v["from"], "the image asset", "{v}");
    assert_eq!(
        v["task_root"], "/var/task",
        "ran in the image, not natively: {v}"
    );
    assert_eq!(v["event"]["n"], 7);
}

/// The issue's "HTTP API with a Lambda authorizer, a JWT authorizer" as CDK writes them
/// (`HttpLambdaAuthorizer` with simple responses, `HttpJwtAuthorizer`: raw
/// `AWS::ApiGatewayV2::Authorizer` + Route `AuthorizerId`): each route refuses the request
/// without credentials and with wrong ones as API Gateway does, and admits the right ones
/// with the authorizer's context or the token's claims in the event
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html,
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html).
#[test]
fn cdk_http_api_lambda_and_jwt_authorizers_refuse_then_admit() {
    let keys = tempfile::tempdir().unwrap();
    let out = ssam_testkit::run_python(
        r#"
import json, os, time, jwt
from cryptography.hazmat.primitives.asymmetric import rsa
d = os.environ["KEYS"]
good, other = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(good.public_key()))
jwk.update(kid="k1", alg="RS256", use="sig")
open(f"{d}/jwks.json", "w").write(json.dumps({"keys": [jwk]}))
def token(key, aud):
    claims = {"iss": "https://issuer.example.com", "aud": aud, "sub": "user-1", "exp": int(time.time()) + 600}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
print(json.dumps({"good": token(good, "my-client"), "wrong_aud": token(good, "another"), "forged": token(other, "my-client")}))
"#,
        &[("KEYS", &keys.path().to_string_lossy())],
    );
    let tokens: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    let jwks = format!(
        "https://issuer.example.com={}",
        keys.path().join("jwks.json").display()
    );
    let (server, url) = start_api_with(&template(), &[OsStr::new("--jwks"), OsStr::new(&jwks)]);
    let log = || server.lines().join("\n");

    // Lambda authorizer: no identity source is 401 without invoking it, a refusal 403.
    let (status, _, body) = curl(&[&format!("{url}/private")]);
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"message":"Unauthorized"}"#),
        "{}",
        log()
    );
    let (status, _, body) = curl(&["-H", "Authorization: wrong", &format!("{url}/private")]);
    assert_eq!(
        (status, body.as_str()),
        (403, r#"{"message":"Forbidden"}"#),
        "{}",
        log()
    );
    let (status, _, body) = curl(&["-H", "Authorization: let-me-in", &format!("{url}/private")]);
    assert_eq!(status, 200, "{body}\n{}", log());
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["authorizer"]["lambda"]["who"], "cdk-test", "{v}");

    // JWT authorizer with the issuer's key set: missing, wrong audience and forged tokens
    // are 401; the right one reaches the function with its claims.
    let bearer = |t: &str| format!("Authorization: Bearer {}", tokens[t].as_str().unwrap());
    let (status, _, _) = curl(&[&format!("{url}/jwt")]);
    assert_eq!(status, 401);
    for bad in ["wrong_aud", "forged"] {
        let (status, _, body) = curl(&["-H", &bearer(bad), &format!("{url}/jwt")]);
        assert_eq!(status, 401, "{bad}: {body}");
    }
    let (status, _, body) = curl(&["-H", &bearer("good"), &format!("{url}/jwt")]);
    assert_eq!(status, 200, "{body}\n{}", log());
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["authorizer"]["jwt"]["claims"]["sub"], "user-1", "{v}");
    server.stop();
}
