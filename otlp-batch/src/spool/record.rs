//! The on-disk record format of the spool: framed, checksummed, self-describing.
//!
//! ```text
//! magic u32 | length u32 | crc32 u32 | id u64 | signal u8 | encoding u8 | items u32 | body
//!             (length and crc32 cover everything after the crc field)
//! ```
//! All integers little-endian. A record that does not check out ends the readable part of a
//! segment: a torn write after a crash or a full disk.

use bytes::{Buf, BufMut, Bytes};
use otlp_core::{Encoding, ExportRequest, Signal};

const MAGIC: u32 = 0x4f54_4c50; // "OTLP"
/// Bytes before the checksummed part.
pub(crate) const HEADER: usize = 12;
/// Bytes of the checksummed part before the body.
const FIXED: usize = 8 + 1 + 1 + 4;

/// A spooled request and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpooledRequest {
    /// The id to acknowledge it with.
    pub id: u64,
    /// The request, bytes as they were encoded.
    pub request: ExportRequest,
}

fn signal_code(signal: Signal) -> u8 {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

pub(crate) fn encode(id: u64, request: &ExportRequest) -> Vec<u8> {
    let mut payload = Vec::with_capacity(FIXED + request.body.len());
    payload.put_u64_le(id);
    payload.put_u8(signal_code(request.signal));
    payload.put_u8(match request.encoding {
        Encoding::Protobuf => 0,
        Encoding::Json => 1,
    });
    payload.put_u32_le(u32::try_from(request.items).unwrap_or(u32::MAX));
    payload.extend_from_slice(&request.body);
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.put_u32_le(MAGIC);
    out.put_u32_le(u32::try_from(payload.len()).unwrap_or(u32::MAX));
    out.put_u32_le(crc32fast::hash(&payload));
    out.extend_from_slice(&payload);
    out
}

/// Decodes the record at the start of `data`: the record and its size, or `None` when the
/// bytes there are not a whole, valid record.
pub(crate) fn decode(data: &[u8]) -> Option<(SpooledRequest, usize)> {
    if data.len() < HEADER {
        return None;
    }
    let mut header = &data[..HEADER];
    if header.get_u32_le() != MAGIC {
        return None;
    }
    let length = header.get_u32_le() as usize;
    let crc = header.get_u32_le();
    let payload = data.get(HEADER..HEADER + length)?;
    if length < FIXED || crc32fast::hash(payload) != crc {
        return None;
    }
    let mut fixed = &payload[..FIXED];
    let id = fixed.get_u64_le();
    let signal = match fixed.get_u8() {
        0 => Signal::Traces,
        1 => Signal::Metrics,
        2 => Signal::Logs,
        _ => return None,
    };
    let encoding = match fixed.get_u8() {
        0 => Encoding::Protobuf,
        1 => Encoding::Json,
        _ => return None,
    };
    let items = fixed.get_u32_le() as usize;
    let body = Bytes::copy_from_slice(&payload[FIXED..]);
    Some((
        SpooledRequest {
            id,
            request: ExportRequest::new(signal, encoding, body, items),
        },
        HEADER + length,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_any_damage_is_detected() {
        let request = ExportRequest::new(
            Signal::Logs,
            Encoding::Json,
            Bytes::from_static(b"{\"x\":1}"),
            3,
        );
        let bytes = encode(42, &request);
        let (decoded, size) = decode(&bytes).unwrap();
        assert_eq!(
            (decoded.id, decoded.request, size),
            (42, request, bytes.len())
        );
        for cut in 0..bytes.len() {
            assert!(
                decode(&bytes[..cut]).is_none(),
                "a record cut at {cut} must not decode"
            );
        }
        for flip in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[flip] ^= 0x40;
            assert!(
                decode(&damaged).is_none(),
                "a flipped bit at {flip} must be caught"
            );
        }
    }
}
