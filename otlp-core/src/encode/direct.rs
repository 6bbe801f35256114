//! A direct encoder from the SDK's `SpanData` to the protobuf bytes of an
//! `ExportTraceServiceRequest`, without building `opentelemetry-proto` structs first.
//!
//! The reference path converts every span into owned proto structs (a `String` per name, key
//! and value, a `Vec` per attribute list) and then encodes them. Here each field is written
//! straight from the SDK data into one reused buffer; nested message lengths are measured by
//! the same code running against a byte counter ([`Wire`]). Property tests hold the output to
//! decode to exactly what the reference transform produces.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};
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

    fn message<M: Encode>(&mut self, field: u32, message: &M) {
        let mut count = Count(0);
        message.encode(&mut count);
        self.key(field, LENGTH);
        self.varint(count.0 as u64);
        message.encode(self);
    }

    /// A message measured before it is written: for the outer levels of a request, whose
    /// content is large and whose parts already know their lengths, so that nothing large is
    /// moved to make room for a length.
    fn measured<M: Encode>(&mut self, field: u32, message: &M) {
        let mut count = Count(0);
        message.encode(&mut count);
        self.key(field, LENGTH);
        self.varint(count.0 as u64);
        message.encode(self);
    }

    /// The content of a message whose encoded `length` is already known.
    fn known<M: Encode>(&mut self, _length: usize, message: &M) {
        message.encode(self);
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

    fn known<M: Encode>(&mut self, length: usize, _message: &M) {
        self.0 += length;
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
    /// content is moved along only when the length needs more. Measuring first, as the
    /// default does, would walk every nested message once more per level.
    fn message<M: Encode>(&mut self, field: u32, message: &M) {
        self.key(field, LENGTH);
        let at = self.len();
        self.put_u8(0);
        message.encode(self);
        let length = self.len() - at - 1;
        if length < 0x80 {
            self[at] = length as u8;
            return;
        }
        let width = varint_len(length as u64);
        self.put_bytes(0, width - 1);
        self.copy_within(at + 1..at + 1 + length, at + width);
        let mut value = length as u64;
        for byte in &mut self[at..at + width] {
            *byte = (value as u8 & 0x7f) | if value >= 0x80 { 0x80 } else { 0 };
            value >>= 7;
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

pub(super) fn nanos(time: SystemTime) -> u64 {
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

/// A span whose encoded length is already known.
struct SizedSpan<'a> {
    span: &'a SpanData,
    length: usize,
}

struct ScopeSpansMsg<'a>(&'a InstrumentationScope, &'a [SizedSpan<'a>]);

impl Encode for ScopeSpansMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        w.message(1, &ScopeMsg(self.0));
        for sized in self.1 {
            // Spans are measured once, up front; their length is not measured again here.
            w.key(2, LENGTH);
            w.varint(sized.length as u64);
            w.known(sized.length, &SpanMsg(sized.span));
        }
        w.optional_bytes(3, self.0.schema_url().unwrap_or_default().as_bytes());
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

struct ResourceSpansMsg<'a>(
    &'a Resource,
    &'a [(&'a InstrumentationScope, Vec<SizedSpan<'a>>)],
);

impl Encode for ResourceSpansMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        w.message(1, &ResourceMsg(self.0));
        for (scope, spans) in self.1 {
            w.measured(2, &ScopeSpansMsg(scope, spans));
        }
        w.optional_bytes(3, self.0.schema_url().unwrap_or_default().as_bytes());
    }
}

/// Encodes span batches straight to protobuf, reusing its buffer from batch to batch.
#[derive(Debug, Default)]
pub struct SpanEncoder {
    buffer: BytesMut,
}

impl SpanEncoder {
    /// An encoder with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `ExportTraceServiceRequest` of `spans` from `resource`, grouped by scope in the
    /// order scopes first appear (as the reference transform groups them).
    pub fn encode(&mut self, spans: &[SpanData], resource: &Resource) -> Bytes {
        let mut order: Vec<(&InstrumentationScope, Vec<SizedSpan<'_>>)> = Vec::new();
        let mut index: HashMap<&InstrumentationScope, usize> = HashMap::new();
        let mut last: Option<(&InstrumentationScope, usize)> = None;
        for span in spans {
            let scope = &span.instrumentation_scope;
            // Spans of one batch mostly share a scope: compare with the last one before hashing.
            let slot = match last {
                Some((previous, slot)) if previous == scope => slot,
                _ => *index.entry(scope).or_insert_with(|| {
                    order.push((scope, Vec::new()));
                    order.len() - 1
                }),
            };
            last = Some((scope, slot));
            let mut count = Count(0);
            SpanMsg(span).encode(&mut count);
            order[slot].1.push(SizedSpan {
                span,
                length: count.0,
            });
        }
        let request = ResourceSpansMsg(resource, &order);
        let mut count = Count(0);
        count.message(1, &request);
        self.buffer.reserve(count.0);
        if !spans.is_empty() {
            self.buffer.measured(1, &request);
        }
        self.buffer.split().freeze()
    }
}
