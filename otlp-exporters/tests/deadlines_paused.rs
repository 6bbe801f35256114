//! Flush and shutdown stop the metric export at their deadline, and the export stops at its
//! own timeout, with the pipeline's clock paused (`PipelineBuilder::with_paused_clock`): the
//! collector is a custom exporter in the process that answers after a `tokio::time::sleep`, so
//! no I/O runs and its delay passes without waiting. Only the metric export is tested here: it
//! starts when the flush does, so its outcome does not depend on how far the paused clock ran
//! ahead before the call. A span export starts on the worker's own timer, and the paused clock
//! (on the pipeline's thread) jumps to it, and past every timeout, while the test thread is
//! still recording; the span cases are over real sockets in `drop_and_deadlines.rs`.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, ExportOutcome, Signal, Telemetry};
use otlp_exporters::config::NO_LIMIT;
use otlp_exporters::custom::CustomExporter;
use otlp_exporters::{OtlpPipeline, ShutdownReport};

/// A collector that answers after the given time of the pipeline's clock.
struct AnswersAfter(Duration);

impl CustomExporter for AnswersAfter {
    fn export(&self, batch: Arc<Telemetry>) -> BoxFuture<'static, Result<ExportOutcome, BoxError>> {
        let delay = self.0;
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            Ok(ExportOutcome::accepted(batch.items()))
        })
    }
}

/// The real time a call may take: the clock is paused, so this only says nothing hung.
const DOES_NOT_HANG: Duration = Duration::from_secs(20);

/// Runs `call` on a thread of its own and fails the test when it has not returned within
/// [`DOES_NOT_HANG`] (instead of hanging the test run).
fn returns<T: Send + 'static>(call: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(call());
    });
    receiver
        .recv_timeout(DOES_NOT_HANG)
        .unwrap_or_else(|_| panic!("did not return within {DOES_NOT_HANG:?}"))
}

/// A paused-clock pipeline with one metric recorded, over a collector answering after 5 s:
/// within the attempt timeout (10 s) and the retry session, past the deadlines below.
fn one_metric(metric_export_timeout: Duration) -> OtlpPipeline {
    let mut builder = OtlpPipeline::builder()
        .with_custom_exporter(AnswersAfter(Duration::from_secs(5)))
        .with_paused_clock()
        .with_metric_export_interval(Duration::from_secs(3600));
    builder.config_mut().metric_export_timeout = metric_export_timeout;
    let pipeline = builder.build().unwrap();
    pipeline
        .meter("m")
        .u64_counter("requests")
        .build()
        .add(1, &[]);
    pipeline
}

/// The metric export counted as timed out, once.
fn timed_out(report: &ShutdownReport) {
    assert!(report.metrics_error.is_some(), "{report:?}");
    assert!(!report.completed, "{report:?}");
    let metrics = report.delivery.signal(Signal::Metrics).unwrap().clone();
    assert_eq!(
        metrics.failed.get(otlp_batch::Cause::Timeout),
        1,
        "{report}"
    );
    assert_eq!(metrics.undelivered(), 1, "{report}");
}

/// A flush and a shutdown of 2 s each, the metric export's own timeout off (what `0` sets):
/// only the deadline stops the export.
fn the_deadline_cuts_the_metric_export() {
    let pipeline = one_metric(NO_LIMIT);
    timed_out(&returns(move || {
        pipeline.force_flush(Duration::from_secs(2))
    }));
    let pipeline = one_metric(NO_LIMIT);
    timed_out(&returns(move || pipeline.shutdown(Duration::from_secs(2))));
}

#[test]
fn the_deadline_cuts_the_metric_export_in_plain_main() {
    the_deadline_cuts_the_metric_export();
}

#[test]
fn the_deadline_cuts_the_metric_export_in_a_multi_thread_runtime() {
    let app = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    app.block_on(async { the_deadline_cuts_the_metric_export() });
}

#[test]
fn the_deadline_cuts_the_metric_export_in_a_current_thread_runtime() {
    let app = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    app.block_on(async { the_deadline_cuts_the_metric_export() });
}

#[test]
fn the_metric_export_stops_at_its_own_timeout() {
    // The collector would answer within the flush's 20 s; the metric export's own timeout
    // (what OTEL_METRIC_EXPORT_TIMEOUT=300 sets) ends it first.
    let pipeline = one_metric(Duration::from_millis(300));
    timed_out(&returns(move || {
        pipeline.force_flush(Duration::from_secs(20))
    }));
}
