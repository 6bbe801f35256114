//! Dropping the pipeline delivers what was recorded whoever else holds the providers, and
//! flush and shutdown return by their deadline for all three signals, in plain `main`, a
//! multi-thread and a current-thread runtime. Bounds are generous "does not hang" bounds. The
//! metric export's deadline and own timeout are also tested in paused time, over an exporter in
//! the process: `deadlines_paused.rs`.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use opentelemetry::trace::Tracer as _;
use otlp_core::Signal;
use otlp_exporters::config::Protocol;
use otlp_exporters::OtlpPipeline;
use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};

/// A receiver on a runtime of its own, so tests without a runtime can use it too.
fn receiver() -> (tokio::runtime::Runtime, Receiver) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = runtime
        .block_on(Receiver::start(ReceiverConfig::default()))
        .unwrap();
    (runtime, receiver)
}

fn wait_for(runtime: &tokio::runtime::Runtime, receiver: &Receiver, items: usize) -> usize {
    runtime.block_on(receiver.wait_for_items(Signal::Traces, items, Duration::from_secs(10)));
    receiver.counts().spans
}

#[test]
fn dropping_the_pipeline_delivers_while_the_globals_and_a_tracer_hold_the_providers() {
    let (runtime, receiver) = receiver();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.grpc_endpoint())
        .with_protocol(Protocol::Grpc)
        .with_metric_export_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    pipeline.install_global();
    let tracer = pipeline.tracer("kept-alive");
    for i in 0..100 {
        opentelemetry::global::tracer("global").in_span(format!("span-{i}"), |_| {});
    }
    let started = Instant::now();
    drop(pipeline);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(wait_for(&runtime, &receiver, 100), 100);
    // Spans ended later go nowhere, and nothing hangs or panics.
    tracer.in_span("after-drop", |_| {});
    opentelemetry::global::tracer("global").in_span("after-drop", |_| {});
}

/// A pipeline with one metric recorded, pointed at a collector that never answers.
fn one_metric_into_a_black_hole(receiver: &Receiver) -> OtlpPipeline {
    receiver.faults().set_default(Some(Fault::hang()));
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.grpc_endpoint())
        .with_protocol(Protocol::Grpc)
        .with_metric_export_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    pipeline
        .meter("m")
        .u64_counter("requests")
        .build()
        .add(1, &[]);
    pipeline.tracer("t").in_span("one", |_| {});
    pipeline
}

/// `force_flush(2s)` and `shutdown(2s)` each return within a small margin of 2 s.
fn deadlines_hold(receiver: &Receiver) {
    let pipeline = one_metric_into_a_black_hole(receiver);
    let started = Instant::now();
    let flushed = pipeline.force_flush(Duration::from_secs(2));
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(3500),
        "force_flush took {took:?}"
    );
    assert!(!flushed.completed);
    assert!(flushed.metrics_error.is_some(), "{flushed:?}");

    let started = Instant::now();
    let report = pipeline.shutdown(Duration::from_secs(2));
    let took = started.elapsed();
    assert!(took < Duration::from_millis(3500), "shutdown took {took:?}");
    assert!(!report.completed);
    assert_eq!(report.undelivered, 1, "{report}");
    let started = Instant::now();
    drop(pipeline);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "drop after shutdown waits for nothing"
    );
}

#[test]
fn deadlines_hold_for_every_signal_in_plain_main() {
    let (_runtime, receiver) = receiver();
    deadlines_hold(&receiver);
}

#[test]
fn deadlines_hold_for_every_signal_in_a_multi_thread_runtime() {
    let (_runtime, receiver) = receiver();
    let app = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    app.block_on(async { deadlines_hold(&receiver) });
}

#[test]
fn deadlines_hold_for_every_signal_in_a_current_thread_runtime() {
    let (_runtime, receiver) = receiver();
    let app = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    app.block_on(async { deadlines_hold(&receiver) });
}

#[test]
fn dropping_inside_a_current_thread_runtime_with_a_black_hole_is_bounded() {
    let (_runtime, receiver) = receiver();
    let app = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    app.block_on(async {
        let pipeline = one_metric_into_a_black_hole(&receiver);
        let started = Instant::now();
        drop(pipeline);
        let limit = OtlpPipeline::DROP_DEADLINE + Duration::from_secs(2);
        assert!(started.elapsed() < limit, "{:?}", started.elapsed());
    });
}

#[test]
fn shutdown_settles_2000_queued_spans_against_a_black_hole() {
    let (_runtime, receiver) = receiver();
    receiver.faults().set_default(Some(Fault::hang()));
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.grpc_endpoint())
        .with_protocol(Protocol::Grpc)
        .with_metric_export_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let tracer = pipeline.tracer("t");
    for i in 0..2000 {
        tracer.in_span(format!("span-{i}"), |_| {});
    }
    let started = Instant::now();
    let report = pipeline.shutdown(Duration::from_secs(2));
    assert!(
        started.elapsed() < Duration::from_millis(3500),
        "{:?}",
        started.elapsed()
    );
    let spans = report.spans.clone().unwrap().stats;
    assert_eq!((spans.queued, spans.in_flight), (0, 0), "{spans:?}");
    assert_eq!(spans.dropped_at_shutdown, 2000, "{spans:?}");
    assert!(spans.balanced(), "{spans:?}");
    assert_eq!(report.undelivered, 2000);
    // The report says how much was lost and that it was still waiting at shutdown.
    let text = report.to_string();
    assert!(text.contains("2000 of 2000 spans"), "{text}");
    assert!(text.contains("still waiting at shutdown"), "{text}");
}

#[test]
fn a_refused_connection_is_reported_with_its_cause_and_endpoint() {
    // A port that was bound and released: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(endpoint.clone())
        .with_metric_export_interval(Duration::from_secs(3600))
        .with_retry(
            otlp_reliability::retry::RetryConfig::default()
                .with_backoff(Duration::from_millis(10), Duration::from_millis(50), 2.0)
                .with_max_attempts(3),
        )
        .build()
        .unwrap();
    for i in 0..7 {
        pipeline.tracer("t").in_span(format!("span-{i}"), |_| {});
    }
    let report = pipeline.shutdown(Duration::from_secs(5));
    assert_eq!(report.undelivered, 7);
    let traces = report.delivery.signal(Signal::Traces).unwrap();
    assert_eq!(
        traces.failed.get(otlp_batch::Cause::Connection),
        7,
        "{report}"
    );
    let text = report.to_string();
    assert!(text.contains("7 of 7 spans"), "{text}");
    assert!(text.contains("connection failed"), "{text}");
    // Endpoints are named by host and port only (no userinfo or query can leak).
    let host = endpoint.trim_start_matches("http://");
    assert!(text.contains(host), "{text}");
    assert!(
        report.delivery.endpoints[0].failed_attempts >= 3,
        "{report:?}"
    );
}

#[test]
fn a_metric_export_cut_off_while_retrying_a_refused_connection_says_connection() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(format!("http://127.0.0.1:{port}"))
        .with_metric_export_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    pipeline
        .meter("m")
        .u64_counter("requests")
        .build()
        .add(1, &[]);
    // The default retries (1 s backoff, 60 s in all) outlast the deadline.
    let report = pipeline.shutdown(Duration::from_millis(1500));
    let metrics = report.delivery.signal(Signal::Metrics).unwrap().clone();
    assert_eq!(
        metrics.failed.get(otlp_batch::Cause::Connection),
        1,
        "{report}"
    );
    assert!(report.to_string().contains("connection failed"), "{report}");
}
