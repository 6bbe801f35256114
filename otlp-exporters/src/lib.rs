//! The pipeline users wire up: OpenTelemetry SDK providers whose spans, metrics and logs go
//! through otlp-batch, otlp-reliability and otlp-transport to OTLP collectors.
//!
//! [`OtlpPipeline::builder`] configures everything (endpoint, protocol, compression, TLS,
//! headers and token, batching, retry, circuit breaker, bulkhead, timeouts, health endpoint)
//! from code, a TOML file and the standard `OTEL_*` environment variables
//! ([`config`] says how they combine). The handle gives tracers, meters, the logger provider,
//! flush and shutdown with deadlines, health and [`PipelineStats`].
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
//!     .with_endpoint(receiver.grpc_endpoint())
//!     .with_service_name("checkout")
//!     .build()?;
//! pipeline.tracer("checkout").in_span("place-order", |_| {});
//! let report = pipeline.shutdown(Duration::from_secs(5));
//! assert!(report.completed);
//! assert_eq!(receiver.counts().spans, 1);
//! # Ok(()) }
//! ```

pub mod config;
pub mod custom;
mod pipeline;
mod replay;
pub mod self_metrics;
mod sinks;
mod stack;
mod stats;

pub use config::{PipelineConfig, Protocol};
pub use pipeline::{BuildError, OtlpPipeline, PipelineBuilder, ShutdownReport};
pub use sinks::{OtlpLogExporter, OtlpMetricExporter, OtlpSpanExporter};
pub use stats::{CircuitStats, ExportStats, PipelineStats};
