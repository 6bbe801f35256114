//! Our batch processors for a provider the user builds: [`span_processor`] and
//! [`log_processor`] put an exporter behind otlp-batch's bounded queue and worker (hybrid
//! batching, exact counters, several exports in flight, flush and shutdown by their deadline)
//! and return the SDK processor to pass to `with_span_processor` / `with_log_processor`.
//! [`OtlpPipeline`](crate::OtlpPipeline) assembles the same pieces.

use opentelemetry_sdk::trace::SpanData;
use otlp_batch::{
    Batch, BatchConfig, BatchLogProcessor, BatchProcessor, BatchSpanProcessor, LogItem,
};
use otlp_core::{BoxError, ExportOutcome, InvalidSetting};
use tokio::runtime::Handle;
use tower::Service;

use crate::config::{PipelineConfig, ProcessEnv};
use crate::pipeline::BuildError;
use crate::sinks::{LogExporter, SignalSender, Sink, SpanExporter};

/// The batch processor over a signal's sender, its worker on `runtime`, keeping as many
/// exports in flight as the sender's endpoints' concurrency limits add up to (the batch
/// settings' `max_concurrent_exports` does not apply).
pub(crate) fn batch_processor<T>(
    sender: &SignalSender,
    batch: BatchConfig,
    runtime: &Handle,
) -> Result<BatchProcessor<T>, InvalidSetting>
where
    T: otlp_batch::BatchItem,
    Sink<SignalSender>: Service<Batch<T>, Response = ExportOutcome, Error = BoxError>,
    <Sink<SignalSender> as Service<Batch<T>>>::Future: Send,
{
    BatchProcessor::with_export_limit(
        batch,
        Sink(sender.clone()),
        runtime,
        sender.export_limit.clone(),
    )
}

/// The batch settings of the environment (`OTEL_BSP_*`, `OTEL_BLRP_*`, or the file
/// `OTEL_CONFIG_FILE` names).
fn from_env() -> Result<PipelineConfig, InvalidSetting> {
    let mut config = PipelineConfig::default();
    config.apply_env(&ProcessEnv)?;
    Ok(config)
}

/// Our batch span processor over `exporter`, for
/// `SdkTracerProvider::builder().with_span_processor(..)`: otlp-batch's queue and worker on the
/// exporter's runtime, with the batch settings of `OTEL_BSP_*` unless
/// [`with_batch_config`](SpanProcessorBuilder::with_batch_config) sets them.
///
/// ```
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use opentelemetry::trace::{Tracer, TracerProvider as _};
/// use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
/// use otlp_exporters::{SpanExporter, WithExportConfig};
/// use otlp_transport::receiver::{Receiver, ReceiverConfig};
///
/// let receiver = Receiver::start(ReceiverConfig::default()).await?;
/// let exporter = SpanExporter::builder()
///     .with_http()
///     .with_endpoint(format!("{}/v1/traces", receiver.http_endpoint()))
///     .build()?;
/// let provider = SdkTracerProvider::builder()
///     .with_sampler(Sampler::AlwaysOn)
///     .with_span_processor(otlp_exporters::span_processor(exporter).build()?)
///     .build();
/// provider.tracer("checkout").in_span("place-order", |_| {});
/// provider.shutdown()?;
/// assert_eq!(receiver.counts().spans, 1);
/// # Ok(()) }
/// ```
pub fn span_processor(exporter: SpanExporter) -> SpanProcessorBuilder {
    SpanProcessorBuilder {
        exporter,
        batch: None,
    }
}

/// Our batch log processor over `exporter`, for
/// `SdkLoggerProvider::builder().with_log_processor(..)` (batch settings: `OTEL_BLRP_*`).
pub fn log_processor(exporter: LogExporter) -> LogProcessorBuilder {
    LogProcessorBuilder {
        exporter,
        batch: None,
    }
}

/// Configures the span processor [`span_processor`] returns.
#[derive(Debug)]
pub struct SpanProcessorBuilder {
    exporter: SpanExporter,
    batch: Option<BatchConfig>,
}

impl SpanProcessorBuilder {
    /// Queue, batch and export settings (default: `OTEL_BSP_*`).
    pub fn with_batch_config(mut self, batch: BatchConfig) -> Self {
        self.batch = Some(batch);
        self
    }

    /// Starts the worker on the exporter's runtime.
    pub fn build(self) -> Result<BatchSpanProcessor, BuildError> {
        let batch = match self.batch {
            Some(batch) => batch,
            None => from_env()?.span_batch,
        };
        let timeout = batch.export_timeout;
        let processor: BatchProcessor<SpanData> =
            batch_processor(&self.exporter.sender, batch, &self.exporter.runtime)?;
        Ok(BatchSpanProcessor::new(processor, timeout))
    }
}

/// Configures the log processor [`log_processor`] returns.
#[derive(Debug)]
pub struct LogProcessorBuilder {
    exporter: LogExporter,
    batch: Option<BatchConfig>,
}

impl LogProcessorBuilder {
    /// Queue, batch and export settings (default: `OTEL_BLRP_*`).
    pub fn with_batch_config(mut self, batch: BatchConfig) -> Self {
        self.batch = Some(batch);
        self
    }

    /// Starts the worker on the exporter's runtime.
    pub fn build(self) -> Result<BatchLogProcessor, BuildError> {
        let batch = match self.batch {
            Some(batch) => batch,
            None => from_env()?.log_batch,
        };
        let timeout = batch.export_timeout;
        let processor: BatchProcessor<LogItem> =
            batch_processor(&self.exporter.sender, batch, &self.exporter.runtime)?;
        Ok(BatchLogProcessor::new(processor, timeout))
    }
}
