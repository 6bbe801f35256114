//! Drop returns by its deadline, and the metric export stops at its own timeout, with the
//! pipeline's clock paused (`PipelineBuilder::with_paused_clock`): the collector is a custom
//! exporter in the process, one that never answers or answers after a `tokio::time::sleep`,
//! so no I/O runs and the deadlines pass without waiting. The other deadline cases are over
//! real sockets in `drop_and_deadlines.rs`: with a never-answering exporter the paused clock
//! runs ahead to the next timer (even a `NO_LIMIT` one) before a flush arrives, so their
//! outcome would depend on the race.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use opentelemetry::trace::Tracer as _;
use otlp_core::{BoxError, ExportOutcome, Signal, Telemetry};
use otlp_exporters::config::NO_LIMIT;
use otlp_exporters::custom::CustomExporter;
use otlp_exporters::OtlpPipeline;

/// A collector that never answers.
struct NeverAnswers;

impl CustomExporter for NeverAnswers {
    fn export(&self, _: Arc<Telemetry>) -> BoxFuture<'static, Result<ExportOutcome, BoxError>> {
        Box::pin(std::future::pending())
    }
}

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

/// A paused-clock pipeline over `exporter`, the timeouts at `NO_LIMIT` (what `0` sets), so only
/// the deadlines end a wait.
fn pipeline(exporter: impl CustomExporter) -> OtlpPipeline {
    let mut builder = OtlpPipeline::builder()
        .with_custom_exporter(exporter)
        .with_paused_clock()
        .with_metric_export_interval(Duration::from_secs(3600))
        .with_timeout(NO_LIMIT);
    let config = builder.config_mut();
    config.metric_export_timeout = NO_LIMIT;
    config.span_batch.export_timeout = NO_LIMIT;
    config.log_batch.export_timeout = NO_LIMIT;
    builder.build().unwrap()
}

#[test]
fn dropping_inside_a_current_thread_runtime_with_a_black_hole_is_bounded() {
    returns(|| {
        let app = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        app.block_on(async {
            let pipeline = pipeline(NeverAnswers);
            pipeline
                .meter("m")
                .u64_counter("requests")
                .build()
                .add(1, &[]);
            pipeline.tracer("t").in_span("one", |_| {});
            drop(pipeline);
        });
    });
}

#[test]
fn the_metric_export_stops_at_its_own_timeout() {
    // The collector would answer after 5 s, within the attempt timeout; the metric export's
    // own timeout (what OTEL_METRIC_EXPORT_TIMEOUT=300 sets) ends it first.
    let mut builder = OtlpPipeline::builder()
        .with_custom_exporter(AnswersAfter(Duration::from_secs(5)))
        .with_paused_clock()
        .with_metric_export_interval(Duration::from_secs(3600));
    builder.config_mut().metric_export_timeout = Duration::from_millis(300);
    let pipeline = builder.build().unwrap();
    pipeline
        .meter("m")
        .u64_counter("requests")
        .build()
        .add(1, &[]);
    let flushed = returns(move || pipeline.force_flush(Duration::from_secs(20)));
    assert!(flushed.metrics_error.is_some(), "{flushed:?}");
    let metrics = flushed.delivery.signal(Signal::Metrics).unwrap().clone();
    assert_eq!(
        metrics.failed.get(otlp_batch::Cause::Timeout),
        1,
        "{flushed}"
    );
    assert_eq!(metrics.undelivered(), 1, "{flushed}");
}
