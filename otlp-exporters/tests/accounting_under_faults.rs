//! The books balance under random faults: a property test drives random sequences of collector
//! answers (accept, UNAVAILABLE, a permanent 400, a hang past the attempt timeout, a partial
//! success) from the receiver's fault injection through the whole pipeline, and shuts down at a
//! random point. Every span ends in exactly one bucket, nothing is left queued or in flight,
//! and what the pipeline counts as exported is what the receiver got.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use otlp_batch::BatchConfig;
use otlp_exporters::{OtlpPipeline, Protocol};
use otlp_reliability::retry::RetryConfig;
use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};
use proptest::prelude::*;

fn fault(kind: u8) -> Fault {
    match kind {
        0 => Fault::accept(),
        1 => Fault::unavailable(),
        2 => Fault::status(tonic::Code::InvalidArgument, 400, "bad span"),
        3 => Fault::hang(),
        _ => Fault::partial_success(1, "one span refused"),
    }
}

fn run(faults: Vec<u8>, spans: usize, shutdown_after_ms: u64, deadline_ms: u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = runtime
        .block_on(Receiver::start(ReceiverConfig::default()))
        .unwrap();
    for kind in &faults {
        receiver.faults().push(fault(*kind));
    }
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_timeout(Duration::from_millis(200))
        .with_metric_export_interval(Duration::from_secs(3600))
        .with_circuit_breaker(None)
        .with_retry(
            RetryConfig::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(5), Duration::from_millis(20), 2.0)
                .with_total_timeout(Duration::from_secs(2))
                .with_budget(None),
        )
        .with_batch(
            BatchConfig::default()
                .with_max_batch_size(7)
                .with_max_concurrent_exports(2)
                .with_scheduled_delay(Duration::from_millis(20)),
        )
        .build()
        .unwrap();
    let tracer = pipeline.tracer("property");
    for i in 0..spans {
        tracer.in_span(format!("span-{i}"), |_| {});
    }
    std::thread::sleep(Duration::from_millis(shutdown_after_ms));
    let report = pipeline.shutdown(Duration::from_millis(deadline_ms));
    let stats = report.spans.clone().unwrap().stats;
    assert_eq!(stats.offered, spans as u64);
    assert!(stats.balanced(), "{stats:?}");
    assert_eq!((stats.queued, stats.in_flight), (0, 0), "{stats:?}");
    assert_eq!(report.undelivered, stats.undelivered(), "{report}");
    // What the receiver accepted: at least what we count as exported, and more only by
    // requests whose answer a shutdown cut off.
    let counts = receiver.counts();
    let got = (counts.spans - counts.rejected_items) as u64;
    let rejected = counts.rejected_items as u64;
    assert!(rejected >= stats.rejected, "{stats:?} {counts:?}");
    assert!(
        rejected <= stats.rejected + stats.dropped_at_shutdown,
        "{stats:?} {counts:?}"
    );
    assert!(got >= stats.exported, "{stats:?} {counts:?}");
    assert!(
        got <= stats.exported + stats.dropped_at_shutdown,
        "{stats:?} {counts:?}"
    );
    runtime.block_on(receiver.shutdown());
}

proptest! {
    // Each case runs a pipeline for up to 2 s: a few cases in CI, more with
    // OTLP_ACCOUNTING_CASES=200.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("OTLP_ACCOUNTING_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(6),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_span_is_counted_once_and_matches_the_receiver(
        faults in proptest::collection::vec(0u8..5, 0..24),
        spans in 1usize..60,
        shutdown_after_ms in 0u64..150,
        deadline_ms in 50u64..1500,
    ) {
        run(faults, spans, shutdown_after_ms, deadline_ms);
    }
}
