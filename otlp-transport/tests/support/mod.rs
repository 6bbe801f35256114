//! Sample requests for the transport tests, one per signal, with known content.
#![allow(dead_code, clippy::unwrap_used)]

use otlp_core::encode::{encode_message, EncodeOptions};
use otlp_core::proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_core::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_core::proto::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use otlp_core::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use otlp_core::proto::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use otlp_core::proto::resource::v1::Resource;
use otlp_core::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_core::Telemetry;
use otlp_core::{Encoding, ExportRequest, Signal};

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        key_strindex: 0,
    }
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![string("service.name", "order-service")],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "orders".into(),
        version: "1.0".into(),
        ..Default::default()
    })
}

/// A request of `n` items of `signal`, as a decoded payload.
pub fn payload(signal: Signal, n: usize) -> Telemetry {
    match signal {
        Signal::Traces => Telemetry::Traces(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource(),
                scope_spans: vec![ScopeSpans {
                    scope: scope(),
                    spans: (0..n)
                        .map(|i| Span {
                            trace_id: vec![0xab; 16],
                            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
                            name: format!("GET /orders/{i}"),
                            kind: 2,
                            start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
                            end_time_unix_nano: 1_700_000_000_100_000_000 + i as u64,
                            attributes: vec![string("http.route", "/orders/{id}")],
                            ..Default::default()
                        })
                        .collect(),
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }),
        Signal::Metrics => Telemetry::Metrics(ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: resource(),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope(),
                    metrics: vec![Metric {
                        name: "queue_depth".into(),
                        unit: "{item}".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: (0..n)
                                .map(|i| NumberDataPoint {
                                    time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
                                    value: Some(number_data_point::Value::AsInt(i as i64)),
                                    ..Default::default()
                                })
                                .collect(),
                        })),
                        ..Default::default()
                    }],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }),
        Signal::Logs => Telemetry::Logs(ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: resource(),
                scope_logs: vec![ScopeLogs {
                    scope: scope(),
                    log_records: (0..n)
                        .map(|i| LogRecord {
                            time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
                            severity_number: 9,
                            severity_text: "INFO".into(),
                            body: Some(AnyValue {
                                value: Some(any_value::Value::StringValue(format!(
                                    "order {i} placed"
                                ))),
                            }),
                            ..Default::default()
                        })
                        .collect(),
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }),
    }
}

/// The same payload, encoded as one request.
pub fn request(payload: &Telemetry, encoding: Encoding) -> ExportRequest {
    let options = EncodeOptions::default().with_encoding(encoding);
    let mut encoded = match payload.clone() {
        Telemetry::Traces(m) => encode_message(m, &options),
        Telemetry::Metrics(m) => encode_message(m, &options),
        Telemetry::Logs(m) => encode_message(m, &options),
    }
    .unwrap();
    assert_eq!(encoded.requests.len(), 1);
    encoded.requests.remove(0)
}
