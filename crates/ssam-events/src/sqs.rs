//! SQS messages as a Lambda event source mapping delivers them (`{"Records": [...]}`).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::encode;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SqsEvent {
    #[serde(rename = "Records")]
    pub records: Vec<SqsMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub attributes: IndexMap<String, String>,
    pub message_attributes: IndexMap<String, SqsMessageAttribute>,
    pub md5_of_body: String,
    pub event_source: String,
    #[serde(rename = "eventSourceARN")]
    pub event_source_arn: String,
    pub aws_region: String,
}

/// A message attribute as the event carries it (lists are always present, often empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsMessageAttribute {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
    pub string_list_values: Vec<String>,
    pub binary_list_values: Vec<String>,
    pub data_type: String,
}

/// Where a message was received from and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub partition: String,
    pub region: String,
    pub account_id: String,
    pub name: String,
}

impl Queue {
    pub fn arn(&self) -> String {
        encode::arn(
            &self.partition,
            "sqs",
            &self.region,
            &self.account_id,
            &self.name,
        )
    }
}

impl SqsMessage {
    /// A message received for the first time; `md5OfBody` is computed from `body`.
    pub fn received(
        queue: &Queue,
        message_id: &str,
        body: &str,
        sender_id: &str,
        sent: OffsetDateTime,
        first_received: OffsetDateTime,
    ) -> Self {
        let mut attributes = IndexMap::new();
        attributes.insert("ApproximateReceiveCount".to_owned(), "1".to_owned());
        attributes.insert(
            "SentTimestamp".to_owned(),
            encode::epoch_millis(sent).to_string(),
        );
        attributes.insert("SenderId".to_owned(), sender_id.to_owned());
        attributes.insert(
            "ApproximateFirstReceiveTimestamp".to_owned(),
            encode::epoch_millis(first_received).to_string(),
        );
        Self {
            message_id: message_id.to_owned(),
            receipt_handle: format!("MessageReceiptHandle-{message_id}"),
            body: body.to_owned(),
            attributes,
            message_attributes: IndexMap::new(),
            md5_of_body: encode::md5_hex(body),
            event_source: "aws:sqs".to_owned(),
            event_source_arn: queue.arn(),
            aws_region: queue.region.clone(),
        }
    }
}
