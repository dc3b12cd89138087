//! Errors of the Lambda Invoke API, written the way Lambda writes them on the wire.
//!
//! Each variant knows its HTTP status, its `x-amzn-ErrorType` and its JSON body
//! (`{"Type": "User", "message": ...}`), so every front door answers alike.

use serde::Serialize;

use crate::limits;

/// Why an invocation could not run. Function errors (the handler raised, timed out or
/// crashed) are not `InvokeError`s: they are successful invocations with a function error.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// No function by that name or ARN (or an unknown qualifier).
    #[error("Function not found: {arn}")]
    ResourceNotFound { arn: String },
    /// The request payload is over Lambda's limit for the invocation type.
    #[error("Request must be smaller than {limit} bytes for the {operation} operation")]
    RequestTooLarge {
        /// The payload's size in bytes.
        size: usize,
        limit: usize,
        operation: &'static str,
    },
    /// The function's ReservedConcurrentExecutions are all in use.
    #[error("Rate Exceeded.")]
    TooManyRequests,
    /// No function declared a reserved limit, but every instance ssam allows it locally
    /// (`--max-instances`) stayed busy for as long as the caller could wait.
    #[error("Rate Exceeded.")]
    InstanceCapReached { cap: u32 },
    /// The payload is not JSON (Lambda requires a JSON document).
    #[error("{0}")]
    InvalidRequestContent(String),
    /// A header or parameter of the request is invalid.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// The function's runtime cannot run here (e.g. `java21` without Docker).
    #[error("{0}")]
    InvalidRuntime(String),
    /// The service is shutting down or a sandbox could not be started.
    #[error("{0}")]
    Service(String),
}

/// Lambda's JSON error body.
#[derive(Serialize)]
struct WireError<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    message: String,
    #[serde(rename = "Reason", skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// Not in Lambda's body: a hint for humans (SDKs ignore unknown keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

impl InvokeError {
    /// The HTTP status Lambda answers with.
    pub fn status(&self) -> u16 {
        match self {
            InvokeError::ResourceNotFound { .. } => 404,
            InvokeError::RequestTooLarge { .. } => 413,
            InvokeError::TooManyRequests | InvokeError::InstanceCapReached { .. } => 429,
            InvokeError::InvalidRequestContent(_) | InvokeError::InvalidParameterValue(_) => 400,
            InvokeError::InvalidRuntime(_) => 502,
            InvokeError::Service(_) => 500,
        }
    }

    /// The `x-amzn-ErrorType` header value (the exception name SDKs raise).
    pub fn error_type(&self) -> &'static str {
        match self {
            InvokeError::ResourceNotFound { .. } => "ResourceNotFoundException",
            // What Lambda really sends (its API reference says RequestTooLargeException).
            InvokeError::RequestTooLarge { .. } => "RequestEntityTooLargeException",
            InvokeError::TooManyRequests | InvokeError::InstanceCapReached { .. } => {
                "TooManyRequestsException"
            }
            InvokeError::InvalidRequestContent(_) => "InvalidRequestContentException",
            InvokeError::InvalidParameterValue(_) => "InvalidParameterValueException",
            InvokeError::InvalidRuntime(_) => "InvalidRuntimeException",
            InvokeError::Service(_) => "ServiceException",
        }
    }

    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            InvokeError::RequestTooLarge { .. } => Some(limits::OVERSIZE_HINT),
            InvokeError::TooManyRequests => Some(
                "every instance of the function is busy; raise ReservedConcurrentExecutions \
                 to allow more at once",
            ),
            InvokeError::InstanceCapReached { .. } => Some(
                "every local instance of the function stayed busy until the request gave up; \
                 start ssam with a higher --max-instances to run more at once",
            ),
            _ => None,
        }
    }

    /// The JSON body Lambda sends with this error.
    pub fn body(&self) -> String {
        let kind = match self {
            InvokeError::Service(_) | InvokeError::InvalidRuntime(_) => "Service",
            _ => "User",
        };
        let reason = match self {
            InvokeError::TooManyRequests => {
                Some("ReservedFunctionConcurrentInvocationLimitExceeded")
            }
            // Lambda's reason when the account's concurrency, not a reserved limit, is used up.
            InvokeError::InstanceCapReached { .. } => Some("ConcurrentInvocationLimitExceeded"),
            _ => None,
        };
        let wire = WireError {
            kind,
            message: self.to_string(),
            reason,
            hint: self.hint(),
        };
        serde_json::to_string(&wire).unwrap_or_else(|_| String::from("{}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_large_message_is_lambdas() {
        let e = InvokeError::RequestTooLarge {
            size: 7_000_000,
            limit: limits::SYNC_REQUEST_MAX,
            operation: "InvokeFunction",
        };
        assert_eq!(e.status(), 413);
        assert_eq!(
            e.to_string(),
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
        );
        assert!(e.body().contains("presigned"));
    }

    #[test]
    fn throttle_has_reason() {
        let b = InvokeError::TooManyRequests.body();
        assert!(b.contains("\"Reason\":\"ReservedFunctionConcurrentInvocationLimitExceeded\""));
        assert!(b.contains("\"message\":\"Rate Exceeded.\""));
    }
}
