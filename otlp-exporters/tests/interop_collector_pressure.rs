//! The real OpenTelemetry Collector under pressure and faults, against our retries and our
//! stats (see `interop_collector.rs` for the round trip):
//!
//! - a `memory_limiter` set far below the Collector's heap refuses: retryable, its reason kept,
//!   every retry and every failed span counted and none of them delivered; then the Collector
//!   is replaced on the same ports while we retry, and everything arrives once;
//! - the Collector killed and restarted mid-run: what our stats call exported reached our
//!   receiver, and the books balance;
//! - the Collector's exporters retrying on faults our receiver injects: what they forward
//!   arrives once, and a permanent refusal reaches us as permanent.

#![allow(clippy::unwrap_used)]

mod collector;

use std::time::{Duration, Instant};

use collector::clients::{endpoint, forward_to, pipeline_protocol, span_names, take, transport};
use collector::payloads::{items, request, rich};
use collector::{Collector, Settings};
use opentelemetry::trace::Tracer as _;
use otlp_batch::BatchConfig;
use otlp_core::{Encoding, Error, Signal};
use otlp_exporters::{OtlpPipeline, Protocol as PipelineProtocol};
use otlp_reliability::retry::RetryConfig;
use otlp_transport::receiver::{Fault, GrpcCode, Receiver, ReceiverConfig};
use otlp_transport::{Compression, Headers};
use tower::ServiceExt;

fn retries(max_attempts: u32, total: Duration) -> RetryConfig {
    RetryConfig::default()
        .with_max_attempts(max_attempts)
        .with_backoff(Duration::from_millis(50), Duration::from_millis(300), 2.0)
        .with_total_timeout(total)
        .with_budget(None)
}

/// Sends until the Collector's memory_limiter refuses (it checks the heap every 50 ms, so the
/// first requests may pass) and returns the error it answered with.
async fn first_refusal(collector: &Collector, protocol: &str) -> Error {
    let transport = transport(collector, protocol, Compression::None, Headers::new(), None);
    let started = Instant::now();
    loop {
        let result = transport
            .clone()
            .oneshot(request(&rich(Signal::Traces), Encoding::Protobuf))
            .await;
        if let Err(error) = result {
            return *error.downcast::<Error>().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the memory_limiter never refused\n{}",
            collector.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OpenTelemetry Collector: run `cargo xtask interop`"]
async fn a_refusing_memory_limiter_is_retried_counted_and_then_delivered_to() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    for protocol in ["grpc", "http/protobuf"] {
        receiver.take_received();
        // A limit far below the Collector's own heap: it refuses everything once it has looked.
        let mut settings = Settings::new();
        settings.forward = forward_to(&receiver, true, false);
        settings.memory_limit_mib = Some(2);
        let collector = Collector::start(settings.clone());
        let refusal = first_refusal(&collector, protocol).await;
        assert!(refusal.is_retryable(), "{protocol}: {refusal}");
        assert!(
            refusal.to_string().contains("memory"),
            "{protocol}: the Collector's reason is kept: {refusal}"
        );
        receiver.take_received();

        // Three attempts per batch against it: every span failed, every retry counted.
        let pipeline = OtlpPipeline::builder()
            .with_endpoint(endpoint(&collector, protocol))
            .with_protocol(pipeline_protocol(protocol))
            .with_batch(BatchConfig::default().with_max_batch_size(10))
            .with_retry(retries(3, Duration::from_secs(10)))
            .with_circuit_breaker(None)
            .build()
            .unwrap();
        let tracer = pipeline.tracer("pressure");
        for batch in 0..3 {
            for i in 0..10 {
                tracer.in_span(format!("refused {batch}-{i}"), |_| {});
            }
            pipeline.force_flush(Duration::from_secs(15));
        }
        let stats = pipeline.stats();
        assert_eq!(stats.spans.offered, 30, "{protocol}: {stats:#?}");
        assert_eq!(stats.spans.exported, 0, "{protocol}: {stats:#?}");
        assert_eq!(stats.spans.failed, 30, "{protocol}: {stats:#?}");
        assert_eq!(stats.retry.retries, 6, "{protocol}: two retries per batch");
        assert!(stats.spans.balanced());
        pipeline.shutdown(Duration::from_secs(5));
        let past_the_limiter = span_names(&receiver.take_received())
            .into_keys()
            .filter(|name| name.starts_with("refused"))
            .count();
        assert_eq!(past_the_limiter, 0, "{protocol}: failed spans arrived");

        // Retrying for longer while the Collector is replaced by one without the limiter, on
        // the same ports: everything arrives, once.
        let pipeline = OtlpPipeline::builder()
            .with_endpoint(endpoint(&collector, protocol))
            .with_protocol(pipeline_protocol(protocol))
            .with_batch(BatchConfig::default().with_max_batch_size(10))
            .with_retry(retries(100, Duration::from_secs(30)))
            .with_circuit_breaker(None)
            .build()
            .unwrap();
        let tracer = pipeline.tracer("pressure");
        for i in 0..20 {
            tracer.in_span(format!("retried {i}"), |_| {});
        }
        // Replace the Collector while the flush below is retrying against it.
        let replacing = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(1));
            collector.kill();
            settings.memory_limit_mib = None;
            Collector::start(settings)
        });
        pipeline.force_flush(Duration::from_secs(30));
        let collector = replacing.join().unwrap();
        let stats = pipeline.stats();
        assert_eq!(
            stats.spans.exported,
            20,
            "{protocol}: {stats:#?}\n{}",
            collector.log()
        );
        assert!(stats.retry.retries >= 1, "{protocol}: {stats:#?}");
        assert!(stats.spans.balanced());
        let names = span_names(&take(&receiver, 2).await);
        assert_eq!(names.len(), 20, "{protocol}: {names:?}");
        assert!(names.values().all(|&n| n == 1), "{protocol}: {names:?}");
        pipeline.shutdown(Duration::from_secs(5));
    }
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OpenTelemetry Collector: run `cargo xtask interop`"]
async fn a_collector_killed_and_restarted_mid_run_loses_nothing_we_do_not_count() {
    let receiver = Receiver::start(ReceiverConfig::default().with_keep_requests(true))
        .await
        .unwrap();
    let mut settings = Settings::new();
    settings.forward = forward_to(&receiver, true, false);
    let mut collector = Some(Collector::start(settings.clone()));
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(collector.as_ref().unwrap().http_endpoint())
        .with_protocol(PipelineProtocol::HttpProtobuf)
        .with_batch(
            BatchConfig::default()
                .with_max_batch_size(10)
                .with_scheduled_delay(Duration::from_millis(20)),
        )
        .with_retry(retries(1000, Duration::from_secs(30)))
        .with_circuit_breaker(None)
        .build()
        .unwrap();
    let tracer = pipeline.tracer("restart");
    // 30 rounds of 10 spans, 30 ms apart; the Collector is down from round 10 to round 20.
    for round in 0..30 {
        if round == 10 {
            collector.take().unwrap().kill();
        }
        if round == 20 {
            collector = Some(Collector::start(settings.clone()));
        }
        for i in 0..10 {
            tracer.in_span(format!("span {round}-{i}"), |_| {});
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let report = pipeline.force_flush(Duration::from_secs(30));
    let stats = pipeline.stats();
    assert_eq!(report.spans.unwrap().stats.queued, 0, "{stats:#?}");
    assert_eq!(stats.spans.offered, 300);
    assert!(stats.spans.balanced(), "{stats:#?}");
    assert!(
        stats.retry.retries >= 1,
        "the outage was retried: {stats:#?}"
    );
    let names = span_names(&receiver.received());
    // What our stats call exported reached our receiver (the Collector answers only after
    // forwarding); what did not arrive is counted as failed or dropped. With retries that
    // outlast the outage, that is nothing.
    assert!(names.len() as u64 >= stats.spans.exported, "{stats:#?}");
    assert!(
        300 - names.len() as u64 <= stats.spans.failed + stats.spans.dropped(),
        "{stats:#?}"
    );
    assert_eq!(stats.spans.exported, 300, "{stats:#?}");
    assert_eq!(names.len(), 300);
    // A request cut off by the kill after the Collector forwarded it is sent again: at least
    // once, not exactly once.
    let duplicates: usize = names.values().map(|n| n - 1).sum();
    eprintln!("spans forwarded twice across the kill: {duplicates}");
    pipeline.shutdown(Duration::from_secs(5));
    drop(collector);
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OpenTelemetry Collector: run `cargo xtask interop`"]
async fn the_collectors_exporters_retry_our_faults_and_forward_once() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    // One Collector per exporter, so that each fault meets the exporter it is meant for.
    for (exporter, grpc, http) in [("otlp_grpc", true, false), ("otlp_http", false, true)] {
        let mut settings = Settings::new();
        settings.forward = forward_to(&receiver, grpc, http);
        let collector = Collector::start(settings);
        let ours = transport(&collector, "grpc", Compression::None, Headers::new(), None);
        let faults = [
            Fault::unavailable(),
            Fault::status(GrpcCode::ResourceExhausted, 429, "slow down")
                .with_retry_after(Duration::from_millis(300)),
            Fault::status(GrpcCode::Unavailable, 503, "restarting")
                .with_retry_after(Duration::from_secs(1)),
        ];
        for fault in faults {
            let case = format!("{exporter} {fault:?}");
            let before = receiver.counts().refused_requests;
            receiver.faults().push_n(fault, 2);
            let sent = rich(Signal::Metrics);
            let outcome = ours
                .clone()
                .oneshot(request(&sent, Encoding::Protobuf))
                .await
                .unwrap_or_else(|e| panic!("{case}: {e}\n{}", collector.log()));
            assert_eq!(outcome.accepted as usize, items(&sent), "{case}");
            let arrived = take(&receiver, 1).await;
            assert_eq!(arrived.len(), 1, "{case}: forwarded once");
            assert_eq!(arrived[0].payload, sent, "{case}");
            assert_eq!(
                receiver.counts().refused_requests - before,
                2,
                "{case}: the Collector's exporter tried twice before it got through"
            );
        }

        // A permanent refusal is not retried by the Collector, and reaches us as one.
        let before = receiver.counts().refused_requests;
        receiver
            .faults()
            .push(Fault::status(GrpcCode::InvalidArgument, 400, "malformed"));
        let error = ours
            .clone()
            .oneshot(request(&rich(Signal::Logs), Encoding::Protobuf))
            .await
            .unwrap_err();
        let error = error.downcast::<Error>().unwrap();
        eprintln!("{exporter}: a permanent refusal downstream reaches us as: {error}");
        assert!(!error.is_retryable(), "{exporter}: {error}");
        assert_eq!(receiver.counts().refused_requests - before, 1, "{exporter}");
        assert!(take(&receiver, 0).await.is_empty());
    }
    receiver.shutdown().await;
}
