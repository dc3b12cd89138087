//! Data-driven tests of the SAM layer: small inline templates → App / diagnostics.
#![allow(clippy::unwrap_used)]

use crate::{load_from_str, LoadOptions, Loaded};

pub(crate) fn load_str(yaml: &str) -> Result<Loaded, crate::Diagnostics> {
    load_with(yaml, &[])
}

/// Loads template text from memory: nothing is written to disk. The path only names the
/// template in diagnostics and anchors relative paths (CodeUri); it need not exist.
pub(crate) fn load_with(
    yaml: &str,
    overrides: &[(&str, &str)],
) -> Result<Loaded, crate::Diagnostics> {
    let opts = LoadOptions {
        template: std::env::temp_dir()
            .join("ssam-template-test")
            .join("template.yaml"),
        parameter_overrides: overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..LoadOptions::default()
    };
    load_from_str(yaml, &opts)
}

fn app(yaml: &str) -> crate::App {
    let loaded = load_str(yaml).unwrap();
    assert!(!loaded.diagnostics.has_errors(), "{}", loaded.diagnostics);
    loaded.app
}

fn errors(yaml: &str) -> Vec<String> {
    let loaded = load_str(yaml).unwrap();
    loaded
        .diagnostics
        .errors()
        .map(|d| format!("{}:{}: {}", d.location.line, d.location.column, d.message))
        .collect()
}

const HEADER: &str = "Transform: AWS::Serverless-2016-10-31\n";

#[test]
fn globals_merge_like_sam_maps_merge_lists_append_scalars_override() {
    let a = app(&format!(
        "{HEADER}Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    Timeout: 10
    Layers: [arn:aws:lambda:us-east-1:123456789012:layer:shared:1]
    Environment:
      Variables: {{TABLE: t, STAGE: dev}}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 20
      Layers: [arn:aws:lambda:us-east-1:123456789012:layer:own:1]
      Environment:
        Variables: {{STAGE: prod}}
  Plain:
    Type: AWS::Serverless::Function
    IgnoreGlobals: [Timeout]
    Properties: {{}}
"
    ));
    let f = &a.functions[0];
    assert_eq!(f.runtime.as_deref(), Some("python3.12"));
    assert_eq!(f.timeout, 20);
    assert_eq!(
        f.layers.len(),
        2,
        "globals' layers come first, then the function's"
    );
    assert_eq!(f.environment["STAGE"].display(), "prod");
    assert_eq!(f.environment["TABLE"].display(), "t");
    let p = &a.functions[1];
    assert_eq!(
        p.timeout, 3,
        "IgnoreGlobals: [Timeout] keeps Lambda's default"
    );
    assert_eq!(p.handler.as_deref(), Some("app.handler"));
}

#[test]
fn code_uri_is_resolved_against_the_template_directory() {
    let loaded = load_str(&format!(
        "{HEADER}Resources:
  A: {{Type: AWS::Serverless::Function, Properties: {{Runtime: python3.12, Handler: a.h, CodeUri: src/}}}}
  B: {{Type: AWS::Serverless::Function, Properties: {{Runtime: python3.12, Handler: a.h}}}}
  C: {{Type: AWS::Serverless::Function, Properties: {{Runtime: python3.12, Handler: a.h, CodeUri: {{Bucket: b, Key: k.zip}}}}}}
  D: {{Type: AWS::Serverless::Function, Properties: {{Runtime: python3.12, Handler: index.h, InlineCode: 'def h(e, c): return 1'}}}}
"
    ))
    .unwrap();
    let dir = loaded.app.template_path.parent().unwrap().to_path_buf();
    let f = &loaded.app.functions;
    assert_eq!(f[0].code_dir(), Some(dir.join("src/").as_path()));
    assert_eq!(f[1].code_dir(), Some(dir.join(".").as_path()));
    assert!(matches!(&f[2].code, crate::Code::S3 { .. }));
    assert!(matches!(&f[3].code, crate::Code::Inline { .. }));
}

#[test]
fn implicit_apis_and_routes_from_events() {
    let a = app(&format!(
        "{HEADER}Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.h
      Events:
        Get:
          Type: Api
          Properties:
            Path: /items/{{id}}
            Method: get
        Catch: {{Type: HttpApi}}
        Post: {{Type: HttpApi, Properties: {{Path: /items, Method: post, PayloadFormatVersion: '1.0'}}}}
"
    ));
    let routes: Vec<(String, String, String, String)> = a
        .routes
        .iter()
        .map(|r| {
            (
                r.api.clone(),
                r.method.clone(),
                r.path.clone(),
                r.payload_format_version.clone(),
            )
        })
        .collect();
    assert_eq!(
        routes,
        vec![
            (
                "ServerlessRestApi".into(),
                "GET".into(),
                "/items/{id}".into(),
                "1.0".into()
            ),
            (
                "ServerlessHttpApi".into(),
                "ANY".into(),
                "$default".into(),
                "2.0".into()
            ),
            (
                "ServerlessHttpApi".into(),
                "POST".into(),
                "/items".into(),
                "1.0".into()
            ),
        ]
    );
    let stages: Vec<&str> = a.apis.iter().map(|a| a.stage_name.as_str()).collect();
    assert_eq!(stages, vec!["Prod", "$default"]);
}

#[test]
fn openapi_definition_routes_target_template_functions() {
    let a = app(&format!(
        "{HEADER}Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: test
      DefinitionBody:
        openapi: 3.0.1
        paths:
          /hello:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                payloadFormatVersion: '2.0'
                uri: !Sub arn:aws:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{Fn.Arn}}/invocations
          /mock:
            get:
              x-amazon-apigateway-integration: {{type: mock}}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {{Runtime: python3.12, Handler: app.h}}
"
    ));
    assert_eq!(a.routes.len(), 1);
    assert_eq!(
        (a.routes[0].path.as_str(), a.routes[0].function.as_str()),
        ("/hello", "Fn")
    );
    assert_eq!(a.apis[0].stage_name, "test");
}

#[test]
fn s3_events_and_bucket_notifications_bind_functions_to_bucket_logical_ids() {
    let a = app(&format!(
        "{HEADER}Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: help-me-sam
  Thumbs:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectRemoved:*
            Function: !GetAtt Fn.Arn
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.h
      Environment:
        Variables: {{BUCKET: !Ref Uploads, OUT: !Ref Thumbs}}
      Events:
        Up:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: [s3:ObjectCreated:*]
            Filter: {{S3Key: {{Rules: [{{Name: suffix, Value: .mp4}}, {{Name: Prefix, Value: in/}}]}}}}
"
    ));
    assert_eq!(a.s3_bindings.len(), 2);
    let b = &a.s3_bindings[0];
    assert_eq!((b.bucket.as_str(), b.function.as_str()), ("Uploads", "Fn"));
    let rules: Vec<(&str, &str)> = b
        .filter_rules
        .iter()
        .map(|r| (r.name.as_str(), r.value.as_str()))
        .collect();
    assert_eq!(rules, vec![("prefix", "in/"), ("suffix", ".mp4")]);
    assert_eq!(a.s3_bindings[1].bucket, "Thumbs");
    let env = &a.functions[0].environment;
    assert_eq!(
        env["BUCKET"].display(),
        "help-me-sam",
        "Ref of a bucket is its name"
    );
    let generated = &a.buckets[1].name;
    assert_eq!(
        &env["OUT"].display(),
        generated,
        "Ref of an unnamed bucket is the generated name"
    );
    assert!(crate::sam::valid_bucket_name(generated), "{generated}");
}

#[test]
fn conditions_remove_resources_and_parameters_override_defaults() {
    let yaml = format!(
        "{HEADER}Parameters:
  Stage: {{Type: String, Default: dev, AllowedValues: [dev, prod]}}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Always:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.h
      MemorySize: !If [IsProd, 1024, 256]
  ProdOnly:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties: {{Runtime: python3.12, Handler: app.h}}
"
    );
    let dev = app(&yaml);
    assert_eq!(dev.functions.len(), 1);
    assert_eq!(dev.functions[0].memory_size, 256);
    let prod = load_with(&yaml, &[("Stage", "prod")]).unwrap().app;
    assert_eq!(prod.functions.len(), 2);
    assert_eq!(prod.functions[0].memory_size, 1024);
    let bad = load_with(&yaml, &[("Stage", "qa")]).unwrap();
    let text = bad.diagnostics.to_string();
    assert!(
        text.contains("parameter Stage is \"qa\", which is not one of its AllowedValues"),
        "{text}"
    );
}

#[test]
fn every_problem_is_reported_with_its_position() {
    let errs = errors(&format!(
        "{HEADER}Parameters:
  Secret: {{Type: String}}
Resources:
  Big:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.h
      MemorySize: 20000
      Timeout: 901
  NoHandler:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Events:
        E: {{Type: Carrier}}
  Img:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.h
      Role: !GetAtt Missing.Arn
      Environment:
        Variables:
          A: !Ref Nowhere
"
    ));
    let want = [
        "3:3: parameter Secret has no Default and no value was given",
        "10:19: Big: MemorySize 20000 MB is outside Lambda's range of 128-10240 MB",
        "11:16: Big: Timeout 901 s is outside Lambda's range of 1-900 seconds",
        "12:3: NoHandler: a Zip function needs a Handler",
        "17:19: NoHandler: event E has unknown type \"Carrier\"",
        "18:3: Img: an Image function needs an ImageUri or Metadata with Dockerfile and DockerContext",
        "27:13: Fn::GetAtt of \"Missing\", which is not a resource of this template",
        "30:14: Ref to \"Nowhere\", which is neither a parameter nor a resource of this template",
    ];
    for w in want {
        assert!(
            errs.iter().any(|e| e == w),
            "missing {w:?} in\n{}",
            errs.join("\n")
        );
    }
}

#[test]
fn environment_over_4_kb_is_an_error() {
    let big = "x".repeat(4100);
    let errs = errors(&format!(
        "{HEADER}Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.h
      Environment:
        Variables:
          BIG: {big}
"
    ));
    assert!(
        errs.iter()
            .any(|e| e.contains("environment variables take 4103 bytes; Lambda allows 4 KB")),
        "{errs:?}"
    );
}

#[test]
fn function_arn_and_pseudo_parameters_have_real_formats() {
    let a = app(&format!(
        "{HEADER}Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub '${{AWS::StackName}}-worker'
      Runtime: python3.12
      Handler: app.h
      Environment:
        Variables:
          SELF: !GetAtt Fn.Arn
          WHERE: !Sub '${{AWS::Region}}/${{AWS::AccountId}}/${{AWS::Partition}}/${{AWS::URLSuffix}}'
"
    ));
    let f = &a.functions[0];
    assert_eq!(f.name(), "local-worker");
    assert_eq!(
        f.environment["SELF"].display(),
        "arn:aws:lambda:us-east-1:123456789012:function:local-worker"
    );
    assert_eq!(
        f.environment["WHERE"].display(),
        "us-east-1/123456789012/aws/localhost"
    );
}

#[test]
fn unresolvable_intrinsics_stay_visible() {
    let a = app(&format!(
        "{HEADER}Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.h
      Environment:
        Variables:
          SHARED: !ImportValue shared-table
"
    ));
    assert_eq!(
        a.functions[0].environment["SHARED"].display(),
        r#"{"Fn::ImportValue":"shared-table"}"#
    );
}

#[test]
fn json_templates_load_like_yaml() {
    let a = app(r#"{
  "Transform": "AWS::Serverless-2016-10-31",
  "Resources": {
    "Fn": {
      "Type": "AWS::Serverless::Function",
      "Properties": {"Runtime": "nodejs20.x", "Handler": "index.handler", "CodeUri": {"Fn::Sub": "src"}}
    }
  }
}"#);
    assert_eq!(a.functions[0].runtime.as_deref(), Some("nodejs20.x"));
    assert!(a.functions[0]
        .code_dir()
        .is_some_and(|p| p.ends_with("src")));
}

#[test]
fn not_a_template_is_a_clear_error() {
    let err = load_str("- just\n- a list\n").unwrap_err();
    assert!(
        err.to_string()
            .contains("a template must be a mapping with a Resources section"),
        "{err}"
    );
    let err = load_str("Description: nothing\n").unwrap_err();
    assert!(err.to_string().contains("no Resources mapping"), "{err}");
}

#[test]
fn language_extensions_for_each_expands_resources() {
    let a = app(
        "Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Parameters:
  Names: {Type: CommaDelimitedList, Default: 'alpha,beta-2'}
Resources:
  Fn::ForEach::Workers:
    - Name
    - !Ref Names
    - Worker&{Name}:
        Type: AWS::Serverless::Function
        Properties:
          Runtime: python3.12
          Handler: app.h
          CodeUri: !Sub workers/${Name}/
          Environment:
            Variables:
              NAME: !Ref Name
",
    );
    let ids: Vec<&str> = a.functions.iter().map(|f| f.logical_id.as_str()).collect();
    assert_eq!(ids, vec!["Workeralpha", "Workerbeta2"]);
    assert_eq!(a.functions[1].environment["NAME"].display(), "beta-2");
    assert!(a.functions[1]
        .code_dir()
        .is_some_and(|p| p.ends_with("workers/beta-2/")));
}

/// A Runtime that is not one of Lambda's identifiers (seen in real templates: `python3`,
/// `provided.al2023023`) is a warning with the likely one; known ones, current or
/// deprecated, are not. Lambda's API enum:
/// <https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#lambda-CreateFunction-request-Runtime>
#[test]
fn an_unknown_runtime_is_a_warning_with_the_likely_identifier() {
    let loaded = load_str(&format!(
        "{HEADER}Resources:
  Short:
    Type: AWS::Serverless::Function
    Properties: {{Runtime: python3, Handler: app.h}}
  Typo:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023023
      Handler: bootstrap
  Old:
    Type: AWS::Serverless::Function
    Properties: {{Runtime: python2.7, Handler: app.h}}
  New:
    Type: AWS::Serverless::Function
    Properties: {{Runtime: nodejs24.x, Handler: app.h}}
"
    ))
    .unwrap();
    assert!(!loaded.diagnostics.has_errors(), "{}", loaded.diagnostics);
    let warnings: Vec<String> = loaded
        .diagnostics
        .warnings()
        .map(|d| {
            format!(
                "{}:{}: {} ({})",
                d.location.line,
                d.location.column,
                d.message,
                d.hint.as_deref().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        warnings,
        [
            "5:27: Short: Runtime python3 is not a Lambda runtime: deploying this template fails (did you mean python3.14?)",
            "9:16: Typo: Runtime provided.al2023023 is not a Lambda runtime: deploying this template fails (did you mean provided.al2023?)",
        ]
    );
}

mod buckets;
mod cdk;
mod functions;
mod nested;

/// rust-analyzer style data-driven check: loads `yaml` (indented like the test around it;
/// the common indentation is removed, so line numbers count from its first line), renders
/// what `render` picks from the model, then every diagnostic as `error LINE:COL: message`,
/// and compares that with `expect` line by line (indentation and blank lines ignored).
pub(crate) fn check(yaml: &str, render: impl Fn(&crate::App) -> String, expect: &str) {
    let text = dedent(yaml);
    let (mut out, diags) = match load_str(&text) {
        Ok(loaded) => (render(&loaded.app), loaded.diagnostics),
        Err(diags) => (String::new(), diags),
    };
    for d in &diags.0 {
        let sev = match d.severity {
            crate::Severity::Error => "error",
            crate::Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "\n{sev} {}:{}: {}",
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
    let (got, want) = (norm(&out), norm(expect));
    assert_eq!(
        got,
        want,
        "\n--- template ---\n{text}\n--- got ---\n{}\n",
        got.join("\n")
    );
}

/// Removes the indentation common to every non-blank line, and leading blank lines.
fn dedent(s: &str) -> String {
    let indent = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    s.lines()
        .skip_while(|l| l.trim().is_empty())
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
