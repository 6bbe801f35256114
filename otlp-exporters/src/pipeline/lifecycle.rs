//! Flush, shutdown and drop of an [`OtlpPipeline`]: the three signals at once, each bounded
//! by the caller's deadline, and the [`ShutdownReport`] of what they achieved.

use std::time::{Duration, Instant};

use opentelemetry_sdk::trace::SpanData;
use otlp_batch::{BatchProcessor, FlushReport, LogItem};

use super::OtlpPipeline;
use crate::report::DeliveryReport;

/// What [`OtlpPipeline::shutdown`] or [`OtlpPipeline::force_flush`] achieved. Its `Display`
/// is the delivery report's paragraph.
#[derive(Debug, Clone, PartialEq)]
pub struct ShutdownReport {
    /// Everything accepted was delivered or settled in time.
    pub completed: bool,
    /// Spans and log records not delivered since start (rejected, failed, dropped, or still
    /// pending after a flush that ran out of time).
    pub undelivered: u64,
    /// Everything not delivered since start, per signal and cause, and each endpoint's last
    /// error.
    pub delivery: DeliveryReport,
    /// The span processor's report.
    pub spans: Option<FlushReport>,
    /// The log processor's report.
    pub logs: Option<FlushReport>,
    /// The final metrics export's error, if it failed.
    pub metrics_error: Option<String>,
}

impl std::fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.delivery)?;
        if let Some(error) = &self.metrics_error {
            write!(f, " The metrics export failed: {error}.")?;
        }
        Ok(())
    }
}

impl OtlpPipeline {
    /// Exports everything recorded so far and collects and exports metrics, the three signals
    /// at once, returning within `timeout` (plus scheduling) whatever the collector does: the
    /// metric export gets `OTEL_METRIC_EXPORT_TIMEOUT`, or what is left of `timeout` when that
    /// is less.
    pub fn force_flush(&self, timeout: Duration) -> ShutdownReport {
        let deadline = Instant::now() + timeout;
        let provider = self.meter_provider.clone();
        let ((spans, logs), metrics_error) = self.with_metrics(
            deadline,
            move || provider.force_flush(),
            || self.on_processors(|p| p.force_flush(timeout), |p| p.force_flush(timeout)),
        );
        self.report(spans, logs, metrics_error)
    }

    /// Flushes and stops everything within `deadline` (the three signals at once); what
    /// could not be delivered is counted in the report. Later telemetry is dropped and
    /// counted. A second call returns the report at once.
    pub fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let again = self
            .shut_down
            .swap(true, std::sync::atomic::Ordering::AcqRel);
        let until = Instant::now() + deadline;
        let processors = || self.on_processors(|p| p.shutdown(deadline), |p| p.shutdown(deadline));
        let ((spans, logs), metrics_error) = if again {
            (processors(), None)
        } else {
            let provider = self.meter_provider.clone();
            self.with_metrics(
                until,
                move || provider.shutdown_with_timeout(deadline),
                processors,
            )
        };
        // The processors are already shut down; this only marks the providers.
        let _ = self.tracer_provider.shutdown_with_timeout(Duration::ZERO);
        let _ = self.logger_provider.shutdown_with_timeout(Duration::ZERO);
        self.report(spans, logs, metrics_error)
    }

    /// Runs `spans` and `logs` on the two processors at once; each returns by its deadline.
    fn on_processors(
        &self,
        spans: impl FnOnce(&BatchProcessor<SpanData>) -> FlushReport + Send,
        logs: impl FnOnce(&BatchProcessor<LogItem>) -> FlushReport + Send,
    ) -> (Option<FlushReport>, Option<FlushReport>) {
        let Some(exporting) = &self.exporting else {
            return (None, None);
        };
        std::thread::scope(|scope| {
            let logs = scope.spawn(|| logs(&exporting.log_processor));
            let spans = spans(&exporting.span_processor);
            (Some(spans), logs.join().ok())
        })
    }

    /// Runs a meter provider call on a thread of its own while `during` runs here, then waits
    /// for the call until `deadline` only: the SDK's reader has fixed waits of its own (5 s at
    /// shutdown, none at all for a flush), and our metric export is bounded by the same
    /// deadline.
    fn with_metrics<R>(
        &self,
        deadline: Instant,
        call: impl FnOnce() -> opentelemetry_sdk::error::OTelSdkResult + Send + 'static,
        during: impl FnOnce() -> R,
    ) -> (R, Option<String>) {
        if self.exporting.is_none() {
            return (during(), call().err().map(|e| e.to_string()));
        }
        self.metric_deadline.set(Some(deadline));
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("otlp-metrics-flush".into())
            .spawn(move || {
                let _ = sender.send(call());
            });
        let result = during();
        let left = deadline.saturating_duration_since(Instant::now());
        let error = match spawned {
            Err(error) => Some(format!("cannot start the metrics flush: {error}")),
            Ok(_) => match receiver.recv_timeout(left + Duration::from_millis(100)) {
                Ok(result) => result.err().map(|e| e.to_string()),
                Err(_) => Some("the metrics export did not finish by the deadline".to_owned()),
            },
        };
        self.metric_deadline.set(None);
        (result, error)
    }

    fn report(
        &self,
        spans: Option<FlushReport>,
        logs: Option<FlushReport>,
        metrics_error: Option<String>,
    ) -> ShutdownReport {
        let undelivered = spans.as_ref().map_or(0, |r| r.undelivered)
            + logs.as_ref().map_or(0, |r| r.undelivered);
        let completed = spans.as_ref().is_none_or(|r| r.completed)
            && logs.as_ref().is_none_or(|r| r.completed)
            && metrics_error.is_none();
        ShutdownReport {
            completed,
            undelivered,
            delivery: self.delivery(),
            spans,
            logs,
            metrics_error,
        }
    }
}

impl Drop for OtlpPipeline {
    /// Shuts down within [`OtlpPipeline::DROP_DEADLINE`] unless `shutdown` ran already, and
    /// logs the report when something was not delivered.
    fn drop(&mut self) {
        if self.shut_down.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        let report = self.shutdown(Self::DROP_DEADLINE);
        if report.undelivered > 0 || report.metrics_error.is_some() {
            tracing::warn!(
                undelivered = report.undelivered,
                "pipeline dropped: {report}"
            );
        }
    }
}
