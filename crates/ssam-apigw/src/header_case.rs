//! The header names as the client spelled them. hyper lower-cases names and has no public
//! API for the original spelling (hyperium/hyper#2695, open), but REST API events pass names
//! on as sent (`x-api-key` stays `x-api-key`, `Content-Type` stays `Content-Type`). This
//! reader sits between the socket and hyper and notes each header name of each request head
//! it sees pass by.
//!
//! It follows request boundaries (`Content-Length`, chunked bodies and their trailers) so a
//! body is never mistaken for headers; if it loses track (a malformed chunk size) it stops
//! noting for the rest of the connection and names fall back to title case.
//!
//! It also notes a connection whose first request line says `HTTP/1.0`: its responses get
//! an `HTTP/1.1` status line on the way out ([`crate::http10`]). Other connections' writes
//! pass straight through.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Lower-case name → the spelling last seen on the connection.
pub type Spellings = Arc<Mutex<HashMap<String, String>>>;

/// Longest header line worth noting; longer ones are skipped, not buffered.
const MAX_LINE: usize = 8 * 1024;
/// Distinct names noted per connection.
const MAX_NAMES: usize = 256;

enum State {
    /// Reading a request head; `first` is set until the request line has passed.
    Head {
        first: bool,
        content_length: usize,
        chunked: bool,
    },
    /// Skipping this many body bytes.
    Body(usize),
    /// A chunked body: reading a chunk-size line.
    ChunkSize,
    /// A chunked body: skipping chunk data plus its CRLF.
    ChunkData(usize),
    /// A chunked body: reading trailer lines until the blank one.
    Trailers,
    /// Lost track (a malformed chunk size): note nothing more.
    Lost,
}

fn head() -> State {
    State::Head {
        first: true,
        content_length: 0,
        chunked: false,
    }
}

/// An `AsyncRead + AsyncWrite` that notes header spellings while passing bytes through.
pub struct Sniff<S> {
    inner: S,
    state: State,
    line: Vec<u8>,
    line_too_long: bool,
    spellings: Spellings,
    /// Set when the first request line says HTTP/1.0: its responses are rewritten.
    http10: Option<crate::http10::Responses>,
    /// Whether a request line has been seen (the first decides `http10`).
    seen_request: bool,
}

impl<S> Sniff<S> {
    pub fn new(inner: S) -> (Self, Spellings) {
        let spellings: Spellings = Arc::default();
        (
            Sniff {
                inner,
                state: State::Head {
                    first: true,
                    content_length: 0,
                    chunked: false,
                },
                line: Vec::with_capacity(128),
                line_too_long: false,
                spellings: Arc::clone(&spellings),
                http10: None,
                seen_request: false,
            },
            spellings,
        )
    }

    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match &mut self.state {
                State::Lost => return,
                State::Body(n) | State::ChunkData(n) => {
                    let skip = (*n).min(bytes.len());
                    *n -= skip;
                    bytes = &bytes[skip..];
                    if *n == 0 {
                        self.state = match self.state {
                            State::ChunkData(_) => State::ChunkSize,
                            _ => head(),
                        };
                    }
                }
                State::Head { .. } | State::ChunkSize | State::Trailers => {
                    let (chunk, rest, complete) = match bytes.iter().position(|b| *b == b'\n') {
                        Some(i) => (&bytes[..i], &bytes[i + 1..], true),
                        None => (bytes, &bytes[bytes.len()..], false),
                    };
                    if self.line.len() + chunk.len() > MAX_LINE {
                        self.line_too_long = true;
                        self.line.clear();
                    } else if !self.line_too_long {
                        self.line.extend_from_slice(chunk);
                    }
                    bytes = rest;
                    if complete {
                        let line = std::mem::take(&mut self.line);
                        let skipped = std::mem::replace(&mut self.line_too_long, false);
                        if !skipped {
                            self.on_line(&line);
                        }
                    }
                }
            }
        }
    }

    fn on_line(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match self.state {
            State::ChunkSize => {
                let size = std::str::from_utf8(line)
                    .ok()
                    .and_then(|l| l.split(';').next())
                    .and_then(|h| usize::from_str_radix(h.trim(), 16).ok());
                self.state = match size {
                    Some(0) => State::Trailers,
                    // The data, then the CRLF that ends it.
                    Some(n) => State::ChunkData(n.saturating_add(2)),
                    None => State::Lost,
                };
                return;
            }
            State::Trailers => {
                if line.is_empty() {
                    self.state = head();
                }
                return;
            }
            _ => {}
        }
        let State::Head {
            first,
            content_length,
            chunked,
        } = &mut self.state
        else {
            return;
        };
        if line.is_empty() {
            if *first {
                // Blank lines before a request line are tolerated (RFC 9112 2.2).
                return;
            }
            self.state = if *chunked {
                State::ChunkSize
            } else if *content_length > 0 {
                State::Body(*content_length)
            } else {
                head()
            };
            return;
        }
        if std::mem::replace(first, false) {
            self.on_request_line(line);
            return;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            return;
        };
        let Ok(name) = std::str::from_utf8(&line[..colon]) else {
            return;
        };
        let value = String::from_utf8_lossy(&line[colon + 1..]);
        let lower = name.to_ascii_lowercase();
        if lower == "content-length" {
            *content_length = value.trim().parse().unwrap_or(0);
        } else if lower == "transfer-encoding" && value.to_ascii_lowercase().contains("chunked") {
            *chunked = true;
        }
        let mut map = self.spellings.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() < MAX_NAMES || map.contains_key(&lower) {
            map.insert(lower, name.to_string());
        }
    }
}

impl<S> Sniff<S> {
    fn on_request_line(&mut self, line: &[u8]) {
        if !std::mem::replace(&mut self.seen_request, true) && line.ends_with(b" HTTP/1.0") {
            self.http10 = Some(crate::http10::Responses::new());
        }
        if let Some(r) = &mut self.http10 {
            r.requests_head.push_back(line.starts_with(b"HEAD "));
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Sniff<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &res {
            this.feed(&buf.filled()[before..]);
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Sniff<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let Some(r) = &mut this.http10 else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        // The rewrite keeps the length: bytes written of the copy are bytes of `buf`.
        let res = match r.rewrite(buf) {
            Some(copy) => Pin::new(&mut this.inner).poll_write(cx, &copy),
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        };
        if let Poll::Ready(Ok(n)) = &res {
            r.wrote(&buf[..*n]);
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let Some(r) = &mut this.http10 else {
            return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        };
        if r.at_head_start() {
            // A head starts here: written as one buffer, so its first bytes can be rewritten.
            let flat: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            let res = match r.rewrite(&flat) {
                Some(copy) => Pin::new(&mut this.inner).poll_write(cx, &copy),
                None => Pin::new(&mut this.inner).poll_write(cx, &flat),
            };
            if let Poll::Ready(Ok(n)) = &res {
                r.wrote(&flat[..*n]);
            }
            return res;
        }
        let res = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = &res {
            let mut left = *n;
            for b in bufs {
                let take = left.min(b.len());
                r.wrote(&b[..take]);
                left -= take;
                if left == 0 {
                    break;
                }
            }
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn spell(chunks: &[&[u8]]) -> HashMap<String, String> {
        let (mut s, map) = Sniff::new(());
        for c in chunks {
            s.feed(c);
        }
        let m = map.lock().unwrap().clone();
        m
    }

    #[test]
    fn notes_names_across_reads_and_requests() {
        let m = spell(&[
            b"POST http://x:1/a HTTP/1.1\r\nx-api-Key: 1\r\nContent-Le",
            b"ngth: 20\r\n\r\nNot-A-Header: inbody",
            b"\r\nGET / HTTP/1.1\r\nheaderName: v\r\n\r\n",
        ]);
        assert_eq!(m["x-api-key"], "x-api-Key");
        assert_eq!(m["content-length"], "Content-Length");
        assert_eq!(m["headername"], "headerName");
        assert!(!m.contains_key("not-a-header"));
        assert!(!m.contains_key("post http"));
    }

    #[test]
    fn chunked_bodies_are_skipped() {
        let m = spell(&[
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nFake: 1\r\n\r\n",
            b"7;ext=1\r\nX-No: 2\r\n0\r\nTrailer-Thing: 3\r\n\r\n",
            b"GET / HTTP/1.1\r\nafter-Chunked: 1\r\n\r\n",
        ]);
        assert!(!m.contains_key("fake"));
        assert!(!m.contains_key("x-no"));
        assert_eq!(m["after-chunked"], "after-Chunked");
    }

    #[test]
    fn a_bad_chunk_size_stops_the_noting() {
        let m =
            spell(&[b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nFake: 1\r\n\r\n"]);
        assert!(!m.contains_key("fake"));
    }
}
