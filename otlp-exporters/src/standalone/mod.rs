//! Exporters built on their own, for a provider the user builds, with the builder upstream's
//! users already type: `SpanExporter::builder().with_tonic().with_endpoint(..).build()?`,
//! the same for [`LogExporter`](crate::LogExporter) and [`MetricExporter`](crate::MetricExporter)
//! (with temporality). Each reads the same environment as upstream (`OTEL_EXPORTER_OTLP_*` and
//! the per-signal variants; code overrides them), sends through the pipeline's reliability
//! stack (retry per the OTLP spec, circuit breaker, bulkhead, per-attempt timeout, encoded
//! once), and runs that stack on a background runtime shared by every standalone exporter,
//! so it works under the SDK's own processors with or without a tokio runtime.
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use opentelemetry::trace::{Tracer, TracerProvider as _};
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//! use otlp_exporters::{SpanExporter, WithExportConfig};
//! use otlp_transport::receiver::{Receiver, ReceiverConfig};
//!
//! let receiver = Receiver::start(ReceiverConfig::default()).await?;
//! let exporter = SpanExporter::builder()
//!     .with_tonic()
//!     .with_endpoint(receiver.grpc_endpoint())
//!     .build()?;
//! let provider = SdkTracerProvider::builder()
//!     .with_batch_exporter(exporter)
//!     .build();
//! provider.tracer("checkout").in_span("place-order", |_| {});
//! provider.shutdown()?;
//! assert_eq!(receiver.counts().spans, 1);
//! # Ok(()) }
//! ```

mod log;
mod metric;
mod settings;
mod span;
mod traits;

pub use log::LogExporterBuilder;
pub use metric::MetricExporterBuilder;
pub use span::SpanExporterBuilder;
pub use traits::{
    ChosenTransport, HttpExporterBuilderSet, NoExporterBuilderSet, TonicExporterBuilderSet,
    WithExportConfig, WithHttpConfig, WithTonicConfig,
};
