//! The viewer's rows: spans, log records and metric points as plain data that serialises to
// tidy: long-file one small row type per signal and their JSON mapping, with unit tests
//! the JSON the page reads (ids in hex, times in Unix nanoseconds, values as JSON values).

use otlp_core::proto::common::v1::any_value::Value;
use otlp_core::proto::common::v1::{AnyValue, KeyValue};
use otlp_core::proto::logs::v1::LogRecord;
use otlp_core::proto::metrics::v1::{number_data_point, HistogramDataPoint, NumberDataPoint};
use otlp_core::proto::resource::v1::Resource;
use otlp_core::proto::trace::v1::{span, status, Span};
use serde::Serialize;

/// One attribute: its key and its value as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    /// The key.
    pub key: String,
    /// The value: a string, number, boolean, array or object.
    pub value: serde_json::Value,
}

/// A span's status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCode {
    /// No status set.
    Unset,
    /// Marked successful.
    Ok,
    /// Failed.
    Error,
}

/// A span event.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    /// When, Unix nanoseconds.
    pub time_unix_nano: u64,
    /// The event's name.
    pub name: String,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
}

/// A span link.
#[derive(Debug, Clone, Serialize)]
pub struct LinkRow {
    /// The linked trace, hex.
    pub trace_id: String,
    /// The linked span, hex.
    pub span_id: String,
    /// The link's attributes.
    pub attributes: Vec<Attribute>,
}

/// One span, with what the page shows of it.
#[derive(Debug, Clone, Serialize)]
pub struct SpanRow {
    /// The trace id, hex.
    pub trace_id: String,
    /// The span id, hex.
    pub span_id: String,
    /// The parent span id, hex; none for a root.
    pub parent_span_id: Option<String>,
    /// The operation's name.
    pub name: String,
    /// `service.name` of the span's resource.
    pub service: String,
    /// `internal`, `server`, `client`, `producer`, `consumer` or `unspecified`.
    pub kind: &'static str,
    /// Start, Unix nanoseconds.
    pub start_unix_nano: u64,
    /// End, Unix nanoseconds.
    pub end_unix_nano: u64,
    /// The status code.
    pub status_code: StatusCode,
    /// The status message.
    pub status_message: String,
    /// The span's attributes.
    pub attributes: Vec<Attribute>,
    /// Its events.
    pub events: Vec<EventRow>,
    /// Its links.
    pub links: Vec<LinkRow>,
    /// The resource's attributes.
    pub resource: Vec<Attribute>,
    /// The instrumentation scope's name.
    pub scope: String,
}

impl SpanRow {
    pub(crate) fn new(span: &Span, service: &str, resource: &[Attribute], scope: &str) -> Self {
        let kind = match span::SpanKind::try_from(span.kind) {
            Ok(span::SpanKind::Internal) => "internal",
            Ok(span::SpanKind::Server) => "server",
            Ok(span::SpanKind::Client) => "client",
            Ok(span::SpanKind::Producer) => "producer",
            Ok(span::SpanKind::Consumer) => "consumer",
            _ => "unspecified",
        };
        let (status_code, status_message) = match &span.status {
            Some(s) => (
                match status::StatusCode::try_from(s.code) {
                    Ok(status::StatusCode::Ok) => StatusCode::Ok,
                    Ok(status::StatusCode::Error) => StatusCode::Error,
                    _ => StatusCode::Unset,
                },
                s.message.clone(),
            ),
            None => (StatusCode::Unset, String::new()),
        };
        SpanRow {
            trace_id: hex(&span.trace_id),
            span_id: hex(&span.span_id),
            parent_span_id: (!span.parent_span_id.is_empty()).then(|| hex(&span.parent_span_id)),
            name: span.name.clone(),
            service: service.to_owned(),
            kind,
            start_unix_nano: span.start_time_unix_nano,
            end_unix_nano: span.end_time_unix_nano.max(span.start_time_unix_nano),
            status_code,
            status_message,
            attributes: attributes(&span.attributes),
            events: span
                .events
                .iter()
                .map(|e| EventRow {
                    time_unix_nano: e.time_unix_nano,
                    name: e.name.clone(),
                    attributes: attributes(&e.attributes),
                })
                .collect(),
            links: span
                .links
                .iter()
                .map(|l| LinkRow {
                    trace_id: hex(&l.trace_id),
                    span_id: hex(&l.span_id),
                    attributes: attributes(&l.attributes),
                })
                .collect(),
            resource: resource.to_vec(),
            scope: scope.to_owned(),
        }
    }
}

/// One log record.
#[derive(Debug, Clone, Serialize)]
pub struct LogRow {
    /// When it happened (or was observed, when the time is not set), Unix nanoseconds.
    pub time_unix_nano: u64,
    /// The severity number (1-24; 0 when unset).
    pub severity_number: i32,
    /// The severity text, or the name of the number's range when the text is empty.
    pub severity: String,
    /// The body, as text.
    pub body: String,
    /// The record's attributes.
    pub attributes: Vec<Attribute>,
    /// The trace it belongs to, hex; none when it has none.
    pub trace_id: Option<String>,
    /// The span it belongs to, hex.
    pub span_id: Option<String>,
    /// `service.name` of its resource.
    pub service: String,
}

impl LogRow {
    pub(crate) fn new(record: &LogRecord, service: &str) -> Self {
        let time = if record.time_unix_nano != 0 {
            record.time_unix_nano
        } else {
            record.observed_time_unix_nano
        };
        let severity = if record.severity_text.is_empty() {
            severity_name(record.severity_number).to_owned()
        } else {
            record.severity_text.clone()
        };
        let body = match record.body.as_ref().map(json) {
            Some(serde_json::Value::String(text)) => text,
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let id =
            |bytes: &[u8]| (!bytes.is_empty() && bytes.iter().any(|b| *b != 0)).then(|| hex(bytes));
        LogRow {
            time_unix_nano: time,
            severity_number: record.severity_number,
            severity,
            body,
            attributes: attributes(&record.attributes),
            trace_id: id(&record.trace_id),
            span_id: id(&record.span_id),
            service: service.to_owned(),
        }
    }
}

/// The name of a severity number's range, per the log data model.
pub fn severity_name(number: i32) -> &'static str {
    match number {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => "UNSPECIFIED",
    }
}

/// The lowest severity number of a range named `name` (case-insensitive), for filters.
pub fn severity_floor(name: &str) -> Option<i32> {
    Some(match name.to_ascii_uppercase().as_str() {
        "TRACE" => 1,
        "DEBUG" => 5,
        "INFO" => 9,
        "WARN" | "WARNING" => 13,
        "ERROR" => 17,
        "FATAL" => 21,
        _ => return None,
    })
}

/// A histogram point, with percentiles estimated from its buckets.
#[derive(Debug, Clone, Serialize)]
pub struct HistogramPoint {
    /// When, Unix nanoseconds.
    pub time_unix_nano: u64,
    /// Values recorded.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
    /// The buckets' upper bounds (the last bucket has none).
    pub bounds: Vec<f64>,
    /// The count in each bucket.
    pub bucket_counts: Vec<u64>,
    /// The median, estimated by linear interpolation within its bucket.
    pub p50: Option<f64>,
    /// The 95th percentile, estimated likewise.
    pub p95: Option<f64>,
    /// The 99th percentile, estimated likewise.
    pub p99: Option<f64>,
}

impl HistogramPoint {
    pub(crate) fn new(point: &HistogramDataPoint) -> Self {
        let quantile = |q| {
            quantile(
                q,
                &point.explicit_bounds,
                &point.bucket_counts,
                point.min,
                point.max,
            )
        };
        HistogramPoint {
            time_unix_nano: point.time_unix_nano,
            count: point.count,
            sum: point.sum.unwrap_or(0.0),
            bounds: point.explicit_bounds.clone(),
            bucket_counts: point.bucket_counts.clone(),
            p50: quantile(0.5),
            p95: quantile(0.95),
            p99: quantile(0.99),
        }
    }
}

/// The `q` quantile of a bucketed distribution: the bucket holding the rank, and a linear
/// position in it. The first bucket starts at `min` (or 0), the last ends at `max` (or its
/// lower bound).
pub fn quantile(
    q: f64,
    bounds: &[f64],
    counts: &[u64],
    min: Option<f64>,
    max: Option<f64>,
) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 || counts.len() != bounds.len() + 1 {
        return None;
    }
    let rank = q * total as f64;
    let mut below = 0u64;
    for (i, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        if (below + count) as f64 >= rank {
            let lower = if i == 0 {
                min.unwrap_or(0.0)
                    .min(bounds.first().copied().unwrap_or(0.0))
            } else {
                bounds[i - 1]
            };
            let upper = match bounds.get(i) {
                Some(&b) => b,
                None => max.unwrap_or(lower).max(lower),
            };
            let within = ((rank - below as f64) / count as f64).clamp(0.0, 1.0);
            return Some(lower + (upper - lower) * within);
        }
        below += count;
    }
    None
}

/// One metric point.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MetricPoint {
    /// A sum or gauge value.
    Number {
        /// When, Unix nanoseconds.
        time_unix_nano: u64,
        /// The value.
        value: f64,
    },
    /// A histogram with buckets.
    Histogram(HistogramPoint),
    /// A count and sum only (exponential histograms, summaries).
    Summary {
        /// When, Unix nanoseconds.
        time_unix_nano: u64,
        /// Values recorded.
        count: u64,
        /// Their sum.
        sum: f64,
    },
}

impl MetricPoint {
    pub(crate) fn number(point: &NumberDataPoint) -> Self {
        let value = match point.value {
            Some(number_data_point::Value::AsDouble(v)) => v,
            Some(number_data_point::Value::AsInt(v)) => v as f64,
            None => 0.0,
        };
        MetricPoint::Number {
            time_unix_nano: point.time_unix_nano,
            value,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_within_the_bucket() {
        // 10 values in (0, 10], 10 in (10, 20]: the median is the top of the first bucket.
        let bounds = [10.0, 20.0];
        let counts = [10, 10, 0];
        assert_eq!(
            quantile(0.5, &bounds, &counts, Some(0.0), Some(20.0)),
            Some(10.0)
        );
        assert_eq!(
            quantile(0.75, &bounds, &counts, Some(0.0), Some(20.0)),
            Some(15.0)
        );
        assert_eq!(quantile(0.5, &bounds, &[0, 0, 0], None, None), None);
        // Everything past the last bound: between it and the maximum.
        assert_eq!(quantile(0.5, &[1.0], &[0, 4], None, Some(3.0)), Some(2.0));
    }

    #[test]
    fn severity_names_follow_the_log_data_model() {
        assert_eq!(severity_name(9), "INFO");
        assert_eq!(severity_name(17), "ERROR");
        assert_eq!(severity_floor("warn"), Some(13));
        assert_eq!(severity_floor("nope"), None);
    }
}
