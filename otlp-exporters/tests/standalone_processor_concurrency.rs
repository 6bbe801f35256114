//! Our batch processors under a provider the user builds (`span_processor`, `log_processor`)
//! keep as many exports in flight as the exporter's concurrency limit allows: against a
//! collector on 127.0.0.1 that answers each request after a delay, several requests are at the
//! collector at once (never more than the limit), and every item arrives exactly once.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use otlp_batch::{BatchConfig, BatchStrategy};
use otlp_core::proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_core::proto::common::v1::any_value::Value;
use otlp_exporters::{LogExporter, SpanExporter, WithExportConfig};
use prost::Message as _;

/// Exports each endpoint keeps in flight (`OTLP_EXPORTER_CONCURRENCY=fixed 4`).
const LIMIT: usize = 4;

/// What the slow collector saw: the names of the spans and the bodies of the log records it
/// received (once each, if nothing is sent twice), and the most requests it held at once.
#[derive(Default)]
struct Seen {
    items: Mutex<Vec<String>>,
    at_once: AtomicUsize,
    most_at_once: AtomicUsize,
}

impl Seen {
    async fn hold(&self, items: Vec<String>) {
        let now = self.at_once.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.items.lock().unwrap().extend(items);
        self.at_once.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn traces(State(seen): State<Arc<Seen>>, body: Bytes) -> &'static [u8] {
    let request = ExportTraceServiceRequest::decode(body).unwrap();
    let names = request
        .resource_spans
        .into_iter()
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .map(|s| s.name)
        .collect();
    seen.hold(names).await;
    b"" // an empty ExportTraceServiceResponse: all accepted
}

async fn logs(State(seen): State<Arc<Seen>>, body: Bytes) -> &'static [u8] {
    let request = ExportLogsServiceRequest::decode(body).unwrap();
    let bodies = request
        .resource_logs
        .into_iter()
        .flat_map(|r| r.scope_logs)
        .flat_map(|s| s.log_records)
        .map(|r| match r.body.and_then(|b| b.value) {
            Some(Value::StringValue(body)) => body,
            other => format!("{other:?}"),
        })
        .collect();
    seen.hold(bodies).await;
    b""
}

/// An OTLP/HTTP collector on 127.0.0.1 that answers every request after 50 ms.
async fn slow_collector() -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let router = Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/logs", post(logs))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (addr, seen)
}

fn batches_of_ten() -> BatchConfig {
    BatchConfig::default()
        .with_max_queue_size(4096)
        .with_max_batch_size(10)
        .with_strategy(BatchStrategy::Size)
}

/// Each item once, in any order: `count` names `prefix-0` .. `prefix-{count-1}`.
fn exactly_once(seen: &Seen, prefix: &str, count: usize) {
    let items = seen.items.lock().unwrap();
    let distinct: BTreeSet<&String> = items.iter().collect();
    assert_eq!(
        (items.len(), distinct.len()),
        (count, count),
        "nothing lost, nothing twice"
    );
    assert!((0..count).all(|i| distinct.contains(&format!("{prefix}-{i}"))));
}

fn fixed_concurrency() {
    // Every test of this file sets the same value, before building its exporter.
    std::env::set_var("OTLP_EXPORTER_CONCURRENCY", format!("fixed {LIMIT}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_span_processor_keeps_several_exports_in_flight() {
    fixed_concurrency();
    let (addr, seen) = slow_collector().await;
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("http://{addr}/v1/traces"))
        .build()
        .unwrap();
    let processor = otlp_exporters::span_processor(exporter)
        .with_batch_config(batches_of_ten())
        .build()
        .unwrap();
    let batch = processor.processor().clone();
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOn)
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("load");
    for i in 0..400 {
        tracer.in_span(format!("span-{i}"), |_| {});
    }
    tokio::task::spawn_blocking(move || provider.shutdown())
        .await
        .unwrap()
        .unwrap();

    let most = seen.most_at_once.load(Ordering::SeqCst);
    assert!(
        (2..=LIMIT).contains(&most),
        "requests at the collector at once: {most} (limit {LIMIT})"
    );
    exactly_once(&seen, "span", 400);
    let stats = batch.stats();
    assert_eq!((stats.exported, stats.failed), (400, 0), "{stats:?}");
    assert!(stats.balanced(), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_processor_keeps_several_exports_in_flight() {
    fixed_concurrency();
    let (addr, seen) = slow_collector().await;
    let exporter = LogExporter::builder()
        .with_http()
        .with_endpoint(format!("http://{addr}/v1/logs"))
        .build()
        .unwrap();
    let processor = otlp_exporters::log_processor(exporter)
        .with_batch_config(batches_of_ten())
        .build()
        .unwrap();
    let batch = processor.processor().clone();
    let provider = SdkLoggerProvider::builder()
        .with_log_processor(processor)
        .build();
    let logger = provider.logger("load");
    for i in 0..400 {
        let mut record = logger.create_log_record();
        record.set_body(format!("log-{i}").into());
        logger.emit(record);
    }
    tokio::task::spawn_blocking(move || provider.shutdown())
        .await
        .unwrap()
        .unwrap();

    let most = seen.most_at_once.load(Ordering::SeqCst);
    assert!(
        (2..=LIMIT).contains(&most),
        "requests at the collector at once: {most} (limit {LIMIT})"
    );
    exactly_once(&seen, "log", 400);
    let stats = batch.stats();
    assert_eq!((stats.exported, stats.failed), (400, 0), "{stats:?}");
    assert!(stats.balanced(), "{stats:?}");
}
