//! Event wiring: S3 notifications become asynchronous Lambda invocations.
//!
//! [`Bindings::from_app`] reads the template's S3 bindings (function `S3` events and bucket
//! `NotificationConfiguration.LambdaConfigurations`) and resolves logical ids to the bucket
//! and function names the services use. [`Dispatcher`] listens to the object store's
//! [`ObjectEvent`]s and, for every binding whose event types and key filter match, invokes
//! the function asynchronously with the record S3 would send (eventVersion 2.1, URL-encoded
//! key, size, eTag, sequencer, versionId, requestParameters, responseElements).
//!
//! S3 notification semantics: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html>
//! (prefix/suffix rules; an event type with `*` covers every subtype).

pub mod recursion;

use std::sync::Arc;

use bytes::Bytes;
use ssam_events::s3::{event_matches, S3Event, S3EventRecord, S3Notification};
use ssam_lambda::{InvokeRequest, LambdaService};
use ssam_s3::ObjectEvent;
use ssam_template::App;
use tokio::sync::broadcast;

/// One notification: events of `bucket` that match go to `function`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The bucket's name (what the object store reports).
    pub bucket: String,
    /// The function's name (what the Lambda service knows).
    pub function: String,
    /// Configured event types, e.g. `s3:ObjectCreated:*`.
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    /// The binding's id in the record's `s3.configurationId`.
    pub configuration_id: String,
}

impl Binding {
    /// Whether an object event is one this binding notifies about.
    pub fn matches(&self, ev: &ObjectEvent) -> bool {
        ev.bucket == self.bucket
            && self.events.iter().any(|e| event_matches(e, &ev.event_name))
            && self.prefix.as_deref().is_none_or(|p| ev.key.starts_with(p))
            && self.suffix.as_deref().is_none_or(|s| ev.key.ends_with(s))
    }
}

/// Every S3 notification of an application.
#[derive(Clone, Debug, Default)]
pub struct Bindings(pub Vec<Binding>);

impl Bindings {
    pub fn from_app(app: &App) -> Self {
        let mut out = Vec::new();
        for (i, b) in app.s3_bindings.iter().enumerate() {
            let Some(bucket) = app.bucket(&b.bucket) else {
                continue;
            };
            let Some(function) = app.functions.iter().find(|f| f.logical_id == b.function) else {
                continue;
            };
            let rule = |name: &str| {
                b.filter_rules
                    .iter()
                    .find(|r| r.name == name)
                    .map(|r| r.value.clone())
            };
            // The S3 event's name in the template is the record's `configurationId`.
            let event_name = function
                .events
                .iter()
                .find(|e| matches!(&e.source, ssam_template::EventSource::S3(s) if s.bucket == b.bucket))
                .map(|e| e.name.clone());
            out.push(Binding {
                bucket: bucket.name.clone(),
                function: function.name().to_string(),
                events: b.events.clone(),
                prefix: rule("prefix"),
                suffix: rule("suffix"),
                configuration_id: event_name.unwrap_or_else(|| format!("notification-{}", i + 1)),
            });
        }
        Bindings(out)
    }

    pub fn matching<'a>(&'a self, ev: &'a ObjectEvent) -> impl Iterator<Item = &'a Binding> + 'a {
        self.0.iter().filter(move |b| b.matches(ev))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The S3 event a function receives for one object event, as S3 builds it.
pub fn s3_event(ev: &ObjectEvent, binding: &Binding, region: &str) -> S3Event {
    let mut n = S3Notification::new(ev.bucket.clone(), ev.key.clone());
    n.event_version = "2.1".into();
    n.region = region.to_string();
    n.size = ev.size;
    n.e_tag = ev.etag.clone();
    n.version_id = ev.version_id.clone();
    n.sequencer = ev.sequencer.clone();
    n.event_time = ev.time;
    n.principal_id = "AWS:AIDAEXAMPLELOCAL".into();
    n.bucket_owner_id = ssam_s3::owner::PRINCIPAL_ID.into();
    n.source_ip = ev
        .source_ip
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "127.0.0.1".into());
    n.request_id = ev.request_id.clone();
    n.host_id = format!("ssam/{}", ev.request_id);
    n.configuration_id = binding.configuration_id.clone();
    S3Event {
        records: vec![S3EventRecord::for_event_name(&ev.event_name, &n)],
    }
}

/// Delivers object events to the functions bound to them.
pub struct Dispatcher {
    bindings: Bindings,
    lambda: Arc<LambdaService>,
    region: String,
}

impl Dispatcher {
    pub fn new(bindings: Bindings, lambda: Arc<LambdaService>, region: impl Into<String>) -> Self {
        Dispatcher {
            bindings,
            lambda,
            region: region.into(),
        }
    }

    /// Handles one object event: one asynchronous invocation per matching binding.
    /// Returns how many invocations were queued.
    pub async fn dispatch(&self, ev: &ObjectEvent) -> usize {
        let mut queued = 0;
        for b in self.bindings.matching(ev) {
            let event = s3_event(ev, b, &self.region);
            let payload = match serde_json::to_vec(&event) {
                Ok(p) => Bytes::from(p),
                Err(e) => {
                    tracing::info!("ssam: cannot encode the S3 event for {}: {e}", b.function);
                    continue;
                }
            };
            let (trace, hops) = recursion::next_hop(ev.trace_id.as_deref(), &b.function);
            if hops > recursion::MAX_CHAIN {
                if let Some(o) = self.lambda.observer() {
                    o.async_event(ssam_lambda::AsyncEvent::LoopStopped {
                        function: b.function.clone(),
                        bucket: ev.bucket.clone(),
                        key: ev.key.clone(),
                        hops,
                    });
                }
                tracing::info!(
                    "ssam: recursive loop detected: {} writes to s3://{} which invokes it again; stopped after {} invocations, as Lambda's recursive loop detection does (event for s3://{}/{} dropped)\n  hint: write the output to another bucket or prefix, and filter the S3 event on the input prefix or suffix",
                    b.function,
                    ev.bucket,
                    recursion::MAX_CHAIN,
                    ev.bucket,
                    ev.key
                );
                continue;
            }
            let mut req = InvokeRequest::event(b.function.clone(), payload);
            req.trace_id = Some(trace);
            if self.lambda.observed() {
                req.source = ssam_lambda::InvokeSource::S3 {
                    bucket: ev.bucket.clone(),
                    key: ev.key.clone(),
                    event_name: ev.event_name.clone(),
                    sequencer: ev.sequencer.clone(),
                };
            }
            match self.lambda.invoke_async(req).await {
                Ok(()) => {
                    queued += 1;
                    tracing::info!(
                        "ssam: s3://{}/{} {} -> {} (async)",
                        ev.bucket,
                        ev.key,
                        ev.event_name,
                        b.function
                    );
                }
                Err(e) => tracing::info!(
                    "ssam: S3 notification for s3://{}/{} to {} failed: {e}",
                    ev.bucket,
                    ev.key,
                    b.function
                ),
            }
        }
        queued
    }

    /// Runs until the object store's event channel closes.
    pub async fn run(self, mut events: broadcast::Receiver<ObjectEvent>) {
        loop {
            match events.recv().await {
                Ok(ev) => {
                    self.dispatch(&ev).await;
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::info!(
                        "ssam: {n} S3 events were dropped: the functions could not keep up"
                    );
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ev(bucket: &str, key: &str, name: &str) -> ObjectEvent {
        ObjectEvent {
            bucket: bucket.into(),
            key: key.into(),
            event_name: name.into(),
            size: 7,
            etag: "abc".into(),
            version_id: None,
            sequencer: "00000000000000000A".into(),
            source_ip: None,
            request_id: "R1".into(),
            time: time::OffsetDateTime::UNIX_EPOCH,
            trace_id: None,
        }
    }

    fn binding(events: &[&str], prefix: Option<&str>, suffix: Option<&str>) -> Binding {
        Binding {
            bucket: "b".into(),
            function: "f".into(),
            events: events.iter().map(|s| s.to_string()).collect(),
            prefix: prefix.map(str::to_string),
            suffix: suffix.map(str::to_string),
            configuration_id: "c".into(),
        }
    }

    #[test]
    fn wildcards_filters_and_buckets_match_as_s3_does() {
        let b = binding(&["s3:ObjectCreated:*"], Some("in/"), Some(".mp4"));
        assert!(b.matches(&ev("b", "in/a.mp4", "ObjectCreated:Put")));
        assert!(b.matches(&ev(
            "b",
            "in/a.mp4",
            "ObjectCreated:CompleteMultipartUpload"
        )));
        assert!(
            !b.matches(&ev("b", "out/a.mp4", "ObjectCreated:Put")),
            "prefix"
        );
        assert!(
            !b.matches(&ev("b", "in/a.mov", "ObjectCreated:Put")),
            "suffix"
        );
        assert!(
            !b.matches(&ev("other", "in/a.mp4", "ObjectCreated:Put")),
            "bucket"
        );
        assert!(
            !b.matches(&ev("b", "in/a.mp4", "ObjectRemoved:Delete")),
            "event type"
        );
        let exact = binding(&["s3:ObjectRemoved:Delete"], None, None);
        assert!(exact.matches(&ev("b", "x", "ObjectRemoved:Delete")));
        assert!(!exact.matches(&ev("b", "x", "ObjectRemoved:DeleteMarkerCreated")));
    }

    #[test]
    fn the_record_is_s3s_shape() {
        let e = ev("help-me-sam", "my video.mp4", "ObjectCreated:Put");
        let v = serde_json::to_value(s3_event(
            &e,
            &binding(&["s3:ObjectCreated:*"], None, None),
            "eu-west-1",
        ))
        .unwrap();
        let r = &v["Records"][0];
        assert_eq!(r["eventVersion"], "2.1");
        assert_eq!(r["eventSource"], "aws:s3");
        assert_eq!(r["awsRegion"], "eu-west-1");
        assert_eq!(r["eventName"], "ObjectCreated:Put");
        assert_eq!(r["s3"]["object"]["key"], "my+video.mp4");
        assert_eq!(r["s3"]["object"]["size"], 7);
        assert_eq!(r["s3"]["object"]["eTag"], "abc");
        assert_eq!(r["s3"]["bucket"]["arn"], "arn:aws:s3:::help-me-sam");
        assert_eq!(r["responseElements"]["x-amz-request-id"], "R1");
        let removed = serde_json::to_value(s3_event(
            &ev("b", "k", "ObjectRemoved:Delete"),
            &binding(&["s3:ObjectRemoved:*"], None, None),
            "us-east-1",
        ))
        .unwrap();
        assert!(removed["Records"][0]["s3"]["object"].get("size").is_none());
    }
}
