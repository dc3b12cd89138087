//! A bucket's CORS rules from the template reach the local S3: a browser's preflight to the
//! bucket is answered by the rule the template declares (CloudFormation's `CorsConfiguration`,
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-corsrule.html>).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

const TEMPLATE: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: cors-uploads
      CorsConfiguration:
        CorsRules:
          - AllowedOrigins: ["http://app.example"]
            AllowedMethods: [PUT, GET]
            AllowedHeaders: ["*"]
            ExposedHeaders: [ETag]
            MaxAge: 600
"#;

fn preflight(s3: &str, origin: &str, method: &str) -> String {
    let out = std::process::Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null", "-X", "OPTIONS"])
        .args(["-H", &format!("Origin: {origin}")])
        .args(["-H", &format!("Access-Control-Request-Method: {method}")])
        .args(["-H", "Access-Control-Request-Headers: content-type"])
        .arg(format!("{s3}/cors-uploads/video.mp4"))
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).to_lowercase()
}

#[test]
fn template_cors_rules_answer_browser_preflights() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(&template, TEMPLATE).unwrap();
    let server = ssam_testkit::Server::local_start(&template, &["--ephemeral"]);
    let s3 = server.word_after("S3 ").expect("the S3 line");

    let allowed = preflight(&s3, "http://app.example", "PUT");
    assert!(allowed.starts_with("http/1.1 200"), "{allowed}");
    assert!(
        allowed.contains("access-control-allow-origin: http://app.example"),
        "{allowed}"
    );
    assert!(allowed.contains("access-control-max-age: 600"), "{allowed}");
    assert!(
        allowed.contains("access-control-expose-headers: etag"),
        "{allowed}"
    );

    let refused = preflight(&s3, "http://evil.example", "PUT");
    assert!(refused.starts_with("http/1.1 403"), "{refused}");
    assert!(
        !refused.contains("access-control-allow-origin"),
        "{refused}"
    );
    server.stop();
}
