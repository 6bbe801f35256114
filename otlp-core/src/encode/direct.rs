//! A direct encoder from the SDK's `SpanData` to the protobuf bytes of an
//! `ExportTraceServiceRequest`, without building `opentelemetry-proto` structs first.
//!
//! The reference path converts every span into owned proto structs (a `String` per name, key
//! and value, a `Vec` per attribute list) and then encodes them. Here each field is written
//! straight from the SDK data into one buffer, in one pass: a message's length is set down
//! after its content (see [`SpanEncoder`]). The same code can also run against a byte counter
//! ([`Wire`]) where a size must be known first (the headers of a request). Property tests hold
//! the output to decode to exactly what the reference transform produces.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;

pub(super) const VARINT: u32 = 0;
pub(super) const FIXED64: u32 = 1;
pub(super) const LENGTH: u32 = 2;
pub(super) const FIXED32: u32 = 5;

fn varint_len(value: u64) -> usize {
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

    /// A nested message: key, length, content.
    fn message<M: Encode>(&mut self, field: u32, message: &M);
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

struct AnyValue<'a>(&'a Value);

fn any_scalar<W: Wire>(w: &mut W, value: &Value) {
    match value {
        Value::Bool(b) => {
            w.key(2, VARINT);
            w.varint(u64::from(*b));
        }
        Value::I64(i) => {
            w.key(3, VARINT);
            w.varint(*i as u64);
        }
        Value::F64(f) => {
            w.key(4, FIXED64);
            w.fixed64(f.to_bits());
        }
        Value::String(s) => w.bytes_field(1, s.as_str().as_bytes()),
        Value::Array(array) => w.message(5, &ArrayValue(array)),
        other => w.bytes_field(1, other.to_string().as_bytes()),
    }
}

impl Encode for AnyValue<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        any_scalar(w, self.0);
    }
}

struct ArrayValue<'a>(&'a Array);

impl Encode for ArrayValue<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        match self.0 {
            Array::Bool(values) => values
                .iter()
                .for_each(|v| w.message(1, &AnyValue(&Value::Bool(*v)))),
            Array::I64(values) => values
                .iter()
                .for_each(|v| w.message(1, &AnyValue(&Value::I64(*v)))),
            Array::F64(values) => values
                .iter()
                .for_each(|v| w.message(1, &AnyValue(&Value::F64(*v)))),
            Array::String(values) => values
                .iter()
                .for_each(|v| w.message(1, &OwnedString(v.as_str()))),
            other => w.message(1, &OwnedString(&other.to_string())),
        }
    }
}

/// An `AnyValue` holding a string.
struct OwnedString<'a>(&'a str);

impl Encode for OwnedString<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        w.bytes_field(1, self.0.as_bytes());
    }
}

pub(super) struct KeyValueMsg<'a>(pub(super) &'a str, pub(super) &'a Value);

impl Encode for KeyValueMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        w.optional_bytes(1, self.0.as_bytes());
        w.message(2, &AnyValue(self.1));
    }
}

pub(super) fn attributes<'a, W: Wire>(
    w: &mut W,
    field: u32,
    attributes: impl Iterator<Item = &'a KeyValue>,
) {
    for kv in attributes {
        w.message(field, &KeyValueMsg(kv.key.as_str(), &kv.value));
    }
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn span_flags(remote: bool, trace_flags: u8) -> u32 {
    // SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK, and SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK when remote.
    u32::from(trace_flags) | 0x100 | if remote { 0x200 } else { 0 }
}

struct EventMsg<'a>(&'a opentelemetry::trace::Event);

impl Encode for EventMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let event = self.0;
        w.timestamp(1, event.timestamp);
        w.optional_bytes(2, event.name.as_bytes());
        attributes(w, 3, event.attributes.iter());
        w.optional_varint(4, u64::from(event.dropped_attributes_count));
    }
}

struct LinkMsg<'a>(&'a opentelemetry::trace::Link);

impl Encode for LinkMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let link = self.0;
        let context = &link.span_context;
        w.bytes_field(1, &context.trace_id().to_bytes());
        w.bytes_field(2, &context.span_id().to_bytes());
        w.optional_bytes(3, context.trace_state().header().as_bytes());
        attributes(w, 4, link.attributes.iter());
        w.optional_varint(5, u64::from(link.dropped_attributes_count));
        w.key(6, FIXED32);
        w.fixed32(span_flags(
            context.is_remote(),
            context.trace_flags().to_u8(),
        ));
    }
}

struct StatusMsg<'a>(&'a Status);

impl Encode for StatusMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let (code, message) = match self.0 {
            Status::Unset => (0, ""),
            Status::Ok => (1, ""),
            Status::Error { description } => (2, description.as_ref()),
        };
        w.optional_bytes(2, message.as_bytes());
        w.optional_varint(3, code);
    }
}

struct SpanMsg<'a>(&'a SpanData);

impl Encode for SpanMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let span = self.0;
        let context = &span.span_context;
        w.bytes_field(1, &context.trace_id().to_bytes());
        w.bytes_field(2, &context.span_id().to_bytes());
        w.optional_bytes(3, context.trace_state().header().as_bytes());
        if span.parent_span_id != SpanId::INVALID {
            w.bytes_field(4, &span.parent_span_id.to_bytes());
        }
        w.optional_bytes(5, span.name.as_bytes());
        let kind = match span.span_kind {
            SpanKind::Internal => 1,
            SpanKind::Server => 2,
            SpanKind::Client => 3,
            SpanKind::Producer => 4,
            SpanKind::Consumer => 5,
        };
        w.optional_varint(6, kind);
        w.timestamp(7, span.start_time);
        w.timestamp(8, span.end_time);
        attributes(w, 9, span.attributes.iter());
        w.optional_varint(10, u64::from(span.dropped_attributes_count));
        for event in span.events.iter() {
            w.message(11, &EventMsg(event));
        }
        w.optional_varint(12, u64::from(span.events.dropped_count));
        for link in span.links.iter() {
            w.message(13, &LinkMsg(link));
        }
        w.optional_varint(14, u64::from(span.links.dropped_count));
        w.message(15, &StatusMsg(&span.status));
        w.key(16, FIXED32);
        w.fixed32(span_flags(
            span.parent_span_is_remote,
            context.trace_flags().to_u8(),
        ));
    }
}

pub(super) struct ScopeMsg<'a>(pub(super) &'a InstrumentationScope);

impl Encode for ScopeMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let scope = self.0;
        w.optional_bytes(1, scope.name().as_bytes());
        w.optional_bytes(2, scope.version().unwrap_or_default().as_bytes());
        attributes(w, 3, scope.attributes());
    }
}

pub(super) struct ResourceMsg<'a>(pub(super) &'a Resource);

impl Encode for ResourceMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        for (key, value) in self.0.iter() {
            w.message(1, &KeyValueMsg(key.as_str(), value));
        }
    }
}

/// Encodes span batches straight to protobuf, in one pass over the spans, reusing its buffer
/// from batch to batch.
///
/// Each span is written once, its length set down after it; the enclosing headers go into
/// room left before each scope's spans.
#[derive(Debug, Default)]
pub struct SpanEncoder {
    writer: RequestWriter,
}

impl SpanEncoder {
    /// An encoder with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `ExportTraceServiceRequest` of `spans` from `resource`, grouped by scope in the
    /// order scopes first appear (as the reference transform groups them).
    pub fn encode(&mut self, spans: &[SpanData], resource: &Resource) -> Bytes {
        let mut order: Vec<(ScopeMsg<'_>, &str, Vec<&SpanData>)> = Vec::new();
        let mut index: HashMap<&InstrumentationScope, usize> = HashMap::new();
        let mut last: Option<(&InstrumentationScope, usize)> = None;
        for span in spans {
            let scope = &span.instrumentation_scope;
            // Spans of one batch mostly share a scope: compare with the last one before hashing.
            let slot = match last {
                Some((previous, slot)) if previous == scope => slot,
                _ => *index.entry(scope).or_insert_with(|| {
                    order.push((
                        ScopeMsg(scope),
                        scope.schema_url().unwrap_or_default(),
                        Vec::new(),
                    ));
                    order.len() - 1
                }),
            };
            last = Some((scope, slot));
            order[slot].2.push(span);
        }
        self.writer
            .write(resource, &order, spans.len(), |span, buffer| {
                SpanMsg(span).encode(buffer)
            })
    }
}

/// Writes an export request (`resource_spans` or `resource_logs`: the two share their field
/// numbers) of one resource and its scope groups, in one pass over the items.
///
/// Each item is written once, its length set down after it (two bytes are set aside, which
/// fits items of 128 bytes to 16 KiB; others are moved by a byte or so). The enclosing
/// messages' headers are only known at the end, so each scope's items are written after a gap
/// as large as its header can be; the headers then go into the gaps, and any slack is closed
/// by moving later groups down (nothing moves when a batch has one scope, the usual case).
/// The buffer is sized from the previous batch's bytes per item, and its allocation is reused
/// once the previous request is dropped.
#[derive(Debug, Default)]
pub(super) struct RequestWriter {
    buffer: BytesMut,
    header: BytesMut,
    bytes_per_item: usize,
}

/// Where one scope's items were written.
struct Written {
    /// Encoded `scope` field of the scope message, key and length included.
    scope_field: usize,
    content: std::ops::Range<usize>,
}

impl RequestWriter {
    /// `groups`: each scope's message, schema URL and items; `count`: the items in all.
    pub(super) fn write<S: Encode, I>(
        &mut self,
        resource: &Resource,
        groups: &[(S, &str, Vec<I>)],
        count: usize,
        item: impl Fn(&I, &mut BytesMut),
    ) -> Bytes {
        if count == 0 {
            return Bytes::new();
        }
        let resource_field = measure(|w| w.message(1, &ResourceMsg(resource)));
        let buffer = &mut self.buffer;
        buffer.reserve(count * self.bytes_per_item.max(64) * 9 / 8);
        let mut written = Vec::with_capacity(groups.len());
        for (i, (scope, schema_url, members)) in groups.iter().enumerate() {
            let scope_field = measure(|w| w.message(1, scope));
            // Room for the largest header: the request's own for the first group (key, length,
            // resource), then the scope's (key, length, scope).
            let outer = if i == 0 { 1 + 5 + resource_field } else { 0 };
            buffer.put_bytes(0, outer + 1 + 5 + scope_field);
            let start = buffer.len();
            for member in members {
                buffer.key(2, LENGTH);
                let at = buffer.len();
                buffer.put_bytes(0, 2);
                item(member, buffer);
                let length = buffer.len() - at - 2;
                if (0x80..0x4000).contains(&length) {
                    buffer[at] = length as u8 | 0x80;
                    buffer[at + 1] = (length >> 7) as u8;
                } else {
                    set_length(buffer, at, 2);
                }
            }
            buffer.optional_bytes(3, schema_url.as_bytes());
            written.push(Written {
                scope_field,
                content: start..buffer.len(),
            });
        }
        let tail = buffer.len();
        buffer.optional_bytes(3, resource.schema_url().unwrap_or_default().as_bytes());
        let tail = tail..buffer.len();

        let scope_length = |group: &Written| group.scope_field + group.content.len();
        let resource_length = resource_field
            + written
                .iter()
                .map(|g| {
                    let length = scope_length(g);
                    1 + varint_len(length as u64) + length
                })
                .sum::<usize>()
            + tail.len();

        // The first group's header (the request's, then the scope's) ends where its items
        // begin; each later group's header follows the content before it, and its items are
        // moved down behind the header when the header room was not all used.
        let header = &mut self.header;
        let mut begin = 0;
        let mut end = 0;
        for (i, (group, (scope, _, _))) in written.iter().zip(groups).enumerate() {
            header.clear();
            if i == 0 {
                header.key(1, LENGTH);
                header.varint(resource_length as u64);
                header.message(1, &ResourceMsg(resource));
            }
            header.key(2, LENGTH);
            header.varint(scope_length(group) as u64);
            header.message(1, scope);
            let at = if i == 0 {
                begin = group.content.start - header.len();
                begin
            } else {
                end
            };
            let content = at + header.len();
            buffer[at..content].copy_from_slice(header);
            if content != group.content.start {
                buffer.copy_within(group.content.clone(), content);
            }
            end = content + group.content.len();
        }
        if end != tail.start {
            buffer.copy_within(tail.clone(), end);
        }
        buffer.truncate(end + tail.len());
        buffer.advance(begin);
        self.bytes_per_item = buffer.len() / count;
        buffer.split().freeze()
    }
}

/// The encoded size of what `write` writes.
fn measure(write: impl FnOnce(&mut Count)) -> usize {
    let mut count = Count(0);
    write(&mut count);
    count.0
}

/// Sets down the length of the message written after the `reserved` bytes at `at`, moving
/// the message when its length needs a different number of bytes. Callers handle the common
/// widths inline.
#[cold]
fn set_length(buffer: &mut BytesMut, at: usize, reserved: usize) {
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
