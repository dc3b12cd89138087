//! The typed models read events in the shape AWS documents them (Lambda developer guide
//! samples for S3, SQS, SNS, API Gateway REST and HTTP APIs, EventBridge schedules, DynamoDB
//! Streams and Kinesis), and write them back unchanged. Values here are ours; the field
//! names, nesting and null/absent conventions are AWS's.

#![allow(clippy::unwrap_used)]

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use ssam_events::apigw::{HttpApiRequest, ProxyRequest};
use ssam_events::dynamodb::DynamoDbEvent;
use ssam_events::eventbridge::EventBridgeEvent;
use ssam_events::kinesis::KinesisEvent;
use ssam_events::s3::S3Event;
use ssam_events::sns::SnsEvent;
use ssam_events::sqs::SqsEvent;

fn round_trip<T: DeserializeOwned + Serialize>(sample: &Value) -> T {
    let typed: T = serde_json::from_value(sample.clone()).unwrap();
    assert_eq!(&serde_json::to_value(&typed).unwrap(), sample);
    typed
}

#[test]
fn s3_put_with_version() {
    let sample = json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-2",
        "eventTime": "2026-01-01T12:00:00.123Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.5"},
        "responseElements": {"x-amz-request-id": "D82B88E5F771F645", "x-amz-id-2": "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo="},
        "s3": {
            "s3SchemaVersion": "1.0", "configurationId": "828aa6fc-f7b5-4305-8584-487c791949c1",
            "bucket": {"name": "my-bucket", "ownerIdentity": {"principalId": "A3I5XTEXAMAI3E"}, "arn": "arn:aws:s3:::my-bucket"},
            "object": {"key": "HappyFace+%281%29.jpg", "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko", "sequencer": "0055AED6DCD90281E5"}
        }
    }]});
    let event: S3Event = round_trip(&sample);
    assert_eq!(event.records[0].decoded_key(), "HappyFace (1).jpg");
}

#[test]
fn sqs_message() {
    let sample = json!({"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": "Test message.",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183", "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
        "messageAttributes": {"myAttribute": {"stringValue": "myValue", "stringListValues": [], "binaryListValues": [], "dataType": "String"}},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue", "awsRegion": "us-east-2"
    }]});
    let event: SqsEvent = round_trip(&sample);
    assert_eq!(
        event.records[0].md5_of_body,
        ssam_events::encode::md5_hex(&event.records[0].body)
    );
}

#[test]
fn sns_notification() {
    round_trip::<SnsEvent>(&json!({"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-2:123456789012:sns-lambda:21be56ed-a058-49f5-8c98-aedd2564c486",
        "Sns": {
            "Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
            "TopicArn": "arn:aws:sns:us-east-2:123456789012:sns-lambda", "Subject": null,
            "Message": "Hello from SNS!", "Timestamp": "2026-01-02T12:45:07.000Z",
            "SignatureVersion": "1", "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa",
            "SigningCertUrl": "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
            "UnsubscribeUrl": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-2:123456789012:sns-lambda:21be56ed-a058-49f5-8c98-aedd2564c486",
            "MessageAttributes": {"Test": {"Type": "String", "Value": "TestString"}}
        }
    }]}));
}

#[test]
fn api_gateway_rest_proxy() {
    round_trip::<ProxyRequest>(&json!({
        "body": null, "resource": "/", "path": "/", "httpMethod": "GET", "isBase64Encoded": false,
        "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": null, "stageVariables": null,
        "headers": {"Host": "70ixmpl4fl.execute-api.us-east-2.amazonaws.com"},
        "multiValueHeaders": {"Host": ["70ixmpl4fl.execute-api.us-east-2.amazonaws.com"]},
        "requestContext": {
            "accountId": "123456789012", "resourceId": "2gxmpl", "stage": "Prod",
            "requestId": "e1506d30-c48a-4a9d-8a54-bd7a4b1b5d1e",
            "requestTime": "01/Jan/2026:12:00:00 +0000", "requestTimeEpoch": 1767268800000_i64,
            "identity": {
                "cognitoIdentityPoolId": null, "accountId": null, "cognitoIdentityId": null, "caller": null,
                "accessKey": null, "sourceIp": "205.255.255.176", "cognitoAuthenticationType": null,
                "cognitoAuthenticationProvider": null, "userArn": null, "userAgent": "curl/8.5.0", "user": null
            },
            "path": "/Prod/", "resourcePath": "/", "httpMethod": "GET", "apiId": "70ixmpl4fl",
            "protocol": "HTTP/1.1", "domainName": "70ixmpl4fl.execute-api.us-east-2.amazonaws.com",
            "domainPrefix": "70ixmpl4fl"
        }
    }));
}

#[test]
fn api_gateway_http_api() {
    round_trip::<HttpApiRequest>(&json!({
        "version": "2.0", "routeKey": "ANY /nodejs-apig-function-1G3XMPLZXVXYI",
        "rawPath": "/default/nodejs-apig-function-1G3XMPLZXVXYI", "rawQueryString": "",
        "cookies": ["s_fid=7AABXMPL1AFD9BBF-0643XMPL09956DE2"],
        "headers": {"accept": "text/html", "content-length": "0"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "r3pmxmplak",
            "domainName": "r3pmxmplak.execute-api.us-east-2.amazonaws.com", "domainPrefix": "r3pmxmplak",
            "http": {"method": "GET", "path": "/default/nodejs-apig-function-1G3XMPLZXVXYI", "protocol": "HTTP/1.1", "sourceIp": "205.255.255.176", "userAgent": "Mozilla/5.0"},
            "requestId": "JKJaXmPLvHcESHA=", "routeKey": "ANY /nodejs-apig-function-1G3XMPLZXVXYI",
            "stage": "default", "time": "10/Mar/2020:05:16:23 +0000", "timeEpoch": 1583817383220_i64
        },
        "isBase64Encoded": true
    }));
}

#[test]
fn eventbridge_schedule() {
    round_trip::<EventBridgeEvent>(&json!({
        "version": "0", "account": "123456789012", "region": "us-east-2", "detail": {},
        "detail-type": "Scheduled Event", "source": "aws.events", "time": "2019-03-01T01:23:45Z",
        "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
        "resources": ["arn:aws:events:us-east-2:123456789012:rule/my-schedule"]
    }));
}

#[test]
fn dynamodb_stream() {
    round_trip::<DynamoDbEvent>(&json!({"Records": [{
        "eventID": "1", "eventName": "INSERT", "eventVersion": "1.0", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1767268800_i64,
            "Keys": {"Id": {"N": "101"}},
            "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}, "Tags": {"SS": ["a", "b"]}, "Meta": {"M": {"ok": {"BOOL": true}, "none": {"NULL": true}}}},
            "SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"
    }]}));
}

#[test]
fn kinesis_stream() {
    round_trip::<KinesisEvent>(&json!({"Records": [{
        "kinesis": {
            "kinesisSchemaVersion": "1.0", "partitionKey": "1",
            "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
            "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==", "approximateArrivalTimestamp": 1545084650.987
        },
        "eventSource": "aws:kinesis",
        "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role", "eventVersion": "1.0",
        "eventName": "aws:kinesis:record",
        "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
        "awsRegion": "us-east-2"
    }]}));
}
