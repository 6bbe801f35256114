//! Spans made with the `tracing` crate (through `tracing-opentelemetry`) and its events
//! (through `opentelemetry-appender-tracing`) arrive as spans and correlated log records.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use otlp_core::Signal;
use otlp_core::Telemetry;
use otlp_exporters::OtlpPipeline;
use otlp_transport::receiver::{Receiver, ReceiverConfig};
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracing_spans_and_events_arrive_correlated() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_service_name("bridge-test")
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(pipeline.tracer("bridge")))
        .with(OpenTelemetryTracingBridge::new(pipeline.logger_provider()));
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("handle_order", order.id = 17);
        let _entered = span.enter();
        tracing::warn!(amount = 99.5, "payment slow");
    });
    assert!(pipeline.shutdown(Duration::from_secs(10)).completed);
    assert!(
        receiver
            .wait_for_items(Signal::Logs, 1, Duration::from_secs(5))
            .await
    );

    let received = receiver.received();
    let span = received
        .iter()
        .find_map(|r| match &r.payload {
            Telemetry::Traces(t) => t.resource_spans[0].scope_spans[0]
                .spans
                .iter()
                .find(|s| s.name == "handle_order")
                .cloned(),
            _ => None,
        })
        .expect("the tracing span arrived");
    let record = received
        .iter()
        .find_map(|r| match &r.payload {
            Telemetry::Logs(l) => l.resource_logs[0].scope_logs[0]
                .log_records
                .first()
                .cloned(),
            _ => None,
        })
        .expect("the tracing event arrived");
    assert_eq!(
        record.trace_id, span.trace_id,
        "the log record carries the span's trace id"
    );
    assert_eq!(record.span_id, span.span_id);
    assert_eq!(record.severity_number, 13, "WARN");
    let body = format!("{:?}", record.body);
    assert!(body.contains("payment slow"), "{body}");
}
