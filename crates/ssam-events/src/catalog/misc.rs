//! Builders for the events ssam has no typed model for, written as JSON in each service's
//! documented shape: Alexa, ALB, AppSync, Batch, CloudFormation, CloudFront, CloudWatch
//! Logs, CodeCommit, CodePipeline, Cognito Sync, Config, Connect, Firehose and Kinesis
//! Data Analytics, Lex, SageMaker Ground Truth, SES, Step Functions and WorkMail.

use serde_json::{json, Value};

use super::slash_path;
use crate::registry::Params;
use crate::{encode, Error};

type Built = Result<Value, Error>;

fn arn(p: &Params, service: &str, resource: &str) -> String {
    encode::arn(
        p.get("partition"),
        service,
        p.get("region"),
        p.get("account-id"),
        resource,
    )
}

// --- Alexa Skills Kit -------------------------------------------------------------------

fn alexa(p: &Params, new_session: bool, attributes: Value, request: Value) -> Built {
    let application =
        json!({ "applicationId": format!("amzn1.ask.skill.{}", p.get("application-id")) });
    let user = json!({ "userId": format!("amzn1.ask.account.{}", p.get("user-id")) });
    let mut request = request;
    if let Value::Object(r) = &mut request {
        r.insert(
            "requestId".to_owned(),
            Value::from(format!("amzn1.echo-api.request.{}", p.get("request-id"))),
        );
        r.insert("timestamp".to_owned(), Value::from("2026-01-01T12:00:00Z"));
        r.insert("locale".to_owned(), Value::from("en-US"));
    }
    Ok(json!({
        "version": "1.0",
        "session": {
            "new": new_session,
            "sessionId": format!("amzn1.echo-api.session.{}", p.get("session-id")),
            "application": application,
            "attributes": attributes,
            "user": user,
        },
        "context": {
            "AudioPlayer": { "playerActivity": "IDLE" },
            "System": {
                "application": application,
                "user": user,
                "device": { "supportedInterfaces": { "AudioPlayer": {} } },
            },
        },
        "request": request,
    }))
}

fn intent(name: &str, slots: Value) -> Value {
    json!({ "type": "IntentRequest", "intent": { "name": name, "slots": slots } })
}

pub fn alexa_end_session(p: &Params) -> Built {
    alexa(
        p,
        false,
        json!({}),
        json!({ "type": "SessionEndedRequest", "reason": "USER_INITIATED" }),
    )
}

pub fn alexa_intent_answer(p: &Params) -> Built {
    let question =
        "Question 1. Which planet is closest to the sun? 1. Venus. 2. Mercury. 3. Mars. 4. Earth. ";
    alexa(
        p,
        false,
        json!({
            "STATE": "_TRIVIAMODE",
            "score": 0,
            "currentQuestionIndex": 0,
            "correctAnswerIndex": 2,
            "correctAnswerText": "Mercury",
            "questions": [3, 11, 7, 19, 4],
            "speechOutput": question,
            "repromptText": question,
        }),
        intent(
            "AnswerIntent",
            json!({ "Answer": { "name": "Answer", "value": "2" } }),
        ),
    )
}

pub fn alexa_intent_getnewfact(p: &Params) -> Built {
    alexa(p, false, json!({}), intent("GetNewFactIntent", json!({})))
}

pub fn alexa_intent_mycoloris(p: &Params) -> Built {
    alexa(
        p,
        false,
        json!({}),
        intent(
            "MyColorIsIntent",
            json!({ "Color": { "name": "Color", "value": "green" } }),
        ),
    )
}

pub fn alexa_intent_recipe(p: &Params) -> Built {
    alexa(
        p,
        false,
        json!({}),
        intent(
            "RecipeIntent",
            json!({ "Item": { "name": "Item", "value": "pancakes" } }),
        ),
    )
}

pub fn alexa_start_session(p: &Params) -> Built {
    alexa(p, true, json!({}), json!({ "type": "LaunchRequest" }))
}

// --- Alexa Smart Home (payload version 2) -------------------------------------------------

fn smart_home(name: &str, namespace: &str, message_id: &str, payload: Value) -> Built {
    Ok(json!({
        "header": {
            "messageId": message_id,
            "name": name,
            "namespace": namespace,
            "payloadVersion": "2",
        },
        "payload": payload,
    }))
}

fn appliance_payload() -> Value {
    json!({
        "accessToken": "example-access-token",
        "appliance": { "additionalApplianceDetails": {}, "applianceId": "living-room-lamp-001" },
    })
}

pub fn smart_home_turn_off(_: &Params) -> Built {
    smart_home(
        "TurnOffRequest",
        "Alexa.ConnectedHome.Control",
        "3f0c6f1e-2b7d-4e0a-9c1b-6d5e4f3a2b10",
        appliance_payload(),
    )
}

pub fn smart_home_turn_on(_: &Params) -> Built {
    smart_home(
        "TurnOnRequest",
        "Alexa.ConnectedHome.Control",
        "8a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        appliance_payload(),
    )
}

pub fn smart_home_discovery(_: &Params) -> Built {
    smart_home(
        "DiscoverAppliancesRequest",
        "Alexa.ConnectedHome.Discovery",
        "c9b8a7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d",
        json!({ "accessToken": "example-access-token" }),
    )
}

// --- Application Load Balancer ----------------------------------------------------------

pub fn alb_request(p: &Params) -> Built {
    let host = format!("example-alb-1234567890.{}", p.get("dns-suffix"));
    Ok(json!({
        "requestContext": {
            "elb": {
                "targetGroupArn": encode::arn(
                    p.get("partition"),
                    "elasticloadbalancing",
                    p.get("region"),
                    p.get("account-id"),
                    "targetgroup/lambda-target/0123456789abcdef",
                ),
            },
        },
        "httpMethod": p.get("method"),
        "path": slash_path(p.get("path")),
        "queryStringParameters": { "query": "1234ABCD" },
        "headers": {
            "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "accept-encoding": "gzip",
            "accept-language": "en-US,en;q=0.9",
            "connection": "keep-alive",
            "host": host,
            "user-agent": "ssam-generate-event/1.0",
            "x-amzn-trace-id": "Root=1-67748e40-0123456789abcdef01234567",
            "x-forwarded-for": "192.0.2.10",
            "x-forwarded-port": "80",
            "x-forwarded-proto": "http",
        },
        "body": encode::base64(p.get("body")),
        "isBase64Encoded": true,
    }))
}

// --- AppSync, Batch, CloudFormation ----------------------------------------------------

pub fn appsync_resolver(_: &Params) -> Built {
    let issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";
    let sub = "7d8ca528-4931-4254-9273-ea5ee853f271";
    Ok(json!({
        "arguments": { "id": "my identifier" },
        "identity": {
            "claims": {
                "sub": sub,
                "email_verified": true,
                "iss": issuer,
                "cognito:username": "jdoe",
                "aud": "7471s60os7h0uu77i1tk27sp9n",
                "token_use": "id",
                "auth_time": 1767268800,
                "exp": 1767272400,
                "iat": 1767268800,
                "email": "jdoe@example.com",
            },
            "defaultAuthStrategy": "ALLOW",
            "groups": null,
            "issuer": issuer,
            "sourceIp": ["192.0.2.1"],
            "sub": sub,
            "username": "jdoe",
        },
        "source": null,
        "request": {
            "headers": {
                "accept": "*/*",
                "content-type": "application/json",
                "host": "example1234567890.appsync-api.us-east-1.amazonaws.com",
                "user-agent": "ssam-generate-event/1.0",
                "x-forwarded-for": "192.0.2.1",
                "x-forwarded-proto": "https",
            },
            "domainName": null,
        },
        "prev": null,
        "info": {
            "selectionSetList": ["id", "field1", "field2"],
            "selectionSetGraphQL": "{\n  id\n  field1\n  field2\n}",
            "parentTypeName": "Mutation",
            "fieldName": "createSomething",
            "variables": {},
        },
        "stash": {},
    }))
}

pub fn batch_get_job(_: &Params) -> Built {
    Ok(json!({ "jobName": "hello_world", "jobQueue": "default", "jobDefinition": "hello_world" }))
}

pub fn batch_submit_job(_: &Params) -> Built {
    Ok(json!({ "jobId": "4f1c9a5e-2d3b-4c7a-8e6f-0a1b2c3d4e5f" }))
}

pub fn cloudformation_create_request(p: &Params) -> Built {
    let stack = p.get("stack");
    let stack_id = arn(
        p,
        "cloudformation",
        &format!("stack/{stack}/1f9a5e20-0000-11f0-8000-0a1b2c3d4e5f"),
    );
    Ok(json!({
        "RequestType": "Create",
        "ServiceToken": arn(p, "lambda", "function:custom-resource-handler"),
        "ResponseURL": format!(
            "https://cloudformation-custom-resource-response-{}.s3.amazonaws.com/response",
            p.get("region").replace('-', "")
        ),
        "StackId": stack_id,
        "RequestId": "5d478078-13e9-baf0-464a-7ef285ecc786",
        "LogicalResourceId": "MyTestResource",
        "ResourceType": "Custom::TestResource",
        "ResourceProperties": {
            "ServiceToken": arn(p, "lambda", "function:custom-resource-handler"),
            "StackName": stack,
            "List": ["1", "2", "3"],
        },
    }))
}

// --- CloudFront (Lambda@Edge) -------------------------------------------------------------

fn cf_headers(pairs: &[(&str, &str)]) -> Value {
    let mut map = serde_json::Map::new();
    for (key, value) in pairs {
        map.insert(
            key.to_ascii_lowercase(),
            json!([{ "key": key, "value": value }]),
        );
    }
    Value::Object(map)
}

fn cf_event(request: Option<Value>, response: Option<Value>) -> Built {
    let mut cf = serde_json::Map::new();
    cf.insert(
        "config".to_owned(),
        json!({ "distributionId": "EDFDVBD6EXAMPLE" }),
    );
    if let Some(r) = request {
        cf.insert("request".to_owned(), r);
    }
    if let Some(r) = response {
        cf.insert("response".to_owned(), r);
    }
    Ok(json!({ "Records": [{ "cf": cf }] }))
}

fn cf_request(p: &Params, querystring: &str, headers: &[(&str, &str)]) -> Value {
    let mut all = vec![("Host", "d111111abcdef8.cloudfront.net")];
    all.extend_from_slice(headers);
    json!({
        "clientIp": "203.0.113.178",
        "headers": cf_headers(&all),
        "method": p.get("method"),
        "querystring": querystring,
        "uri": p.get("uri"),
    })
}

const CF_UA: (&str, &str) = ("User-Agent", "ssam-generate-event/1.0");

pub fn cloudfront_ab_test(p: &Params) -> Built {
    cf_event(
        Some(cf_request(
            p,
            "",
            &[CF_UA, ("Cookie", "session=1; X-Experiment-Name=B")],
        )),
        None,
    )
}

pub fn cloudfront_access_request_in_response(p: &Params) -> Built {
    let response = json!({
        "status": "200",
        "statusDescription": "OK",
        "headers": cf_headers(&[("X-Cache", "Miss from cloudfront")]),
    });
    cf_event(
        Some(cf_request(p, "", &[("User-Name", "CloudFront")])),
        Some(response),
    )
}

pub fn cloudfront_http_redirect(p: &Params) -> Built {
    cf_event(Some(cf_request(p, "", &[CF_UA])), None)
}

pub fn cloudfront_modify_querystring(p: &Params) -> Built {
    cf_event(
        Some(cf_request(
            p,
            "auth=test&foo=bar",
            &[CF_UA, ("User-Name", "aws-cloudfront")],
        )),
        None,
    )
}

pub fn cloudfront_modify_response_header(_: &Params) -> Built {
    let response = json!({
        "status": "200",
        "statusDescription": "OK",
        "headers": cf_headers(&[
            ("Vary", "*"),
            ("Last-Modified", "Thu, 01 Jan 2026 12:00:00 GMT"),
            ("X-Amz-Meta-Last-Modified", "2026-01-01"),
        ]),
    });
    cf_event(None, Some(response))
}

pub fn cloudfront_multiple_remote_calls(p: &Params) -> Built {
    cf_event(Some(cf_request(p, "", &[CF_UA])), None)
}

pub fn cloudfront_normalize_querystring(p: &Params) -> Built {
    cf_event(
        Some(cf_request(
            p,
            "size=LARGE&color=RED",
            &[CF_UA, ("User-Name", "aws-cloudfront")],
        )),
        None,
    )
}

pub fn cloudfront_redirect_on_viewer_country(p: &Params) -> Built {
    cf_event(
        Some(cf_request(p, "", &[("CloudFront-Viewer-Country", "DE")])),
        None,
    )
}

pub fn cloudfront_redirect_unauthenticated(p: &Params) -> Built {
    cf_event(Some(cf_request(p, "foo=bar", &[])), None)
}

pub fn cloudfront_response_generation(p: &Params) -> Built {
    cf_event(Some(cf_request(p, "", &[])), None)
}

pub fn cloudfront_serve_object_on_viewer_device(p: &Params) -> Built {
    cf_event(
        Some(cf_request(
            p,
            "",
            &[
                ("CloudFront-Is-Desktop-Viewer", "true"),
                ("CloudFront-Is-Mobile-Viewer", "false"),
                ("CloudFront-Is-SmartTV-Viewer", "false"),
                ("CloudFront-Is-Tablet-Viewer", "false"),
            ],
        )),
        None,
    )
}

pub fn cloudfront_simple_remote_call(p: &Params) -> Built {
    cf_event(
        Some(cf_request(p, "", &[CF_UA, ("User-Name", "aws-cloudfront")])),
        None,
    )
}

// --- CloudWatch Logs ----------------------------------------------------------------------

fn logs_payload(owner: &str, group: &str, stream: &str, messages: &[&str]) -> Value {
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            json!({
                "id": format!("{:056}", 38_000_000_000_000_000_u64 + i as u64),
                "timestamp": 1_767_268_800_000_u64 + i as u64,
                "message": m,
            })
        })
        .collect();
    json!({
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": ["example-filter"],
        "logEvents": events,
    })
}

fn gzip_base64(v: &Value) -> Built {
    Ok(Value::from(encode::base64(encode::gzip(
        serde_json::to_string(v)?.as_bytes(),
    ))))
}

pub fn cloudwatch_logs(p: &Params) -> Built {
    let payload = logs_payload(
        p.get("account-id"),
        p.get("log-group"),
        p.get("log-stream"),
        &[p.get("message")],
    );
    Ok(json!({ "awslogs": { "data": gzip_base64(&payload)? } }))
}

// --- CodeCommit, CodePipeline, Cognito Sync ----------------------------------------------

pub fn codecommit_repository(p: &Params) -> Built {
    Ok(json!({
        "Records": [{
            "awsRegion": p.get("region"),
            "codecommit": {
                "references": [{ "commit": p.get("commit"), "ref": format!("refs/heads/{}", p.get("branch")) }],
            },
            "customData": p.get("custom-data"),
            "eventId": "5a824061-17ca-46a9-bbf9-114edeadbeef",
            "eventName": "ReferenceChanges",
            "eventPartNumber": 1,
            "eventSource": "aws:codecommit",
            "eventSourceARN": arn(p, "codecommit", p.get("repository")),
            "eventTime": "2026-01-01T12:00:00.000+0000",
            "eventTotalParts": 1,
            "eventTriggerConfigId": "5a824061-17ca-46a9-bbf9-114edeadbeef",
            "eventTriggerName": p.get("trigger"),
            "eventVersion": "1.0",
            "userIdentityARN": encode::arn(p.get("partition"), "iam", "", p.get("account-id"), "user/example-user"),
        }],
    }))
}

pub fn codepipeline_job(p: &Params) -> Built {
    let location = |bucket: &str, key: &str| json!({ "type": "S3", "s3Location": { "bucketName": bucket, "objectKey": key } });
    Ok(json!({
        "CodePipeline.job": {
            "id": "11111111-abcd-1111-abcd-111111abcdef",
            "accountId": p.get("account-id"),
            "data": {
                "actionConfiguration": {
                    "configuration": { "FunctionName": "my-function", "UserParameters": p.get("user-parameters") },
                },
                "inputArtifacts": [{
                    "name": "input-artifact",
                    "revision": "ca2bdeadbeef7d1932acb4977e08c803295d9896",
                    "location": location(p.get("input-bucket"), p.get("input-key")),
                }],
                "outputArtifacts": [{
                    "name": "output-artifact",
                    "revision": null,
                    "location": location(p.get("output-bucket"), p.get("output-key")),
                }],
                "artifactCredentials": {
                    "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
                    "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                    "sessionToken": "example-session-token",
                },
            },
        },
    }))
}

pub fn cognito_sync_trigger(p: &Params) -> Built {
    Ok(json!({
        "version": 2,
        "eventType": "SyncTrigger",
        "region": p.get("region"),
        "identityPoolId": format!("{}:a1b2c3d4-0000-4000-8000-000000000001", p.get("region")),
        "identityId": format!("{}:a1b2c3d4-0000-4000-8000-000000000002", p.get("region")),
        "datasetName": "settings",
        "datasetRecords": {
            "theme": { "oldValue": "light", "newValue": "dark", "op": "replace" },
            "language": { "oldValue": "en", "newValue": "de", "op": "replace" },
        },
    }))
}

// --- Config ---------------------------------------------------------------------------------

fn config_event(p: &Params, rule: &str, invoking_event: &Value, rule_parameters: &Value) -> Built {
    Ok(json!({
        "version": "1.0",
        "invokingEvent": serde_json::to_string(invoking_event)?,
        "ruleParameters": serde_json::to_string(rule_parameters)?,
        "resultToken": "myResultToken",
        "eventLeftScope": false,
        "executionRoleArn": encode::arn(p.get("partition"), "iam", "", p.get("account-id"), "role/config-role"),
        "configRuleArn": arn(p, "config", "config-rule/config-rule-0123456"),
        "configRuleName": rule,
        "configRuleId": "config-rule-0123456",
        "accountId": p.get("account-id"),
    }))
}

fn instance_arn(p: &Params) -> String {
    arn(p, "ec2", "instance/i-0123456789abcdef0")
}

pub fn config_item_change(p: &Params) -> Built {
    let invoking = json!({
        "configurationItem": {
            "configurationItemCaptureTime": "2026-01-01T12:00:00.000Z",
            "awsAccountId": p.get("account-id"),
            "configurationItemStatus": "OK",
            "resourceId": "i-0123456789abcdef0",
            "resourceName": "example-instance",
            "ARN": instance_arn(p),
            "awsRegion": p.get("region"),
            "availabilityZone": format!("{}a", p.get("region")),
            "configurationStateMd5Hash": encode::md5_hex("example-configuration-state"),
            "resourceType": "AWS::EC2::Instance",
            "resourceCreationTime": "2026-01-01T11:59:00.000Z",
            "configurationStateId": 1,
            "configurationItemVersion": "1.3",
            "tags": { "Name": "example-instance" },
            "relationships": [{ "resourceId": "eipalloc-0123456789abcdef0", "resourceType": "AWS::EC2::EIP", "name": "Is attached to ElasticIp" }],
            "configuration": { "instanceType": "t3.micro" },
        },
        "notificationCreationTime": "2026-01-01T12:00:01.000Z",
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    });
    config_event(
        p,
        "change-triggered-config-rule",
        &invoking,
        &json!({ "desiredInstanceType": "t3.micro" }),
    )
}

pub fn config_oversized_item_change(p: &Params) -> Built {
    let invoking = json!({
        "configurationItemSummary": {
            "changeType": "UPDATE",
            "configurationItemVersion": "1.3",
            "configurationItemCaptureTime": "2026-01-01T12:00:00.000Z",
            "configurationStateId": 1,
            "awsAccountId": p.get("account-id"),
            "configurationItemStatus": "OK",
            "resourceType": "AWS::EC2::Instance",
            "resourceId": "i-0123456789abcdef0",
            "resourceName": null,
            "ARN": instance_arn(p),
            "awsRegion": p.get("region"),
            "availabilityZone": format!("{}a", p.get("region")),
            "configurationStateMd5Hash": encode::md5_hex("example-configuration-state"),
            "resourceCreationTime": "2026-01-01T11:59:00.000Z",
        },
        "s3DeliverySummary": { "s3BucketLocation": "config-bucket/oversized/item.json", "errorCode": null, "errorMessage": null },
        "notificationCreationTime": "2026-01-01T12:00:01.000Z",
        "messageType": "OversizedConfigurationItemChangeNotification",
        "recordVersion": "1.0",
    });
    config_event(
        p,
        "change-triggered-config-rule",
        &invoking,
        &json!({ "desiredInstanceType": "t3.micro" }),
    )
}

pub fn config_periodic_rule(p: &Params) -> Built {
    let invoking = json!({
        "awsAccountId": p.get("account-id"),
        "notificationCreationTime": "2026-01-01T12:00:00.000Z",
        "messageType": "ScheduledNotification",
        "recordVersion": "1.0",
    });
    config_event(
        p,
        "periodic-config-rule",
        &invoking,
        &json!({ "maxAgeDays": "90" }),
    )
}

// --- Connect --------------------------------------------------------------------------------

pub fn connect_contact_flow(p: &Params) -> Built {
    let contact = p.get("contact-id");
    let phone = p.get("phone-number");
    Ok(json!({
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Attributes": {},
                "Channel": "VOICE",
                "ContactId": contact,
                "CustomerEndpoint": { "Address": phone, "Type": "TELEPHONE_NUMBER" },
                "InitialContactId": contact,
                "InitiationMethod": "INBOUND",
                "InstanceARN": arn(p, "connect", "instance/11111111-2222-4333-8444-555555555555"),
                "PreviousContactId": contact,
                "Queue": null,
                "SystemEndpoint": { "Address": "+18005550100", "Type": "TELEPHONE_NUMBER" },
            },
            "Parameters": {},
        },
    }))
}

// --- Kinesis Data Firehose and Data Analytics ----------------------------------------------

const RECORD_ID: &str = "49546986683135544286507457936321625675700192471156785154";
const ARRIVAL_MS: u64 = 1_767_268_800_000;

fn firehose_event(p: &Params, stream_arn: Option<String>, records: Vec<Value>) -> Value {
    let mut event = serde_json::Map::new();
    event.insert(
        "invocationId".to_owned(),
        Value::from("5f5e1f8a-4b0c-4d6e-8f7a-9b0c1d2e3f4a"),
    );
    if let Some(arn) = stream_arn {
        event.insert("deliveryStreamArn".to_owned(), Value::from(arn));
    }
    event.insert("region".to_owned(), Value::from(p.get("region")));
    event.insert("records".to_owned(), Value::Array(records));
    Value::Object(event)
}

fn firehose_record(data: &[u8]) -> Value {
    json!({ "recordId": RECORD_ID, "approximateArrivalTimestamp": ARRIVAL_MS, "data": encode::base64(data) })
}

pub fn firehose(p: &Params) -> Built {
    let stream = arn(
        p,
        "firehose",
        &format!("deliverystream/{}", p.get("delivery-stream")),
    );
    Ok(firehose_event(
        p,
        Some(stream),
        vec![firehose_record(p.get("data").as_bytes())],
    ))
}

pub fn firehose_apachelog(p: &Params) -> Built {
    Ok(firehose_event(
        p,
        None,
        vec![firehose_record(p.get("data").as_bytes())],
    ))
}

pub fn firehose_syslog(p: &Params) -> Built {
    let data = p.get("data").as_bytes();
    let mut second = firehose_record(data);
    second["recordId"] = Value::from("49546986683135544286507457936321625675700192471156785155");
    second["approximateArrivalTimestamp"] = Value::from(ARRIVAL_MS + 1000);
    Ok(firehose_event(p, None, vec![firehose_record(data), second]))
}

pub fn firehose_streams_as_source(p: &Params) -> Built {
    let mut record = firehose_record(p.get("data").as_bytes());
    record["kinesisRecordMetadata"] = json!({
        "sequenceNumber": p.get("sequence"),
        "subsequenceNumber": "",
        "partitionKey": p.get("partition-key"),
        "shardId": "shardId-000000000000",
        "approximateArrivalTimestamp": ARRIVAL_MS,
    });
    let mut event = firehose_event(
        p,
        Some(arn(p, "firehose", "deliverystream/example-delivery-stream")),
        vec![record],
    );
    event["sourceKinesisStreamArn"] = Value::from(arn(p, "kinesis", "stream/example-stream"));
    Ok(event)
}

pub fn firehose_cloudwatch_logs(p: &Params) -> Built {
    let group = "/aws/lambda/example";
    let stream = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef";
    let batches: [&[&str]; 2] = [
        &[
            "START RequestId: 1f6e7b4c Version: $LATEST",
            "END RequestId: 1f6e7b4c",
        ],
        &[
            "[ERROR] example failure",
            "REPORT RequestId: 1f6e7b4c Duration: 1.23 ms",
        ],
    ];
    let mut records = Vec::new();
    for (i, messages) in batches.iter().enumerate() {
        let payload = logs_payload(p.get("account-id"), group, stream, messages);
        records.push(json!({
            "recordId": format!("{RECORD_ID}{i:06}"),
            "approximateArrivalTimestamp": ARRIVAL_MS + i as u64,
            "data": gzip_base64(&payload)?,
        }));
    }
    let arn = arn(p, "firehose", "deliverystream/cwl-to-lambda");
    Ok(firehose_event(p, Some(arn), records))
}

fn analytics_event(p: &Params, records: Vec<Value>) -> Value {
    json!({
        "invocationId": "0c5b6f2e-7d8a-4e9b-a1c2-d3e4f5a6b7c8",
        "applicationArn": arn(p, "kinesisanalytics", &format!("application/{}", p.get("application"))),
        "streamArn": arn(p, "kinesis", &format!("stream/{}", p.get("stream"))),
        "records": records,
    })
}

pub fn kinesis_analytics(p: &Params) -> Built {
    Ok(analytics_event(
        p,
        vec![json!({ "recordId": RECORD_ID, "data": encode::base64(p.get("data")) })],
    ))
}

pub fn kinesis_analytics_compressed(p: &Params) -> Built {
    let data = encode::base64(encode::gzip(p.get("data").as_bytes()));
    Ok(analytics_event(
        p,
        vec![json!({ "recordId": RECORD_ID, "data": data })],
    ))
}

pub fn kinesis_analytics_kpl(p: &Params) -> Built {
    let records = (1..=2)
        .map(|i: u64| {
            let seq = format!("4957134787196796640640963715518685021368252214292774912{i}");
            json!({
                "recordId": seq,
                "kinesisStreamRecordMetadata": {
                    "shardId": format!("shardId-00000000000{i}"),
                    "partitionKey": format!("partitionKey-0{i}"),
                    "approximateArrivalTimestamp": ARRIVAL_MS + i,
                    "sequenceNumber": seq,
                },
                "data": encode::base64(format!("{i},example record from shard {i}\n")),
            })
        })
        .collect();
    Ok(analytics_event(p, records))
}

// --- Lex V1 -------------------------------------------------------------------------------

fn lex(bot: &str, intent: &str, slots: Value) -> Built {
    Ok(json!({
        "messageVersion": "1.0",
        "invocationSource": "DialogCodeHook",
        "userId": "example-user",
        "sessionAttributes": {},
        "requestAttributes": null,
        "bot": { "name": bot, "alias": "$LATEST", "version": "$LATEST" },
        "outputDialogMode": "Text",
        "currentIntent": { "name": intent, "slots": slots, "slotDetails": {}, "confirmationStatus": "None" },
        "inputTranscript": format!("I would like to {}", intent.to_lowercase()),
    }))
}

pub fn lex_book_car(_: &Params) -> Built {
    lex(
        "BookTrip",
        "BookCar",
        json!({ "PickUpCity": "Seattle", "PickUpDate": "2030-06-01", "ReturnDate": "2030-06-05", "CarType": "midsize", "DriverAge": "30" }),
    )
}

pub fn lex_book_hotel(_: &Params) -> Built {
    lex(
        "BookTrip",
        "BookHotel",
        json!({ "Location": "Seattle", "CheckInDate": "2030-06-01", "Nights": "3", "RoomType": "king" }),
    )
}

pub fn lex_make_appointment(_: &Params) -> Built {
    lex(
        "MakeAppointment",
        "MakeAppointment",
        json!({ "AppointmentType": "cleaning", "Date": "2030-06-01", "Time": "09:30" }),
    )
}

pub fn lex_order_flowers(_: &Params) -> Built {
    lex(
        "OrderFlowers",
        "OrderFlowers",
        json!({ "FlowerType": "tulips", "PickupDate": "2030-06-01", "PickupTime": "16:00" }),
    )
}

// --- Lex V2 -------------------------------------------------------------------------------

fn lexv2_slot(original: &str, interpreted: &str) -> Value {
    json!({
        "shape": "Scalar",
        "value": { "originalValue": original, "interpretedValue": interpreted, "resolvedValues": [interpreted] },
    })
}

fn lexv2(transcript: &str, intent: Value, invocation_source: &str, next: Option<Value>) -> Built {
    let name = intent["name"].clone();
    let mut event = json!({
        "messageVersion": "1.0",
        "invocationSource": invocation_source,
        "inputMode": "Text",
        "responseContentType": "text/plain; charset=utf-8",
        "sessionId": "123456789012345",
        "inputTranscript": transcript,
        "bot": { "id": "ABCDEFGHIJ", "name": "ExampleBot", "aliasId": "TSTALIASID", "aliasName": "TestBotAlias", "localeId": "en_US", "version": "DRAFT" },
        "interpretations": [
            { "intent": intent, "nluConfidence": 0.95 },
            { "intent": { "name": "FallbackIntent", "slots": {}, "state": "InProgress", "confirmationState": "None" } },
        ],
        "sessionState": { "sessionAttributes": {}, "activeContexts": [], "intent": intent, "originatingRequestId": "8b1f2a3c-4d5e-4f6a-8b7c-9d0e1f2a3b4c" },
        "transcriptions": [{ "transcription": transcript, "transcriptionConfidence": 1, "resolvedSlots": {}, "resolvedContext": { "intent": name } }],
    });
    if let Some(next) = next {
        event["proposedNextState"] = next;
    }
    Ok(event)
}

pub fn lexv2_banking_bot(_: &Params) -> Built {
    let intent = json!({
        "name": "CheckBalance",
        "slots": { "accountType": lexv2_slot("checking", "Checking"), "dateofBirth": lexv2_slot("01/01/1990", "1990-01-01") },
        "state": "ReadyForFulfillment",
        "confirmationState": "None",
    });
    lexv2("01/01/1990", intent, "FulfillmentCodeHook", None)
}

fn lexv2_elicit(transcript: &str, name: &str, slots: &[&str]) -> Built {
    let slots: serde_json::Map<String, Value> = slots
        .iter()
        .map(|s| ((*s).to_owned(), Value::Null))
        .collect();
    let intent =
        json!({ "name": name, "slots": slots, "state": "InProgress", "confirmationState": "None" });
    let first = slots.keys().next().cloned().unwrap_or_default();
    let next = json!({ "intent": intent, "dialogAction": { "type": "ElicitSlot", "slotToElicit": first } });
    lexv2(transcript, intent, "DialogCodeHook", Some(next))
}

pub fn lexv2_book_car(_: &Params) -> Built {
    lexv2_elicit(
        "Book a car",
        "BookCar",
        &[
            "PickUpCity",
            "PickUpDate",
            "ReturnDate",
            "CarType",
            "DriverAge",
        ],
    )
}

pub fn lexv2_book_hotel(_: &Params) -> Built {
    lexv2_elicit(
        "Book a hotel",
        "BookHotel",
        &["Location", "CheckInDate", "Nights", "RoomType"],
    )
}

// --- SageMaker Ground Truth, SES, Step Functions, WorkMail --------------------------------

fn labeling_job_arn(p: &Params) -> String {
    arn(
        p,
        "sagemaker",
        &format!("labeling-job/{}", p.get("labeling-job-name")),
    )
}

pub fn sagemaker_pre_human(p: &Params) -> Built {
    Ok(json!({
        "version": "2018-10-16",
        "labelingJobArn": labeling_job_arn(p),
        "dataObject": { "source-ref": p.get("source-ref") },
    }))
}

pub fn sagemaker_annotation_consolidation(p: &Params) -> Built {
    Ok(json!({
        "version": "2018-10-16",
        "labelingJobArn": labeling_job_arn(p),
        "labelAttributeName": p.get("label-attribute-name"),
        "roleArn": encode::arn(p.get("partition"), "iam", "", p.get("account-id"), &format!("role/{}", p.get("execution-role"))),
        "payload": {
            "s3Uri": format!(
                "{}/{}/annotations/worker-response/{}.json",
                p.get("s3-output-path").trim_end_matches('/'),
                p.get("labeling-job-name"),
                p.get("iteration-object-timestamp"),
            ),
        },
    }))
}

pub fn ses_email_receiving(p: &Params) -> Built {
    let subject = "Test Subject";
    let headers = [
        ("Return-Path", "<sender@example.com>"),
        ("Received", &*format!("from mail.example.com by inbound-smtp.{} with SMTP id example; Thu, 01 Jan 2026 12:00:00 +0000 (UTC)", p.get("dns-suffix"))),
        ("MIME-Version", "1.0"),
        ("From", "Sender <sender@example.com>"),
        ("Date", "Thu, 1 Jan 2026 12:00:00 +0000"),
        ("Message-ID", "<0123456789@example.com>"),
        ("Subject", subject),
        ("To", "recipient@example.com"),
        ("Content-Type", "text/plain; charset=UTF-8"),
    ]
    .iter()
    .map(|(name, value)| json!({ "name": name, "value": value }))
    .collect::<Vec<_>>();
    let pass = json!({ "status": "PASS" });
    Ok(json!({
        "Records": [{
            "eventSource": "aws:ses",
            "eventVersion": "1.0",
            "ses": {
                "mail": {
                    "timestamp": "2026-01-01T12:00:00.000Z",
                    "source": "sender@example.com",
                    "messageId": "o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1",
                    "destination": ["recipient@example.com"],
                    "headersTruncated": false,
                    "headers": headers,
                    "commonHeaders": {
                        "returnPath": "sender@example.com",
                        "from": ["Sender <sender@example.com>"],
                        "date": "Thu, 1 Jan 2026 12:00:00 +0000",
                        "to": ["recipient@example.com"],
                        "messageId": "<0123456789@example.com>",
                        "subject": subject,
                    },
                },
                "receipt": {
                    "timestamp": "2026-01-01T12:00:00.000Z",
                    "processingTimeMillis": 321,
                    "recipients": ["recipient@example.com"],
                    "spamVerdict": pass,
                    "virusVerdict": pass,
                    "spfVerdict": pass,
                    "dkimVerdict": pass,
                    "dmarcVerdict": pass,
                    "action": {
                        "type": "Lambda",
                        "functionArn": arn(p, "lambda", "function:Example"),
                        "invocationType": "Event",
                    },
                },
            },
        }],
    }))
}

pub fn stepfunctions_error(p: &Params) -> Built {
    Ok(json!({ "Error": p.get("error"), "Cause": p.get("cause") }))
}

pub fn workmail_email(p: &Params) -> Built {
    Ok(json!({
        "summaryVersion": "2019-07-28",
        "envelope": {
            "mailFrom": { "address": p.get("mail-from") },
            "recipients": [{ "address": "recipient1@example.com" }, { "address": "recipient2@example.com" }],
        },
        "sender": { "address": p.get("sender") },
        "subject": "Hello from Amazon WorkMail!",
        "messageId": "6f2a8c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "invocationId": "0123456789abcdef0123456789abcdef",
        "flowDirection": p.get("flow-direction"),
        "truncated": false,
    }))
}
