//! S3 event notifications as Lambda receives them (`{"Records": [...]}`), and the S3 Batch
//! Operations invocation event.
//!
//! The local S3's notification dispatcher and `generate-event s3 ...` both build records with
//! [`S3Event::object_created`] / [`S3Event::object_removed`], so the two cannot drift apart.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::encode;

/// The event S3 sends to a function: one record per notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Event {
    #[serde(rename = "Records")]
    pub records: Vec<S3EventRecord>,
}

/// One S3 notification record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3EventRecord {
    pub event_version: String,
    pub event_source: String,
    pub aws_region: String,
    pub event_time: String,
    pub event_name: String,
    pub user_identity: S3UserIdentity,
    pub request_parameters: S3RequestParameters,
    pub response_elements: S3ResponseElements,
    pub s3: S3Entity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3UserIdentity {
    pub principal_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3RequestParameters {
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3ResponseElements {
    #[serde(rename = "x-amz-request-id")]
    pub request_id: String,
    #[serde(rename = "x-amz-id-2")]
    pub host_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Entity {
    pub s3_schema_version: String,
    pub configuration_id: String,
    pub bucket: S3Bucket,
    pub object: S3Object,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Bucket {
    pub name: String,
    pub owner_identity: S3UserIdentity,
    pub arn: String,
}

/// The object part of a record. `key` is URL-encoded as S3 sends it; `size` and `eTag` are
/// absent from removal events, `versionId` is present only for versioned buckets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Object {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(rename = "eTag", default, skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub sequencer: String,
}

/// How an object came to exist: the suffix of `ObjectCreated:*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectCreated {
    Put,
    Post,
    Copy,
    CompleteMultipartUpload,
}

impl ObjectCreated {
    /// The record's `eventName`, e.g. `ObjectCreated:Put`.
    pub fn event_name(self) -> &'static str {
        match self {
            Self::Put => "ObjectCreated:Put",
            Self::Post => "ObjectCreated:Post",
            Self::Copy => "ObjectCreated:Copy",
            Self::CompleteMultipartUpload => "ObjectCreated:CompleteMultipartUpload",
        }
    }
}

/// How an object went away: the suffix of `ObjectRemoved:*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectRemoved {
    Delete,
    DeleteMarkerCreated,
}

impl ObjectRemoved {
    /// The record's `eventName`, e.g. `ObjectRemoved:Delete`.
    pub fn event_name(self) -> &'static str {
        match self {
            Self::Delete => "ObjectRemoved:Delete",
            Self::DeleteMarkerCreated => "ObjectRemoved:DeleteMarkerCreated",
        }
    }
}

/// Everything a notification record says about the request, the bucket and the object.
/// `key` is the raw object key; the record carries it URL-encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct S3Notification {
    /// `2.1` for what S3 sends today; SAM's samples and Lambda's docs show `2.0`.
    pub event_version: String,
    pub region: String,
    pub partition: String,
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub e_tag: String,
    pub version_id: Option<String>,
    pub sequencer: String,
    pub event_time: OffsetDateTime,
    pub principal_id: String,
    pub bucket_owner_id: String,
    pub source_ip: String,
    pub request_id: String,
    pub host_id: String,
    pub configuration_id: String,
}

impl S3Notification {
    /// A notification for `bucket`/`key` with the fixed sample values SAM prints; callers
    /// emulating a real request overwrite what they know (time, ids, size, eTag, ...).
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            event_version: "2.1".to_owned(),
            region: "us-east-1".to_owned(),
            partition: "aws".to_owned(),
            bucket: bucket.into(),
            key: key.into(),
            size: 1024,
            e_tag: "0123456789abcdef0123456789abcdef".to_owned(),
            version_id: None,
            sequencer: "0A1B2C3D4E5F678901".to_owned(),
            event_time: OffsetDateTime::UNIX_EPOCH,
            principal_id: "EXAMPLE".to_owned(),
            bucket_owner_id: "EXAMPLE".to_owned(),
            source_ip: "127.0.0.1".to_owned(),
            request_id: "EXAMPLE123456789".to_owned(),
            host_id: "EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH".to_owned(),
            configuration_id: "testConfigRule".to_owned(),
        }
    }

    fn record(&self, event_name: &str, object: S3Object) -> S3EventRecord {
        S3EventRecord {
            event_version: self.event_version.clone(),
            event_source: "aws:s3".to_owned(),
            aws_region: self.region.clone(),
            event_time: encode::iso_millis(self.event_time),
            event_name: event_name.to_owned(),
            user_identity: S3UserIdentity {
                principal_id: self.principal_id.clone(),
            },
            request_parameters: S3RequestParameters {
                source_ip_address: self.source_ip.clone(),
            },
            response_elements: S3ResponseElements {
                request_id: self.request_id.clone(),
                host_id: self.host_id.clone(),
            },
            s3: S3Entity {
                s3_schema_version: "1.0".to_owned(),
                configuration_id: self.configuration_id.clone(),
                bucket: S3Bucket {
                    name: self.bucket.clone(),
                    owner_identity: S3UserIdentity {
                        principal_id: self.bucket_owner_id.clone(),
                    },
                    arn: format!("arn:{}:s3:::{}", self.partition, self.bucket),
                },
                object,
            },
        }
    }
}

impl S3EventRecord {
    /// The raw object key, decoded from the record's URL-encoded `key`.
    pub fn decoded_key(&self) -> String {
        decode_s3_key(&self.s3.object.key)
    }

    /// One `ObjectCreated:*` record (several make up a batched [`S3Event`]).
    pub fn object_created(kind: ObjectCreated, n: &S3Notification) -> Self {
        let object = S3Object {
            key: encode::s3_key(&n.key),
            size: Some(n.size),
            e_tag: Some(n.e_tag.clone()),
            version_id: n.version_id.clone(),
            sequencer: n.sequencer.clone(),
        };
        n.record(kind.event_name(), object)
    }

    /// A record for any S3 event name (`ObjectCreated:Put`, `ObjectRemoved:Delete`, ...), as
    /// the object store reports it. Removals carry no size or eTag, as S3 sends them.
    pub fn for_event_name(event_name: &str, n: &S3Notification) -> Self {
        let removed = event_name.starts_with("ObjectRemoved:");
        let object = S3Object {
            key: encode::s3_key(&n.key),
            size: (!removed).then_some(n.size),
            e_tag: (!removed).then(|| n.e_tag.clone()),
            version_id: n.version_id.clone(),
            sequencer: n.sequencer.clone(),
        };
        n.record(event_name, object)
    }

    /// One `ObjectRemoved:*` record: no size, no eTag, as S3 sends it.
    pub fn object_removed(kind: ObjectRemoved, n: &S3Notification) -> Self {
        let object = S3Object {
            key: encode::s3_key(&n.key),
            size: None,
            e_tag: None,
            version_id: n.version_id.clone(),
            sequencer: n.sequencer.clone(),
        };
        n.record(kind.event_name(), object)
    }
}

impl S3Event {
    /// An `ObjectCreated:*` event with one record, as S3 invokes a function.
    pub fn object_created(kind: ObjectCreated, n: &S3Notification) -> Self {
        Self {
            records: vec![S3EventRecord::object_created(kind, n)],
        }
    }

    /// An `ObjectRemoved:*` event with one record.
    pub fn object_removed(kind: ObjectRemoved, n: &S3Notification) -> Self {
        Self {
            records: vec![S3EventRecord::object_removed(kind, n)],
        }
    }
}

/// Whether a configured notification event (`s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`)
/// covers a record's `eventName` (`ObjectCreated:Put`).
pub fn event_matches(configured: &str, event_name: &str) -> bool {
    let configured = configured.strip_prefix("s3:").unwrap_or(configured);
    match configured.strip_suffix('*') {
        Some(prefix) => event_name.starts_with(prefix),
        None => configured == event_name,
    }
}

/// A sequencer for the `n`th change: upper-case hex, fixed width, so later changes to a
/// key compare greater, as S3's do.
pub fn sequencer(n: u128) -> String {
    format!("{n:018X}")
}

/// Reverses [`encode::s3_key`]: `+` is a space, `%XX` a byte. Malformed escapes are kept as
/// they are, so a hand-written event still yields a usable key.
pub fn decode_s3_key(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The event S3 Batch Operations sends to a function (invocation schema 1.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3BatchEvent {
    pub invocation_schema_version: String,
    pub invocation_id: String,
    pub job: S3BatchJob,
    pub tasks: Vec<S3BatchTask>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3BatchJob {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3BatchTask {
    pub task_id: String,
    pub s3_key: String,
    pub s3_version_id: Option<String>,
    pub s3_bucket_arn: String,
}

impl S3BatchEvent {
    /// One task on `key` (raw; sent URL-encoded) in the bucket `bucket_arn`.
    pub fn single_task(
        bucket_arn: &str,
        key: &str,
        version_id: Option<&str>,
        job_id: &str,
        invocation_id: &str,
        task_id: &str,
    ) -> Self {
        Self {
            invocation_schema_version: "1.0".to_owned(),
            invocation_id: invocation_id.to_owned(),
            job: S3BatchJob {
                id: job_id.to_owned(),
            },
            tasks: vec![S3BatchTask {
                task_id: task_id.to_owned(),
                s3_key: encode::s3_key(key),
                s3_version_id: version_id.map(str::to_owned),
                s3_bucket_arn: bucket_arn.to_owned(),
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn put_record_carries_encoded_key_size_and_etag() {
        let mut n = S3Notification::new("help-me-sam", "in/my video.mp4");
        n.size = 7;
        let event = S3Event::object_created(ObjectCreated::Put, &n);
        let v = serde_json::to_value(&event).unwrap();
        let record = &v["Records"][0];
        assert_eq!(record["eventVersion"], "2.1");
        assert_eq!(record["eventName"], "ObjectCreated:Put");
        assert_eq!(record["s3"]["object"]["key"], "in/my+video.mp4");
        assert_eq!(record["s3"]["object"]["size"], 7);
        assert_eq!(record["s3"]["bucket"]["arn"], "arn:aws:s3:::help-me-sam");
        assert!(record["s3"]["object"].get("versionId").is_none());
        assert_eq!(event.records[0].decoded_key(), "in/my video.mp4");
    }

    #[test]
    fn delete_record_has_no_size_or_etag() {
        let mut n = S3Notification::new("b", "k");
        n.version_id = Some("v1".to_owned());
        let v = serde_json::to_value(S3Event::object_removed(ObjectRemoved::Delete, &n)).unwrap();
        let object = &v["Records"][0]["s3"]["object"];
        assert!(object.get("size").is_none());
        assert!(object.get("eTag").is_none());
        assert_eq!(object["versionId"], "v1");
    }

    #[test]
    fn configured_events_match_like_s3() {
        assert!(event_matches("s3:ObjectCreated:*", "ObjectCreated:Put"));
        assert!(event_matches(
            "s3:ObjectCreated:*",
            "ObjectCreated:CompleteMultipartUpload"
        ));
        assert!(event_matches(
            "s3:ObjectRemoved:Delete",
            "ObjectRemoved:Delete"
        ));
        assert!(!event_matches("s3:ObjectRemoved:*", "ObjectCreated:Put"));
        assert!(!event_matches("s3:ObjectCreated:Post", "ObjectCreated:Put"));
    }

    #[test]
    fn sequencers_order_like_their_counters() {
        assert_eq!(sequencer(0x55AED6DCD90281E5), "0055AED6DCD90281E5");
        assert!(sequencer(9) < sequencer(10));
    }

    #[test]
    fn decode_reverses_encode() {
        for key in ["a b/c(1)+.jpg", "%41", "ünï code/🎥.mp4", "50%"] {
            assert_eq!(decode_s3_key(&encode::s3_key(key)), key);
        }
        assert_eq!(decode_s3_key("50%"), "50%");
        assert_eq!(decode_s3_key("%zz"), "%zz");
    }
}
