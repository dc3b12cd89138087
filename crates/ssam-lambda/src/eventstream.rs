//! AWS's event stream framing (`application/vnd.amazon.eventstream`), as Lambda's
//! InvokeWithResponseStream answers: each message is a length-prefixed prelude with its
//! CRC32, string headers, the payload, and a CRC32 of the whole message.

use bytes::{BufMut as _, Bytes, BytesMut};

/// CRC-32 (IEEE 802.3, as zlib computes it).
fn crc32(data: &[u8]) -> u32 {
    // The 32-bit algorithm's value fits in 32 bits.
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32
}

/// One message with string-valued headers.
pub fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut h = BytesMut::new();
    for (name, value) in headers {
        h.put_u8(name.len() as u8);
        h.put_slice(name.as_bytes());
        h.put_u8(7); // string
        h.put_u16(value.len() as u16);
        h.put_slice(value.as_bytes());
    }
    let total = 12 + h.len() + payload.len() + 4;
    let mut m = BytesMut::with_capacity(total);
    m.put_u32(total as u32);
    m.put_u32(h.len() as u32);
    let prelude_crc = crc32(&m[..8]);
    m.put_u32(prelude_crc);
    m.put_slice(&h);
    m.put_slice(payload);
    let crc = crc32(&m);
    m.put_u32(crc);
    m.freeze()
}

/// An event of an event stream (`:message-type: event`).
pub fn event(event_type: &str, content_type: &str, payload: &[u8]) -> Bytes {
    message(
        &[
            (":event-type", event_type),
            (":content-type", content_type),
            (":message-type", "event"),
        ],
        payload,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn frame_layout() {
        let m = message(&[], b"");
        // The smallest message: prelude, prelude CRC and message CRC.
        assert_eq!(m.len(), 16);
        assert_eq!(&m[..4], &16u32.to_be_bytes());
    }
}
