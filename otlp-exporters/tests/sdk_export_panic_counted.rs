//! A span export through the SDK exporter traits whose stack panics (here a credential hook
//! that panics) is counted: the SDK gets an error, and the exporter's stats count the spans
//! as failed (export task panicked), as the pipeline's own batch worker does.

#![allow(clippy::unwrap_used)]

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};
use otlp_batch::Cause;
use otlp_core::RequestHeaders;
use otlp_exporters::OtlpPipeline;
use otlp_transport::credentials::CredentialError;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_export_counts_its_spans_as_failed() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_credentials(|| async {
            if true {
                panic!("the credential hook panicked");
            }
            Ok::<_, CredentialError>(RequestHeaders::new())
        })
        .build()
        .unwrap();
    let exporter = pipeline.span_exporter().unwrap();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .build();
    let tracer = provider.tracer("panics");
    tokio::task::spawn_blocking(move || {
        tracer.in_span("one", |_| {});
        tracer.in_span("two", |_| {});
        provider.shutdown()
    })
    .await
    .unwrap()
    .unwrap();

    let stats = exporter.stats();
    assert_eq!((stats.exported, stats.failed), (0, 2), "{stats:?}");
    assert_eq!(stats.failed_by_cause.get(Cause::Panicked), 2, "{stats:?}");
    assert_eq!(receiver.counts().spans, 0);
}
