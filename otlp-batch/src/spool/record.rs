//! The on-disk record format of the spool: framed, checksummed, self-describing, and found
//! again after damage.
//!
//! ```text
//! magic u32 | length u32 | crc32 u32 | id u64 | written_at u64 | signal u8 | encoding u8 | items u32 | body
//!             (length and crc32 cover everything after the crc field; written_at: ms since the Unix epoch)
//! ```
//! All integers little-endian. The encoding byte says how the body was encoded (protobuf or
//! JSON), so a replay after a protocol change can re-encode it. Records of the first format
//! (magic `OTLP`, no `written_at`) are still read.
//!
//! A record that does not check out (a bit flip, a torn write) is skipped: `scan` looks for
//! the next offset where a whole record with a valid checksum starts, so one damaged record
//! costs only its own bytes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, BufMut, Bytes};
use otlp_core::{Encoding, ExportRequest, Signal};

/// The first format (no `written_at`).
const MAGIC_V1: u32 = 0x4f54_4c50; // "PLTO" on disk
/// The current format.
const MAGIC: u32 = 0x4f54_4c51;
/// Bytes before the checksummed part.
const HEADER: usize = 12;
/// Bytes of the checksummed part before the body, per format.
const FIXED_V1: usize = 8 + 1 + 1 + 4;
const FIXED: usize = 8 + 8 + 1 + 1 + 4;

/// Bytes a record takes on disk besides its body.
pub const RECORD_OVERHEAD: usize = HEADER + FIXED;

/// A spooled request and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpooledRequest {
    /// The id to acknowledge it with.
    pub id: u64,
    /// The request, bytes as they were encoded (its `encoding` says how).
    pub request: ExportRequest,
    /// When it was appended.
    pub written_at: SystemTime,
}

/// What a record says about itself, without its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) id: u64,
    pub(crate) items: usize,
    /// `None` for a record of the first format.
    pub(crate) written_at: Option<SystemTime>,
    /// Bytes of the whole record.
    pub(crate) size: usize,
}

fn signal_code(signal: Signal) -> u8 {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn encode(id: u64, request: &ExportRequest, written_at: SystemTime) -> Vec<u8> {
    let length = FIXED + request.body.len();
    let mut out = Vec::with_capacity(HEADER + length);
    out.put_u32_le(MAGIC);
    out.put_u32_le(u32::try_from(length).unwrap_or(u32::MAX));
    out.put_u32_le(0); // the checksum, once the payload is there
    out.put_u64_le(id);
    out.put_u64_le(millis(written_at));
    out.put_u8(signal_code(request.signal));
    out.put_u8(match request.encoding {
        Encoding::Protobuf => 0,
        Encoding::Json => 1,
    });
    out.put_u32_le(u32::try_from(request.items).unwrap_or(u32::MAX));
    out.extend_from_slice(&request.body);
    let crc = crc32fast::hash(&out[HEADER..]);
    out[8..HEADER].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Checks the record at the start of `data`: its header and checksummed payload, or `None`
/// when the bytes there are not a whole, valid record.
fn check(data: &[u8]) -> Option<(Header, &[u8], usize)> {
    let mut header = data.get(..HEADER)?;
    let magic = header.get_u32_le();
    let fixed_length = match magic {
        MAGIC => FIXED,
        MAGIC_V1 => FIXED_V1,
        _ => return None,
    };
    let length = header.get_u32_le() as usize;
    let crc = header.get_u32_le();
    let payload = data.get(HEADER..HEADER.checked_add(length)?)?;
    if length < fixed_length || crc32fast::hash(payload) != crc {
        return None;
    }
    let mut fixed = &payload[..fixed_length];
    let id = fixed.get_u64_le();
    let written_at =
        (magic == MAGIC).then(|| UNIX_EPOCH + Duration::from_millis(fixed.get_u64_le()));
    let signal = fixed.get_u8();
    let encoding = fixed.get_u8();
    if signal > 2 || encoding > 1 {
        return None;
    }
    let items = fixed.get_u32_le() as usize;
    Some((
        Header {
            id,
            items,
            written_at,
            size: HEADER + length,
        },
        payload,
        fixed_length,
    ))
}

/// Decodes the record at the start of `data`.
pub(crate) fn decode(data: &[u8], read_at: SystemTime) -> Option<SpooledRequest> {
    let (header, payload, fixed_length) = check(data)?;
    // The last six bytes of the fixed part: signal, encoding, items.
    let mut codes = &payload[fixed_length - 6..fixed_length];
    let signal = match codes.get_u8() {
        0 => Signal::Traces,
        1 => Signal::Metrics,
        _ => Signal::Logs,
    };
    let encoding = match codes.get_u8() {
        0 => Encoding::Protobuf,
        _ => Encoding::Json,
    };
    let body = Bytes::copy_from_slice(&payload[fixed_length..]);
    Some(SpooledRequest {
        id: header.id,
        request: ExportRequest::new(signal, encoding, body, header.items),
        written_at: header.written_at.unwrap_or(read_at),
    })
}

/// What [`scan`] found in a segment.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Every whole record, with its offset, in file order.
    pub(crate) records: Vec<(u64, Header)>,
    /// Bytes that are not part of a whole record.
    pub(crate) skipped: u64,
    /// Where the last whole record ends: what follows holds no whole record.
    pub(crate) end: u64,
}

fn starts_a_record(data: &[u8]) -> bool {
    data.get(..4).is_some_and(|m| {
        let magic = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
        magic == MAGIC || magic == MAGIC_V1
    })
}

/// Reads every whole record of a segment, resynchronising past damage: after a record that
/// does not check out, the next offset that starts one that does.
pub(crate) fn scan(data: &[u8]) -> Scan {
    let mut scan = Scan::default();
    let mut offset = 0usize;
    let mut whole = 0u64;
    while offset < data.len() {
        match check(&data[offset..]) {
            Some((header, _, _)) => {
                scan.records.push((offset as u64, header));
                offset += header.size;
                whole += header.size as u64;
                scan.end = offset as u64;
            }
            None => {
                offset += 1;
                while offset < data.len() && !starts_a_record(&data[offset..]) {
                    offset += 1;
                }
            }
        }
    }
    scan.skipped = data.len() as u64 - whole;
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(n: u8) -> ExportRequest {
        ExportRequest::new(
            Signal::Logs,
            Encoding::Json,
            Bytes::from(vec![n; 40 + n as usize]),
            n as usize,
        )
    }

    #[test]
    fn round_trip_and_any_damage_is_detected() {
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let bytes = encode(42, &request(3), now);
        let decoded = decode(&bytes, SystemTime::now()).unwrap();
        assert_eq!(
            (decoded.id, decoded.request, decoded.written_at),
            (42, request(3), now)
        );
        assert_eq!(bytes.len(), RECORD_OVERHEAD + 43);
        for cut in 0..bytes.len() {
            assert!(check(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        for flip in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[flip] ^= 0x40;
            assert!(check(&damaged).is_none(), "a flipped bit at {flip}");
        }
    }

    #[test]
    fn a_damaged_record_costs_only_its_own_bytes() {
        let now = SystemTime::now();
        let records: Vec<Vec<u8>> = (1..=10)
            .map(|n| encode(n, &request(n as u8), now))
            .collect();
        let file: Vec<u8> = records.concat();
        for victim in 0..10 {
            let start: usize = records[..victim].iter().map(Vec::len).sum();
            for at in [0, 4, 9, 13, 30, records[victim].len() - 1] {
                let mut damaged = file.clone();
                damaged[start + at] ^= 0x01;
                let scan = scan(&damaged);
                let ids: Vec<u64> = scan.records.iter().map(|(_, h)| h.id).collect();
                let expected: Vec<u64> = (1..=10).filter(|id| *id != victim as u64 + 1).collect();
                assert_eq!(ids, expected, "record {victim} damaged at {at}");
                assert_eq!(scan.skipped, records[victim].len() as u64);
            }
        }
    }

    #[test]
    fn records_of_the_first_format_still_read() {
        let mut payload = Vec::new();
        payload.put_u64_le(7);
        payload.put_u8(0);
        payload.put_u8(0);
        payload.put_u32_le(5);
        payload.extend_from_slice(b"body");
        let mut old = Vec::new();
        old.put_u32_le(MAGIC_V1);
        old.put_u32_le(payload.len() as u32);
        old.put_u32_le(crc32fast::hash(&payload));
        old.extend_from_slice(&payload);
        let read_at = SystemTime::now();
        let decoded = decode(&old, read_at).unwrap();
        assert_eq!(decoded.id, 7);
        assert_eq!(decoded.written_at, read_at);
        assert_eq!(
            decoded.request,
            ExportRequest::new(
                Signal::Traces,
                Encoding::Protobuf,
                Bytes::from_static(b"body"),
                5
            )
        );
    }
}
