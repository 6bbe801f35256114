//! The receiver's readable output: a whole trace as a waterfall with each span's service,
//! metrics (one aggregate each, or every data point with its attributes), log records with
//! their trace and span, and one line per refused request.

use otlp_core::proto::common::v1::KeyValue;
use otlp_core::proto::metrics::v1::metric::Data;
use otlp_core::proto::metrics::v1::number_data_point::Value;
use otlp_core::Telemetry;
use otlp_examples::viewer::rows;
use otlp_examples::waterfall::{self, ServiceSpan};
use otlp_transport::receiver::{Received, Refused};

use super::assemble::Assembled;

/// How the request arrived: `Grpc Protobuf gzip`.
pub fn via(received: &Received) -> String {
    format!(
        "{:?} {:?}{}",
        received.protocol,
        received.encoding,
        received
            .compression
            .as_ref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default()
    )
}

/// `k=v k=v`, values as JSON.
fn attributes(list: &[KeyValue]) -> String {
    rows::attributes(list)
        .into_iter()
        .map(|a| format!("{}={}", a.key, a.value))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One assembled trace; with `verbose`, each span's ids, attributes and events below it.
pub fn print_trace(trace: &Assembled, verbose: bool) {
    let mut services: Vec<&str> = trace.spans.iter().map(|s| s.service.as_str()).collect();
    services.sort_unstable();
    services.dedup();
    println!(
        "── trace of {} span(s) from {} request(s), services: {}{}",
        trace.spans.len(),
        trace.requests,
        services.join(", "),
        if trace.late {
            " (late spans of a trace already printed)"
        } else {
            ""
        }
    );
    let refs: Vec<&ServiceSpan> = trace.spans.iter().collect();
    waterfall::print_trace(&refs);
    if !verbose {
        return;
    }
    let mut spans = refs;
    spans.sort_by_key(|s| s.span.start_time_unix_nano);
    for s in spans {
        let span = &s.span;
        println!(
            "    {} span={} parent={} service={}",
            span.name,
            rows::hex(&span.span_id),
            if span.parent_span_id.is_empty() {
                "-".to_owned()
            } else {
                rows::hex(&span.parent_span_id)
            },
            s.service
        );
        if !span.attributes.is_empty() {
            println!("      {}", attributes(&span.attributes));
        }
        if let Some(status) = span.status.as_ref().filter(|s| !s.message.is_empty()) {
            println!("      status: {}", status.message);
        }
        for event in &span.events {
            let offset = event
                .time_unix_nano
                .saturating_sub(span.start_time_unix_nano);
            println!(
                "      event +{:.1} ms {} {}",
                offset as f64 / 1e6,
                event.name,
                attributes(&event.attributes)
            );
        }
    }
}

fn number(value: Option<Value>) -> f64 {
    match value {
        Some(Value::AsInt(i)) => i as f64,
        Some(Value::AsDouble(d)) => d,
        None => 0.0,
    }
}

/// A metrics request: one aggregate per metric, or with `verbose` every data point.
pub fn print_metrics(received: &Received, verbose: bool) {
    let Telemetry::Metrics(request) = &received.payload else {
        return;
    };
    println!("── metrics via {}", via(received));
    for resource in &request.resource_metrics {
        let service = rows::service_of(resource.resource.as_ref());
        for metric in resource.scope_metrics.iter().flat_map(|s| &s.metrics) {
            let (aggregate, points): (String, Vec<(String, &[KeyValue])>) = match &metric.data {
                Some(Data::Sum(s)) => (
                    format!(
                        "sum={}",
                        s.data_points.iter().map(|p| number(p.value)).sum::<f64>()
                    ),
                    s.data_points
                        .iter()
                        .map(|p| (number(p.value).to_string(), &p.attributes[..]))
                        .collect(),
                ),
                Some(Data::Gauge(g)) => (
                    format!(
                        "last={}",
                        g.data_points.last().map(|p| number(p.value)).unwrap_or(0.0)
                    ),
                    g.data_points
                        .iter()
                        .map(|p| (number(p.value).to_string(), &p.attributes[..]))
                        .collect(),
                ),
                Some(Data::Histogram(h)) => (
                    format!(
                        "count={}",
                        h.data_points.iter().map(|p| p.count).sum::<u64>()
                    ),
                    h.data_points
                        .iter()
                        .map(|p| {
                            let value = format!(
                                "count={} sum={} min={} max={}",
                                p.count,
                                p.sum.unwrap_or(0.0),
                                p.min.unwrap_or(0.0),
                                p.max.unwrap_or(0.0)
                            );
                            (value, &p.attributes[..])
                        })
                        .collect(),
                ),
                Some(Data::ExponentialHistogram(h)) => (
                    format!(
                        "count={}",
                        h.data_points.iter().map(|p| p.count).sum::<u64>()
                    ),
                    h.data_points
                        .iter()
                        .map(|p| {
                            (
                                format!("count={} sum={}", p.count, p.sum.unwrap_or(0.0)),
                                &p.attributes[..],
                            )
                        })
                        .collect(),
                ),
                Some(Data::Summary(s)) => (
                    format!(
                        "count={}",
                        s.data_points.iter().map(|p| p.count).sum::<u64>()
                    ),
                    s.data_points
                        .iter()
                        .map(|p| {
                            (
                                format!("count={} sum={}", p.count, p.sum),
                                &p.attributes[..],
                            )
                        })
                        .collect(),
                ),
                None => (String::new(), Vec::new()),
            };
            println!(
                "  {:<40} {aggregate} {}  ({} point(s), {service})",
                metric.name,
                metric.unit,
                points.len()
            );
            if verbose {
                for (value, attributes_of_point) in points {
                    println!("      {value}  {}", attributes(attributes_of_point));
                }
            }
        }
    }
}

/// A logs request: severity, body, service, trace and span; with `verbose`, attributes too.
pub fn print_logs(received: &Received, verbose: bool) {
    let Telemetry::Logs(request) = &received.payload else {
        return;
    };
    println!("── logs via {}", via(received));
    for resource in &request.resource_logs {
        let service = rows::service_of(resource.resource.as_ref());
        for record in resource.scope_logs.iter().flat_map(|s| &s.log_records) {
            let body = record
                .body
                .as_ref()
                .map(|b| match rows::json(b) {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                })
                .unwrap_or_default();
            let severity = if record.severity_text.is_empty() {
                rows::severity_name(record.severity_number).to_owned()
            } else {
                record.severity_text.clone()
            };
            let mut context = String::new();
            if !record.trace_id.is_empty() {
                context.push_str(&format!(" trace={}", rows::hex(&record.trace_id)));
            }
            if !record.span_id.is_empty() {
                context.push_str(&format!(" span={}", rows::hex(&record.span_id)));
            }
            println!("  [{severity:>5}] {body}  ({service}){context}");
            if verbose && !record.attributes.is_empty() {
                println!("      {}", attributes(&record.attributes));
            }
        }
    }
}

/// One line for a refused request.
pub fn print_refused(refused: &Refused) {
    println!("✗ refused {refused}");
}
