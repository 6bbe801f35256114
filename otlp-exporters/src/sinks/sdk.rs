//! The SDK's exporter traits over a signal's sender: [`SpanExporter`], [`LogExporter`]
//! and [`MetricExporter`], each preparing a batch on the caller's thread and sending it on
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
use crate::stats::ExportStats;

/// An OTLP `PushMetricExporter`: prepares the collection on the reader's thread, sends it
/// through the reliability stack on the pipeline runtime, and waits for the answer. Built
/// with [`MetricExporter::builder`] for an SDK `PeriodicReader` of your own, or taken from a
/// pipeline ([`OtlpPipeline::metric_exporter`](crate::OtlpPipeline::metric_exporter)).
pub struct MetricExporter {
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

impl std::fmt::Debug for MetricExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricExporter")
            .field("temporality", &self.temporality)
            .finish_non_exhaustive()
    }
}

impl PushMetricExporter for MetricExporter {
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

/// An OTLP `SpanExporter` for the SDK's own span processors: each export runs through the
/// reliability stack (retry, circuit breaker, bulkhead, per-attempt timeout; encoded once) on
/// the pipeline runtime. Built with [`SpanExporter::builder`], or taken from a pipeline
/// ([`OtlpPipeline::span_exporter`](crate::OtlpPipeline::span_exporter)).
#[derive(Clone)]
pub struct SpanExporter {
    pub(crate) sender: SignalSender,
    pub(crate) runtime: Handle,
    pub(crate) resource: Resource,
}

impl std::fmt::Debug for SpanExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpanExporter")
    }
}

impl opentelemetry_sdk::trace::SpanExporter for SpanExporter {
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

/// An OTLP `LogExporter` for the SDK's own log processors, like [`SpanExporter`]. Built with
/// [`LogExporter::builder`], or taken from a pipeline
/// ([`OtlpPipeline::log_exporter`](crate::OtlpPipeline::log_exporter)).
#[derive(Clone)]
pub struct LogExporter {
    pub(crate) sender: SignalSender,
    pub(crate) runtime: Handle,
    pub(crate) resource: Resource,
}

impl std::fmt::Debug for LogExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogExporter")
    }
}

impl opentelemetry_sdk::logs::LogExporter for LogExporter {
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

/// The name [`SpanExporter`] also goes by.
pub type OtlpSpanExporter = SpanExporter;
/// The name [`LogExporter`] also goes by.
pub type OtlpLogExporter = LogExporter;
/// The name [`MetricExporter`] also goes by.
pub type OtlpMetricExporter = MetricExporter;

impl SpanExporter {
    /// What this exporter's requests achieved so far (shared with the pipeline it came from).
    pub fn stats(&self) -> ExportStats {
        ExportStats::read(&self.sender.counters)
    }
}

impl LogExporter {
    /// What this exporter's requests achieved so far (shared with the pipeline it came from).
    pub fn stats(&self) -> ExportStats {
        ExportStats::read(&self.sender.counters)
    }
}

impl MetricExporter {
    /// What this exporter's requests achieved so far (shared with the pipeline it came from).
    pub fn stats(&self) -> ExportStats {
        ExportStats::read(&self.sender.counters)
    }
}
