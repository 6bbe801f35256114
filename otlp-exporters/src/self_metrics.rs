//! The pipeline's own numbers as OpenTelemetry metrics, named after the semantic conventions
//! for SDK self-metrics where they exist (`otel.sdk.*`), and `otlp.*` for the rest:
//!
//! | metric | kind | attributes |
//! |---|---|---|
//! | `otel.sdk.processor.span.queue.size` / `.capacity` | gauge | |
//! | `otel.sdk.processor.log.queue.size` / `.capacity` | gauge | |
//! | `otel.sdk.processor.span.processed` / `otel.sdk.processor.log.processed` | counter | `error.type=queue_full` for drops |
//! | `otel.sdk.exporter.span.exported`, `otel.sdk.exporter.log.exported`, `otel.sdk.exporter.metric_data_point.exported` | counter | `error.type=rejected` (partial success) or `export_failed` |
//! | `otlp.exporter.retries` | counter | |
//! | `otlp.exporter.circuit_breaker.state` | gauge: 0 closed, 1 half-open, 2 open | `otlp.circuit` |
//! | `otlp.exporter.bulkhead.rejected` | counter | |
//! | `otlp.spool.oldest_pending_age` | gauge, seconds (0 when nothing waits) | |
//! | `otlp.spool.pending` | gauge | |
//!
//! They are observable instruments read when the metric reader collects, so reporting them
//! creates no spans or logs: the pipeline does not feed back on itself beyond one collection.

use std::sync::Arc;

use opentelemetry::KeyValue;
use otlp_batch::BatchStats;
use otlp_reliability::circuit_breaker::CircuitState;

use crate::stats::ExportStats;
use crate::OtlpPipeline;

/// Registers the instruments on the pipeline's own meter `otlp-rust`. Called by the builder's
/// `with_self_metrics(true)`.
pub fn register(pipeline: &OtlpPipeline) {
    let Some(exporting) = &pipeline.exporting else {
        return;
    };
    let meter = pipeline.meter("otlp-rust");
    let failed = || KeyValue::new("error.type", "export_failed");
    let rejected = || KeyValue::new("error.type", "rejected");
    let queue_full = || KeyValue::new("error.type", "queue_full");

    type StatsSource = Arc<dyn Fn() -> BatchStats + Send + Sync>;
    let spans = exporting.span_processor.clone();
    let logs = exporting.log_processor.clone();
    let sources: [(&str, StatsSource, u64); 2] = [
        (
            "span",
            Arc::new(move || spans.stats()),
            pipeline.config().span_batch.max_queue_size as u64,
        ),
        (
            "log",
            Arc::new(move || logs.stats()),
            pipeline.config().log_batch.max_queue_size as u64,
        ),
    ];
    for (signal, processor, capacity) in sources {
        let size_source = Arc::clone(&processor);
        meter
            .u64_observable_gauge(format!("otel.sdk.processor.{signal}.queue.size"))
            .with_unit("{item}")
            .with_callback(move |o| o.observe(size_source().queued, &[]))
            .build();
        meter
            .u64_observable_gauge(format!("otel.sdk.processor.{signal}.queue.capacity"))
            .with_unit("{item}")
            .with_callback(move |o| o.observe(capacity, &[]))
            .build();
        meter
            .u64_observable_counter(format!("otel.sdk.processor.{signal}.processed"))
            .with_unit("{item}")
            .with_callback(move |o| {
                let stats: BatchStats = processor();
                o.observe(stats.offered - stats.dropped_queue_full, &[]);
                o.observe(stats.dropped_queue_full, &[queue_full()]);
            })
            .build();
    }

    for (name, counters) in [
        ("span", &exporting.counters.traces),
        ("metric_data_point", &exporting.counters.metrics),
        ("log", &exporting.counters.logs),
    ] {
        let counters = Arc::clone(counters);
        meter
            .u64_observable_counter(format!("otel.sdk.exporter.{name}.exported"))
            .with_unit("{item}")
            .with_callback(move |o| {
                let stats = ExportStats::read(&counters);
                o.observe(stats.exported, &[]);
                o.observe(stats.rejected, &[rejected()]);
                o.observe(stats.failed + stats.too_large, &[failed()]);
            })
            .build();
    }

    let retry = Arc::clone(&exporting.retry);
    meter
        .u64_observable_counter("otlp.exporter.retries")
        .with_unit("{retry}")
        .with_callback(move |o| o.observe(retry.snapshot().retries, &[]))
        .build();
    let breakers = exporting.breakers.clone();
    let breakers = move || breakers.all();
    meter
        .u64_observable_gauge("otlp.exporter.circuit_breaker.state")
        .with_callback(move |o| {
            for breaker in &breakers() {
                let state = match breaker.state() {
                    CircuitState::Closed | CircuitState::Disabled => 0,
                    CircuitState::HalfOpen => 1,
                    CircuitState::Open | CircuitState::ForcedOpen => 2,
                };
                o.observe(
                    state,
                    &[KeyValue::new("otlp.circuit", breaker.name().to_owned())],
                );
            }
        })
        .build();
    if let Some(bulkhead) = exporting.bulkhead.clone() {
        meter
            .u64_observable_counter("otlp.exporter.bulkhead.rejected")
            .with_callback(move |o| o.observe(bulkhead.rejected(), &[]))
            .build();
    }
    if let Some(spool) = exporting.spool.clone() {
        let age_source = Arc::clone(&spool);
        meter
            .f64_observable_gauge("otlp.spool.oldest_pending_age")
            .with_unit("s")
            .with_callback(move |o| {
                let age = age_source.stats().oldest_pending_age.unwrap_or_default();
                o.observe(age.as_secs_f64(), &[]);
            })
            .build();
        meter
            .u64_observable_gauge("otlp.spool.pending")
            .with_unit("{request}")
            .with_callback(move |o| o.observe(spool.stats().pending, &[]))
            .build();
    }
}
