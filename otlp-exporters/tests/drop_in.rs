//! The standalone exporters as upstream's quick-start uses them, with only the crate name
//! changed: an SDK provider the test builds, `with_batch_exporter(SpanExporter::builder()
//! .with_tonic().with_endpoint(..).build()?)`, telemetry arriving at the receiver; for traces,
//! logs and metrics, over gRPC and HTTP, with and without a tokio runtime. And our batch
//! processors on a provider the test builds.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SdkTracerProvider, ShouldSample};
use opentelemetry_sdk::Resource;
use otlp_core::proto::metrics::v1::metric::Data;
use otlp_core::Telemetry;
use otlp_exporters::{
    LogExporter, MetricExporter, Protocol, SpanExporter, WithExportConfig, WithHttpConfig,
    WithTonicConfig,
};
use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};

/// A receiver on a runtime of its own, so that the code under test runs in no runtime, or
/// in one of its own.
struct Collector {
    receiver: Receiver,
    _runtime: tokio::runtime::Runtime,
}

fn collector() -> Collector {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = runtime
        .block_on(Receiver::start(ReceiverConfig::default()))
        .unwrap();
    Collector {
        receiver,
        _runtime: runtime,
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn resource() -> Resource {
    Resource::builder().with_service_name("drop-in").build()
}

fn span_names(receiver: &Receiver) -> Vec<String> {
    let mut names: Vec<String> = receiver
        .received()
        .iter()
        .filter_map(|r| match &r.payload {
            Telemetry::Traces(t) => Some(t),
            _ => None,
        })
        .flat_map(|t| &t.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| s.name.clone())
        .collect();
    names.sort();
    names
}

fn traces_quick_start(exporter: SpanExporter) -> Result<(), Box<dyn std::error::Error>> {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build();
    let tracer = provider.tracer("quick-start");
    tracer.in_span("doing_work", |_| {});
    provider.shutdown()?;
    Ok(())
}

#[test]
fn traces_over_grpc_without_a_runtime() -> Result<(), Box<dyn std::error::Error>> {
    let collector = collector();
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(collector.receiver.grpc_endpoint())
        .build()?;
    traces_quick_start(exporter)?;
    assert_eq!(span_names(&collector.receiver), ["doing_work"]);
    Ok(())
}

#[test]
fn traces_over_http_in_a_current_thread_runtime() -> Result<(), Box<dyn std::error::Error>> {
    let collector = collector();
    let url = format!("{}/v1/traces", collector.receiver.http_endpoint());
    current_thread().block_on(async {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url)
            .build()?;
        traces_quick_start(exporter)
    })?;
    assert_eq!(span_names(&collector.receiver), ["doing_work"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_in_a_multi_thread_runtime_with_http_json() -> Result<(), Box<dyn std::error::Error>>
{
    let receiver = Receiver::start(ReceiverConfig::default()).await?;
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(format!("{}/v1/traces", receiver.http_endpoint()))
        .build()?;
    traces_quick_start(exporter)?;
    assert_eq!(span_names(&receiver), ["doing_work"]);
    let received = receiver.received();
    assert_eq!(
        received[0].encoding,
        otlp_core::Encoding::Json,
        "with_protocol(HttpJson) sends OTLP/JSON"
    );
    Ok(())
}

fn logs_quick_start(exporter: LogExporter) -> Result<(), Box<dyn std::error::Error>> {
    let provider = SdkLoggerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build();
    let logger = provider.logger("quick-start");
    let mut record = logger.create_log_record();
    record.set_body("hello".into());
    logger.emit(record);
    provider.shutdown()?;
    Ok(())
}

#[test]
fn logs_over_http_without_a_runtime() -> Result<(), Box<dyn std::error::Error>> {
    let collector = collector();
    let exporter = LogExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/logs", collector.receiver.http_endpoint()))
        .build()?;
    logs_quick_start(exporter)?;
    assert_eq!(collector.receiver.counts().log_records, 1);
    Ok(())
}

#[test]
fn logs_over_grpc_in_a_current_thread_runtime() -> Result<(), Box<dyn std::error::Error>> {
    let collector = collector();
    let endpoint = collector.receiver.grpc_endpoint();
    current_thread().block_on(async {
        let exporter = LogExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()?;
        logs_quick_start(exporter)
    })?;
    assert_eq!(collector.receiver.counts().log_records, 1);
    Ok(())
}

fn metrics_quick_start(exporter: MetricExporter) -> Result<(), Box<dyn std::error::Error>> {
    let reader = PeriodicReader::builder(exporter).build();
    let provider = SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(resource())
        .build();
    let counter = provider
        .meter("quick-start")
        .u64_counter("requests")
        .build();
    counter.add(1, &[]);
    provider.shutdown()?;
    Ok(())
}

/// The temporality of the first sum the receiver got (1: delta, 2: cumulative).
fn first_sum_temporality(receiver: &Receiver) -> Option<i32> {
    receiver.received().iter().find_map(|r| match &r.payload {
        Telemetry::Metrics(m) => m
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .find_map(|m| match &m.data {
                Some(Data::Sum(sum)) => Some(sum.aggregation_temporality),
                _ => None,
            }),
        _ => None,
    })
}

#[test]
fn metrics_over_grpc_without_a_runtime_with_delta_temporality(
) -> Result<(), Box<dyn std::error::Error>> {
    let collector = collector();
    let exporter = MetricExporter::builder()
        .with_tonic()
        .with_endpoint(collector.receiver.grpc_endpoint())
        .with_temporality(Temporality::Delta)
        .build()?;
    metrics_quick_start(exporter)?;
    assert_eq!(collector.receiver.counts().data_points, 1);
    assert_eq!(first_sum_temporality(&collector.receiver), Some(1));
    Ok(())
}

#[test]
fn metrics_over_http_in_a_current_thread_runtime() -> Result<(), Box<dyn std::error::Error>> {
    let collector = collector();
    let url = format!("{}/v1/metrics", collector.receiver.http_endpoint());
    current_thread().block_on(async {
        let exporter = MetricExporter::builder()
            .with_http()
            .with_endpoint(url)
            .build()?;
        metrics_quick_start(exporter)
    })?;
    assert_eq!(collector.receiver.counts().data_points, 1);
    assert_eq!(first_sum_temporality(&collector.receiver), Some(2));
    Ok(())
}

#[test]
fn an_unavailable_collector_is_retried_under_the_sdks_processor(
) -> Result<(), Box<dyn std::error::Error>> {
    let collector = collector();
    collector.receiver.faults().push(Fault::unavailable());
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(collector.receiver.grpc_endpoint())
        .build()?;
    let view = exporter.clone();
    traces_quick_start(exporter)?;
    assert_eq!(span_names(&collector.receiver), ["doing_work"]);
    let counts = collector.receiver.counts();
    assert_eq!(
        (counts.refused_requests, counts.requests),
        (1, 1),
        "refused once, then retried"
    );
    let stats = view.stats();
    assert_eq!((stats.requests, stats.exported), (1, 1));
    Ok(())
}

#[test]
fn headers_and_metadata_reach_the_collector() -> Result<(), Box<dyn std::error::Error>> {
    let collector = collector();
    let http = SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", collector.receiver.http_endpoint()))
        .with_headers(HashMap::from([("x-tenant".to_owned(), "blue".to_owned())]))
        .with_compression(otlp_exporters::Compression::Gzip)
        .build()?;
    traces_quick_start(http)?;
    let mut metadata = tonic::metadata::MetadataMap::new();
    metadata.insert("x-tenant", "green".parse()?);
    let grpc = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(collector.receiver.grpc_endpoint())
        .with_metadata(metadata)
        .with_timeout(Duration::from_secs(5))
        .build()?;
    traces_quick_start(grpc)?;
    let received = collector.receiver.received();
    let tenants: Vec<_> = received
        .iter()
        .map(|r| r.headers.get("x-tenant").and_then(|v| v.to_str().ok()))
        .collect();
    assert_eq!(tenants, [Some("blue"), Some("green")]);
    assert_eq!(received[0].compression.as_deref(), Some("gzip"));
    Ok(())
}

#[test]
fn a_protocol_of_the_other_transport_is_refused() {
    let error = SpanExporter::builder()
        .with_tonic()
        .with_protocol(Protocol::HttpJson)
        .build()
        .unwrap_err()
        .to_string();
    assert!(error.contains("with_protocol"), "{error}");
    assert!(error.contains("http/json"), "{error}");
}

/// Keeps spans whose name starts with `keep`.
#[derive(Debug, Clone)]
struct KeepByName;

impl ShouldSample for KeepByName {
    fn should_sample(
        &self,
        _parent: Option<&opentelemetry::Context>,
        _trace_id: opentelemetry::trace::TraceId,
        name: &str,
        _kind: &opentelemetry::trace::SpanKind,
        _attributes: &[opentelemetry::KeyValue],
        _links: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        let decision = if name.starts_with("keep") {
            opentelemetry_sdk::trace::SamplingDecision::RecordAndSample
        } else {
            opentelemetry_sdk::trace::SamplingDecision::Drop
        };
        opentelemetry_sdk::trace::SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }
}

#[test]
fn our_processors_on_a_provider_the_user_builds() -> Result<(), Box<dyn std::error::Error>> {
    let collector = collector();
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(collector.receiver.grpc_endpoint())
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_sampler(KeepByName)
        .with_span_processor(otlp_exporters::span_processor(exporter).build()?)
        .with_resource(resource())
        .build();
    let tracer = provider.tracer("own-provider");
    for name in ["keep-1", "noise", "keep-2"] {
        tracer.in_span(name, |_| {});
    }
    provider.shutdown()?;
    assert_eq!(span_names(&collector.receiver), ["keep-1", "keep-2"]);

    let exporter = LogExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/logs", collector.receiver.http_endpoint()))
        .build()?;
    let batch = otlp_batch::BatchConfig {
        max_batch_size: 2,
        ..Default::default()
    };
    let provider = SdkLoggerProvider::builder()
        .with_log_processor(
            otlp_exporters::log_processor(exporter)
                .with_batch_config(batch)
                .build()?,
        )
        .build();
    let before = collector.receiver.counts().requests;
    let logger = provider.logger("own-provider");
    for _ in 0..3 {
        let mut record = logger.create_log_record();
        record.set_body("hello".into());
        logger.emit(record);
    }
    provider.shutdown()?;
    let counts = collector.receiver.counts();
    assert_eq!(counts.log_records, 3);
    assert_eq!(counts.requests - before, 2, "batches of at most 2 records");
    Ok(())
}
