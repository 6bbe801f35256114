//! Flush and shutdown return by their deadline with a report, even when exports never finish.
//! Where the exporter does no I/O the runtime's clock is paused, so hour-long deadlines pass
//! without waiting; the real-time bounds are generous: they check that nothing hangs.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use otlp_batch::{Batch, BatchConfig, BatchItem, BatchProcessor, BatchStrategy, PipelineRuntime};
use otlp_core::{BoxError, ExportOutcome};

struct Item;

impl BatchItem for Item {
    fn estimated_bytes(&self) -> usize {
        10
    }
}

fn never_answers(
) -> impl tower::Service<Batch<Item>, Response = ExportOutcome, Error = BoxError, Future = impl Send>
       + Clone
       + Send
       + 'static {
    tower::service_fn(|_: Batch<Item>| std::future::pending::<Result<ExportOutcome, BoxError>>())
}

/// A runtime whose clock is paused: the deadlines below are an hour, and pass without waiting.
fn paused_runtime() -> PipelineRuntime {
    PipelineRuntime::with_paused_clock("test").unwrap()
}

/// Answers every batch after `delay` of the runtime's clock.
fn answers_after(
    delay: Duration,
) -> impl tower::Service<Batch<Item>, Response = ExportOutcome, Error = BoxError, Future = impl Send>
       + Clone
       + Send
       + 'static {
    tower::service_fn(move |batch: Batch<Item>| async move {
        tokio::time::sleep(delay).await;
        Ok::<_, BoxError>(ExportOutcome::accepted(batch.items.len()))
    })
}

/// The real time a paused-clock test may take: it waits for nothing, so this only says it did
/// not hang (an hour-long deadline waited for in real time would fail it).
const DOES_NOT_HANG: Duration = Duration::from_secs(20);

/// An export timeout past every deadline here, so that only the deadline ends the wait.
const NO_EXPORT_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

#[test]
fn flush_returns_at_its_deadline_and_says_what_is_undelivered() {
    let runtime = paused_runtime();
    let config = BatchConfig::default()
        .with_max_batch_size(10)
        .with_export_timeout(NO_EXPORT_TIMEOUT);
    let processor = BatchProcessor::new(config, never_answers(), runtime.handle()).unwrap();
    for _ in 0..25 {
        processor.push(Item);
    }
    let started = Instant::now();
    let report = processor.force_flush(Duration::from_secs(3600));
    assert!(started.elapsed() < DOES_NOT_HANG, "{:?}", started.elapsed());
    assert!(!report.completed);
    assert_eq!(report.undelivered, 25);
}

#[test]
fn flush_waits_for_an_export_that_ends_before_its_deadline() {
    let runtime = paused_runtime();
    // Under the size strategy the tick never exports: the last 5 items wait for the flush.
    let config = BatchConfig::default()
        .with_max_batch_size(10)
        .with_max_concurrent_exports(4)
        .with_strategy(BatchStrategy::Size)
        .with_export_timeout(NO_EXPORT_TIMEOUT);
    let exporter = answers_after(Duration::from_secs(600));
    let processor = BatchProcessor::new(config, exporter, runtime.handle()).unwrap();
    for _ in 0..25 {
        processor.push(Item);
    }
    let started = Instant::now();
    let report = processor.force_flush(Duration::from_secs(3600));
    assert!(started.elapsed() < DOES_NOT_HANG, "{:?}", started.elapsed());
    assert!(report.completed, "{report:?}");
    assert_eq!(report.stats.exported, 25);
}

#[test]
fn shutdown_returns_at_its_deadline_and_counts_what_it_left() {
    let runtime = paused_runtime();
    let config = BatchConfig::default()
        .with_max_batch_size(10)
        .with_max_concurrent_exports(2)
        .with_export_timeout(NO_EXPORT_TIMEOUT);
    let processor = BatchProcessor::new(config, never_answers(), runtime.handle()).unwrap();
    for _ in 0..45 {
        processor.push(Item);
    }
    let started = Instant::now();
    let report = processor.shutdown(Duration::from_secs(3600));
    assert!(started.elapsed() < DOES_NOT_HANG, "{:?}", started.elapsed());
    assert!(!report.completed);
    assert_eq!(report.undelivered, 45);
    let stats = report.stats;
    assert_eq!(stats.dropped_at_shutdown, 45, "{stats:?}");
    assert_eq!((stats.queued, stats.in_flight), (0, 0));
    assert!(stats.balanced());
    // Later items are refused and counted, and a second shutdown returns at once.
    assert!(!processor.push(Item));
    let again = processor.shutdown(Duration::from_secs(60));
    assert_eq!(again.stats.dropped_at_shutdown, 46);
}

#[test]
fn an_export_past_its_timeout_is_counted_as_failed() {
    let runtime = paused_runtime();
    let config = BatchConfig::default().with_export_timeout(Duration::from_secs(600));
    let processor = BatchProcessor::new(config, never_answers(), runtime.handle()).unwrap();
    for _ in 0..5 {
        processor.push(Item);
    }
    let started = Instant::now();
    let report = processor.force_flush(Duration::from_secs(3600));
    assert!(started.elapsed() < DOES_NOT_HANG, "{:?}", started.elapsed());
    assert_eq!(report.stats.failed, 5);
    assert!(
        report.completed,
        "settled: nothing left queued or in flight"
    );
    assert_eq!(
        report.undelivered, 5,
        "but the failed items were not delivered"
    );
}

/// Counts calls, never answers.
fn counting_never_answers(
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> impl tower::Service<Batch<Item>, Response = ExportOutcome, Error = BoxError, Future = impl Send>
       + Clone
       + Send
       + 'static {
    tower::service_fn(move |_: Batch<Item>| {
        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::future::pending::<Result<ExportOutcome, BoxError>>()
    })
}

#[test]
fn shutdown_is_heard_while_every_export_slot_is_taken_and_settles_every_item() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let runtime = PipelineRuntime::new("test").unwrap();
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    // Four full batches wait for the one slot, whose export never answers.
    let config = BatchConfig::default()
        .with_max_queue_size(2048)
        .with_max_batch_size(512);
    let processor = BatchProcessor::new(
        config,
        counting_never_answers(calls.clone()),
        runtime.handle(),
    )
    .unwrap();
    for _ in 0..2000 {
        processor.push(Item);
    }
    let started = Instant::now();
    let report = processor.shutdown(Duration::from_millis(500));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let stats = report.stats;
    assert_eq!((stats.queued, stats.in_flight), (0, 0), "{stats:?}");
    assert_eq!(stats.dropped_at_shutdown, 2000, "{stats:?}");
    assert!(stats.balanced(), "{stats:?}");
    let after = calls.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        after,
        "no export starts after shutdown returned"
    );
}

#[test]
fn a_cancelled_export_keeps_the_part_already_delivered() {
    let runtime = PipelineRuntime::new("test").unwrap();
    // The first of two requests is accepted, the second never answers.
    let exporter = tower::service_fn(|batch: Batch<Item>| async move {
        batch.progress.accepted(batch.items.len() / 2);
        std::future::pending::<Result<ExportOutcome, BoxError>>().await
    });
    let config = BatchConfig::default().with_max_batch_size(10);
    let processor = BatchProcessor::new(config, exporter, runtime.handle()).unwrap();
    for _ in 0..10 {
        processor.push(Item);
    }
    let report = processor.shutdown(Duration::from_millis(300));
    let stats = report.stats;
    assert_eq!(
        (stats.exported, stats.dropped_at_shutdown),
        (5, 5),
        "{stats:?}"
    );
    assert_eq!(report.undelivered, 5);
    assert!(stats.balanced(), "{stats:?}");
}

#[test]
fn a_panicking_export_counts_its_items_as_failed() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let exporter = tower::service_fn(|_: Batch<Item>| async move {
        if true {
            panic!("exporter bug");
        }
        Ok::<_, BoxError>(ExportOutcome::default())
    });
    let processor =
        BatchProcessor::new(BatchConfig::default(), exporter, runtime.handle()).unwrap();
    for _ in 0..7 {
        processor.push(Item);
    }
    let report = processor.shutdown(Duration::from_secs(5));
    let stats = report.stats;
    assert_eq!(
        stats.failed_by_cause.get(otlp_batch::Cause::Panicked),
        7,
        "{stats:?}"
    );
    assert_eq!(stats.dropped_at_shutdown, 0, "{stats:?}");
    assert!(stats.balanced(), "{stats:?}");
}
