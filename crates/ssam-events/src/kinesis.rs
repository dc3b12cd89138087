//! Kinesis Data Streams records as a Lambda event source mapping delivers them.

use serde::{Deserialize, Serialize};

use crate::encode;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KinesisEvent {
    #[serde(rename = "Records")]
    pub records: Vec<KinesisEventRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisEventRecord {
    pub kinesis: KinesisRecord,
    pub event_source: String,
    #[serde(rename = "eventID")]
    pub event_id: String,
    pub invoke_identity_arn: String,
    pub event_version: String,
    pub event_name: String,
    #[serde(rename = "eventSourceARN")]
    pub event_source_arn: String,
    pub aws_region: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecord {
    pub kinesis_schema_version: String,
    pub partition_key: String,
    pub sequence_number: String,
    /// The record's bytes, base64-encoded.
    pub data: String,
    /// Seconds since the epoch, with a fractional part.
    pub approximate_arrival_timestamp: f64,
}

/// The stream a record came from and the role Lambda read it with.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub partition: String,
    pub region: String,
    pub account_id: String,
    pub name: String,
    pub shard_id: String,
    pub role: String,
}

impl Stream {
    pub fn arn(&self) -> String {
        encode::arn(
            &self.partition,
            "kinesis",
            &self.region,
            &self.account_id,
            &format!("stream/{}", self.name),
        )
    }
}

impl KinesisEventRecord {
    /// A record carrying `data` (raw bytes; the event has them base64-encoded).
    pub fn new(
        stream: &Stream,
        partition_key: &str,
        sequence_number: &str,
        data: &[u8],
        arrival_epoch_seconds: f64,
    ) -> Self {
        Self {
            kinesis: KinesisRecord {
                kinesis_schema_version: "1.0".to_owned(),
                partition_key: partition_key.to_owned(),
                sequence_number: sequence_number.to_owned(),
                data: encode::base64(data),
                approximate_arrival_timestamp: arrival_epoch_seconds,
            },
            event_source: "aws:kinesis".to_owned(),
            event_id: format!("{}:{sequence_number}", stream.shard_id),
            invoke_identity_arn: encode::arn(
                &stream.partition,
                "iam",
                "",
                &stream.account_id,
                &format!("role/{}", stream.role),
            ),
            event_version: "1.0".to_owned(),
            event_name: "aws:kinesis:record".to_owned(),
            event_source_arn: stream.arn(),
            aws_region: stream.region.clone(),
        }
    }
}
