//! One request as the pipeline holds it: hyper's [`Parts`] with its `HeaderMap` (kept, not
//! copied: the gateway's own header lookups go to it), the peer, and the headers API Gateway
//! adds before it passes the request on ([`Forwarded`]).
//!
//! The added headers are not written into the `HeaderMap`: they are applied once, when the
//! event's header list is made ([`RequestCtx::event_headers`]), in the order API Gateway's
//! sample events show them (after the client's).

use std::borrow::Cow;
use std::net::SocketAddr;

use http::request::Parts;
use http::HeaderValue;

use crate::header_case::Spellings;

/// A request in the pipeline.
pub struct RequestCtx {
    pub parts: Parts,
    pub peer: SocketAddr,
    /// Header names as the client spelled them (REST events keep the spelling).
    pub spellings: Option<Spellings>,
    pub forwarded: Forwarded,
}

/// The headers API Gateway adds to the request it passes on (the REST sample event in "Set
/// up Lambda proxy integrations" shows them): `X-Forwarded-For/Port/Proto` and
/// `X-Amzn-Trace-Id` (kept when the client sent one).
pub struct Forwarded {
    /// The peer's address: appended to the client's `X-Forwarded-For`, and `sourceIp`.
    pub ip: String,
    /// `X-Forwarded-Port`: the port the gateway listens on.
    pub port: String,
    /// The trace id the function gets (`X-Amzn-Trace-Id`, `_X_AMZN_TRACE_ID`).
    pub trace_id: String,
    /// The client sent no `X-Amzn-Trace-Id` with a `Root=`: its own are dropped and
    /// `trace_id` (a fresh one) is added.
    trace_added: bool,
}

impl Forwarded {
    pub fn new(headers: &http::HeaderMap, peer: &SocketAddr, local_port: u16) -> Self {
        let sent = headers
            .get_all("x-amzn-trace-id")
            .iter()
            .find(|v| v.as_bytes().starts_with(b"Root="));
        let (trace_id, trace_added) = match sent {
            Some(v) => (lossy(v).into_owned(), false),
            None => (ssam_lambda::ids::trace_header(), true),
        };
        Forwarded {
            ip: peer.ip().to_string(),
            port: local_port.to_string(),
            trace_id,
            trace_added,
        }
    }
}

/// A header value as text; bytes that are not UTF-8 become U+FFFD (no copy when it is UTF-8).
pub fn lossy(v: &HeaderValue) -> Cow<'_, str> {
    String::from_utf8_lossy(v.as_bytes())
}

impl RequestCtx {
    pub fn method(&self) -> &str {
        self.parts.method.as_str()
    }

    /// The path as sent (percent-encoded).
    pub fn raw_path(&self) -> &str {
        self.parts.uri.path()
    }

    /// The first value of a header the client sent.
    pub fn header(&self, name: &str) -> Option<Cow<'_, str>> {
        self.parts.headers.get(name).map(lossy)
    }

    /// The last value of a header as the function receives it (identity sources of
    /// authorizers read these: the added headers count, the last repeat wins).
    pub fn passed_on(&self, name: &str) -> Option<Cow<'_, str>> {
        let f = &self.forwarded;
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "x-forwarded-port" => return Some(Cow::Borrowed(&f.port)),
            "x-forwarded-proto" => return Some(Cow::Borrowed("http")),
            "x-amzn-trace-id" if f.trace_added => return Some(Cow::Borrowed(&f.trace_id)),
            "x-forwarded-for" => {
                let mut all = self.parts.headers.get_all(name).iter();
                return match (all.next(), all.next_back()) {
                    (None, _) => Some(Cow::Borrowed(&f.ip)),
                    (Some(first), None) => Some(Cow::Owned(format!("{}, {}", lossy(first), f.ip))),
                    (Some(_), Some(last)) => Some(lossy(last)),
                };
            }
            _ => {}
        }
        self.parts
            .headers
            .get_all(name)
            .iter()
            .next_back()
            .map(lossy)
    }

    /// The headers the event carries: the client's (names as REST or HTTP APIs pass them
    /// on: `spell` for REST, lower case for HTTP APIs) with the [`Forwarded`] ones applied.
    /// Repeats of a name come together; the event's maps are keyed by first appearance, so
    /// this is the order the client sent.
    pub fn event_headers(&self, rest: bool) -> Vec<(String, String)> {
        let f = &self.forwarded;
        let spellings = if rest {
            self.spellings
                .as_ref()
                .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()))
        } else {
            None
        };
        let name_of = |lower: &str| -> String {
            if rest {
                spellings
                    .as_ref()
                    .and_then(|s| s.get(lower).cloned())
                    .unwrap_or_else(|| title_case(lower))
            } else {
                lower.to_string()
            }
        };
        let mut out = Vec::with_capacity(self.parts.headers.len() + 4);
        let mut forwarded_for = false;
        for (k, v) in &self.parts.headers {
            let k = k.as_str();
            let mut v = lossy(v).into_owned();
            match k {
                "x-forwarded-port" | "x-forwarded-proto" => continue,
                "x-amzn-trace-id" if f.trace_added => continue,
                // API Gateway appends the address it saw the request come from.
                "x-forwarded-for" if !forwarded_for => {
                    forwarded_for = true;
                    v.push_str(", ");
                    v.push_str(&f.ip);
                }
                _ => {}
            }
            out.push((name_of(k), v));
        }
        if !forwarded_for {
            out.push((name_of("x-forwarded-for"), f.ip.clone()));
        }
        out.push((name_of("x-forwarded-port"), f.port.clone()));
        out.push((name_of("x-forwarded-proto"), "http".to_string()));
        if f.trace_added {
            out.push((name_of("x-amzn-trace-id"), f.trace_id.clone()));
        }
        out
    }
}

/// `content-type` → `Content-Type`: the spelling REST events use for a header whose
/// original spelling is unknown (headers the gateway adds; after a chunked request on the
/// same connection). Title case is what clients send for nearly every standard header, and
/// what SAM CLI (werkzeug) passes for all of them.
pub fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                }
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn title_cases_header_names() {
        assert_eq!(title_case("content-type"), "Content-Type");
        assert_eq!(title_case("x-amz-date"), "X-Amz-Date");
        assert_eq!(title_case("host"), "Host");
    }

    fn ctx(headers: &[(&str, &str)]) -> RequestCtx {
        let mut b = http::Request::builder().uri("/a");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (parts, ()) = b.body(()).unwrap().into_parts();
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let forwarded = Forwarded::new(&parts.headers, &peer, 3000);
        RequestCtx {
            parts,
            peer,
            spellings: None,
            forwarded,
        }
    }

    #[test]
    fn forwarded_headers_are_added_after_the_clients() {
        let c = ctx(&[
            ("host", "h"),
            ("x-forwarded-port", "1"),
            ("x-forwarded-for", "1.2.3.4"),
            ("x-amzn-trace-id", "Root=1-abc"),
        ]);
        let h = c.event_headers(false);
        let names: Vec<_> = h.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "host",
                "x-forwarded-for",
                "x-amzn-trace-id",
                "x-forwarded-port",
                "x-forwarded-proto"
            ]
        );
        assert_eq!(h[1].1, "1.2.3.4, 10.0.0.1");
        assert_eq!(c.forwarded.trace_id, "Root=1-abc");
        assert_eq!(c.passed_on("X-Forwarded-For").unwrap(), "1.2.3.4, 10.0.0.1");
        assert_eq!(c.passed_on("x-forwarded-port").unwrap(), "3000");
    }

    #[test]
    fn a_trace_id_without_root_is_replaced() {
        let c = ctx(&[("x-amzn-trace-id", "junk")]);
        let h = c.event_headers(true);
        let trace: Vec<_> = h.iter().filter(|(k, _)| k == "X-Amzn-Trace-Id").collect();
        assert_eq!(trace.len(), 1);
        assert!(trace[0].1.starts_with("Root="));
        assert_eq!(
            h[0],
            ("X-Forwarded-For".to_string(), "10.0.0.1".to_string())
        );
    }
}
