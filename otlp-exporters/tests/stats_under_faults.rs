//! `stats()` adds up when the collector misbehaves: retried outages, partial success,
//! permanent rejections, and a collector that never answers.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use otlp_batch::BatchConfig;
use otlp_exporters::{OtlpPipeline, Protocol};
use otlp_reliability::retry::RetryConfig;
use otlp_transport::receiver::{Fault, GrpcCode, Receiver, ReceiverConfig};

fn quick_retries() -> RetryConfig {
    RetryConfig::default()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(5), Duration::from_millis(20), 2.0)
        .with_total_timeout(Duration::from_secs(5))
        .with_budget(None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_partial_success_and_rejections_add_up() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.grpc_endpoint())
        .with_protocol(Protocol::Grpc)
        .with_batch(BatchConfig::default().with_max_batch_size(10))
        .with_retry(quick_retries())
        .with_circuit_breaker(None)
        .build()
        .unwrap();
    let faults = receiver.faults();
    // Batch 1: two outages, then accepted. Batch 2: partial success. Batch 3: refused for good.
    faults.push_n(Fault::unavailable(), 2);
    faults.push(Fault::accept());
    faults.push(Fault::partial_success(4, "4 spans too old"));
    faults.push(Fault::status(GrpcCode::InvalidArgument, 400, "malformed"));
    let tracer = pipeline.tracer("faults");
    for batch in 0..3 {
        for i in 0..10 {
            tracer.in_span(format!("span-{batch}-{i}"), |_| {});
        }
        let report = pipeline.force_flush(Duration::from_secs(10));
        assert_eq!(report.spans.unwrap().stats.queued, 0);
    }
    let stats = pipeline.stats();
    assert_eq!(stats.spans.offered, 30);
    assert_eq!(stats.spans.exported, 16, "{stats:#?}");
    assert_eq!(stats.spans.rejected, 4);
    assert_eq!(stats.spans.failed, 10);
    assert!(stats.spans.balanced());
    assert_eq!(stats.retry.retries, 2);
    assert_eq!(stats.span_exports.failed_requests, 1);
    // What the receiver kept matches what the pipeline says it delivered.
    let counts = receiver.counts();
    assert_eq!(
        counts.spans as u64,
        stats.spans.exported + stats.spans.rejected
    );
    assert_eq!(counts.rejected_items, 4);
    pipeline.shutdown(Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_never_answers_cannot_hold_shutdown() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    receiver.faults().set_default(Some(Fault::hang()));
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.grpc_endpoint())
        .with_protocol(Protocol::Grpc)
        .with_timeout(Duration::from_secs(60))
        .with_retry(quick_retries().with_total_timeout(Duration::from_secs(60)))
        .build()
        .unwrap();
    for i in 0..25 {
        pipeline.tracer("hang").in_span(format!("span-{i}"), |_| {});
    }
    let started = std::time::Instant::now();
    let report = pipeline.shutdown(Duration::from_millis(500));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!report.completed);
    assert_eq!(report.undelivered, 25);
    let stats = pipeline.stats();
    assert_eq!(stats.spans.dropped_at_shutdown, 25);
    assert!(stats.spans.balanced());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_circuit_shows_in_health_and_stats() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    receiver.faults().set_default(Some(Fault::unavailable()));
    let breaker =
        otlp_reliability::circuit_breaker::BreakerConfig::default().with_consecutive_failures(2);
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.grpc_endpoint())
        .with_protocol(Protocol::Grpc)
        .with_retry(quick_retries().with_max_attempts(1))
        .with_circuit_breaker(Some(breaker))
        .with_batch(BatchConfig::default().with_max_batch_size(1))
        .build()
        .unwrap();
    for i in 0..4 {
        pipeline.tracer("cb").in_span(format!("span-{i}"), |_| {});
        pipeline.force_flush(Duration::from_secs(5));
    }
    let stats = pipeline.stats();
    let traces = stats
        .circuits
        .iter()
        .find(|c| c.name.starts_with("traces:"))
        .unwrap();
    assert_eq!(
        traces.state,
        otlp_reliability::circuit_breaker::CircuitState::Open
    );
    assert_eq!(traces.stats.rejected_calls, 2);
    assert_eq!(
        receiver.counts().refused_requests,
        2,
        "the open circuit kept the last two off the wire"
    );
    let report = pipeline.health_registry().check_now().await;
    assert_eq!(
        report.status,
        otlp_reliability::health::HealthStatus::Degraded
    );
    assert_eq!(stats.spans.failed, 4);
    pipeline.shutdown(Duration::from_secs(1));
}
