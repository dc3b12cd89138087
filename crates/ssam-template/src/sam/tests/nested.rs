//! Nested stacks: `AWS::Serverless::Application` (`Location`) and `AWS::CloudFormation::Stack`
//! (`TemplateURL`) loaded from local files, with their Parameters and Outputs, their
//! resources named `Child/Id`; diagnostics point into the child's file; cycles and missing
//! files are errors.

use super::dedent;
use crate::{load, App, LoadOptions};

/// Writes `files` (path, text) into a temporary directory, loads `template.yaml` from it and
/// compares `render(app)` plus every diagnostic (`file:line:col: severity: message`, paths
/// relative to the directory) with `expect`.
fn check_files(files: &[(&str, &str)], render: impl Fn(&App) -> String, expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, dedent(text)).unwrap();
    }
    let opts = LoadOptions {
        template: dir.path().join("template.yaml"),
        stack_name: Some("app".into()),
        ..LoadOptions::default()
    };
    let root = dir.path().canonicalize().unwrap();
    let (mut out, diags) = match load(&opts) {
        Ok(l) => (render(&l.app), l.diagnostics),
        Err(d) => (String::new(), d),
    };
    for d in &diags.0 {
        let file = d
            .location
            .file
            .canonicalize()
            .unwrap_or(d.location.file.to_path_buf());
        let file = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let sev = match d.severity {
            crate::Severity::Error => "error",
            crate::Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "\n{file}:{}:{}: {sev}: {}",
            d.location.line, d.location.column, d.message
        ));
    }
    let norm = |s: &str| -> Vec<String> {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let out = out
        .replace(&root.display().to_string(), "TMP")
        .replace(&dir.path().display().to_string(), "TMP");
    assert_eq!(norm(&out), norm(expect), "\n--- got ---\n{out}\n");
}

fn summary(app: &App) -> String {
    let mut out = Vec::new();
    for f in &app.functions {
        let env: Vec<String> = f
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={}", v.display()))
            .collect();
        out.push(format!(
            "fn {} name={} code={} env=[{}]",
            f.logical_id,
            f.name(),
            f.code_dir()
                .and_then(|d| d.file_name())
                .map_or("-".into(), |n| n.to_string_lossy().into_owned()),
            env.join(",")
        ));
    }
    for r in &app.routes {
        out.push(format!(
            "route {} {} {} -> {}",
            r.api, r.method, r.path, r.function
        ));
    }
    for b in &app.buckets {
        out.push(format!("bucket {} {}", b.logical_id, b.name));
    }
    for (k, v) in &app.outputs {
        out.push(format!("output {k}={}", v.display()));
    }
    for n in &app.nested_stacks {
        out.push(format!(
            "nested {} {}",
            n.logical_id,
            n.template_path.file_name().unwrap().to_string_lossy()
        ));
    }
    out.join("\n")
}

const CHILD: &str = r#"
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      Greeting: {Type: String}
      Mode: {Type: String, Default: fast}
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: src/
          Runtime: python3.12
          Handler: app.handler
          Environment: {Variables: {GREETING: !Ref Greeting, MODE: !Ref Mode}}
          Events:
            Hi: {Type: Api, Properties: {Path: /hi, Method: get}}
      Store: {Type: AWS::S3::Bucket, Properties: {BucketName: !Sub "${Greeting}-store"}}
    Outputs:
      FnName: {Value: !Ref Fn}
      StoreName: {Value: !Ref Store}
"#;

// "Using nested applications" (SAM): `sam local invoke ChildStack/Function`; CloudFormation's
// `Fn::GetAtt NestedStack.Outputs.NestedStackOutputName`.
#[test]
fn both_nested_stack_types_load_with_parameters_outputs_and_child_names() {
    check_files(
        &[
            (
                "template.yaml",
                r#"
                Transform: AWS::Serverless-2016-10-31
                Resources:
                  App:
                    Type: AWS::Serverless::Application
                    Properties:
                      Location: child/template.yaml
                      Parameters: {Greeting: hello}
                  Stack:
                    Type: AWS::CloudFormation::Stack
                    Properties:
                      TemplateURL: ./child/template.yaml
                      Parameters: {Greeting: !Sub "${AWS::Region}", Mode: slow}
                  Parent:
                    Type: AWS::Serverless::Function
                    Properties:
                      CodeUri: src/
                      Runtime: python3.12
                      Handler: app.handler
                      Environment:
                        Variables:
                          CHILD: !GetAtt App.Outputs.FnName
                          STORE: !GetAtt [Stack, Outputs.StoreName]
                Outputs:
                  Store: {Value: !GetAtt App.Outputs.StoreName}
                "#,
            ),
            ("child/template.yaml", CHILD),
        ],
        summary,
        "
        fn Parent name=Parent code=src env=[CHILD=App/Fn,STORE=us-east-1-store]
        fn App/Fn name=App/Fn code=src env=[GREETING=hello,MODE=fast]
        fn Stack/Fn name=Stack/Fn code=src env=[GREETING=us-east-1,MODE=slow]
        route App/ServerlessRestApi GET /hi -> App/Fn
        route Stack/ServerlessRestApi GET /hi -> Stack/Fn
        bucket App/Store hello-store
        bucket Stack/Store us-east-1-store
        output Store=hello-store
        nested App template.yaml
        nested Stack template.yaml
        ",
    );
}

#[test]
fn child_diagnostics_point_into_the_child_file() {
    check_files(
        &[
            (
                "template.yaml",
                "
                Resources:
                  Child:
                    Type: AWS::CloudFormation::Stack
                    Properties: {TemplateURL: nested/child.yaml}
                ",
            ),
            (
                "nested/child.yaml",
                "
                Resources:
                  Fn:
                    Type: AWS::Lambda::Function
                    Properties:
                      Runtime: python3.12
                      Handler: app.handler
                      Code: .
                      Environment: {Variables: {X: !Ref Missing}}
                ",
            ),
        ],
        |a| summary(a).lines().next().unwrap_or_default().to_string(),
        r#"
        fn Child/Fn name=Child/Fn code=nested env=[X={"Ref":"Missing"}]
        nested/child.yaml:8:36: error: Ref to "Missing", which is neither a parameter nor a resource of this template
        "#,
    );
}

#[test]
fn cycles_missing_and_remote_children_are_reported() {
    check_files(
        &[
            (
                "template.yaml",
                "
                Resources:
                  Loop:
                    Type: AWS::CloudFormation::Stack
                    Properties: {TemplateURL: a.yaml}
                  Gone:
                    Type: AWS::Serverless::Application
                    Properties: {Location: nowhere.yaml}
                  Remote:
                    Type: AWS::Serverless::Application
                    Properties:
                      Location: {ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/x, SemanticVersion: 1.0.0}
                ",
            ),
            (
                "a.yaml",
                "
                Resources:
                  Back:
                    Type: AWS::CloudFormation::Stack
                    Properties: {TemplateURL: template.yaml}
                ",
            ),
        ],
        |_| String::new(),
        "
        template.yaml:5:3: error: Gone: the nested stack's template TMP/nowhere.yaml does not exist
        template.yaml:11:17: warning: Remote: the nested stack is not loaded: its Location is not a local template
        a.yaml:2:3: error: Back: nested stacks form a cycle: TMP/template.yaml → TMP/a.yaml → TMP/template.yaml
        ",
    );
}
