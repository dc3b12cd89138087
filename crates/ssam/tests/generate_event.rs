//! `ssam local generate-event` through the real binary: the seed's S3 event, listings,
//! per-event help, errors, and the shapes of AWS's documented sample events.
//!
//! The documented samples below are the key structure of the example events on the AWS
//! Lambda developer guide pages (with-s3, with-sqs, with-sns, services-apigateway,
//! urls-invocation); values are ours; only the field names and nesting are checked.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use assert_cmd::Command;
use serde_json::{json, Value};

fn ssam() -> Command {
    Command::cargo_bin("ssam").unwrap()
}

fn generate(args: &[&str]) -> Value {
    let out = ssam()
        .args(["local", "generate-event"])
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn stdout(args: &[&str]) -> String {
    let out = ssam()
        .args(["local", "generate-event"])
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

fn stderr_of_failure(args: &[&str]) -> String {
    let out = ssam()
        .args(["local", "generate-event"])
        .args(args)
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn s3_put_for_the_seed_bucket() {
    let event = generate(&["s3", "put", "--bucket", "help-me-sam", "--key", "test.mp4"]);
    let records = event["Records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["eventVersion"], "2.0");
    assert_eq!(r["eventSource"], "aws:s3");
    assert_eq!(r["awsRegion"], "us-east-1");
    assert_eq!(r["eventName"], "ObjectCreated:Put");
    assert_eq!(r["eventTime"], "1970-01-01T00:00:00.000Z");
    assert_eq!(r["s3"]["s3SchemaVersion"], "1.0");
    assert_eq!(r["s3"]["bucket"]["name"], "help-me-sam");
    assert_eq!(r["s3"]["bucket"]["arn"], "arn:aws:s3:::help-me-sam");
    assert_eq!(r["s3"]["object"]["key"], "test.mp4");
    assert_eq!(r["s3"]["object"]["size"], 1024);
    assert_eq!(
        r["s3"]["object"]["eTag"],
        "0123456789abcdef0123456789abcdef"
    );
    assert!(r["s3"]["object"]["sequencer"].is_string());
}

#[test]
fn s3_put_encodes_the_key_and_honours_region_and_partition() {
    let event = generate(&[
        "s3",
        "put",
        "--bucket=b",
        "--key",
        "uploads/my clip+1.mp4",
        "--region",
        "eu-west-1",
        "--partition",
        "aws-us-gov",
        "--event-version",
        "2.1",
    ]);
    let r = &event["Records"][0];
    assert_eq!(r["s3"]["object"]["key"], "uploads/my+clip%2B1.mp4");
    assert_eq!(r["awsRegion"], "eu-west-1");
    assert_eq!(r["s3"]["bucket"]["arn"], "arn:aws-us-gov:s3:::b");
    assert_eq!(r["eventVersion"], "2.1");
}

#[test]
fn no_arguments_lists_every_service() {
    let out = stdout(&[]);
    for service in [
        "alb",
        "apigateway",
        "s3",
        "sqs",
        "sns",
        "eventbridge",
        "lambda",
        "workmail",
    ] {
        assert!(
            out.contains(&format!("\n  {service} ")),
            "{service} missing from:\n{out}"
        );
    }
    let services = out.lines().filter(|l| l.starts_with("  ")).count();
    assert_eq!(services, 28);
}

#[test]
fn a_service_lists_its_events_and_an_event_its_flags() {
    let out = stdout(&["s3"]);
    assert!(out.contains("  batch-invocation  "));
    assert!(out.contains("  delete  "));
    assert!(out.contains("  put  "));

    let help = stdout(&["s3", "put", "--help"]);
    assert!(help.contains("--bucket"));
    assert!(help.contains("[default: example-bucket]"));
    assert!(help.contains("[default: us-east-1]"));
}

#[test]
fn errors_say_what_was_expected() {
    let err = stderr_of_failure(&["s3", "puts"]);
    assert!(
        err.contains("error: unknown event 'puts' for service s3; expected one of: batch-invocation, delete, put"),
        "{err}"
    );
    let err = stderr_of_failure(&["s3", "put", "--bucke", "x"]);
    assert!(
        err.contains("unknown flag '--bucke' for s3 put; expected one of: --region"),
        "{err}"
    );
    let err = stderr_of_failure(&["nope"]);
    assert!(err.contains("unknown service 'nope'"), "{err}");
}

/// Every path to a leaf (`Records[].s3.object.key`), so shapes compare without values.
fn shape(v: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    walk(child, &format!("{prefix}.{k}"), out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, &format!("{prefix}[]"), out);
                }
            }
            _ => {
                out.insert(prefix.to_owned());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(v, "", &mut out);
    out
}

fn assert_same_shape(generated: &Value, documented: &Value) {
    let (g, d) = (shape(generated), shape(documented));
    let missing: Vec<_> = d.difference(&g).collect();
    let extra: Vec<_> = g.difference(&d).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing from ours: {missing:#?}\nnot in AWS's sample: {extra:#?}"
    );
}

#[test]
fn s3_matches_the_documented_sample() {
    let documented = json!({"Records": [{
        "eventVersion": "2.0", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "t", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "p"},
        "requestParameters": {"sourceIPAddress": "ip"},
        "responseElements": {"x-amz-request-id": "r", "x-amz-id-2": "h"},
        "s3": {
            "s3SchemaVersion": "1.0", "configurationId": "c",
            "bucket": {"name": "b", "ownerIdentity": {"principalId": "p"}, "arn": "a"},
            "object": {"key": "k", "size": 1, "eTag": "e", "sequencer": "s"}
        }
    }]});
    assert_same_shape(&generate(&["s3", "put"]), &documented);
}

#[test]
fn sqs_matches_the_documented_sample() {
    let documented = json!({"Records": [{
        "messageId": "m", "receiptHandle": "r", "body": "b",
        "attributes": {
            "ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "s",
            "ApproximateFirstReceiveTimestamp": "1"
        },
        "messageAttributes": {}, "md5OfBody": "m", "eventSource": "aws:sqs",
        "eventSourceARN": "a", "awsRegion": "r"
    }]});
    let event = generate(&["sqs", "receive-message", "--body", "test"]);
    assert_same_shape(&event, &documented);
    // The MD5 of the body, as SQS computes it (md5("test") is a well-known digest).
    assert_eq!(
        event["Records"][0]["md5OfBody"],
        "098f6bcd4621d373cade4e832627b4f6"
    );
}

#[test]
fn sns_matches_the_documented_sample() {
    let documented = json!({"Records": [{
        "EventVersion": "1.0", "EventSubscriptionArn": "a", "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1", "Timestamp": "t", "Signature": "s", "SigningCertUrl": "u",
            "MessageId": "m", "Message": "Hello from SNS!",
            "MessageAttributes": {
                "Test": {"Type": "String", "Value": "TestString"},
                "TestBinary": {"Type": "Binary", "Value": "TestBinary"}
            },
            "Type": "Notification", "UnsubscribeUrl": "u", "TopicArn": "a", "Subject": "TestInvoke"
        }
    }]});
    let event = generate(&["sns", "notification"]);
    assert_same_shape(&event, &documented);
    let record = &event["Records"][0];
    let topic = record["Sns"]["TopicArn"].as_str().unwrap();
    assert_eq!(topic, "arn:aws:sns:us-east-1:123456789012:ExampleTopic");
    assert!(record["EventSubscriptionArn"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{topic}:")));
}

#[test]
fn api_gateway_rest_proxy_matches_the_documented_sample() {
    let documented = json!({
        "resource": "/", "path": "/", "httpMethod": "GET",
        "headers": {}, "multiValueHeaders": {},
        "queryStringParameters": {"foo": "bar"}, "multiValueQueryStringParameters": {"foo": ["bar"]},
        "pathParameters": {"proxy": "p"}, "stageVariables": {"baz": "qux"},
        "requestContext": {
            "accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d",
            "httpMethod": "GET", "path": "/", "protocol": "HTTP/1.1",
            "requestId": "r", "requestTime": "t", "requestTimeEpoch": 1,
            "resourceId": "r", "resourcePath": "/", "stage": "s",
            "identity": {
                "accessKey": null, "accountId": null, "caller": null,
                "cognitoAuthenticationProvider": null, "cognitoAuthenticationType": null,
                "cognitoIdentityId": null, "cognitoIdentityPoolId": null,
                "sourceIp": "ip", "user": null, "userAgent": "ua", "userArn": null
            }
        },
        "body": "b", "isBase64Encoded": false
    });
    let event = generate(&["apigateway", "aws-proxy"]);
    // Header names are ours; compare the rest.
    let strip = |mut v: Value| {
        v["headers"] = json!({});
        v["multiValueHeaders"] = json!({});
        v
    };
    assert_same_shape(&strip(event), &strip(documented));
}

#[test]
fn http_api_and_function_url_match_the_documented_payload_2_0() {
    let documented = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/p", "rawQueryString": "q",
        "cookies": ["c"], "headers": {}, "queryStringParameters": {"parameter1": "v", "parameter2": "v"},
        "requestContext": {
            "accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d",
            "http": {"method": "POST", "path": "/p", "protocol": "HTTP/1.1", "sourceIp": "ip", "userAgent": "ua"},
            "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "t", "timeEpoch": 1
        },
        "body": "b", "isBase64Encoded": false
    });
    let strip = |mut v: Value| {
        v["headers"] = json!({});
        v
    };
    let http = generate(&["apigateway", "http-api-proxy"]);
    assert_same_shape(&strip(http), &strip(documented.clone()));

    let mut url_doc = documented;
    url_doc.as_object_mut().unwrap().remove("cookies");
    let url = generate(&["lambda", "function-url", "--region", "eu-central-1"]);
    assert_eq!(
        url["requestContext"]["domainName"],
        "abcdefghijklmnopqrstuvwxyz0123456.lambda-url.eu-central-1.on.aws"
    );
    assert_same_shape(&strip(url), &strip(url_doc));
}

#[test]
fn eventbridge_custom_carries_the_given_detail() {
    let event = generate(&[
        "eventbridge",
        "custom",
        "--source",
        "com.example.orders",
        "--detail-type",
        "OrderPlaced",
        "--detail",
        r#"{"orderId": 42}"#,
    ]);
    assert_eq!(event["version"], "0");
    assert_eq!(event["source"], "com.example.orders");
    assert_eq!(event["detail-type"], "OrderPlaced");
    assert_eq!(event["detail"]["orderId"], 42);
}

#[test]
fn listing_and_help_output() {
    insta::assert_snapshot!(stdout(&["s3"]), @r"
    Usage: ssam local generate-event s3 EVENT [--flag value ...]

    Amazon S3

    Events:
      batch-invocation  Generates an S3 Batch Operations invocation event
      delete            Generates an S3 ObjectRemoved:Delete event
      put               Generates an S3 ObjectCreated:Put event

    Run `ssam local generate-event s3 EVENT --help` to list an event's flags.
    ");
    insta::assert_snapshot!(stdout(&["sqs", "receive-message", "--help"]), @r"
    Generates an Amazon SQS event (md5OfBody computed)

    Usage: ssam local generate-event sqs receive-message [--flag value ...]

    Flags:
      --partition   AWS partition (aws, aws-cn, aws-us-gov) [default: aws]
      --region      AWS region [default: us-east-1]
      --account-id  AWS account id [default: 123456789012]
      --queue-name  queue name [default: MyQueue]
      --body        message body [default: Hello from SQS!]
    ");
}
