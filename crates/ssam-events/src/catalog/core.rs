//! Builders for the events with typed models: S3, API Gateway, function URLs, SQS, SNS,
//! EventBridge schedules and custom events, DynamoDB Streams and Kinesis.
//!
//! Sample identifiers and times are fixed so the output is reproducible; everything
//! derived from a flag (ARNs, encodings, digests, paths) is computed by the model.

use indexmap::IndexMap;
use serde_json::Value;
use time::macros::datetime;
use time::OffsetDateTime;

use super::{boolean, slash_path};
use crate::apigw::{self, HttpApiRequest, ProxyRequest, Request, TokenAuthorizerRequest};
use crate::dynamodb::{AttributeValue, Change, DynamoDbEvent, DynamoDbRecord, Item};
use crate::eventbridge::{Envelope, EventBridgeEvent};
use crate::kinesis::{KinesisEvent, KinesisEventRecord};
use crate::registry::Params;
use crate::s3::{ObjectCreated, ObjectRemoved, S3BatchEvent, S3Event, S3Notification};
use crate::sns::{SnsEvent, SnsMessageAttribute, Subscription};
use crate::sqs::{Queue, SqsEvent, SqsMessage};
use crate::{encode, function_url, Error};

/// The moment every sample event happens at.
const SAMPLE_TIME: OffsetDateTime = datetime!(2026-01-01 12:00:00 UTC);

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, Error> {
    Ok(serde_json::to_value(v)?)
}

fn parse_or<T: std::str::FromStr>(
    p: &Params,
    name: &str,
    default: T,
    what: &str,
) -> Result<T, Error> {
    match p.optional(name) {
        Some(_) => p.parse(name, what),
        None => Ok(default),
    }
}

fn s3_notification(p: &Params) -> Result<S3Notification, Error> {
    let mut n = S3Notification::new(p.get("bucket"), p.get("key"));
    n.region = p.get("region").to_owned();
    n.partition = p.get("partition").to_owned();
    n.size = parse_or(p, "size", 1024, "a size in bytes")?;
    if let Some(etag) = p.optional("etag") {
        etag.clone_into(&mut n.e_tag);
    }
    n.version_id = p.optional("version-id").map(str::to_owned);
    n.event_version = p.optional("event-version").unwrap_or("2.0").to_owned();
    Ok(n)
}

pub fn s3_put(p: &Params) -> Result<Value, Error> {
    to_value(&S3Event::object_created(
        ObjectCreated::Put,
        &s3_notification(p)?,
    ))
}

pub fn s3_delete(p: &Params) -> Result<Value, Error> {
    to_value(&S3Event::object_removed(
        ObjectRemoved::Delete,
        &s3_notification(p)?,
    ))
}

pub fn s3_batch_invocation(p: &Params) -> Result<Value, Error> {
    to_value(&S3BatchEvent::single_task(
        p.get("bucket-arn"),
        p.get("key"),
        p.optional("version-id"),
        "2b9e9f0c-7d4b-4c8e-9a51-3f6d2c1b0a99",
        &encode::base64("ssam-generated-batch-invocation"),
        &encode::base64("ssam-task-0001"),
    ))
}

fn rest_request(p: &Params, resource: &str, path: &str, host: &str) -> Request {
    let mut req = Request::new(p.get("method"), path);
    req.route = resource.to_owned();
    req.stage = p.get("stage").to_owned();
    req.account_id = p.get("account-id").to_owned();
    req.domain_name = host.to_owned();
    req.time = SAMPLE_TIME;
    req.path_parameters = match_resource(resource, &req.path);
    req
}

/// The path parameters a REST resource (`/pets/{id}`, `/{proxy+}`) binds for `path`.
fn match_resource(resource: &str, path: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut segments = path.trim_start_matches('/').split('/');
    for part in resource.trim_start_matches('/').split('/') {
        let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
            segments.next();
            continue;
        };
        if let Some(greedy) = name.strip_suffix('+') {
            let rest: Vec<&str> = segments.by_ref().collect();
            params.push((greedy.to_owned(), rest.join("/")));
        } else if let Some(seg) = segments.next() {
            params.push((name.to_owned(), seg.to_owned()));
        }
    }
    params
}

fn sample_browser_headers(host: &str) -> Vec<(String, String)> {
    [
        (
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
        ("Accept-Encoding", "gzip, deflate, br"),
        ("Accept-Language", "en-US,en;q=0.9"),
        ("Content-Type", "application/json"),
        ("Host", host),
        ("User-Agent", "ssam-generate-event/1.0"),
        (
            "X-Amzn-Trace-Id",
            "Root=1-67748e40-0123456789abcdef01234567",
        ),
        ("X-Forwarded-For", "127.0.0.1"),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn query_object(p: &Params, name: &str) -> Result<Vec<(String, String)>, Error> {
    let raw = p.get(name);
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    let invalid = |reason: &str| Error::InvalidValue {
        flag: name.to_owned(),
        value: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let value: Value = serde_json::from_str(raw).map_err(|e| {
        invalid(&format!(
            "expected a JSON object such as {{\"foo\": \"bar\"}} ({e})"
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(invalid("expected a JSON object such as {\"foo\": \"bar\"}"));
    };
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            Value::Number(n) => Ok((k, n.to_string())),
            Value::Bool(b) => Ok((k, b.to_string())),
            _ => Err(invalid("query parameter values must be strings")),
        })
        .collect()
}

pub fn apigateway_aws_proxy(p: &Params) -> Result<Value, Error> {
    let api_id = "1234567890";
    let host = format!("{api_id}.execute-api.{}", p.get("dns-suffix"));
    let mut req = rest_request(p, p.get("resource"), &slash_path(p.get("path")), &host);
    req.api_id = api_id.to_owned();
    req.headers = sample_browser_headers(&host);
    req.query = query_object(p, "querystringparameters")?;
    req.stage_variables = vec![("baz".to_owned(), "qux".to_owned())];
    req.body = Some(p.get("body").as_bytes().to_vec().into());
    req.base64_body = boolean(p, "base64")?;
    to_value(&ProxyRequest::from_request(&req))
}

pub fn apigateway_http_api_proxy(p: &Params) -> Result<Value, Error> {
    let api_id = "1234567890";
    let host = format!("{api_id}.execute-api.{}", p.get("dns-suffix"));
    let mut req = Request::new(p.get("method"), slash_path(p.get("path")));
    req.stage = p.get("stage").to_owned();
    req.account_id = p.get("account-id").to_owned();
    req.api_id = api_id.to_owned();
    req.domain_name = host.clone();
    req.time = SAMPLE_TIME;
    req.headers = sample_browser_headers(&host);
    req.headers.push((
        "Cookie".to_owned(),
        "cookie1=value1; cookie2=value2".to_owned(),
    ));
    req.query = encode::parse_query(p.get("query-string"));
    req.body = Some(p.get("body").as_bytes().to_vec().into());
    req.base64_body = boolean(p, "base64")?;
    req.request_id = "JKJaXmPLvHcESHA=".to_owned();
    to_value(&HttpApiRequest::from_request(&req))
}

pub fn lambda_function_url(p: &Params) -> Result<Value, Error> {
    let url_id = p.get("url-id");
    let region = p.get("region");
    let host = function_url::domain_name(url_id, region);
    let mut req = Request::new(p.get("method"), slash_path(p.get("path")));
    req.account_id = p.get("account-id").to_owned();
    req.time = SAMPLE_TIME;
    req.headers = sample_browser_headers(&host);
    req.query = encode::parse_query(p.get("query-string"));
    req.body = Some(p.get("body").as_bytes().to_vec().into());
    req.base64_body = boolean(p, "base64")?;
    req.request_id = "3f2b6a0e-5c1d-4e8f-9a7b-1c2d3e4f5a6b".to_owned();
    to_value(&function_url::request(&req, url_id, region))
}

pub fn apigateway_authorizer(p: &Params) -> Result<Value, Error> {
    to_value(&TokenAuthorizerRequest {
        kind: "TOKEN".to_owned(),
        authorization_token: p.get("token").to_owned(),
        method_arn: apigw::method_arn(
            p.get("partition"),
            p.get("region"),
            p.get("account-id"),
            p.get("rest-api-id"),
            p.get("stage"),
            p.get("method"),
            p.get("resource"),
        ),
    })
}

pub fn apigateway_request_authorizer(p: &Params) -> Result<Value, Error> {
    let api_id = p.get("rest-api-id");
    let host = format!("{api_id}.execute-api.{}.amazonaws.com", p.get("region"));
    let path = slash_path(p.get("resource"));
    let mut req = rest_request(p, &path, &path, &host);
    req.api_id = api_id.to_owned();
    req.headers = sample_browser_headers(&host);
    req.headers
        .push(("Authorization".to_owned(), "allow".to_owned()));
    req.query = vec![("QueryString1".to_owned(), "queryValue1".to_owned())];
    req.stage_variables = vec![("StageVar1".to_owned(), "stageValue1".to_owned())];
    let proxy = to_value(&ProxyRequest::from_request(&req))?;
    // A REQUEST authorizer gets the proxy event's request fields plus `type` and
    // `methodArn`, and no body.
    let mut event = serde_json::Map::new();
    event.insert("type".to_owned(), Value::from("REQUEST"));
    event.insert(
        "methodArn".to_owned(),
        Value::from(apigw::method_arn(
            p.get("partition"),
            p.get("region"),
            p.get("account-id"),
            api_id,
            p.get("stage"),
            p.get("method"),
            p.get("resource"),
        )),
    );
    if let Value::Object(fields) = proxy {
        for (k, v) in fields {
            if k != "body" && k != "isBase64Encoded" {
                event.insert(k, v);
            }
        }
    }
    Ok(Value::Object(event))
}

fn envelope(p: &Params) -> Envelope {
    Envelope {
        partition: p.optional("partition").unwrap_or("aws").to_owned(),
        region: p.get("region").to_owned(),
        account: p.get("account-id").to_owned(),
        id: "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c".to_owned(),
        time: SAMPLE_TIME,
    }
}

pub fn scheduled_event(p: &Params) -> Result<Value, Error> {
    to_value(&EventBridgeEvent::scheduled(p.get("rule"), &envelope(p)))
}

pub fn eventbridge_custom(p: &Params) -> Result<Value, Error> {
    let raw = p.get("detail");
    let detail: Value = serde_json::from_str(raw).map_err(|e| Error::InvalidValue {
        flag: "detail".to_owned(),
        value: raw.to_owned(),
        reason: format!("expected a JSON object ({e})"),
    })?;
    if !detail.is_object() {
        return Err(Error::InvalidValue {
            flag: "detail".to_owned(),
            value: raw.to_owned(),
            reason: "expected a JSON object".to_owned(),
        });
    }
    let resources = p
        .get("resources")
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    let mut env = envelope(p);
    env.id = "6a7e8feb-b491-4cf7-a9f1-bf3703467718".to_owned();
    to_value(&EventBridgeEvent::custom(
        p.get("source"),
        p.get("detail-type"),
        detail,
        resources,
        &env,
    ))
}

fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect::<IndexMap<_, _>>()
}

pub fn dynamodb_update(p: &Params) -> Result<Value, Error> {
    let stream = crate::dynamodb::Stream {
        partition: p.get("partition").to_owned(),
        region: p.get("region").to_owned(),
        account_id: p.get("account-id").to_owned(),
        table: p.get("table").to_owned(),
        label: "2026-01-01T00:00:00.000".to_owned(),
    };
    let id = || ("Id", AttributeValue::N("101".to_owned()));
    let message = |m: &str| ("Message", AttributeValue::S(m.to_owned()));
    let created = SAMPLE_TIME.unix_timestamp();
    let records = vec![
        DynamoDbRecord::change(
            &stream,
            Change::Insert,
            item(&[id()]),
            Some(item(&[message("New item!"), id()])),
            None,
            "111",
            created,
        ),
        DynamoDbRecord::change(
            &stream,
            Change::Modify,
            item(&[id()]),
            Some(item(&[message("This item has changed"), id()])),
            Some(item(&[message("New item!"), id()])),
            "222",
            created,
        ),
        DynamoDbRecord::change(
            &stream,
            Change::Remove,
            item(&[id()]),
            None,
            Some(item(&[message("This item has changed"), id()])),
            "333",
            created,
        ),
    ];
    to_value(&DynamoDbEvent { records })
}

pub fn kinesis_get_records(p: &Params) -> Result<Value, Error> {
    let stream = crate::kinesis::Stream {
        partition: p.get("partition").to_owned(),
        region: p.get("region").to_owned(),
        account_id: p.get("account-id").to_owned(),
        name: p.get("stream").to_owned(),
        shard_id: "shardId-000000000006".to_owned(),
        role: "lambda-role".to_owned(),
    };
    let arrival = SAMPLE_TIME.unix_timestamp() as f64 + 0.987;
    let record = KinesisEventRecord::new(
        &stream,
        p.get("partition-key"),
        p.get("sequence"),
        p.get("data").as_bytes(),
        arrival,
    );
    to_value(&KinesisEvent {
        records: vec![record],
    })
}

pub fn sns_notification(p: &Params) -> Result<Value, Error> {
    let sub = Subscription {
        partition: p.get("partition").to_owned(),
        region: p.get("region").to_owned(),
        account_id: p.get("account-id").to_owned(),
        topic: p.get("topic").to_owned(),
        subscription_id: "2bcfbf39-05c3-41de-beaa-fcfcc21c8f55".to_owned(),
    };
    let mut attributes = IndexMap::new();
    attributes.insert(
        "Test".to_owned(),
        SnsMessageAttribute {
            kind: "String".to_owned(),
            value: "TestString".to_owned(),
        },
    );
    attributes.insert(
        "TestBinary".to_owned(),
        SnsMessageAttribute {
            kind: "Binary".to_owned(),
            value: encode::base64("TestBinary"),
        },
    );
    to_value(&SnsEvent::notification(
        &sub,
        "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        p.optional("subject"),
        p.get("message"),
        SAMPLE_TIME,
        attributes,
    ))
}

pub fn sqs_receive_message(p: &Params) -> Result<Value, Error> {
    let queue = Queue {
        partition: p.get("partition").to_owned(),
        region: p.get("region").to_owned(),
        account_id: p.get("account-id").to_owned(),
        name: p.get("queue-name").to_owned(),
    };
    let message = SqsMessage::received(
        &queue,
        "059f36b4-87a3-44ab-83d2-661975830a7d",
        p.get("body"),
        p.get("account-id"),
        SAMPLE_TIME,
        SAMPLE_TIME + time::Duration::milliseconds(1),
    );
    to_value(&SqsEvent {
        records: vec![message],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_bind_path_parameters() {
        assert_eq!(
            match_resource("/{proxy+}", "/path/to/resource"),
            vec![("proxy".to_owned(), "path/to/resource".to_owned())]
        );
        assert_eq!(
            match_resource("/pets/{id}/toys/{toy}", "/pets/7/toys/ball"),
            vec![
                ("id".to_owned(), "7".to_owned()),
                ("toy".to_owned(), "ball".to_owned())
            ]
        );
        assert!(match_resource("/request", "/request").is_empty());
    }
}
