//! Decoding `aws-chunked` bodies without their signatures, for the default auth mode.
//!
//! SDKs that sign chunk by chunk (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) or send trailing
//! checksums (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`) frame the body as
//! `<hex size>[;chunk-signature=..]\r\n<bytes>\r\n ... 0[;..]\r\n[trailers]\r\n`. s3s can only
//! decode that while verifying the signatures, which needs the client's secret; in the
//! default mode any access key is accepted, so the server strips the framing itself
//! (signatures and trailers are dropped: nothing verifies them in this mode).

use bytes::{Buf, Bytes, BytesMut};

/// Longest chunk-size or trailer line accepted (a signature is 64 hex characters).
const MAX_LINE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    Done,
}

/// Incremental decoder: feed it the raw body as it arrives.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    state: State,
}

/// A malformed `aws-chunked` body.
#[derive(Debug, thiserror::Error)]
#[error("malformed aws-chunked body: {0}")]
pub struct ChunkedError(&'static str);

impl Default for Decoder {
    fn default() -> Self {
        Self {
            buf: BytesMut::new(),
            state: State::Size,
        }
    }
}

impl Decoder {
    /// Consumes `input`; returns the payload bytes it completes.
    pub fn feed(&mut self, input: &[u8]) -> Result<Vec<Bytes>, ChunkedError> {
        self.buf.extend_from_slice(input);
        let mut out = Vec::new();
        loop {
            match self.state {
                State::Size | State::Trailers => {
                    let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                        if self.buf.len() > MAX_LINE {
                            return Err(ChunkedError("line too long"));
                        }
                        return Ok(out);
                    };
                    let line = self.buf.split_to(end + 2);
                    let line = &line[..end];
                    if self.state == State::Trailers {
                        // Trailing headers (checksums) end with an empty line.
                        if line.is_empty() {
                            self.state = State::Done;
                        }
                        continue;
                    }
                    let hex = line.split(|b| *b == b';').next().unwrap_or_default();
                    let hex = std::str::from_utf8(hex)
                        .map_err(|_| ChunkedError("chunk size is not text"))?;
                    let size = u64::from_str_radix(hex.trim(), 16)
                        .map_err(|_| ChunkedError("chunk size is not hex"))?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(n) => {
                    if self.buf.is_empty() {
                        return Ok(out);
                    }
                    let take = usize::try_from(n).unwrap_or(usize::MAX).min(self.buf.len());
                    out.push(self.buf.split_to(take).freeze());
                    let left = n - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd => {
                    if self.buf.len() < 2 {
                        return Ok(out);
                    }
                    if &self.buf[..2] != b"\r\n" {
                        return Err(ChunkedError("chunk not followed by CRLF"));
                    }
                    self.buf.advance(2);
                    self.state = State::Size;
                }
                State::Done => {
                    self.buf.clear();
                    return Ok(out);
                }
            }
        }
    }

    /// Whether the final chunk (and its trailers, if any) arrived. A body may also end
    /// right after the zero-size chunk's line without a trailer section.
    pub fn finished(&self) -> bool {
        self.state == State::Done || (self.state == State::Trailers && self.buf.is_empty())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn decode_in_pieces(body: &[u8], piece: usize) -> (Vec<u8>, bool) {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for chunk in body.chunks(piece) {
            for b in d.feed(chunk).unwrap() {
                out.extend_from_slice(&b);
            }
        }
        (out, d.finished())
    }

    #[test]
    fn signed_chunks_with_trailers_decode_in_any_split() {
        let sig = "0".repeat(64);
        let body = format!(
            "5;chunk-signature={sig}\r\nhello\r\n6;chunk-signature={sig}\r\n world\r\n0;chunk-signature={sig}\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:{sig}\r\n\r\n"
        );
        for piece in [1, 2, 3, 7, 64, 1000] {
            assert_eq!(
                decode_in_pieces(body.as_bytes(), piece),
                (b"hello world".to_vec(), true),
                "{piece}"
            );
        }
    }

    #[test]
    fn unsigned_trailer_form_and_bare_end() {
        assert_eq!(
            decode_in_pieces(b"3\r\nabc\r\n0\r\n\r\n", 2),
            (b"abc".to_vec(), true)
        );
        assert_eq!(
            decode_in_pieces(b"3\r\nabc\r\n0\r\n", 5),
            (b"abc".to_vec(), true)
        );
        assert!(!decode_in_pieces(b"3\r\nab", 5).1);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(Decoder::default().feed(b"zz\r\n").is_err());
        assert!(Decoder::default().feed(b"3\r\nabcXX").is_err());
    }
}
