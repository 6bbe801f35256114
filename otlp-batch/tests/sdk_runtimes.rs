//! The SDK processors under a tokio multi-thread runtime, a current-thread runtime, and no
//! runtime: spans and logs arrive, and shutdown neither deadlocks nor panics.

#![allow(clippy::unwrap_used, clippy::type_complexity)]

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData};
use opentelemetry_sdk::Resource;
use otlp_batch::{
    Batch, BatchConfig, BatchLogProcessor, BatchProcessor, BatchSpanProcessor, LogItem,
    PipelineRuntime,
};
use otlp_core::{BoxError, ExportOutcome};
use parking_lot::Mutex;

fn pipeline() -> (
    PipelineRuntime,
    SdkTracerProvider,
    SdkLoggerProvider,
    Arc<Mutex<Vec<String>>>,
    Arc<Mutex<Vec<String>>>,
) {
    let runtime = PipelineRuntime::new("test").unwrap();
    let spans = Arc::new(Mutex::new(Vec::new()));
    let logs = Arc::new(Mutex::new(Vec::new()));
    let span_sink = {
        let spans = Arc::clone(&spans);
        tower::service_fn(move |batch: Batch<SpanData>| {
            let spans = Arc::clone(&spans);
            async move {
                let service = batch
                    .resource
                    .get(&"service.name".into())
                    .map(|v| v.to_string());
                assert_eq!(
                    service.as_deref(),
                    Some("runtime-test"),
                    "the provider's resource reaches the exporter"
                );
                spans
                    .lock()
                    .extend(batch.items.iter().map(|s| s.name.to_string()));
                Ok::<_, BoxError>(ExportOutcome::accepted(batch.items.len()))
            }
        })
    };
    let log_sink = {
        let logs = Arc::clone(&logs);
        tower::service_fn(move |batch: Batch<LogItem>| {
            let logs = Arc::clone(&logs);
            async move {
                logs.lock()
                    .extend(batch.items.iter().map(|l| format!("{:?}", l.record.body())));
                Ok::<_, BoxError>(ExportOutcome::accepted(batch.items.len()))
            }
        })
    };
    let span_processor =
        BatchProcessor::new(BatchConfig::default(), span_sink, runtime.handle()).unwrap();
    let log_processor =
        BatchProcessor::new(BatchConfig::logs_default(), log_sink, runtime.handle()).unwrap();
    let resource = Resource::builder_empty()
        .with_service_name("runtime-test")
        .build();
    let tracer_provider = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_span_processor(BatchSpanProcessor::new(
            span_processor,
            Duration::from_secs(5),
        ))
        .build();
    let logger_provider = SdkLoggerProvider::builder()
        .with_resource(resource)
        .with_log_processor(BatchLogProcessor::new(
            log_processor,
            Duration::from_secs(5),
        ))
        .build();
    (runtime, tracer_provider, logger_provider, spans, logs)
}

fn record_and_shut_down() {
    let (_runtime, tracer_provider, logger_provider, spans, logs) = pipeline();
    let tracer = tracer_provider.tracer("test");
    for i in 0..100 {
        tracer.in_span(format!("span-{i}"), |_| {});
    }
    let logger = logger_provider.logger("test");
    for i in 0..10 {
        let mut record = logger.create_log_record();
        record.set_body(format!("log-{i}").into());
        logger.emit(record);
    }
    tracer_provider.force_flush().unwrap();
    assert_eq!(spans.lock().len(), 100);
    tracer_provider.shutdown().unwrap();
    logger_provider.shutdown().unwrap();
    assert_eq!(logs.lock().len(), 10);
    assert!(
        tracer_provider.shutdown().is_err(),
        "a second shutdown says so"
    );
}

#[test]
fn without_a_runtime() {
    record_and_shut_down();
}

#[tokio::test(flavor = "current_thread")]
async fn inside_a_current_thread_runtime() {
    record_and_shut_down();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_a_multi_thread_runtime() {
    record_and_shut_down();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_blocking_task_of_a_multi_thread_runtime() {
    tokio::task::spawn_blocking(record_and_shut_down)
        .await
        .unwrap();
}
