//! The viewer's rows: spans, log records and metric points as plain data that serialises to
//! the JSON the page reads (ids in hex, times in Unix nanoseconds, values as JSON values). One
//! file per signal; the attribute and value mapping they share is here.

mod log;
mod metric;
mod span;

pub use log::{severity_floor, severity_name, LogRow};
pub use metric::{quantile, HistogramPoint, MetricPoint};
pub use span::{EventRow, LinkRow, SpanRow, StatusCode};

use otlp_core::proto::common::v1::any_value::Value;
use otlp_core::proto::common::v1::{AnyValue, KeyValue};
use otlp_core::proto::resource::v1::Resource;
use serde::Serialize;

/// One attribute: its key and its value as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    /// The key.
    pub key: String,
    /// The value: a string, number, boolean, array or object.
    pub value: serde_json::Value,
}

/// Attributes as the page shows them.
pub fn attributes(attributes: &[KeyValue]) -> Vec<Attribute> {
    attributes
        .iter()
        .map(|kv| Attribute {
            key: kv.key.clone(),
            value: kv
                .value
                .as_ref()
                .map(json)
                .unwrap_or(serde_json::Value::Null),
        })
        .collect()
}

/// An OTLP value as JSON (bytes as hex).
pub fn json(value: &AnyValue) -> serde_json::Value {
    use serde_json::Value as J;
    match &value.value {
        Some(Value::StringValue(s)) => J::String(s.clone()),
        Some(Value::BoolValue(b)) => J::Bool(*b),
        Some(Value::IntValue(i)) => J::from(*i),
        Some(Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(J::Number)
            .unwrap_or_else(|| J::String(d.to_string())),
        Some(Value::ArrayValue(a)) => J::Array(a.values.iter().map(json).collect()),
        Some(Value::KvlistValue(kv)) => J::Object(
            kv.values
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        kv.value.as_ref().map(json).unwrap_or(J::Null),
                    )
                })
                .collect(),
        ),
        Some(Value::BytesValue(b)) => J::String(hex(b)),
        Some(Value::StringValueStrindex(_)) | None => J::Null,
    }
}

/// `service.name` of a resource, or `unknown_service`.
pub fn service_of(resource: Option<&Resource>) -> String {
    resource
        .into_iter()
        .flat_map(|r| &r.attributes)
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(Value::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "unknown_service".to_owned())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
