//! EventBridge (CloudWatch Events) events: scheduled rules and custom events put on a bus.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::encode;

/// An EventBridge event; `detail` is typed by the caller (`Value` for free-form details).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBridgeEvent<D = Value> {
    pub version: String,
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub account: String,
    pub time: String,
    pub region: String,
    pub resources: Vec<String>,
    pub detail: D,
}

/// Who sent an event, where and when: the envelope fields every event carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub id: String,
    pub time: OffsetDateTime,
}

impl EventBridgeEvent<Value> {
    /// The event a `Schedule`/`ScheduleV1` rule sends: `detail-type` `Scheduled Event`,
    /// source `aws.events`, the rule's ARN as the only resource and an empty detail.
    pub fn scheduled(rule: &str, env: &Envelope) -> Self {
        let rule_arn = encode::arn(
            &env.partition,
            "events",
            &env.region,
            &env.account,
            &format!("rule/{rule}"),
        );
        Self::custom(
            "aws.events",
            "Scheduled Event",
            Value::Object(serde_json::Map::new()),
            vec![rule_arn],
            env,
        )
    }
}

impl<D> EventBridgeEvent<D> {
    /// A custom event, as `PutEvents` delivers it to a rule's target.
    pub fn custom(
        source: &str,
        detail_type: &str,
        detail: D,
        resources: Vec<String>,
        env: &Envelope,
    ) -> Self {
        Self {
            version: "0".to_owned(),
            id: env.id.clone(),
            detail_type: detail_type.to_owned(),
            source: source.to_owned(),
            account: env.account.clone(),
            time: encode::iso_seconds(env.time),
            region: env.region.clone(),
            resources,
            detail,
        }
    }
}
