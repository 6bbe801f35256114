//! Requests that use every field the OTLP data model has, for the round trip through the
//! Collector: every attribute type (empty, nested arrays and maps, bytes, the int64 extremes
//! that OTLP/JSON writes as strings), several resources and scopes, span events, links and
//! status, every metric kind with exemplars, and log records tied to spans.

use otlp_core::encode::{encode_message, EncodeOptions};
use otlp_core::proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_core::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_core::proto::common::v1::{
    any_value::Value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use otlp_core::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use otlp_core::proto::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric, number_data_point,
    summary_data_point::ValueAtQuantile, Exemplar, ExponentialHistogram,
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use otlp_core::proto::resource::v1::Resource;
use otlp_core::proto::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use otlp_core::Telemetry;
use otlp_core::{Encoding, ExportRequest, Signal};

const T0: u64 = 1_700_000_000_123_456_789;

fn any(value: Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(value) })
}

fn kv(key: &str, value: Option<AnyValue>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value,
        key_strindex: 0,
    }
}

/// One attribute of every type, tagged with `tag` so that items differ.
fn attributes(tag: &str) -> Vec<KeyValue> {
    vec![
        kv(
            "string",
            any(Value::StringValue(format!("{tag} ü 🚀 \"q\"\n\t"))),
        ),
        kv("bool", any(Value::BoolValue(true))),
        kv("int.min", any(Value::IntValue(i64::MIN))),
        kv("int.max", any(Value::IntValue(i64::MAX))),
        kv("int.negative", any(Value::IntValue(-42))),
        kv("double", any(Value::DoubleValue(-0.1))),
        kv("double.large", any(Value::DoubleValue(1.5e300))),
        kv("bytes", any(Value::BytesValue(vec![0, 1, 0xfe, 0xff]))),
        kv(
            "array",
            any(Value::ArrayValue(ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(Value::StringValue("a".into())),
                    },
                    AnyValue {
                        value: Some(Value::IntValue(7)),
                    },
                    AnyValue {
                        value: Some(Value::ArrayValue(ArrayValue {
                            values: vec![AnyValue {
                                value: Some(Value::BoolValue(false)),
                            }],
                        })),
                    },
                ],
            })),
        ),
        kv(
            "map",
            any(Value::KvlistValue(KeyValueList {
                values: vec![
                    kv("nested.double", any(Value::DoubleValue(2.5))),
                    kv(
                        "nested.map",
                        any(Value::KvlistValue(KeyValueList {
                            values: vec![kv("deep", any(Value::StringValue(tag.into())))],
                        })),
                    ),
                ],
            })),
        ),
    ]
}

fn resource(name: &str) -> Option<Resource> {
    let mut attributes = attributes(name);
    attributes.insert(0, kv("service.name", any(Value::StringValue(name.into()))));
    Some(Resource {
        attributes,
        dropped_attributes_count: 3,
        entity_refs: Vec::new(),
    })
}

fn scope(name: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: name.into(),
        version: "1.2.3".into(),
        attributes: vec![kv("scope.kind", any(Value::StringValue("library".into())))],
        dropped_attributes_count: 1,
    })
}

fn id(seed: u8, len: usize) -> Vec<u8> {
    (0..len as u8)
        .map(|i| seed.wrapping_mul(31).wrapping_add(i))
        .collect()
}

fn span(seed: u8) -> Span {
    Span {
        trace_id: id(seed, 16),
        span_id: id(seed.wrapping_add(100), 8),
        trace_state: "vendor=value,other=1".into(),
        parent_span_id: id(seed.wrapping_add(200), 8),
        flags: 0x301,
        name: format!("GET /orders/{seed}"),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: T0 + u64::from(seed),
        end_time_unix_nano: T0 + 1_000_000 + u64::from(seed),
        attributes: attributes(&format!("span {seed}")),
        dropped_attributes_count: 2,
        events: vec![span::Event {
            time_unix_nano: T0 + 500,
            name: "exception".into(),
            attributes: vec![kv("exception.type", any(Value::StringValue("Io".into())))],
            dropped_attributes_count: 1,
        }],
        dropped_events_count: 4,
        links: vec![span::Link {
            trace_id: id(seed.wrapping_add(50), 16),
            span_id: id(seed.wrapping_add(60), 8),
            trace_state: "linked=yes".into(),
            attributes: vec![kv("link.why", any(Value::StringValue("retry".into())))],
            dropped_attributes_count: 5,
            flags: 0x101,
        }],
        dropped_links_count: 6,
        status: Some(Status {
            message: "upstream failed".into(),
            code: 2,
        }),
    }
}

fn exemplar(seed: u8) -> Exemplar {
    Exemplar {
        filtered_attributes: vec![kv("filtered", any(Value::BoolValue(false)))],
        time_unix_nano: T0 + 7,
        span_id: id(seed, 8),
        trace_id: id(seed, 16),
        value: Some(exemplar::Value::AsDouble(0.25)),
    }
}

fn metrics(seed: u8) -> Vec<Metric> {
    let point_attributes = vec![kv("region", any(Value::StringValue("eu-west".into())))];
    let number = |value| NumberDataPoint {
        attributes: point_attributes.clone(),
        start_time_unix_nano: T0,
        time_unix_nano: T0 + 10,
        exemplars: vec![exemplar(seed)],
        flags: 0,
        value: Some(value),
    };
    vec![
        Metric {
            name: format!("queue.depth.{seed}"),
            description: "items waiting".into(),
            unit: "{item}".into(),
            metadata: vec![kv("meta", any(Value::StringValue("data".into())))],
            data: Some(metric::Data::Gauge(Gauge {
                data_points: vec![
                    number(number_data_point::Value::AsInt(i64::MIN)),
                    number(number_data_point::Value::AsDouble(-3.75)),
                ],
            })),
        },
        Metric {
            name: "requests".into(),
            description: String::new(),
            unit: "1".into(),
            metadata: Vec::new(),
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![number(number_data_point::Value::AsInt(i64::MAX))],
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
        },
        Metric {
            name: "latency".into(),
            description: "request latency".into(),
            unit: "ms".into(),
            metadata: Vec::new(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    attributes: point_attributes.clone(),
                    start_time_unix_nano: T0,
                    time_unix_nano: T0 + 10,
                    count: 6,
                    sum: Some(123.5),
                    bucket_counts: vec![1, 2, 3],
                    explicit_bounds: vec![10.0, 100.0],
                    exemplars: vec![exemplar(seed)],
                    flags: 1,
                    min: Some(0.5),
                    max: Some(99.0),
                }],
                aggregation_temporality: 1,
            })),
        },
        Metric {
            name: "latency.exponential".into(),
            description: String::new(),
            unit: "s".into(),
            metadata: Vec::new(),
            data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint {
                    attributes: point_attributes.clone(),
                    start_time_unix_nano: T0,
                    time_unix_nano: T0 + 10,
                    count: 10,
                    sum: Some(5.5),
                    scale: -2,
                    zero_count: 1,
                    positive: Some(Buckets {
                        offset: -3,
                        bucket_counts: vec![4, 0, 2],
                    }),
                    negative: Some(Buckets {
                        offset: 1,
                        bucket_counts: vec![3],
                    }),
                    flags: 0,
                    exemplars: Vec::new(),
                    min: Some(-8.0),
                    max: Some(4.0),
                    zero_threshold: 0.001,
                }],
                aggregation_temporality: 2,
            })),
        },
        Metric {
            name: "latency.summary".into(),
            description: String::new(),
            unit: "ms".into(),
            metadata: Vec::new(),
            data: Some(metric::Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    attributes: point_attributes,
                    start_time_unix_nano: T0,
                    time_unix_nano: T0 + 10,
                    count: 4,
                    sum: 40.0,
                    quantile_values: vec![
                        ValueAtQuantile {
                            quantile: 0.0,
                            value: 1.0,
                        },
                        ValueAtQuantile {
                            quantile: 0.99,
                            value: 30.0,
                        },
                    ],
                    flags: 0,
                }],
            })),
        },
    ]
}

fn log(seed: u8) -> LogRecord {
    LogRecord {
        time_unix_nano: T0 + u64::from(seed),
        observed_time_unix_nano: T0 + 1000 + u64::from(seed),
        severity_number: 17,
        severity_text: "ERROR".into(),
        body: any(Value::KvlistValue(KeyValueList {
            values: vec![
                kv(
                    "message",
                    any(Value::StringValue(format!("order {seed} failed"))),
                ),
                kv("code", any(Value::IntValue(-1))),
            ],
        })),
        attributes: attributes(&format!("log {seed}")),
        dropped_attributes_count: 1,
        flags: 1,
        trace_id: id(seed, 16),
        span_id: id(seed, 8),
        event_name: "order.failed".into(),
    }
}

/// A request of `signal` with two resources, two scopes each, and distinct items.
pub fn rich(signal: Signal) -> Telemetry {
    let resources = ["checkout", "billing"];
    let scopes = ["http", "db"];
    let mut seed = 0u8;
    let mut next = || {
        seed += 1;
        seed
    };
    match signal {
        Signal::Traces => Telemetry::Traces(ExportTraceServiceRequest {
            resource_spans: resources
                .iter()
                .map(|r| ResourceSpans {
                    resource: resource(r),
                    scope_spans: scopes
                        .iter()
                        .map(|s| ScopeSpans {
                            scope: scope(s),
                            spans: vec![span(next()), span(next())],
                            schema_url: "https://opentelemetry.io/schemas/1.30.0".into(),
                        })
                        .collect(),
                    schema_url: "https://opentelemetry.io/schemas/1.29.0".into(),
                })
                .collect(),
        }),
        Signal::Metrics => Telemetry::Metrics(ExportMetricsServiceRequest {
            resource_metrics: resources
                .iter()
                .map(|r| ResourceMetrics {
                    resource: resource(r),
                    scope_metrics: scopes
                        .iter()
                        .map(|s| ScopeMetrics {
                            scope: scope(s),
                            metrics: metrics(next()),
                            schema_url: "https://opentelemetry.io/schemas/1.30.0".into(),
                        })
                        .collect(),
                    schema_url: String::new(),
                })
                .collect(),
        }),
        Signal::Logs => Telemetry::Logs(ExportLogsServiceRequest {
            resource_logs: resources
                .iter()
                .map(|r| ResourceLogs {
                    resource: resource(r),
                    scope_logs: scopes
                        .iter()
                        .map(|s| ScopeLogs {
                            scope: scope(s),
                            log_records: vec![log(next()), log(next())],
                            schema_url: String::new(),
                        })
                        .collect(),
                    schema_url: "https://opentelemetry.io/schemas/1.29.0".into(),
                })
                .collect(),
        }),
    }
}

/// The number of items (spans, data points, log records) in a payload.
pub fn items(payload: &Telemetry) -> usize {
    payload.items()
}

/// A payload encoded as one request.
pub fn request(payload: &Telemetry, encoding: Encoding) -> ExportRequest {
    let options = EncodeOptions::default().with_encoding(encoding);
    let mut encoded = match payload.clone() {
        Telemetry::Traces(m) => encode_message(m, &options),
        Telemetry::Metrics(m) => encode_message(m, &options),
        Telemetry::Logs(m) => encode_message(m, &options),
    }
    .expect("the sample payloads encode");
    assert_eq!(encoded.requests.len(), 1);
    encoded.requests.remove(0)
}
