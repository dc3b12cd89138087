//! HTTP/1.0 clients get an `HTTP/1.1` status line, as API Gateway answers them. hyper
//! answers a peer that spoke HTTP/1.0 with an `HTTP/1.0` status line whatever the response's
//! version says (its connection state forces it), so this rewrites the one byte on the way
//! out: the `0` of `HTTP/1.0` at the start of each response head.
//!
//! It follows response boundaries (`Content-Length`; no body after a HEAD request or a 1xx,
//! 204 or 304 status) so that only a head's first bytes are ever touched. A response whose
//! length it cannot know (close-delimited or chunked) ends the rewriting for the connection;
//! hyper sends neither to an HTTP/1.0 peer that keeps the connection open.

use std::collections::VecDeque;

/// Where the output stream is.
#[derive(Debug)]
enum Out {
    /// In a response head, `pos` bytes into it; `line` is the current line so far.
    Head {
        pos: usize,
        line: Vec<u8>,
        status: u16,
        content_length: Option<usize>,
        chunked: bool,
    },
    /// Skipping this many body bytes.
    Body(usize),
    /// Lost track: nothing more is rewritten.
    Untracked,
}

fn head() -> Out {
    Out::Head {
        pos: 0,
        line: Vec::new(),
        status: 0,
        content_length: None,
        chunked: false,
    }
}

/// The response side of an HTTP/1.0 connection.
#[derive(Debug)]
pub(crate) struct Responses {
    out: Out,
    /// One entry per request read and not yet answered: whether it was a HEAD.
    pub(crate) requests_head: VecDeque<bool>,
}

impl Responses {
    pub(crate) fn new() -> Self {
        Responses {
            out: head(),
            requests_head: VecDeque::new(),
        }
    }

    /// Whether bytes about to be written may need rewriting (the start of a head).
    pub(crate) fn at_head_start(&self) -> bool {
        matches!(self.out, Out::Head { pos, .. } if pos < 8)
    }

    /// `bytes`, rewritten where a head's status line says `HTTP/1.0`; `None`: unchanged.
    pub(crate) fn rewrite(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let Out::Head { pos, line, .. } = &self.out else {
            return None;
        };
        if *pos >= 8 {
            return None;
        }
        // The first 8 bytes of the head: what was written already, then these.
        let mut first = line.clone();
        first.extend(bytes.iter().take(8 - *pos));
        if first.len() < 8 || &first[..8] != b"HTTP/1.0" {
            return None;
        }
        let mut out = bytes.to_vec();
        out[7 - *pos] = b'1';
        Some(out)
    }

    /// Follows `bytes` written to the client.
    pub(crate) fn wrote(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match &mut self.out {
                Out::Untracked => return,
                Out::Body(n) => {
                    let skip = (*n).min(bytes.len());
                    *n -= skip;
                    bytes = &bytes[skip..];
                    if *n == 0 {
                        self.out = head();
                    }
                }
                Out::Head { pos, line, .. } => {
                    let (chunk, rest, complete) = match bytes.iter().position(|b| *b == b'\n') {
                        Some(i) => (&bytes[..=i], &bytes[i + 1..], true),
                        None => (bytes, &bytes[bytes.len()..], false),
                    };
                    *pos += chunk.len();
                    if line.len() < 8 * 1024 {
                        line.extend_from_slice(chunk);
                    }
                    bytes = rest;
                    if complete {
                        let l = std::mem::take(line);
                        self.on_line(&l);
                    }
                }
            }
        }
    }

    fn on_line(&mut self, line: &[u8]) {
        let Out::Head {
            status,
            content_length,
            chunked,
            ..
        } = &mut self.out
        else {
            return;
        };
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\r', '\n']);
        if *status == 0 {
            // The status line.
            *status = text
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if *status == 0 {
                self.out = Out::Untracked;
            }
            return;
        }
        if !text.is_empty() {
            if let Some((name, value)) = text.split_once(':') {
                let name = name.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    *content_length = value.trim().parse().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    *chunked = true;
                }
            }
            return;
        }
        // The end of the head.
        let (status, content_length, chunked) = (*status, *content_length, *chunked);
        let interim = (100..200).contains(&status);
        let head_request = if interim {
            false
        } else {
            self.requests_head.pop_front().unwrap_or(false)
        };
        self.out = if interim || head_request || status == 204 || status == 304 {
            head()
        } else if chunked {
            Out::Untracked
        } else {
            match content_length {
                Some(0) => head(),
                Some(n) => Out::Body(n),
                None => Out::Untracked,
            }
        };
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Writes `chunks` as hyper would, returning what reaches the client.
    fn send(r: &mut Responses, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in chunks {
            let data = r.rewrite(c).unwrap_or_else(|| c.to_vec());
            out.extend_from_slice(&data);
            r.wrote(c);
        }
        out
    }

    #[test]
    fn status_lines_of_each_response_say_http_1_1_and_bodies_are_untouched() {
        let mut r = Responses::new();
        r.requests_head.extend([false, true, false]);
        let out = send(
            &mut r,
            &[
                b"HTTP/1.0 200 OK\r\ncontent-length: 9\r\n\r\n",
                b"HTTP/1.0 ",
                b"HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\n",
                b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n",
                b"HTT",
                b"P/1.0 500 x\r\ncontent-length: 2\r\n\r\nhi",
            ],
        );
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nHTTP/1.0 HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\nHTTP/1.1 500 x\r\ncontent-length: 2\r\n\r\nhi"
        );
    }

    #[test]
    fn a_close_delimited_body_ends_the_tracking() {
        let mut r = Responses::new();
        r.requests_head.push_back(false);
        let out = send(
            &mut r,
            &[b"HTTP/1.0 200 OK\r\n\r\n", b"HTTP/1.0 looks like a head"],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 200 OK\r\n\r\nHTTP/1.0 looks like a head"
        );
    }
}
