//! The protobuf wire format, written by hand: a [`Wire`] is either a buffer that is written
//! (each nested message's length set down after its content) or a counter that only measures
//! (where a size must be known first, as in a request's headers). The direct encoders of
//! spans, logs and metrics write their messages through it.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{BufMut, BytesMut};

pub(super) const VARINT: u32 = 0;
pub(super) const FIXED64: u32 = 1;
pub(super) const LENGTH: u32 = 2;
pub(super) const FIXED32: u32 = 5;

pub(super) fn varint_len(value: u64) -> usize {
    ((64 - (value | 1).leading_zeros()) as usize).div_ceil(7)
}

/// Something protobuf is written to: a buffer, or a counter that only measures.
pub(super) trait Wire: Sized {
    fn raw(&mut self, bytes: &[u8]);
    fn varint(&mut self, value: u64);
    fn fixed64(&mut self, value: u64);
    fn fixed32(&mut self, value: u32);

    fn key(&mut self, field: u32, wire_type: u32) {
        self.varint(u64::from(field << 3 | wire_type));
    }

    fn bytes_field(&mut self, field: u32, bytes: &[u8]) {
        self.key(field, LENGTH);
        self.varint(bytes.len() as u64);
        self.raw(bytes);
    }

    /// A string or bytes field, left out when empty (as prost does).
    fn optional_bytes(&mut self, field: u32, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.bytes_field(field, bytes);
        }
    }

    /// A `fixed64` nanosecond timestamp, left out at or before the epoch (where it is 0).
    fn timestamp(&mut self, field: u32, time: SystemTime) {
        if time > UNIX_EPOCH {
            self.key(field, FIXED64);
            self.fixed64(nanos(time));
        }
    }

    fn optional_varint(&mut self, field: u32, value: u64) {
        if value != 0 {
            self.key(field, VARINT);
            self.varint(value);
        }
    }

    /// A proto3 `double`, left out when it equals 0.0 (as prost does: -0.0 too, never NaN).
    fn double(&mut self, field: u32, value: f64) {
        if value != 0.0 {
            self.key(field, FIXED64);
            self.fixed64(value.to_bits());
        }
    }

    /// An `optional double`: written whenever it is set, 0.0 included.
    fn optional_double(&mut self, field: u32, value: Option<f64>) {
        if let Some(value) = value {
            self.key(field, FIXED64);
            self.fixed64(value.to_bits());
        }
    }

    /// A nested message: key, length, content.
    fn message<M: Encode>(&mut self, field: u32, message: &M);

    /// A nested message that is usually 128 bytes or more (a metric, a histogram point).
    fn large_message<M: Encode>(&mut self, field: u32, message: &M) {
        self.message(field, message);
    }
}

/// Measures instead of writing.
pub(super) struct Count(pub(super) usize);

impl Wire for Count {
    fn raw(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
    fn varint(&mut self, value: u64) {
        self.0 += varint_len(value);
    }
    fn fixed64(&mut self, _value: u64) {
        self.0 += 8;
    }
    fn fixed32(&mut self, _value: u32) {
        self.0 += 4;
    }
    fn message<M: Encode>(&mut self, field: u32, message: &M) {
        let mut inner = Count(0);
        message.encode(&mut inner);
        self.0 += varint_len(u64::from(field << 3 | LENGTH)) + varint_len(inner.0 as u64) + inner.0;
    }

    /// Only whether the time is after the epoch matters to the size: nothing to convert.
    fn timestamp(&mut self, field: u32, time: SystemTime) {
        if time > UNIX_EPOCH {
            self.0 += varint_len(u64::from(field << 3 | FIXED64)) + 8;
        }
    }
}

impl Wire for BytesMut {
    /// Writes the message first and its length after: one byte is set aside for the length
    /// (enough below 128 bytes, which covers attributes, values, events and statuses) and the
    /// content is moved along only when the length needs more. Measuring first, as [`Count`]
    /// does, would walk every nested message once more per level.
    fn message<M: Encode>(&mut self, field: u32, message: &M) {
        self.key(field, LENGTH);
        let at = self.len();
        self.put_u8(0);
        message.encode(self);
        let length = self.len() - at - 1;
        if length < 0x80 {
            self[at] = length as u8;
        } else {
            set_length(self, at, 1);
        }
    }

    /// Two bytes set aside for the length: enough for 128 bytes to 16 KiB without a move.
    fn large_message<M: Encode>(&mut self, field: u32, message: &M) {
        self.key(field, LENGTH);
        let at = self.len();
        self.put_bytes(0, 2);
        message.encode(self);
        let length = self.len() - at - 2;
        if (0x80..0x4000).contains(&length) {
            self[at] = length as u8 | 0x80;
            self[at + 1] = (length >> 7) as u8;
        } else {
            set_length(self, at, 2);
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.put_slice(bytes);
    }
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.put_u8((value as u8) | 0x80);
            value >>= 7;
        }
        self.put_u8(value as u8);
    }
    fn fixed64(&mut self, value: u64) {
        self.put_u64_le(value);
    }
    fn fixed32(&mut self, value: u32) {
        self.put_u32_le(value);
    }
}

/// A protobuf message whose fields can be written to any [`Wire`].
pub(super) trait Encode {
    fn encode<W: Wire>(&self, w: &mut W);
}

/// Nanoseconds since the epoch; 0 before it.
fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// The encoded size of what `write` writes.
pub(super) fn measure(write: impl FnOnce(&mut Count)) -> usize {
    let mut count = Count(0);
    write(&mut count);
    count.0
}

/// Sets down the length of the message written after the `reserved` bytes at `at`, moving
/// the message when its length needs a different number of bytes. Callers handle the common
/// widths inline.
#[cold]
pub(super) fn set_length(buffer: &mut BytesMut, at: usize, reserved: usize) {
    let content = at + reserved;
    let length = buffer.len() - content;
    let width = varint_len(length as u64);
    if width > reserved {
        buffer.put_bytes(0, width - reserved);
        buffer.copy_within(content..content + length, at + width);
    } else if width < reserved {
        buffer.copy_within(content..content + length, at + width);
        buffer.truncate(at + width + length);
    }
    let mut value = length as u64;
    for byte in &mut buffer[at..at + width] {
        *byte = (value as u8 & 0x7f) | if value >= 0x80 { 0x80 } else { 0 };
        value >>= 7;
    }
}
