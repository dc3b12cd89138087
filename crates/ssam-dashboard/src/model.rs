//! The JSON documents of the dashboard's API (`/api/...`), documented in
//! `docs/dashboard.md`. Tools read the same documents the page does.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use ssam_lambda::{InvocationType, InvokeSource, Status};

use crate::ring::Entry;

/// How much of an event or response a detail shows inline; the rest is downloadable.
pub const PREVIEW_MAX: usize = 64 * 1024;

pub fn epoch_ms(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// The first `max` bytes of a payload as text (cut at a character boundary), and whether
/// it was cut.
pub fn preview(bytes: &[u8], max: usize) -> (String, bool) {
    if bytes.len() <= max {
        return (String::from_utf8_lossy(bytes).into_owned(), false);
    }
    let mut cut = max;
    // Back up to a UTF-8 character start (at most 3 bytes).
    while cut > 0 && (bytes[cut] & 0b1100_0000) == 0b1000_0000 {
        cut -= 1;
    }
    (String::from_utf8_lossy(&bytes[..cut]).into_owned(), true)
}

/// One line of the invocation list (also what live pages receive).
#[derive(Serialize)]
pub struct Summary<'a> {
    pub id: u64,
    pub function: &'a str,
    pub request_id: &'a str,
    pub source: &'a InvokeSource,
    pub invocation_type: InvocationType,
    pub attempt: u32,
    pub started_ms: f64,
    pub duration_ms: f64,
    pub init_ms: Option<f64>,
    pub cold: bool,
    pub status: Status,
    pub error_type: Option<String>,
    pub event_size: usize,
    pub response_size: usize,
}

impl<'a> Summary<'a> {
    pub fn of(e: &'a Entry) -> Self {
        let r = &e.record;
        Summary {
            id: e.id,
            function: &r.function,
            request_id: &r.request_id,
            source: &r.source,
            invocation_type: r.invocation_type,
            attempt: r.attempt,
            started_ms: epoch_ms(r.started),
            duration_ms: r.duration.as_secs_f64() * 1000.0,
            init_ms: r.init_duration.map(|d| d.as_secs_f64() * 1000.0),
            cold: r.init_duration.is_some(),
            status: r.status,
            error_type: (r.status != Status::Success)
                .then(|| ErrorDoc::parse(&r.response).map(|d| d.error_type))
                .flatten(),
            event_size: r.event.len(),
            response_size: r.response.len(),
        }
    }
}

/// Lambda's error document, as runtimes post it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ErrorDoc {
    #[serde(rename = "errorType", default)]
    pub error_type: String,
    #[serde(rename = "errorMessage", default)]
    pub error_message: String,
    /// Python and Node runtimes send a list of lines; anything else is left out.
    #[serde(rename = "stackTrace", default, deserialize_with = "lines_or_nothing")]
    pub stack_trace: Vec<String>,
}

fn lines_or_nothing<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stack {
        Lines(Vec<String>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Stack::deserialize(d)? {
        Stack::Lines(l) => l,
        Stack::Other(_) => Vec::new(),
    })
}

impl ErrorDoc {
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice::<ErrorDoc>(body)
            .ok()
            .filter(|d| !d.error_type.is_empty() || !d.error_message.is_empty())
    }
}

/// One invocation in full.
#[derive(Serialize)]
pub struct Detail<'a> {
    #[serde(flatten)]
    pub summary: Summary<'a>,
    /// The event (pretty JSON when it is JSON), its first 64 KB.
    pub event: String,
    pub event_truncated: bool,
    pub response: String,
    pub response_truncated: bool,
    pub log: &'a str,
    pub error: Option<ErrorDoc>,
    pub hint: Option<&'a str>,
    /// Where the full payloads are.
    pub event_url: String,
    pub response_url: String,
}

/// Pretty JSON for a JSON payload, else the text itself; then cut to the preview size.
fn shown(bytes: &[u8]) -> (String, bool) {
    if bytes.len() <= PREVIEW_MAX {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if let Ok(pretty) = serde_json::to_string_pretty(&v) {
                return preview(pretty.as_bytes(), PREVIEW_MAX);
            }
        }
    }
    preview(bytes, PREVIEW_MAX)
}

impl<'a> Detail<'a> {
    pub fn of(e: &'a Entry) -> Self {
        let r = &e.record;
        let (event, event_truncated) = shown(&r.event);
        let (response, response_truncated) = shown(&r.response);
        Detail {
            summary: Summary::of(e),
            event,
            event_truncated,
            response,
            response_truncated,
            log: &r.log,
            error: (r.status != Status::Success)
                .then(|| ErrorDoc::parse(&r.response))
                .flatten(),
            hint: r.hint.as_deref(),
            event_url: format!("/api/invocations/{}/event", e.id),
            response_url: format!("/api/invocations/{}/response", e.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_cuts_at_a_character() {
        let text = "é".repeat(10);
        let (p, cut) = preview(text.as_bytes(), 5);
        assert!(cut);
        assert_eq!(p, "éé");
    }

    #[test]
    fn error_docs_with_and_without_stack() {
        let d = ErrorDoc::parse(
            br#"{"errorMessage":"boom","errorType":"ValueError","stackTrace":["  File \"app.py\""]}"#,
        )
        .expect("doc");
        assert_eq!(d.error_type, "ValueError");
        assert_eq!(d.stack_trace.len(), 1);
        let d = ErrorDoc::parse(br#"{"errorMessage":"x","errorType":"T","stackTrace":"odd"}"#)
            .expect("doc");
        assert!(d.stack_trace.is_empty());
        assert!(ErrorDoc::parse(b"{\"ok\":true}").is_none());
    }
}
