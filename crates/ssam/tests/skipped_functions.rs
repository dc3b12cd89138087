//! A function the template has but ssam cannot run: its routes answer 500 (HTTP API) and the log says
//! why. Regression: skipped functions were stored under their FunctionName and looked up by
//! logical id, so a function with a FunctionName was reported as "the template has no such
//! function" instead of the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsStr;

const TEMPLATE: &str = r#"Transform: AWS::Serverless-2016-10-31
Resources:
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: broken-fn
      CodeUri: does-not-exist/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Api:
          Type: HttpApi
          Properties:
            Path: /broken
            Method: GET
"#;

#[test]
fn a_skipped_function_with_a_function_name_is_reported_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(&template, TEMPLATE).unwrap();
    let args: Vec<&OsStr> = ["local", "start-api", "--port", "0", "--no-watch", "-t"]
        .iter()
        .map(OsStr::new)
        .chain([template.as_os_str()])
        .collect();
    let server = ssam_testkit::Server::start(&args, "Running on");
    let url = server
        .lines()
        .iter()
        .find_map(|l| {
            l.split("Running on ").nth(1).map(|r| {
                r.split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('/')
                    .to_string()
            })
        })
        .expect("the Running on line");
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("{url}/broken"))
        .output()
        .expect("curl");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "500",
        "{}",
        server.lines().join("\n")
    );
    let lines = server.stop();
    let log = lines.join("\n");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("GET /broken: cannot invoke Broken:")
                && l.contains("does-not-exist")
                && l.contains("does not exist")),
        "{log}"
    );
    assert!(!log.contains("the template has no such function"), "{log}");
}
