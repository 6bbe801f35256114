//! The SDK's exporter traits over a signal's sender: [`OtlpSpanExporter`], [`OtlpLogExporter`]
//! and [`OtlpMetricExporter`], each preparing a batch on the caller's thread and sending it on
//! the pipeline runtime.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::LogBatch;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;
use otlp_batch::LogItem;
use tokio::runtime::Handle;

use super::SignalSender;

/// The pipeline's `PushMetricExporter`: prepares the collection on the reader's thread, sends
/// it on the pipeline runtime, and waits for the answer. Also usable under an SDK
/// `PeriodicReader` of your own (see [`OtlpPipeline::metric_exporter`](crate::OtlpPipeline::metric_exporter)).
pub struct OtlpMetricExporter {
    pub(crate) sender: SignalSender,
    pub(crate) runtime: Handle,
    pub(crate) temporality: Temporality,
    /// One export's timeout (`OTEL_METRIC_EXPORT_TIMEOUT`).
    pub(crate) timeout: Duration,
    /// The deadline of a pipeline flush or shutdown under way, which an export never passes.
    pub(crate) deadline: MetricDeadline,
}

/// The deadline a pipeline flush or shutdown gives the metric export it triggers.
#[derive(Debug, Clone, Default)]
pub(crate) struct MetricDeadline(Arc<parking_lot::Mutex<Option<std::time::Instant>>>);

impl MetricDeadline {
    pub(crate) fn set(&self, deadline: Option<std::time::Instant>) {
        *self.0.lock() = deadline;
    }

    /// `timeout`, or what is left until the deadline when that is less.
    fn bound(&self, timeout: Duration) -> Duration {
        match *self.0.lock() {
            Some(deadline) => {
                timeout.min(deadline.saturating_duration_since(std::time::Instant::now()))
            }
            None => timeout,
        }
    }
}

impl std::fmt::Debug for OtlpMetricExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpMetricExporter")
            .field("temporality", &self.temporality)
            .finish_non_exhaustive()
    }
}

impl PushMetricExporter for OtlpMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let prepared = self.sender.metrics(metrics);
        let timeout = self.deadline.bound(self.timeout);
        self.sender
            .export_on(&self.runtime, prepared, "data points", Some(timeout))
            .await
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        self.temporality
    }
}

/// The pipeline's `SpanExporter`, for use under the SDK's own span processors: each export
/// runs through the pipeline's stack on its runtime.
#[derive(Clone)]
pub struct OtlpSpanExporter {
    pub(crate) sender: SignalSender,
    pub(crate) runtime: Handle,
    pub(crate) resource: Resource,
}

impl std::fmt::Debug for OtlpSpanExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtlpSpanExporter")
    }
}

impl opentelemetry_sdk::trace::SpanExporter for OtlpSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let prepared = self.sender.spans(batch, &self.resource);
        self.sender
            .export_on(&self.runtime, prepared, "spans", None)
            .await
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.clone();
    }
}

/// The pipeline's `LogExporter`, for use under the SDK's own log processors.
#[derive(Clone)]
pub struct OtlpLogExporter {
    pub(crate) sender: SignalSender,
    pub(crate) runtime: Handle,
    pub(crate) resource: Resource,
}

impl std::fmt::Debug for OtlpLogExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtlpLogExporter")
    }
}

impl opentelemetry_sdk::logs::LogExporter for OtlpLogExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let items: Vec<LogItem> = batch
            .iter()
            .map(|(record, scope)| LogItem {
                record: record.clone(),
                scope: scope.clone(),
            })
            .collect();
        let prepared = self.sender.logs(&items, &self.resource);
        self.sender
            .export_on(&self.runtime, prepared, "log records", None)
            .await
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.clone();
    }
}
