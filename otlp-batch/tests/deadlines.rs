//! Flush and shutdown return by their deadline with a report, even when exports never finish.
//! The bounds are generous: these check that nothing hangs, they are not benchmarks.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use otlp_batch::{Batch, BatchConfig, BatchItem, BatchProcessor, PipelineRuntime};
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

#[test]
fn flush_returns_at_its_deadline_and_says_what_is_undelivered() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let config = BatchConfig::default().with_max_batch_size(10);
    let processor = BatchProcessor::new(config, never_answers(), runtime.handle()).unwrap();
    for _ in 0..25 {
        processor.push(Item);
    }
    let started = Instant::now();
    let report = processor.force_flush(Duration::from_millis(300));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert!(!report.completed);
    assert_eq!(report.undelivered, 25);
}

#[test]
fn shutdown_returns_at_its_deadline_and_counts_what_it_left() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let config = BatchConfig::default()
        .with_max_batch_size(10)
        .with_max_concurrent_exports(2);
    let processor = BatchProcessor::new(config, never_answers(), runtime.handle()).unwrap();
    for _ in 0..45 {
        processor.push(Item);
    }
    let started = Instant::now();
    let report = processor.shutdown(Duration::from_millis(300));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
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
    let runtime = PipelineRuntime::new("test").unwrap();
    let config = BatchConfig::default().with_export_timeout(Duration::from_millis(100));
    let processor = BatchProcessor::new(config, never_answers(), runtime.handle()).unwrap();
    for _ in 0..5 {
        processor.push(Item);
    }
    let report = processor.force_flush(Duration::from_secs(5));
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
