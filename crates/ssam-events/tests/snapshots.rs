//! Snapshot of every service/event `generate-event` knows, at its defaults, plus the
//! catalogue's error messages. Sample ids and times are fixed, so no filters are needed.

#![allow(clippy::unwrap_used)]

use ssam_events::registry::{self, SERVICES};

#[test]
fn every_event_at_its_defaults() {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for service in SERVICES {
            for event in service.events {
                let value = registry::generate(service.name, event.name, &[])
                    .unwrap_or_else(|e| panic!("{} {}: {e}", service.name, event.name));
                insta::assert_json_snapshot!(format!("{}__{}", service.name, event.name), value);
            }
        }
    });
}

#[test]
fn listing_of_services_and_events() {
    let mut listing = String::new();
    for service in SERVICES {
        listing.push_str(service.name);
        listing.push('\n');
        for name in service.event_names() {
            let spec = registry::event(service.name, name).unwrap();
            let flags: Vec<_> = spec.flags.iter().map(|f| format!("--{}", f.name)).collect();
            listing.push_str(&format!("  {name} {}\n", flags.join(" ")));
        }
    }
    insta::assert_snapshot!(listing);
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn errors_name_what_was_expected() {
    let err =
        |s: &str, e: &str, a: &[&str]| registry::generate(s, e, &args(a)).unwrap_err().to_string();
    assert_eq!(
        err("s3", "puts", &[]),
        "unknown event 'puts' for service s3; expected one of: batch-invocation, delete, put"
    );
    assert!(err("s4", "put", &[])
        .starts_with("unknown service 's4'; expected one of: alb, alexa-skills-kit,"));
    assert_eq!(
        err("s3", "put", &["--bukket", "x"]),
        "unknown flag '--bukket' for s3 put; expected one of: --region, --partition, --bucket, \
         --key, --size, --etag, --version-id, --event-version"
    );
    assert_eq!(
        err("s3", "put", &["--bucket"]),
        "flag '--bucket' needs a value"
    );
    assert_eq!(
        err("s3", "put", &["bucket"]),
        "unexpected argument 'bucket' for s3 put; flags look like --name value"
    );
    assert_eq!(
        err("s3", "put", &["--size", "big"]),
        "invalid value 'big' for --size: expected a size in bytes"
    );
    assert!(err(
        "apigateway",
        "aws-proxy",
        &["--querystringparameters", "[1]"]
    )
    .starts_with("invalid value '[1]' for --querystringparameters"));
    assert!(err("eventbridge", "custom", &["--detail", "nope"])
        .starts_with("invalid value 'nope' for --detail"));
    assert!(err(
        "alexa-smart-home",
        "smart-home-discovery-request",
        &["--x", "1"]
    )
    .ends_with("expected one of: (this event takes no flags)"));
}

#[test]
fn flags_accept_equals_form_and_sam_aliases() {
    let v = registry::generate(
        "apigateway",
        "authorizer",
        &args(&["--restApiId=abc", "--stage", "dev"]),
    )
    .unwrap();
    assert_eq!(
        v["methodArn"],
        "arn:aws:execute-api:us-east-1:123456789012:abc/dev/POST/{proxy+}"
    );
}

#[test]
fn computed_fields_follow_the_flags() {
    let sqs = registry::generate("sqs", "receive-message", &args(&["--body", "test"])).unwrap();
    assert_eq!(
        sqs["Records"][0]["md5OfBody"],
        "098f6bcd4621d373cade4e832627b4f6"
    );

    let proxy = registry::generate(
        "apigateway",
        "aws-proxy",
        &args(&["--body", "hi", "--path", "/a/b"]),
    )
    .unwrap();
    assert_eq!(proxy["body"], "aGk=");
    assert_eq!(proxy["path"], "/a/b");
    assert_eq!(proxy["pathParameters"]["proxy"], "a/b");
    assert_eq!(proxy["requestContext"]["path"], "/prod/a/b");

    let raw = registry::generate("apigateway", "aws-proxy", &args(&["--base64", "false"])).unwrap();
    assert_eq!(raw["body"], "{\"test\":\"body\"}");
    assert_eq!(raw["isBase64Encoded"], false);

    let http =
        registry::generate("apigateway", "http-api-proxy", &args(&["--stage", "prod"])).unwrap();
    assert_eq!(http["rawPath"], "/prod/path/to/resource");
    assert_eq!(http["queryStringParameters"]["parameter1"], "value1,value2");

    let put = registry::generate(
        "s3",
        "put",
        &args(&[
            "--key",
            "my video (1).mp4",
            "--partition",
            "aws-cn",
            "--region",
            "cn-north-1",
        ]),
    )
    .unwrap();
    let record = &put["Records"][0];
    assert_eq!(record["s3"]["object"]["key"], "my+video+%281%29.mp4");
    assert_eq!(
        record["s3"]["bucket"]["arn"],
        "arn:aws-cn:s3:::example-bucket"
    );
    assert_eq!(record["awsRegion"], "cn-north-1");

    let sns = registry::generate("sns", "notification", &args(&["--subject", ""])).unwrap();
    assert!(sns["Records"][0]["Sns"]["Subject"].is_null());

    let kinesis =
        registry::generate("kinesis", "get-records", &args(&["--data", "hello"])).unwrap();
    assert_eq!(kinesis["Records"][0]["kinesis"]["data"], "aGVsbG8=");
}
