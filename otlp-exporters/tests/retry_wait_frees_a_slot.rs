//! A batch waiting out a retry delay holds no slot at the collector: with one export allowed
//! at once (`fixed 1`), a batch the collector refused with `503` and `Retry-After: 1` waits
//! while the next batch goes out, and both arrive once.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::post;
use axum::Router;
use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use otlp_batch::{BatchConfig, BatchStrategy};
use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_exporters::{SpanExporter, WithExportConfig};
use prost::Message as _;

/// Every request's span names and whether it was accepted, in the order they came.
#[derive(Default)]
struct Seen(Mutex<Vec<(String, bool)>>);

async fn traces(State(seen): State<Arc<Seen>>, body: Bytes) -> (StatusCode, HeaderMap) {
    let request = ExportTraceServiceRequest::decode(body).unwrap();
    let names: Vec<String> = request
        .resource_spans
        .into_iter()
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .map(|s| s.name)
        .collect();
    let mut seen = seen.0.lock().unwrap();
    let first = seen.is_empty();
    seen.push((names.join(","), !first));
    let mut headers = HeaderMap::new();
    if first {
        headers.insert("retry-after", HeaderValue::from_static("1"));
        (StatusCode::SERVICE_UNAVAILABLE, headers)
    } else {
        (StatusCode::OK, headers)
    }
}

async fn collector() -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let router = Router::new()
        .route("/v1/traces", post(traces))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_batch_goes_out_while_a_refused_one_waits_for_its_retry() {
    std::env::set_var("OTLP_EXPORTER_CONCURRENCY", "fixed 1");
    let (addr, seen) = collector().await;
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("http://{addr}/v1/traces"))
        .build()
        .unwrap();
    let processor = otlp_exporters::span_processor(exporter)
        .with_batch_config(
            BatchConfig::default()
                .with_max_batch_size(1)
                .with_strategy(BatchStrategy::Size),
        )
        .build()
        .unwrap();
    let batch = processor.processor().clone();
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOn)
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("retry");
    tracer.in_span("a", |_| {});
    // Once the collector has refused "a", "b" is made.
    let waiting_since = Instant::now();
    while seen.0.lock().unwrap().is_empty() {
        assert!(
            waiting_since.elapsed() < Duration::from_secs(10),
            "no request came"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tracer.in_span("b", |_| {});
    tokio::task::spawn_blocking(move || provider.shutdown())
        .await
        .unwrap()
        .unwrap();

    let seen = seen.0.lock().unwrap().clone();
    let expected = [("a", false), ("b", true), ("a", true)].map(|(n, ok)| (n.to_owned(), ok));
    assert_eq!(seen, expected, "b went out while a waited for its retry");
    let stats = batch.stats();
    assert_eq!((stats.exported, stats.failed), (2, 0), "{stats:?}");
    assert!(stats.balanced(), "{stats:?}");
}
