//! Bucket rules: typed CORS rules (CloudFormation's `CorsRule`) and their diagnostics.

use super::check;
use crate::App;

/// One line per bucket, then one per CORS rule.
fn buckets(app: &App) -> String {
    let mut out = String::new();
    for b in &app.buckets {
        out.push_str(&format!("{} {}\n", b.logical_id, b.name));
        match &b.cors {
            None => out.push_str("  cors: none\n"),
            Some(rules) if rules.is_empty() => out.push_str("  cors: no rules\n"),
            Some(rules) => {
                for r in rules {
                    out.push_str(&format!(
                        "  cors id={} origins={} methods={} headers={} exposed={} max_age={}\n",
                        r.id.as_deref().unwrap_or("-"),
                        r.allowed_origins.join(","),
                        r.allowed_methods.join(","),
                        r.allowed_headers.join(","),
                        r.exposed_headers.join(","),
                        r.max_age.map_or("-".to_string(), |m| m.to_string()),
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn cors_rules_are_typed_in_template_order() {
    check(
        r#"
        Parameters:
          Origin: {Type: String, Default: "https://app.example.com"}
          Age: {Type: Number, Default: 600}
        Resources:
          Uploads:
            Type: AWS::S3::Bucket
            Properties:
              BucketName: uploads
              CorsConfiguration:
                CorsRules:
                  - Id: browser-uploads
                    AllowedOrigins: [!Ref Origin, "http://localhost:*"]
                    AllowedMethods: [PUT, POST]
                    AllowedHeaders: ["*"]
                    ExposedHeaders: [ETag, x-amz-request-id]
                    MaxAge: !Ref Age
                  - AllowedOrigins: ["*"]
                    AllowedMethods: [GET, HEAD]
                    MaxAge: 3000
          Plain:
            Type: AWS::S3::Bucket
            Properties: {BucketName: plain}
          NoRules:
            Type: AWS::S3::Bucket
            Properties:
              BucketName: no-rules
              CorsConfiguration: {CorsRules: []}
        "#,
        buckets,
        r#"
        Uploads uploads
          cors id=browser-uploads origins=https://app.example.com,http://localhost:* methods=PUT,POST headers=* exposed=ETag,x-amz-request-id max_age=600
          cors id=- origins=* methods=GET,HEAD headers= exposed= max_age=3000
        Plain plain
          cors: none
        NoRules no-rules
          cors: no rules
        "#,
    );
}

#[test]
fn a_malformed_cors_rule_is_an_error_at_its_position_and_left_out() {
    check(
        r#"
        Resources:
          B:
            Type: AWS::S3::Bucket
            Properties:
              BucketName: bkt
              CorsConfiguration:
                CorsRules:
                  - AllowedMethods: [GET]
                  - AllowedOrigins: ["*"]
                    AllowedMethods: [get, PATCH]
                  - AllowedOrigins: "*"
                    AllowedMethods: []
                  - AllowedOrigins: ["*"]
                    AllowedMethods: [GET]
                    MaxAgeSeconds: 30
                    MaxAge: -1
                  - just-a-string
                  - AllowedOrigins: ["*"]
                    AllowedMethods: [DELETE]
        "#,
        buckets,
        r#"
        B bkt
          cors id=- origins=* methods=DELETE headers= exposed= max_age=-
        error 8:13: bucket B: CORS rule 1 has no AllowedOrigins
        error 10:30: bucket B: CORS rule 2: "get" is not a method S3 allows in a CORS rule
        error 10:35: bucket B: CORS rule 2: "PATCH" is not a method S3 allows in a CORS rule
        error 11:29: bucket B: CORS rule 3: AllowedOrigins must be a list of strings
        error 12:29: bucket B: CORS rule 3: AllowedMethods must not be empty
        error 15:13: bucket B: CORS rule 4: unknown property "MaxAgeSeconds"
        error 16:21: bucket B: CORS rule 4: MaxAge must be a whole number of seconds from 0 to 2147483647
        error 17:13: bucket B: CORS rule 5 must be a mapping
        "#,
    );
}

#[test]
fn cors_configuration_needs_a_list_of_rules() {
    check(
        r#"
        Resources:
          NoList:
            Type: AWS::S3::Bucket
            Properties:
              BucketName: no-list
              CorsConfiguration: {CorsRules: {AllowedOrigins: ["*"], AllowedMethods: [GET]}}
          NoRules:
            Type: AWS::S3::Bucket
            Properties:
              BucketName: no-rules
              CorsConfiguration: {AllowedOrigins: ["*"]}
        "#,
        buckets,
        r#"
        NoList no-list
          cors: none
        NoRules no-rules
          cors: none
        error 6:38: bucket NoList: CorsRules must be a list of rules
        error 11:26: bucket NoRules: CorsConfiguration has no CorsRules
        "#,
    );
}

#[test]
fn a_cors_rule_only_aws_can_resolve_is_a_warning_and_left_out() {
    check(
        r#"
        Resources:
          B:
            Type: AWS::S3::Bucket
            Properties:
              BucketName: bkt
              CorsConfiguration:
                CorsRules:
                  - AllowedOrigins: [!ImportValue SharedOrigin]
                    AllowedMethods: [GET]
                  - AllowedOrigins: ["*"]
                    AllowedMethods: [GET]
        "#,
        buckets,
        r#"
        B bkt
          cors id=- origins=* methods=GET headers= exposed= max_age=-
        warning 8:13: bucket B: CORS rule 1 depends on a value only AWS knows; ssam leaves it out
        "#,
    );
}

/// S3's bucket naming rules for general purpose buckets,
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>, as ssam's
/// S3 store enforces them (`ssam-s3/src/store/mod.rs`): every name the store refuses (its own
/// test cases first) is a template error, so `ssam local start` cannot fail on it later.
#[test]
fn bucket_names_follow_s3_naming_rules_as_the_store_does() {
    use crate::sam::buckets::{bucket_name_problem, NAMING_RULES};
    assert!(NAMING_RULES.ends_with("/AmazonS3/latest/userguide/bucketnamingrules.html"));
    let cases: &[(&str, Option<&str>)] = &[
        // The store's own cases (`bucket_names_cannot_be_paths`).
        ("..", Some("it must be 3 to 63 characters long")),
        (
            "../etc",
            Some("only lower-case letters, digits, dots and hyphens are allowed"),
        ),
        (
            "a/b",
            Some("only lower-case letters, digits, dots and hyphens are allowed"),
        ),
        ("ab", Some("it must be 3 to 63 characters long")),
        (
            "A-B-C",
            Some("only lower-case letters, digits, dots and hyphens are allowed"),
        ),
        ("x..y", Some("it must not contain two adjacent dots")),
        ("help-me-sam", None),
        // The rules the store has and the template used to lack.
        ("my.-bucket", Some("a dot must not be next to a hyphen")),
        ("my-.bucket", Some("a dot must not be next to a hyphen")),
        // The rest of the documented rules both enforce.
        ("abc", None),
        (&"a".repeat(63), None),
        (&"a".repeat(64), Some("it must be 3 to 63 characters long")),
        (
            "my_bucket",
            Some("only lower-case letters, digits, dots and hyphens are allowed"),
        ),
        (
            "-bucket",
            Some("it must start and end with a letter or digit"),
        ),
        (
            "bucket.",
            Some("it must start and end with a letter or digit"),
        ),
        (
            "bücket",
            Some("only lower-case letters, digits, dots and hyphens are allowed"),
        ),
        ("logs.example.com", None),
        ("0-9", None),
        // An intrinsic only AWS can resolve is not a name to check.
        (r#"{"Fn::ImportValue":"Name"}"#, None),
    ];
    for (name, want) in cases {
        assert_eq!(bucket_name_problem(name), *want, "{name:?}");
    }
}

#[test]
fn a_bucket_name_s3_refuses_is_an_error_at_the_bucket() {
    check(
        r#"
        Parameters:
          Env: {Type: String, Default: dev}
        Resources:
          Dotted:
            Type: AWS::S3::Bucket
            Properties: {BucketName: !Sub "logs.-${Env}"}
          Fine:
            Type: AWS::S3::Bucket
            Properties: {BucketName: !Sub "logs.${Env}"}
          Generated:
            Type: AWS::S3::Bucket
        "#,
        |app| {
            app.buckets
                .iter()
                .map(|b| {
                    format!(
                        "{} {} generated={}\n",
                        b.logical_id, b.name, b.name_generated
                    )
                })
                .collect()
        },
        r#"
        Dotted logs.-dev generated=false
        Fine logs.dev generated=false
        Generated local-generated-aa00204a66c2 generated=true
        error 4:3: bucket Dotted: "logs.-dev" is not a valid S3 bucket name: a dot must not be next to a hyphen
        "#,
    );
}
