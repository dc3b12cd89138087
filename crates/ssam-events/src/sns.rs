//! SNS notifications as a subscribed function receives them (`{"Records": [...]}`).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::encode;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnsEvent {
    #[serde(rename = "Records")]
    pub records: Vec<SnsRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsRecord {
    pub event_source: String,
    pub event_version: String,
    pub event_subscription_arn: String,
    pub sns: SnsMessage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMessage {
    #[serde(rename = "Type")]
    pub kind: String,
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    pub message: String,
    pub timestamp: String,
    pub signature_version: String,
    pub signature: String,
    pub signing_cert_url: String,
    pub unsubscribe_url: String,
    pub message_attributes: IndexMap<String, SnsMessageAttribute>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMessageAttribute {
    #[serde(rename = "Type")]
    pub kind: String,
    pub value: String,
}

/// A topic and the subscription a notification was delivered through.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub partition: String,
    pub region: String,
    pub account_id: String,
    pub topic: String,
    pub subscription_id: String,
}

impl Subscription {
    pub fn topic_arn(&self) -> String {
        encode::arn(
            &self.partition,
            "sns",
            &self.region,
            &self.account_id,
            &self.topic,
        )
    }

    pub fn subscription_arn(&self) -> String {
        format!("{}:{}", self.topic_arn(), self.subscription_id)
    }

    fn endpoint(&self) -> String {
        let suffix = if self.partition == "aws-cn" {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("https://sns.{}.{suffix}", self.region)
    }
}

impl SnsEvent {
    /// One `Notification` delivered through `sub`.
    pub fn notification(
        sub: &Subscription,
        message_id: &str,
        subject: Option<&str>,
        message: &str,
        at: OffsetDateTime,
        message_attributes: IndexMap<String, SnsMessageAttribute>,
    ) -> Self {
        let endpoint = sub.endpoint();
        Self {
            records: vec![SnsRecord {
                event_source: "aws:sns".to_owned(),
                event_version: "1.0".to_owned(),
                event_subscription_arn: sub.subscription_arn(),
                sns: SnsMessage {
                    kind: "Notification".to_owned(),
                    message_id: message_id.to_owned(),
                    topic_arn: sub.topic_arn(),
                    subject: subject.map(str::to_owned),
                    message: message.to_owned(),
                    timestamp: encode::iso_millis(at),
                    signature_version: "1".to_owned(),
                    signature: "EXAMPLE".to_owned(),
                    signing_cert_url: format!(
                        "{endpoint}/SimpleNotificationService-0000000000000000000000.pem"
                    ),
                    unsubscribe_url: format!(
                        "{endpoint}/?Action=Unsubscribe&SubscriptionArn={}",
                        sub.subscription_arn()
                    ),
                    message_attributes,
                },
            }],
        }
    }
}
