//! Faults from the conformance catalogue that need more than the receiver's fault injection:
//! a connection reset mid-request, a name that does not resolve, a collector restarted
//! mid-stream. For each: how it is classified and that the books balance at the end.

#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use otlp_batch::BatchConfig;
use otlp_core::Signal;
use otlp_exporters::{OtlpPipeline, Protocol};
use otlp_reliability::retry::RetryConfig;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

fn retries(attempts: u32) -> RetryConfig {
    RetryConfig::default()
        .with_max_attempts(attempts)
        .with_backoff(Duration::from_millis(10), Duration::from_millis(50), 2.0)
        .with_total_timeout(Duration::from_secs(5))
        .with_budget(None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reset_mid_request_is_retried_then_counted() {
    // A server that reads part of each request and slams the connection shut.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buffer = [0u8; 64];
            let _ = stream.read(&mut buffer);
            drop(stream);
        }
    });
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(endpoint)
        .with_protocol(Protocol::HttpProtobuf)
        .with_retry(retries(3))
        .with_circuit_breaker(None)
        .build()
        .unwrap();
    for i in 0..5 {
        pipeline
            .tracer("reset")
            .in_span(format!("span-{i}"), |_| {});
    }
    let report = pipeline.shutdown(Duration::from_secs(10));
    let stats = pipeline.stats();
    assert_eq!(stats.retry.retries, 2, "a reset is retryable: 3 attempts");
    assert_eq!(stats.spans.failed, 5);
    assert_eq!(report.undelivered, 5);
    assert!(stats.spans.balanced());
    assert!(accepted.load(std::sync::atomic::Ordering::SeqCst) >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_does_not_resolve_is_a_retryable_connection_failure() {
    let pipeline = OtlpPipeline::builder()
        .with_endpoint("http://collector.does-not-exist.invalid:4317")
        .with_retry(retries(2))
        .with_circuit_breaker(None)
        .build()
        .unwrap();
    pipeline.tracer("dns").in_span("lost", |_| {});
    let report = pipeline.shutdown(Duration::from_secs(15));
    let stats = pipeline.stats();
    assert_eq!(
        stats.spans.failed + stats.spans.dropped_at_shutdown,
        1,
        "{stats:?}"
    );
    assert_eq!(report.undelivered, 1);
    assert!(
        stats.retry.retries >= 1 || stats.spans.dropped_at_shutdown == 1,
        "a lookup failure is retryable"
    );
    assert!(stats.spans.balanced());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_restarted_mid_stream_loses_nothing() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let addr = receiver.grpc_addr();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.grpc_endpoint())
        .with_protocol(Protocol::Grpc)
        .with_retry(
            RetryConfig::default()
                .with_max_attempts(20)
                .with_backoff(Duration::from_millis(20), Duration::from_millis(100), 2.0)
                .with_total_timeout(Duration::from_secs(10)),
        )
        .with_circuit_breaker(None)
        .with_batch(
            BatchConfig::default()
                .with_max_batch_size(10)
                .with_scheduled_delay(Duration::from_millis(20)),
        )
        .build()
        .unwrap();
    let tracer = pipeline.tracer("restart");
    for i in 0..30 {
        tracer.in_span(format!("before-{i}"), |_| {});
    }
    pipeline.force_flush(Duration::from_secs(5));
    let first = receiver.counts().spans;
    receiver.shutdown().await;
    for i in 0..30 {
        tracer.in_span(format!("during-{i}"), |_| {});
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let restarted = Receiver::start(ReceiverConfig {
        grpc_addr: addr,
        ..ReceiverConfig::default()
    })
    .await
    .unwrap();
    let report = pipeline.shutdown(Duration::from_secs(15));
    assert!(report.completed, "{report:?}");
    assert!(
        restarted
            .wait_for_items(Signal::Traces, 30, Duration::from_secs(5))
            .await
    );
    assert_eq!(
        first + restarted.counts().spans,
        60,
        "everything accepted arrived"
    );
    let stats = pipeline.stats();
    assert_eq!(stats.spans.exported, 60);
    assert!(stats.retry.retries > 0);
}
