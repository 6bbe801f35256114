//! The direct encoder for spans: the SDK's `SpanData` straight to the protobuf bytes of an
//! `ExportTraceServiceRequest`, without building `opentelemetry-proto` structs first.
//!
//! The reference path converts every span into owned proto structs (a `String` per name, key
//! and value, a `Vec` per attribute list) and then encodes them. Here each field is written
//! straight from the SDK data into one buffer, in one pass (see [`RequestWriter`]). Property
//! tests hold the output to decode to exactly what the reference transform produces.

use std::collections::HashMap;

use bytes::Bytes;
use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;

use super::request_writer::RequestWriter;
use super::values::{attributes, ScopeMsg};
use super::wire::{Encode, Wire, FIXED32};

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
