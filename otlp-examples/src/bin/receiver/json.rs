//! `--json`: one JSON line per span, metric data point and log record, with OTLP/JSON field
//! names (camelCase, ids in hex) and the request's protocol, encoding, compression and headers
//! (credential-bearing values redacted); refused requests, the listening addresses and the
//! summary are lines too, so that stdout is JSON only.

use otlp_core::proto::metrics::v1::metric::Data;
use otlp_core::Telemetry;
use otlp_transport::receiver::{Received, ReceivedOver, Refused};
use serde_json::{json, Map, Value};

fn protocol(protocol: ReceivedOver) -> &'static str {
    match protocol {
        ReceivedOver::Grpc => "grpc",
        ReceivedOver::Http => "http",
    }
}

/// Header names and values, credentials redacted (see `otlp_core::redact`); repeated names
/// joined with `, `.
pub fn headers(headers: &http::HeaderMap) -> Value {
    let mut out = Map::new();
    for (name, value) in headers {
        let shown = otlp_core::redact::header_value(name.as_str(), value.as_bytes());
        match out.get_mut(name.as_str()) {
            Some(Value::String(previous)) => {
                previous.push_str(", ");
                previous.push_str(&shown);
            }
            _ => {
                out.insert(name.as_str().to_owned(), Value::String(shown));
            }
        }
    }
    Value::Object(out)
}

fn to_value(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn emit(line: Value) {
    println!("{line}");
}

/// The lines for one accepted request.
pub fn print_received(received: &Received) {
    let request = json!({
        "protocol": protocol(received.protocol),
        "encoding": format!("{:?}", received.encoding).to_lowercase(),
        "compression": received.compression,
        "headers": headers(&received.headers),
    });
    let line = |kind: &str, fields: Value| {
        let mut line = Map::new();
        line.insert("type".into(), kind.into());
        if let Value::Object(fields) = fields {
            line.extend(fields);
        }
        line.insert("request".into(), request.clone());
        emit(Value::Object(line));
    };
    match &received.payload {
        Telemetry::Traces(traces) => {
            for resource in &traces.resource_spans {
                for scope in &resource.scope_spans {
                    for span in &scope.spans {
                        line(
                            "span",
                            json!({
                                "resource": to_value(&resource.resource),
                                "scope": to_value(&scope.scope),
                                "span": to_value(span),
                            }),
                        );
                    }
                }
            }
        }
        Telemetry::Metrics(metrics) => {
            for resource in &metrics.resource_metrics {
                for scope in &resource.scope_metrics {
                    for metric in &scope.metrics {
                        let header = json!({
                            "name": metric.name,
                            "description": metric.description,
                            "unit": metric.unit,
                        });
                        let (kind, points): (&str, Vec<Value>) = match &metric.data {
                            Some(Data::Sum(s)) => {
                                ("sum", s.data_points.iter().map(to_value).collect())
                            }
                            Some(Data::Gauge(g)) => {
                                ("gauge", g.data_points.iter().map(to_value).collect())
                            }
                            Some(Data::Histogram(h)) => {
                                ("histogram", h.data_points.iter().map(to_value).collect())
                            }
                            Some(Data::ExponentialHistogram(h)) => (
                                "exponentialHistogram",
                                h.data_points.iter().map(to_value).collect(),
                            ),
                            Some(Data::Summary(s)) => {
                                ("summary", s.data_points.iter().map(to_value).collect())
                            }
                            None => ("none", Vec::new()),
                        };
                        for point in points {
                            let mut metric = header.clone();
                            metric["kind"] = kind.into();
                            line(
                                "dataPoint",
                                json!({
                                    "resource": to_value(&resource.resource),
                                    "scope": to_value(&scope.scope),
                                    "metric": metric,
                                    "dataPoint": point,
                                }),
                            );
                        }
                    }
                }
            }
        }
        Telemetry::Logs(logs) => {
            for resource in &logs.resource_logs {
                for scope in &resource.scope_logs {
                    for record in &scope.log_records {
                        line(
                            "logRecord",
                            json!({
                                "resource": to_value(&resource.resource),
                                "scope": to_value(&scope.scope),
                                "logRecord": to_value(record),
                            }),
                        );
                    }
                }
            }
        }
    }
}

/// The line for a refused request.
pub fn print_refused(refused: &Refused) {
    emit(json!({
        "type": "refused",
        "protocol": protocol(refused.protocol),
        "signal": refused.signal.map(|s| s.as_str()),
        "httpStatus": refused.http_status,
        "grpcCode": refused.grpc_code.map(|c| c as i32),
        "reason": refused.reason,
        "headers": headers(&refused.headers),
    }));
}

/// Any other line (`listening`, `summary`).
pub fn print(kind: &str, fields: Value) {
    let mut line = Map::new();
    line.insert("type".into(), kind.into());
    if let Value::Object(fields) = fields {
        line.extend(fields);
    }
    emit(Value::Object(line));
}
