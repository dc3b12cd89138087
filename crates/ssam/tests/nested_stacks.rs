//! Nested stacks from local templates (`AWS::Serverless::Application` `Location`,
//! `AWS::CloudFormation::Stack` `TemplateURL`) in every command, their functions named
//! `Child/Function` as SAM CLI names them ("Using nested applications"); and "start with what
//! can run": a template with errors is served without the resources they are about, unless
//! `--strict`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

const PARENT: &str = r#"Transform: AWS::Serverless-2016-10-31
Resources:
  Greeter:
    Type: AWS::Serverless::Application
    Properties:
      Location: greeter/template.yaml
      Parameters:
        Greeting: hello
  Shouter:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: ./greeter/template.yaml
      Parameters:
        Greeting: HEY
        RoutePath: /shout
  Front:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Environment:
        Variables:
          GREETER_FUNCTION: !GetAtt Greeter.Outputs.FunctionName
          GREETING: !GetAtt [Shouter, Outputs.Greeting]
      Events:
        Front: {Type: HttpApi, Properties: {Path: /front, Method: GET}}
"#;

const CHILD: &str = r#"Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting: {Type: String}
  RoutePath: {Type: String, Default: /greet}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../src/
      Handler: app.handler
      Runtime: python3.12
      Environment:
        Variables:
          GREETING: !Ref Greeting
          SELF_NAME: !Ref Fn
          SELF_ARN: !GetAtt Fn.Arn
      Events:
        Greet: {Type: HttpApi, Properties: {Path: !Ref RoutePath, Method: GET}}
Outputs:
  FunctionName: {Value: !Ref Fn}
  Greeting: {Value: !Sub "${Greeting}!"}
"#;

const HANDLER: &str = r#"import json, os


def handler(event, context):
    return {
        "statusCode": 200,
        "body": json.dumps({
            "function": context.function_name,
            "greeting": os.environ.get("GREETING"),
            "greeter": os.environ.get("GREETER_FUNCTION"),
            "self": os.environ.get("SELF_NAME"),
            "self_arn": os.environ.get("SELF_ARN"),
        }),
    }
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |p: &str, text: &str| {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("template.yaml", PARENT);
    write("greeter/template.yaml", CHILD);
    write("src/app.py", HANDLER);
    dir
}

fn ssam(args: &[&str], template: &Path) -> std::process::Output {
    Command::new(ssam_testkit::ssam_bin())
        .args(args)
        .arg("-t")
        .arg(template)
        .env("NO_COLOR", "1")
        .env("PATH", ssam_testkit::path_with_venv())
        .output()
        .unwrap()
}

fn invoke(function: &str, template: &Path) -> serde_json::Value {
    let out = ssam(&["local", "invoke", function, "--no-event"], template);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    serde_json::from_str(result["body"].as_str().unwrap()).unwrap()
}

#[test]
fn local_invoke_addresses_nested_functions_as_child_slash_function() {
    let dir = project();
    let t = dir.path().join("template.yaml");
    let app = invoke("Greeter/Fn", &t);
    assert_eq!(
        app["greeting"], "hello",
        "the parent's Parameters reach the child"
    );
    let stack = invoke("Shouter/Fn", &t);
    assert_eq!(stack["greeting"], "HEY");
    let front = invoke("Front", &t);
    assert_eq!(front["greeting"], "HEY!", "Fn::GetAtt Child.Outputs.X");
    assert_eq!(
        front["greeter"], "Greeter/Fn",
        "the child's Output `!Ref Fn` is the name ssam serves it under"
    );
}

#[test]
fn list_shows_nested_functions_and_start_api_serves_their_routes() {
    let dir = project();
    let t = dir.path().join("template.yaml");
    let out = ssam(&["list", "functions"], &t);
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["Front", "Greeter/Fn", "Shouter/Fn"] {
        assert!(text.contains(name), "{name} in:\n{text}");
    }
    let args: Vec<&OsStr> = ["local", "start-api", "--port", "0", "--no-watch", "-t"]
        .iter()
        .map(OsStr::new)
        .chain([t.as_os_str()])
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
        .unwrap();
    for (path, greeting) in [("/greet", "hello"), ("/shout", "HEY"), ("/front", "HEY!")] {
        let out = Command::new("curl")
            .args(["-s", "--max-time", "30", &format!("{url}{path}")])
            .output()
            .unwrap();
        let body = String::from_utf8_lossy(&out.stdout);
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|_| panic!("{path}: {body}\n{}", server.lines().join("\n")));
        assert_eq!(v["greeting"], greeting, "{path}");
    }
}

#[test]
fn a_nested_stack_cycle_is_a_clear_error_in_validate() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("template.yaml");
    std::fs::write(
        &t,
        "Resources:\n  Me:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: template.yaml}\n",
    )
    .unwrap();
    let out = ssam(&["validate"], &t);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("nested stacks form a cycle"), "{err}");
    assert!(err.contains("template.yaml:2:3"), "{err}");
}

const BROKEN: &str = r#"Transform: AWS::Serverless-2016-10-31
Resources:
  Good:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Good: {Type: HttpApi, Properties: {Path: /good, Method: GET}}
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Environment:
        Variables:
          TABLE: !Ref TableThatIsNotThere
      Events:
        Broken: {Type: HttpApi, Properties: {Path: /broken, Method: GET}}
  Rest:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: rest}
  NoIntegration:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Rest
      ResourceId: !GetAtt Rest.RootResourceId
      HttpMethod: GET
"#;

// Issue #13, "Start with what can run": SAM starts on templates CloudFormation rejects.
#[test]
fn local_commands_serve_what_errors_do_not_affect_and_strict_refuses() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/app.py"), HANDLER).unwrap();
    let t = dir.path().join("template.yaml");
    std::fs::write(&t, BROKEN).unwrap();

    let out = ssam(&["validate"], &t);
    assert!(!out.status.success(), "validate stays strict");

    let args: Vec<&OsStr> = ["local", "start-api", "--port", "0", "--no-watch", "-t"]
        .iter()
        .map(OsStr::new)
        .chain([t.as_os_str()])
        .collect();
    let server = ssam_testkit::Server::start(&args, "Running on");
    let log = server.lines().join("\n");
    assert!(
        log.contains("left out Broken (AWS::Serverless::Function)")
            && log.contains("TableThatIsNotThere"),
        "{log}"
    );
    assert!(
        log.contains("left out NoIntegration (AWS::ApiGateway::Method)"),
        "{log}"
    );
    assert!(log.contains("--strict"), "{log}");
    let url = server
        .lines()
        .iter()
        .find_map(|l| {
            l.split("Running on ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .map(|u| u.trim_end_matches('/').to_string())
        })
        .unwrap();
    let code = |path: &str| {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("{url}{path}"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert_eq!(code("/good"), "200");
    // No route: API Gateway's own answer (404 for HTTP APIs, 403 once a REST API is served).
    let broken = code("/broken");
    assert!(
        broken == "404" || broken == "403",
        "the broken function's route is left out: {broken}"
    );
    drop(server);

    let out = ssam(&["local", "invoke", "Good", "--no-event"], &t);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ssam(&["local", "invoke", "Good", "--no-event", "--strict"], &t);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--strict"));
    let out = ssam(&["local", "start-api", "--port", "0", "--strict"], &t);
    assert!(!out.status.success(), "--strict refuses to start");
}

/// Hot reload watches the nested stacks' child templates too: adding a route to the child
/// template serves it without a restart.
#[test]
fn editing_a_child_template_reloads_its_routes() {
    let dir = project();
    let t = dir.path().join("template.yaml");
    let args: Vec<&OsStr> = ["local", "start-api", "--port", "0", "-t"]
        .iter()
        .map(OsStr::new)
        .chain([t.as_os_str()])
        .collect();
    let server = ssam_testkit::Server::start(&args, "Running on");
    let url = server
        .word_after(" * Running on ")
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let status = |path: &str| {
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "30",
            ])
            .arg(format!("{url}{path}"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(status("/child-extra"), "404");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let edited = CHILD.replace(
        "        Greet: {Type: HttpApi, Properties: {Path: !Ref RoutePath, Method: GET}}\n",
        "        Greet: {Type: HttpApi, Properties: {Path: !Ref RoutePath, Method: GET}}\n        Extra: {Type: HttpApi, Properties: {Path: /child-extra, Method: GET}}\n",
    );
    assert_ne!(edited, CHILD);
    std::fs::write(dir.path().join("greeter/template.yaml"), edited).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while status("/child-extra") != "200" {
        assert!(
            std::time::Instant::now() < deadline,
            "the child's new route is not served: {:?}",
            server.lines()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(server
        .lines()
        .iter()
        .any(|l| l.contains("greeter/template.yaml changed: routes reloaded")));
}

/// Inside a nested stack, `!Ref Fn` and `!GetAtt Fn.Arn` name the function as ssam serves it
/// (`Child/Fn`), not the child-local id: a child's environment variable naming its own
/// function makes an SDK invoke reach that function (the same template nested twice with
/// different Parameters tells them apart), through `local start-lambda` and boto3.
#[test]
fn a_childs_ref_to_its_own_function_invokes_that_function() {
    let dir = project();
    let t = dir.path().join("template.yaml");
    let greeter = invoke("Greeter/Fn", &t);
    assert_eq!(greeter["self"], "Greeter/Fn");
    assert_eq!(
        greeter["self_arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:Greeter/Fn"
    );
    let shouter = invoke("Shouter/Fn", &t);
    assert_eq!(shouter["self"], "Shouter/Fn");

    let args: Vec<&OsStr> = ["local", "start-lambda", "--port", "0", "--no-watch", "-t"]
        .iter()
        .map(OsStr::new)
        .chain([t.as_os_str()])
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
        .unwrap();
    let script = format!(
        r#"
import json, boto3
from botocore.config import Config
lam = boto3.client("lambda", endpoint_url="{url}", region_name="us-east-1",
    aws_access_key_id="x", aws_secret_access_key="x", config=Config(retries={{"max_attempts": 0}}))
out = []
for name in ["{shout_self}", "{greet_arn}"]:
    r = lam.invoke(FunctionName=name, Payload=b"{{}}")
    out.append(json.loads(json.loads(r["Payload"].read())["body"]))
print(json.dumps(out))
"#,
        shout_self = shouter["self"].as_str().unwrap(),
        greet_arn = greeter["self_arn"].as_str().unwrap(),
    );
    let out = ssam_testkit::run_python(&script, &[]);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", server.lines()));
    assert_eq!(v[0]["greeting"], "HEY", "Shouter's own function: {v}");
    assert_eq!(v[0]["self"], "Shouter/Fn");
    assert_eq!(v[1]["greeting"], "hello", "Greeter's own function: {v}");
}
