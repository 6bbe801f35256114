//! The direct encoder for log records: the SDK's records straight to the protobuf bytes of an
//! `ExportLogsServiceRequest`, on the same [`Wire`] as the span encoder.

use std::collections::HashMap;

use bytes::Bytes;
use opentelemetry::logs::AnyValue as LogValue;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::logs::SdkLogRecord;
use opentelemetry_sdk::Resource;

use super::request_writer::RequestWriter;
use super::values::attributes;
use super::wire::{Encode, Wire, FIXED32, FIXED64, VARINT};

struct LogValueMsg<'a>(&'a LogValue);

impl Encode for LogValueMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        match self.0 {
            LogValue::String(s) => w.bytes_field(1, s.as_str().as_bytes()),
            LogValue::Boolean(b) => {
                w.key(2, VARINT);
                w.varint(u64::from(*b));
            }
            LogValue::Int(i) => {
                w.key(3, VARINT);
                w.varint(*i as u64);
            }
            LogValue::Double(f) => {
                w.key(4, FIXED64);
                w.fixed64(f.to_bits());
            }
            LogValue::ListAny(values) => w.message(5, &ListMsg(values)),
            LogValue::Map(map) => w.message(6, &MapMsg(map)),
            LogValue::Bytes(bytes) => w.bytes_field(7, bytes),
            other => w.bytes_field(1, format!("{other:?}").as_bytes()),
        }
    }
}

struct ListMsg<'a>(&'a [LogValue]);

impl Encode for ListMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        for value in self.0 {
            w.message(1, &LogValueMsg(value));
        }
    }
}

struct MapMsg<'a>(&'a HashMap<opentelemetry::Key, LogValue>);

impl Encode for MapMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        for (key, value) in self.0 {
            w.message(1, &LogKeyValue(key.as_str(), value));
        }
    }
}

struct LogKeyValue<'a>(&'a str, &'a LogValue);

impl Encode for LogKeyValue<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        w.optional_bytes(1, self.0.as_bytes());
        w.message(2, &LogValueMsg(self.1));
    }
}

struct RecordMsg<'a>(&'a SdkLogRecord);

impl Encode for RecordMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let record = self.0;
        if let Some(time) = record.timestamp() {
            w.timestamp(1, time);
        }
        w.optional_varint(2, record.severity_number().map_or(0, |s| s as u64));
        w.optional_bytes(3, record.severity_text().unwrap_or_default().as_bytes());
        if let Some(body) = record.body() {
            w.message(5, &LogValueMsg(body));
        }
        for (key, value) in record.attributes_iter() {
            w.message(6, &LogKeyValue(key.as_str(), value));
        }
        if let Some(context) = record.trace_context() {
            let flags = context.trace_flags.map_or(0, |f| u32::from(f.to_u8()));
            if flags != 0 {
                w.key(8, FIXED32);
                w.fixed32(flags);
            }
            w.bytes_field(9, &context.trace_id.to_bytes());
            w.bytes_field(10, &context.span_id.to_bytes());
        }
        // The reference transform panics on a record without an observed time; here it is 0.
        if let Some(time) = record.observed_timestamp() {
            w.timestamp(11, time);
        }
        w.optional_bytes(12, record.event_name().unwrap_or_default().as_bytes());
    }
}

/// The exported scope of a record: the record's target, when it has one, replaces the scope's
/// name; records group by that name with the scope's version, schema URL and attributes.
struct ScopeKey<'a> {
    name: &'a str,
    scope: &'a InstrumentationScope,
}

impl PartialEq for ScopeKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.scope.version() == other.scope.version()
            && self.scope.schema_url() == other.scope.schema_url()
            && self.scope.attributes().eq(other.scope.attributes())
    }
}

impl Eq for ScopeKey<'_> {}

impl std::hash::Hash for ScopeKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.scope.version().hash(state);
        self.scope.schema_url().hash(state);
        for attribute in self.scope.attributes() {
            attribute.hash(state);
        }
    }
}

struct LogScopeMsg<'a>(ScopeKey<'a>);

impl Encode for LogScopeMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let key = &self.0;
        w.optional_bytes(1, key.name.as_bytes());
        w.optional_bytes(2, key.scope.version().unwrap_or_default().as_bytes());
        attributes(w, 3, key.scope.attributes());
    }
}

/// Encodes log batches straight to protobuf, in one pass over the records (written as the
/// span encoder writes spans), reusing its buffer from batch to batch.
#[derive(Debug, Default)]
pub struct LogEncoder {
    writer: RequestWriter,
}

impl LogEncoder {
    /// An encoder with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `ExportLogsServiceRequest` of `records` (each with its scope) from `resource`,
    /// grouped by exported scope in the order scopes first appear.
    pub fn encode(
        &mut self,
        records: &[(&SdkLogRecord, &InstrumentationScope)],
        resource: &Resource,
    ) -> Bytes {
        let mut groups: Vec<(LogScopeMsg<'_>, &str, Vec<&SdkLogRecord>)> = Vec::new();
        let mut index: HashMap<ScopeKey<'_>, usize> = HashMap::new();
        for (record, scope) in records {
            let name = record.target().map_or_else(|| scope.name(), |t| t.as_ref());
            let key = ScopeKey { name, scope };
            let slot = match index.get(&key) {
                Some(slot) => *slot,
                None => {
                    groups.push((
                        LogScopeMsg(ScopeKey { name, scope }),
                        scope.schema_url().unwrap_or_default(),
                        Vec::new(),
                    ));
                    index.insert(key, groups.len() - 1);
                    groups.len() - 1
                }
            };
            groups[slot].2.push(record);
        }
        self.writer
            .write(resource, &groups, records.len(), |record, buffer| {
                RecordMsg(record).encode(buffer)
            })
    }
}
