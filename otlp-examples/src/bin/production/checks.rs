//! The delivery report the demo ends with, and its checks: nothing undelivered by the
//! pipeline's own count; with the embedded receiver, also what arrived (over mutual TLS, with
//! the token, gzip-compressed), every log record with its span, and the self-metrics.

use std::collections::HashSet;

use otlp_core::Telemetry;
use otlp_exporters::{PipelineStats, ShutdownReport};
use otlp_transport::receiver::Receiver;

use super::certs::TOKEN;
use super::load::Load;
use super::route::Route;

/// The table: per signal, what the pipeline accepted, exported, rejected, dropped.
pub fn print_table(load: &Load, stats: &PipelineStats) {
    println!(
        "\n📦 delivery report ({} requests in {:.2?}, {} failed on purpose; response time p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms)",
        load.requests,
        load.elapsed,
        load.failed,
        load.response_ms(0.5),
        load.response_ms(0.95),
        load.response_ms(0.99)
    );
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "signal", "accepted", "exported", "rejected", "dropped", "pending"
    );
    for (name, s) in [("spans", stats.spans), ("logs", stats.logs)] {
        println!(
            "{name:<12} {:>10} {:>10} {:>10} {:>10} {:>10}",
            s.offered,
            s.exported,
            s.rejected,
            s.dropped(),
            s.queued + s.in_flight
        );
    }
    let m = stats.metric_exports;
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "data points",
        m.exported + m.rejected + m.failed,
        m.exported,
        m.rejected,
        m.failed,
        0
    );
    println!(
        "retries: {}   requests sent: {}",
        stats.retry.retries,
        stats.span_exports.requests + stats.metric_exports.requests + stats.log_exports.requests
    );
}

/// Checks delivery; the success line (measured numbers), or what failed.
pub async fn check(
    load: &Load,
    stats: &PipelineStats,
    report: &ShutdownReport,
    receiver: Option<&Receiver>,
    routes: &[Route],
) -> Result<String, String> {
    if report.undelivered > 0 || !report.completed {
        return Err(report.to_string());
    }
    let spans = stats.spans.exported;
    if spans != load.spans() as u64 {
        return Err(format!(
            "the collector accepted {spans} of {} spans",
            load.spans()
        ));
    }
    let logs = stats.logs.exported;
    if logs < load.log_records as u64 {
        return Err(format!(
            "the collector accepted {logs} of {} log records",
            load.log_records
        ));
    }
    let points = stats.metric_exports.exported;
    if points == 0 || stats.metric_exports.failed > 0 {
        return Err(format!(
            "metrics: {points} data points accepted, {} failed",
            stats.metric_exports.failed
        ));
    }
    let measured = format!(
        "response time p50 {:.1} ms, p99 {:.1} ms",
        load.response_ms(0.5),
        load.response_ms(0.99)
    );
    let Some(receiver) = receiver else {
        let to: Vec<String> = routes
            .iter()
            .map(|r| format!("{} ({})", r.endpoint, r.security.join(", ")))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        return Ok(format!(
            "{spans} spans, {logs} log records and {points} data points accepted by {} (the pipeline's count of what the collector acknowledged); {measured}",
            to.join(" and ")
        ));
    };
    embedded(receiver, load, &measured)
}

/// What the embedded receiver got: everything, over mTLS with the token and gzip, logs with
/// their spans, the self-metrics.
fn embedded(receiver: &Receiver, load: &Load, measured: &str) -> Result<String, String> {
    let received = receiver.received();
    let requests = received.len();
    let compressed = received
        .iter()
        .filter(|r| r.compression.as_deref() == Some("gzip"))
        .count();
    let authorized = received
        .iter()
        .filter(|r| {
            r.headers
                .get("authorization")
                .is_some_and(|v| v == format!("Bearer {TOKEN}").as_str())
        })
        .count();
    if compressed != requests || authorized != requests {
        return Err(format!("of {requests} requests, {compressed} were gzip-compressed and {authorized} had the token"));
    }
    let counts = receiver.counts();
    if counts.spans != load.spans() {
        return Err(format!(
            "the receiver got {} of {} spans",
            counts.spans,
            load.spans()
        ));
    }
    let mut span_ids = HashSet::new();
    let mut metric_names = HashSet::new();
    let mut records = Vec::new();
    for request in &received {
        match &request.payload {
            Telemetry::Traces(t) => {
                for span in t
                    .resource_spans
                    .iter()
                    .flat_map(|r| &r.scope_spans)
                    .flat_map(|s| &s.spans)
                {
                    span_ids.insert((span.trace_id.clone(), span.span_id.clone()));
                }
            }
            Telemetry::Metrics(m) => {
                for metric in m
                    .resource_metrics
                    .iter()
                    .flat_map(|r| &r.scope_metrics)
                    .flat_map(|s| &s.metrics)
                {
                    metric_names.insert(metric.name.clone());
                }
            }
            Telemetry::Logs(l) => records.extend(
                l.resource_logs
                    .iter()
                    .flat_map(|r| &r.scope_logs)
                    .flat_map(|s| &s.log_records)
                    .map(|r| (r.trace_id.clone(), r.span_id.clone())),
            ),
        }
    }
    let correlated = records.iter().filter(|id| span_ids.contains(*id)).count();
    if correlated < load.log_records {
        return Err(format!(
            "{correlated} of the {} request log records carry the trace and span id of a received span",
            load.log_records
        ));
    }
    let own = metric_names
        .iter()
        .filter(|name| name.starts_with("otel.sdk."))
        .count();
    if own == 0 {
        return Err(format!(
            "no self-metric (otel.sdk.*) arrived; metrics received: {metric_names:?}"
        ));
    }
    Ok(format!(
        "the receiver got {} spans, {} log records ({correlated} with their span) and {} data points ({own} otel.sdk.* self-metrics among {} metrics) in {requests} requests, all over mutual TLS with the bearer token and gzip; {measured}",
        counts.spans,
        counts.log_records,
        counts.data_points,
        metric_names.len()
    ))
}
