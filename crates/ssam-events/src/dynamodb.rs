//! DynamoDB Streams records as a Lambda event source mapping delivers them.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::encode;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamoDbEvent {
    #[serde(rename = "Records")]
    pub records: Vec<DynamoDbRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamoDbRecord {
    #[serde(rename = "eventID")]
    pub event_id: String,
    pub event_name: String,
    pub event_version: String,
    pub event_source: String,
    pub aws_region: String,
    pub dynamodb: StreamRecord,
    #[serde(rename = "eventSourceARN")]
    pub event_source_arn: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamRecord {
    pub approximate_creation_date_time: i64,
    pub keys: Item,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_image: Option<Item>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_image: Option<Item>,
    pub sequence_number: String,
    pub size_bytes: u64,
    pub stream_view_type: String,
}

/// An item: attribute name to typed value.
pub type Item = IndexMap<String, AttributeValue>;

/// A DynamoDB attribute value in its JSON wire form (`{"S": "..."}`, `{"N": "1"}`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttributeValue {
    S(String),
    N(String),
    B(String),
    #[serde(rename = "BOOL")]
    Bool(bool),
    #[serde(rename = "NULL")]
    Null(bool),
    M(Item),
    L(Vec<AttributeValue>),
    SS(Vec<String>),
    NS(Vec<String>),
    BS(Vec<String>),
}

/// The change a stream record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Insert,
    Modify,
    Remove,
}

impl Change {
    pub fn event_name(self) -> &'static str {
        match self {
            Self::Insert => "INSERT",
            Self::Modify => "MODIFY",
            Self::Remove => "REMOVE",
        }
    }
}

/// The table's stream: its ARN is derived from these.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub partition: String,
    pub region: String,
    pub account_id: String,
    pub table: String,
    /// The stream label, e.g. `2015-06-27T00:48:05.899`.
    pub label: String,
}

impl Stream {
    pub fn arn(&self) -> String {
        encode::arn(
            &self.partition,
            "dynamodb",
            &self.region,
            &self.account_id,
            &format!("table/{}/stream/{}", self.table, self.label),
        )
    }
}

fn item_size(item: &Item) -> u64 {
    fn value_size(v: &AttributeValue) -> u64 {
        let len = |s: &String| s.len() as u64;
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) | AttributeValue::B(s) => len(s),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::M(m) => 3 + item_size(m),
            AttributeValue::L(l) => 3 + l.iter().map(value_size).sum::<u64>(),
            AttributeValue::SS(l) | AttributeValue::NS(l) | AttributeValue::BS(l) => {
                l.iter().map(len).sum()
            }
        }
    }
    item.iter()
        .map(|(k, v)| k.len() as u64 + value_size(v))
        .sum()
}

impl DynamoDbRecord {
    /// A record with `NEW_AND_OLD_IMAGES`; `SizeBytes` approximates DynamoDB's item size
    /// (name and value lengths) over keys and images.
    pub fn change(
        stream: &Stream,
        change: Change,
        keys: Item,
        new_image: Option<Item>,
        old_image: Option<Item>,
        sequence_number: &str,
        created_epoch_seconds: i64,
    ) -> Self {
        let size_bytes = item_size(&keys)
            + new_image.as_ref().map_or(0, item_size)
            + old_image.as_ref().map_or(0, item_size);
        Self {
            // DynamoDB's event ids are 32 hex digits; derive one from the sequence number.
            event_id: encode::md5_hex(sequence_number),
            event_name: change.event_name().to_owned(),
            event_version: "1.1".to_owned(),
            event_source: "aws:dynamodb".to_owned(),
            aws_region: stream.region.clone(),
            dynamodb: StreamRecord {
                approximate_creation_date_time: created_epoch_seconds,
                keys,
                new_image,
                old_image,
                sequence_number: sequence_number.to_owned(),
                size_bytes,
                stream_view_type: "NEW_AND_OLD_IMAGES".to_owned(),
            },
            event_source_arn: stream.arn(),
        }
    }
}
