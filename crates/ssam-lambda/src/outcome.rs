//! How an invocation ends, in Lambda's own words: every message Lambda writes for a
//! timeout, an out-of-memory kill, a runtime that exited, an oversize response or a failed
//! init lives here, with the error document (`{"errorMessage", "errorType"}`) the caller
//! receives and the lines Lambda adds to the function's log.

use std::time::Duration;

use bytes::Bytes;

use crate::ids::now_rfc3339;
use crate::limits::RESPONSE_MAX;
use crate::sandbox::ExitInfo;

/// Why a function's invocation failed, beyond the `errorType` in the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The runtime reported the error (`/invocation/{id}/error`).
    Function,
    /// The runtime failed to initialise (import error, `/init/error`, exit during init).
    Init,
    /// The function ran past its Timeout and was killed.
    Timeout,
    /// The runtime process exited (or was stopped at its MemorySize) while handling the
    /// invocation.
    Crash,
    /// The response was over Lambda's 6 MB limit.
    ResponseTooLarge,
}

/// The end of one invocation, before it becomes an [`crate::InvokeResponse`].
#[derive(Clone)]
pub(crate) struct Outcome {
    /// The function's result, or the error document when `failure` is set.
    pub payload: Bytes,
    pub content_type: Option<String>,
    pub failure: Option<FailureKind>,
    /// Lines Lambda itself writes into the function's log about this ending.
    pub log: Vec<String>,
    /// Whether the instance may serve another invocation (a killed or broken one may not).
    pub keep_instance: bool,
}

const JSON: &str = "application/json";

impl Outcome {
    /// A successful response.
    pub fn response(payload: Bytes, content_type: Option<String>) -> Self {
        Outcome {
            payload,
            content_type,
            failure: None,
            log: Vec::new(),
            keep_instance: true,
        }
    }

    fn failed(kind: FailureKind, payload: Bytes, log: Vec<String>, keep_instance: bool) -> Self {
        Outcome {
            payload,
            content_type: Some(JSON.into()),
            failure: Some(kind),
            log,
            keep_instance,
        }
    }

    /// The runtime posted to `/error` (or ended a stream with error trailers). An empty body
    /// still gives the caller Lambda's document, with the posted error type.
    pub fn function_error(body: Bytes, error_type: Option<&str>) -> Self {
        let payload = if body.is_empty() {
            error_doc(error_type.unwrap_or("Unknown"), "")
        } else {
            body
        };
        Outcome::failed(FailureKind::Function, payload, Vec::new(), true)
    }

    /// A response over Lambda's 6 MB limit. A buffered one breaks the instance's Runtime API
    /// exchange (the runtime got 413), so it is not reused; a collected stream leaves it whole.
    /// The caller gets AWS's text, which names only the limit; the function's log line also
    /// says how large the response was, when that is known.
    pub fn response_too_large(size: Option<u64>, keep_instance: bool) -> Self {
        let msg = format!(
            "Response payload size exceeded maximum allowed payload size ({RESPONSE_MAX} bytes)."
        );
        let doc = error_doc("Function.ResponseSizeTooLarge", &msg);
        let log = match (keep_instance, size) {
            (true, _) => Vec::new(),
            (false, Some(n)) => vec![format!(
                "Response payload size ({n} bytes) exceeded maximum allowed payload size ({RESPONSE_MAX} bytes)."
            )],
            (false, None) => vec![msg],
        };
        Outcome::failed(FailureKind::ResponseTooLarge, doc, log, keep_instance)
    }

    /// The function ran past its Timeout; its sandbox is killed.
    pub fn timed_out(request_id: &str, timeout: Duration) -> Self {
        let secs = timeout.as_secs_f64();
        let msg = format!("RequestId: {request_id} Error: Task timed out after {secs:.2} seconds");
        let line = format!(
            "{} {request_id} Task timed out after {secs:.2} seconds",
            now_rfc3339()
        );
        Outcome::failed(
            FailureKind::Timeout,
            error_doc("Sandbox.Timedout", &msg),
            vec![line],
            false,
        )
    }

    /// The sandbox went over its MemorySize and was killed.
    pub fn out_of_memory(request_id: &str) -> Self {
        let msg = out_of_memory_message(request_id);
        Outcome::failed(
            FailureKind::Crash,
            error_doc("Runtime.OutOfMemory", &msg),
            vec![msg, "Runtime.OutOfMemory".into()],
            false,
        )
    }

    /// The runtime process exited while handling the invocation.
    pub fn exited(request_id: &str, info: &ExitInfo) -> Self {
        if info.out_of_memory {
            return Outcome::out_of_memory(request_id);
        }
        let msg = format!("RequestId: {request_id} Error: {}", info.describe());
        Outcome::failed(
            FailureKind::Crash,
            error_doc("Runtime.ExitError", &msg),
            vec![msg, "Runtime.ExitError".into()],
            false,
        )
    }

    /// The instance never became ready; `body` is the init error document.
    pub fn init_failed(body: Bytes) -> Self {
        Outcome::failed(FailureKind::Init, body, Vec::new(), false)
    }
}

/// The message a streamed response gets when the function's Timeout passes mid-stream.
pub(crate) fn stream_timeout(request_id: &str, timeout: Duration) -> (String, Bytes) {
    let msg = format!(
        "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
        timeout.as_secs_f64()
    );
    let doc = error_doc("Sandbox.Timedout", &msg);
    (msg, doc)
}

/// Lambda's message for a function stopped at its MemorySize: the process was killed.
pub(crate) fn out_of_memory_message(request_id: &str) -> String {
    let killed = ExitInfo::new("signal: killed");
    format!("RequestId: {request_id} Error: {}", killed.describe())
}

/// Lambda's message for an init that did not reach `/next` in time.
pub(crate) fn init_timeout_message(request_id: &str, init_timeout: Duration) -> String {
    format!(
        "RequestId: {request_id} Error: Init timed out after {:.2} seconds",
        init_timeout.as_secs_f64()
    )
}

/// A Lambda-style error document: `{"errorMessage": ..., "errorType": ...}`.
pub(crate) fn error_doc(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "errorMessage": message, "errorType": error_type }).to_string())
}

/// The `errorType` of an error document, when the body is one.
pub(crate) fn error_type_of(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(rename = "errorType")]
        error_type: Option<String>,
    }
    serde_json::from_slice::<Doc>(body).ok()?.error_type
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_is_lambdas_sandbox_timedout() {
        let o = Outcome::timed_out("abc", Duration::from_secs(3));
        assert_eq!(o.failure, Some(FailureKind::Timeout));
        assert!(!o.keep_instance);
        let doc: serde_json::Value = serde_json::from_slice(&o.payload).expect("json");
        assert_eq!(doc["errorType"], "Sandbox.Timedout");
        assert_eq!(
            doc["errorMessage"],
            "RequestId: abc Error: Task timed out after 3.00 seconds"
        );
        assert!(o.log[0].ends_with("abc Task timed out after 3.00 seconds"));
    }

    /// The caller gets AWS's text, which names the limit but not the response's size (the
    /// Runtime Interface Emulator and Lambda alike); the size is only in ssam's log line.
    #[test]
    fn oversize_response_document_is_awss_text() {
        for (size, keep) in [(Some(7_000_002), false), (None, true)] {
            let o = Outcome::response_too_large(size, keep);
            let doc: serde_json::Value = serde_json::from_slice(&o.payload).expect("json");
            assert_eq!(doc["errorType"], "Function.ResponseSizeTooLarge");
            assert_eq!(
                doc["errorMessage"],
                "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
            );
        }
        // ssam's log line keeps the size, which helps find what grew.
        let o = Outcome::response_too_large(Some(7_000_002), false);
        assert!(o.log[0].contains("(7000002 bytes)"), "{:?}", o.log);
    }

    #[test]
    fn empty_error_posts_still_give_a_document() {
        let o = Outcome::function_error(Bytes::new(), Some("Custom"));
        assert_eq!(error_type_of(&o.payload).as_deref(), Some("Custom"));
        assert!(o.keep_instance);
    }
}
