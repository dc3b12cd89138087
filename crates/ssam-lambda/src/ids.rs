//! Identifiers and clocks every front door shares: request ids, the one X-Ray trace header
//! format, log stream names, epoch milliseconds for deadlines.

/// A Lambda request id (a UUID v4, as `x-amzn-RequestId` and `Lambda-Runtime-Aws-Request-Id`).
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An X-Ray trace header as Lambda hands it to a function (`_X_AMZN_TRACE_ID`) and API
/// Gateway forwards it (`X-Amzn-Trace-Id`):
/// `Root=1-<8 hex epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=0`.
pub fn trace_header() -> String {
    format!("Root={};Parent={};Sampled=0", trace_root(), span_id())
}

/// A new X-Ray trace id: `1-<8 hex epoch seconds>-<24 hex>`.
pub fn trace_root() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("1-{secs:08x}-{}", &random[..24])
}

/// A new X-Ray segment id (`Parent=`): 16 hex digits.
pub fn span_id() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    random[..16].to_string()
}

/// Milliseconds since the Unix epoch (the Runtime API's `Lambda-Runtime-Deadline-Ms`).
pub(crate) fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Now, as Lambda stamps the lines it writes into a function's log.
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `2024/01/31/[$LATEST]<32 hex>`, as Lambda names log streams.
pub(crate) fn log_stream_name() -> String {
    let today = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}/{:02}/{:02}/[$LATEST]{}",
        today.year(),
        u8::from(today.month()),
        today.day(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_header_has_xrays_shape() {
        let t = trace_header();
        let parts: Vec<&str> = t.split(';').collect();
        assert_eq!(parts.len(), 3, "{t}");
        let root = parts[0].strip_prefix("Root=1-").expect("root");
        let (epoch, id) = root.split_once('-').expect("epoch-id");
        assert_eq!(epoch.len(), 8);
        assert_eq!(id.len(), 24);
        assert_eq!(parts[1].strip_prefix("Parent=").map(str::len), Some(16));
        assert_eq!(parts[2], "Sampled=0");
        assert_ne!(t, trace_header());
    }
}
