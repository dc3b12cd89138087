//! Recursive loop detection, as Lambda does it for S3 since 2024: every invocation carries a
//! tracing header with a `Lineage=<hash>:<count>` field; the AWS SDKs inside the function copy
//! it (`_X_AMZN_TRACE_ID` → `X-Amzn-Trace-Id`) onto their requests, S3 hands it to the event it
//! triggers, and the next invocation counts one more. At 16 Lambda stops the chain.
//!
//! <https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html>

/// Lambda stops a recursive loop after about 16 invocations.
pub const MAX_CHAIN: u32 = 16;

/// The lineage (`hash`, `count`) of a tracing header, if it has one.
pub fn lineage(trace: &str) -> Option<(String, u32)> {
    trace.split(';').find_map(|part| {
        let v = part.trim().strip_prefix("Lineage=")?;
        let (hash, count) = v.split_once(':')?;
        Some((hash.to_string(), count.parse().ok()?))
    })
}

/// The tracing header for the invocation an event from `trace` causes: the same root, one
/// more hop of lineage for `function`. `None` in, a fresh chain out.
pub fn next_hop(trace: Option<&str>, function: &str) -> (String, u32) {
    let root = trace
        .and_then(|t| {
            t.split(';')
                .find_map(|p| p.trim().strip_prefix("Root=").map(str::to_string))
        })
        .unwrap_or_else(ssam_lambda::ids::trace_root);
    let (hash, count) = trace
        .and_then(lineage)
        .unwrap_or_else(|| (short_hash(function), 0));
    let count = count + 1;
    (
        format!(
            "Root={root};Parent={};Sampled=0;Lineage={hash}:{count}",
            ssam_lambda::ids::span_id()
        ),
        count,
    )
}

fn short_hash(s: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lineage_counts_one_hop_per_invocation() {
        let (first, n) = next_hop(None, "Thumbnails");
        assert_eq!(n, 1);
        assert!(first.starts_with("Root=1-"), "{first}");
        let (hash, count) = lineage(&first).unwrap();
        assert_eq!(count, 1);
        let (second, n) = next_hop(Some(&first), "Thumbnails");
        assert_eq!(n, 2);
        assert_eq!(lineage(&second).unwrap(), (hash, 2));
        let root = |t: &str| t.split(';').next().unwrap().to_string();
        assert_eq!(root(&first), root(&second), "the chain keeps its root");
    }

    #[test]
    fn headers_without_lineage_start_a_chain() {
        let (t, n) = next_hop(
            Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
            "f",
        );
        assert_eq!(n, 1);
        assert!(
            t.starts_with("Root=1-5759e988-bd862e3fe1be46a994272793;"),
            "{t}"
        );
    }
}
