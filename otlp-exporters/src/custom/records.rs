//! Flat JSON records of the guide's custom backend: one object per span, data point or log
//! record, with the service and the attributes as plain maps.

use std::collections::BTreeMap;

use otlp_core::proto::common::v1::{any_value, AnyValue, KeyValue};
use otlp_core::proto::metrics::v1::{metric, number_data_point};
use otlp_core::Telemetry;
use serde::Serialize;
use serde_json::{json, Value};

/// A span as the custom backend takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomSpan {
    /// `service.name` of the resource.
    pub service: String,
    /// Hex trace id.
    pub trace_id: String,
    /// Hex span id.
    pub span_id: String,
    /// Hex parent span id, empty for a root.
    pub parent_span_id: String,
    /// The span name.
    pub name: String,
    /// Start, nanoseconds since the epoch.
    pub start_time: u64,
    /// End, nanoseconds since the epoch.
    pub end_time: u64,
    /// Attributes.
    pub attributes: BTreeMap<String, Value>,
    /// Event names, in order.
    pub events: Vec<String>,
    /// `unset`, `ok` or `error`.
    pub status: &'static str,
}

/// A metric data point as the custom backend takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomMetric {
    /// `service.name` of the resource.
    pub service: String,
    /// The metric name.
    pub name: String,
    /// The value: the number of a sum or gauge, or `{count, sum}` of a histogram.
    pub value: Value,
    /// Nanoseconds since the epoch.
    pub timestamp: u64,
    /// The data point's attributes.
    pub labels: BTreeMap<String, Value>,
    /// `sum`, `gauge`, `histogram`, `exponential_histogram` or `summary`.
    pub metric_type: &'static str,
}

/// A log record as the custom backend takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomLog {
    /// `service.name` of the resource.
    pub service: String,
    /// Nanoseconds since the epoch.
    pub timestamp: u64,
    /// The severity text, or the number's name when there is no text.
    pub level: String,
    /// The body as text.
    pub message: String,
    /// Attributes.
    pub attributes: BTreeMap<String, Value>,
    /// Hex trace id of the span it belongs to, empty if none.
    pub trace_id: String,
}

fn value(any: Option<&AnyValue>) -> Value {
    match any.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => json!(s),
        Some(any_value::Value::BoolValue(b)) => json!(b),
        Some(any_value::Value::IntValue(i)) => json!(i),
        Some(any_value::Value::DoubleValue(d)) => json!(d),
        Some(any_value::Value::ArrayValue(a)) => a.values.iter().map(|v| value(Some(v))).collect(),
        Some(any_value::Value::KvlistValue(kv)) => {
            Value::Object(attributes(&kv.values).into_iter().collect())
        }
        Some(any_value::Value::BytesValue(b)) => json!(hex(b)),
        Some(any_value::Value::StringValueStrindex(_)) | None => Value::Null,
    }
}

fn attributes(kvs: &[KeyValue]) -> BTreeMap<String, Value> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), value(kv.value.as_ref())))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn service(resource: Option<&otlp_core::proto::resource::v1::Resource>) -> String {
    resource
        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(any_value::Value::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "unknown_service".to_owned())
}

/// Every span of a traces batch.
pub fn spans(telemetry: &Telemetry) -> Vec<CustomSpan> {
    let Telemetry::Traces(request) = telemetry else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for resource_spans in &request.resource_spans {
        let service = service(resource_spans.resource.as_ref());
        for span in resource_spans.scope_spans.iter().flat_map(|s| &s.spans) {
            out.push(CustomSpan {
                service: service.clone(),
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent_span_id: hex(&span.parent_span_id),
                name: span.name.clone(),
                start_time: span.start_time_unix_nano,
                end_time: span.end_time_unix_nano,
                attributes: attributes(&span.attributes),
                events: span.events.iter().map(|e| e.name.clone()).collect(),
                status: match span.status.as_ref().map(|s| s.code) {
                    Some(1) => "ok",
                    Some(2) => "error",
                    _ => "unset",
                },
            });
        }
    }
    out
}

/// Every data point of a metrics batch.
pub fn metrics(telemetry: &Telemetry) -> Vec<CustomMetric> {
    let Telemetry::Metrics(request) = telemetry else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for resource_metrics in &request.resource_metrics {
        let service = service(resource_metrics.resource.as_ref());
        for metric in resource_metrics
            .scope_metrics
            .iter()
            .flat_map(|s| &s.metrics)
        {
            let number = |v: &Option<number_data_point::Value>| match v {
                Some(number_data_point::Value::AsInt(i)) => json!(i),
                Some(number_data_point::Value::AsDouble(d)) => json!(d),
                None => Value::Null,
            };
            let mut push =
                |value: Value, timestamp: u64, labels: &[KeyValue], metric_type: &'static str| {
                    out.push(CustomMetric {
                        service: service.clone(),
                        name: metric.name.clone(),
                        value,
                        timestamp,
                        labels: attributes(labels),
                        metric_type,
                    });
                };
            match &metric.data {
                Some(metric::Data::Sum(sum)) => {
                    for p in &sum.data_points {
                        push(number(&p.value), p.time_unix_nano, &p.attributes, "sum");
                    }
                }
                Some(metric::Data::Gauge(gauge)) => {
                    for p in &gauge.data_points {
                        push(number(&p.value), p.time_unix_nano, &p.attributes, "gauge");
                    }
                }
                Some(metric::Data::Histogram(h)) => {
                    for p in &h.data_points {
                        push(
                            json!({"count": p.count, "sum": p.sum}),
                            p.time_unix_nano,
                            &p.attributes,
                            "histogram",
                        );
                    }
                }
                Some(metric::Data::ExponentialHistogram(h)) => {
                    for p in &h.data_points {
                        let value = json!({"count": p.count, "sum": p.sum});
                        push(
                            value,
                            p.time_unix_nano,
                            &p.attributes,
                            "exponential_histogram",
                        );
                    }
                }
                Some(metric::Data::Summary(s)) => {
                    for p in &s.data_points {
                        push(
                            json!({"count": p.count, "sum": p.sum}),
                            p.time_unix_nano,
                            &p.attributes,
                            "summary",
                        );
                    }
                }
                None => {}
            }
        }
    }
    out
}

/// Every record of a logs batch.
pub fn logs(telemetry: &Telemetry) -> Vec<CustomLog> {
    let Telemetry::Logs(request) = telemetry else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for resource_logs in &request.resource_logs {
        let service = service(resource_logs.resource.as_ref());
        for record in resource_logs.scope_logs.iter().flat_map(|s| &s.log_records) {
            let message = match value(record.body.as_ref()) {
                Value::String(s) => s,
                other => other.to_string(),
            };
            out.push(CustomLog {
                service: service.clone(),
                timestamp: record.time_unix_nano.max(record.observed_time_unix_nano),
                level: if record.severity_text.is_empty() {
                    format!("severity-{}", record.severity_number)
                } else {
                    record.severity_text.clone()
                },
                message,
                attributes: attributes(&record.attributes),
                trace_id: hex(&record.trace_id),
            });
        }
    }
    out
}
