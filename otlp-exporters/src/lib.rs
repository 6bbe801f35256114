//! The pipeline users wire up: OpenTelemetry SDK providers whose spans, metrics and logs go
//! through otlp-batch, otlp-reliability and otlp-transport to OTLP collectors.
//!
//! [`OtlpPipeline::builder`] configures everything (endpoint, protocol, compression, TLS,
//! headers and token, batching, retry, circuit breaker, bulkhead, timeouts, health endpoint)
//! from code, the OpenTelemetry declarative configuration file (`OTEL_CONFIG_FILE`) and the
//! standard `OTEL_*` environment variables ([`config`] says how they combine, and
//! [`OtlpPipeline::config_report`] what is in effect). The handle gives tracers, meters, the logger provider,
//! flush and shutdown with deadlines, health and [`PipelineStats`].
//!
//! The pipeline is one door, not the only one: with a provider of your own, build a
//! [`SpanExporter`], [`LogExporter`] or [`MetricExporter`] the way `opentelemetry-otlp` spells
//! it (`SpanExporter::builder().with_tonic().with_endpoint(..).build()?`, see
//! [`WithExportConfig`]) for the SDK's own processors and reader, and optionally put our batch
//! processors in front of it with [`span_processor`] and [`log_processor`].
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use opentelemetry::trace::Tracer;
//! use otlp_exporters::OtlpPipeline;
//! use otlp_transport::receiver::{Receiver, ReceiverConfig};
//! use std::time::Duration;
//!
//! let receiver = Receiver::start(ReceiverConfig::default()).await?;
//! let pipeline = OtlpPipeline::builder()
//!     .with_endpoint(receiver.http_endpoint())
//!     .with_service_name("checkout")
//!     .build()?;
//! pipeline.tracer("checkout").in_span("place-order", |_| {});
//! let report = pipeline.shutdown(Duration::from_secs(5));
//! assert!(report.completed);
//! assert_eq!(receiver.counts().spans, 1);
//! # Ok(()) }
//! ```

mod attempt_layers;
mod builder_transport;
pub mod config;
pub mod custom;
mod endpoint_errors;
mod pipeline;
mod plaintext;
mod processors;
mod redacted_debug;
mod replay;
pub mod report;
pub mod self_metrics;
mod sinks;
mod stack;
mod standalone;
mod stats;
mod transport_options;
mod views;

pub use attempt_layers::{AttemptLayers, AttemptService};
pub use config::{PipelineConfig, Protocol};
pub use otlp_transport::Compression;
pub use pipeline::{BuildError, OtlpPipeline, PipelineBuilder, ShutdownReport};
pub use plaintext::PlaintextCredentials;
pub use processors::{log_processor, span_processor, LogProcessorBuilder, SpanProcessorBuilder};
pub use sinks::{
    LogExporter, MetricExporter, OtlpLogExporter, OtlpMetricExporter, OtlpSpanExporter,
    SpanExporter,
};
pub use standalone::{
    ChosenTransport, HttpExporterBuilderSet, LogExporterBuilder, MetricExporterBuilder,
    NoExporterBuilderSet, SpanExporterBuilder, TonicExporterBuilderSet, WithExportConfig,
    WithHttpConfig, WithTonicConfig,
};
pub use stats::{CircuitStats, ExportStats, PipelineStats};
