//! Typed AWS event shapes, and the catalogue behind `ssam local generate-event`.
//!
//! Each module owns one event source's wire shape as serde structs plus constructors that
//! compute what the service computes (URL-encoded S3 keys, SQS `md5OfBody`, base64 bodies,
//! ARNs, epoch times). The S3 notification dispatcher and the API Gateway emulator build
//! their invocations with the same constructors `generate-event` uses.
//!
//! [`registry`] is the data-driven catalogue: service → event → flags with defaults →
//! builder. The events without a typed model (Alexa, Lex, CloudFront, ...) are built as
//! JSON in `catalog::misc`.

pub mod apigw;
mod catalog;
pub mod dynamodb;
pub mod encode;
pub mod eventbridge;
pub mod function_url;
pub mod kinesis;
pub mod registry;
pub mod s3;
pub mod sns;
pub mod sqs;

pub use registry::{generate, Service, SERVICES};

/// What can go wrong turning `SERVICE EVENT --flags` into an event.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown service '{name}'; expected one of: {expected}")]
    UnknownService { name: String, expected: String },
    #[error("unknown event '{name}' for service {service}; expected one of: {expected}")]
    UnknownEvent {
        service: String,
        name: String,
        expected: String,
    },
    #[error("unknown flag '{flag}' for {service} {event}; expected one of: {expected}")]
    UnknownFlag {
        flag: String,
        service: String,
        event: String,
        expected: String,
    },
    #[error("flag '{flag}' needs a value")]
    MissingValue { flag: String },
    #[error("unexpected argument '{arg}' for {service} {event}; flags look like --name value")]
    UnexpectedArgument {
        arg: String,
        service: String,
        event: String,
    },
    #[error("invalid value '{value}' for --{flag}: {reason}")]
    InvalidValue {
        flag: String,
        value: String,
        reason: String,
    },
    #[error("could not serialize the event: {0}")]
    Serialize(#[from] serde_json::Error),
}
