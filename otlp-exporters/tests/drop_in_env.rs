//! A standalone exporter reads the same environment as upstream's: the protocol, the
//! per-signal endpoint and the headers, with nothing set in code. One test in its own binary,
//! since it sets process environment variables.

#![allow(clippy::unwrap_used)]

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_exporters::SpanExporter;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

#[test]
fn the_environment_chooses_protocol_endpoint_and_headers() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = runtime
        .block_on(Receiver::start(ReceiverConfig::default()))
        .unwrap();
    std::env::set_var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc");
    std::env::set_var(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        receiver.grpc_endpoint(),
    );
    std::env::set_var("OTEL_EXPORTER_OTLP_HEADERS", "x-from-env=yes");
    let exporter = SpanExporter::builder().build().unwrap();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    provider.tracer("env").in_span("from-env", |_| {});
    provider.shutdown().unwrap();
    let received = receiver.received();
    assert_eq!(receiver.counts().spans, 1);
    assert_eq!(
        received[0].protocol,
        otlp_transport::receiver::ReceivedOver::Grpc
    );
    assert_eq!(
        received[0]
            .headers
            .get("x-from-env")
            .map(|v| v.to_str().unwrap()),
        Some("yes")
    );
    drop(receiver);
}
