//! Lambda's quotas, in one place.

/// Largest synchronous (RequestResponse) request payload.
pub const SYNC_REQUEST_MAX: usize = 6_291_456;
/// Largest asynchronous (Event) request payload: 1 MB since October 2025 (was 256 KB).
pub const ASYNC_REQUEST_MAX: usize = 1_048_576;
/// Largest buffered response a runtime may post to `/response`.
pub const RESPONSE_MAX: usize = 6_291_556;
/// How much of an invocation's log `X-Amz-Log-Type: Tail` returns.
pub const LOG_TAIL_MAX: usize = 4096;

/// Shown with every oversize payload error.
pub const OVERSIZE_HINT: &str = "Lambda payloads are limited to 6 MB (sync) and 1 MB (async); \
     pass large data by reference instead, e.g. upload it to S3 and send a presigned URL";
