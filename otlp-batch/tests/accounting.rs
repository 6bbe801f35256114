//! No silent loss: what is offered is exported, or dropped and counted, per overflow policy.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_batch::{
    Batch, BatchConfig, BatchItem, BatchProcessor, BatchStrategy, Overflow, PipelineRuntime,
};
use otlp_core::{BoxError, ExportOutcome};
use parking_lot::Mutex;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Item(usize);

impl BatchItem for Item {
    fn estimated_bytes(&self) -> usize {
        100
    }
}

/// An exporter that records every item and can be held closed by a gate.
#[derive(Clone)]
struct Recorder {
    received: Arc<Mutex<Vec<usize>>>,
    batch_sizes: Arc<Mutex<Vec<usize>>>,
    gate: Arc<Semaphore>,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    reject_each: usize,
}

impl Recorder {
    fn open() -> Self {
        Recorder {
            received: Arc::default(),
            batch_sizes: Arc::default(),
            gate: Arc::new(Semaphore::new(Semaphore::MAX_PERMITS)),
            in_flight: Arc::default(),
            peak: Arc::default(),
            reject_each: 0,
        }
    }

    fn closed() -> Self {
        Recorder {
            gate: Arc::new(Semaphore::new(0)),
            ..Recorder::open()
        }
    }

    fn received(&self) -> Vec<usize> {
        self.received.lock().clone()
    }
}

impl tower::Service<Batch<Item>> for Recorder {
    type Response = ExportOutcome;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<ExportOutcome, BoxError>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, batch: Batch<Item>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let now = this.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            this.peak.fetch_max(now, Ordering::SeqCst);
            let _permit = this.gate.acquire().await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
            this.in_flight.fetch_sub(1, Ordering::SeqCst);
            let n = batch.items.len();
            this.batch_sizes.lock().push(n);
            this.received.lock().extend(batch.items.iter().map(|i| i.0));
            let rejected = this.reject_each.min(n);
            Ok(ExportOutcome::partial(
                n,
                rejected,
                if rejected > 0 { "test" } else { "" },
            ))
        })
    }
}

/// Polls `condition` until it holds, for at most 10 s (a "does not hang" bound): the tests
/// wait for what they observe, never for a fixed time.
fn wait_until(condition: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !condition() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn held_queue(overflow: Overflow) -> BatchConfig {
    // Time strategy with a long delay: nothing leaves the queue until the flush.
    BatchConfig::default()
        .with_max_queue_size(100)
        .with_max_batch_size(50)
        .with_strategy(BatchStrategy::Time)
        .with_scheduled_delay(Duration::from_secs(3600))
        .with_overflow(overflow)
}

#[test]
fn nothing_is_dropped_while_the_load_fits_the_queue() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let recorder = Recorder::open();
    let processor = BatchProcessor::new(
        BatchConfig::default().with_max_batch_size(100),
        recorder.clone(),
        runtime.handle(),
    )
    .unwrap();
    let producers: Vec<_> = (0..4)
        .map(|p| {
            let processor = processor.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    assert!(processor.push(Item(p * 1000 + i)));
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }
    let report = processor.shutdown(Duration::from_secs(10));
    assert!(report.completed, "{report:?}");
    assert_eq!(report.stats.exported, 2000);
    assert_eq!(report.stats.dropped(), 0);
    assert!(report.stats.balanced());
    let mut received = recorder.received();
    received.sort_unstable();
    let mut expected: Vec<usize> = (0..4)
        .flat_map(|p| (0..500).map(move |i| p * 1000 + i))
        .collect();
    expected.sort_unstable();
    assert_eq!(received, expected, "every item exactly once");
}

/// With the size strategy and no timer, only producers wake the worker (once per batch, not
/// per push): a lost wake-up would leave full batches queued. Every full batch must leave
/// without a flush, however the producers interleave.
#[test]
fn full_batches_leave_without_a_flush_under_many_producers() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let recorder = Recorder::open();
    let config = BatchConfig::default()
        .with_max_queue_size(100_000)
        .with_max_batch_size(10)
        .with_max_concurrent_exports(8)
        .with_strategy(BatchStrategy::Size)
        // The worker's periodic re-check must not hide a missed wake-up.
        .with_scheduled_delay(Duration::from_secs(3600));
    let processor = BatchProcessor::new(config, recorder.clone(), runtime.handle()).unwrap();
    for round in 0..20 {
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let processor = processor.clone();
                std::thread::spawn(move || {
                    for i in 0..250 {
                        processor.push(Item(round * 10_000 + p * 1000 + i));
                    }
                })
            })
            .collect();
        for producer in producers {
            producer.join().unwrap();
        }
        // 1,000 items a round: exactly 100 full batches, none left for a timer or a flush.
        let expected = (round + 1) * 1000;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while recorder.received().len() < expected && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            recorder.received().len(),
            expected,
            "round {round}: full batches stayed queued: {:?}",
            processor.stats()
        );
    }
    assert_eq!(processor.stats().dropped(), 0);
}

#[test]
fn drop_newest_keeps_the_first_items_and_counts_the_rest() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let recorder = Recorder::open();
    let processor = BatchProcessor::new(
        held_queue(Overflow::DropNewest),
        recorder.clone(),
        runtime.handle(),
    )
    .unwrap();
    let queued = (0..130).filter(|i| processor.push(Item(*i))).count();
    assert_eq!(queued, 100);
    let report = processor.shutdown(Duration::from_secs(10));
    assert_eq!(report.stats.dropped_queue_full, 30);
    assert_eq!(report.stats.exported, 100);
    assert!(report.stats.balanced());
    assert_eq!(recorder.received(), (0..100).collect::<Vec<_>>());
}

#[test]
fn drop_oldest_keeps_the_last_items_and_counts_the_rest() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let recorder = Recorder::open();
    let processor = BatchProcessor::new(
        held_queue(Overflow::DropOldest),
        recorder.clone(),
        runtime.handle(),
    )
    .unwrap();
    for i in 0..130 {
        assert!(processor.push(Item(i)));
    }
    let report = processor.shutdown(Duration::from_secs(10));
    assert_eq!(report.stats.dropped_queue_full, 30);
    assert_eq!(report.stats.exported, 100);
    assert!(report.stats.balanced());
    assert_eq!(recorder.received(), (30..130).collect::<Vec<_>>());
}

#[test]
fn block_waits_for_room_then_drops_and_counts() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let recorder = Recorder::open();
    let config = held_queue(Overflow::Block(Duration::from_millis(50)));
    let processor = BatchProcessor::new(config, recorder.clone(), runtime.handle()).unwrap();
    for i in 0..100 {
        assert!(processor.push(Item(i)));
    }
    let started = std::time::Instant::now();
    assert!(
        !processor.push(Item(100)),
        "no room appears: dropped after the wait"
    );
    assert!(started.elapsed() >= Duration::from_millis(50));
    let report = processor.shutdown(Duration::from_secs(5));
    assert_eq!(report.stats.dropped_queue_full, 1);
    assert_eq!(report.stats.exported, 100);
    assert!(report.stats.balanced());
}

#[test]
fn a_blocked_producer_gets_in_when_a_flush_makes_room() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let recorder = Recorder::open();
    // A wait far longer than the test: only the flush's wake-up can let the producer in soon.
    let config = held_queue(Overflow::Block(Duration::from_secs(600)));
    let processor = BatchProcessor::new(config, recorder.clone(), runtime.handle()).unwrap();
    for i in 0..100 {
        assert!(processor.push(Item(i)));
    }
    let (pushed, got_in) = std::sync::mpsc::channel();
    let waiting = {
        let processor = processor.clone();
        std::thread::spawn(move || pushed.send(processor.push(Item(100))).unwrap())
    };
    // The producer is inside `push` once it is counted as offered; the queue is full, so it
    // waits (a flush that comes before its wait begins is seen by its re-check under the lock).
    wait_until(|| processor.stats().offered == 101);
    assert_eq!(processor.stats().offered, 101);
    assert!(
        got_in.try_recv().is_err(),
        "the producer waits while the queue is full"
    );
    processor.force_flush(Duration::from_secs(5));
    // A generous bound, far below the producer's own wait: a lost wake-up would fail here.
    assert_eq!(got_in.recv_timeout(Duration::from_secs(30)), Ok(true));
    waiting.join().unwrap();
    let report = processor.shutdown(Duration::from_secs(5));
    assert_eq!(report.stats.dropped_queue_full, 0);
    assert_eq!(report.stats.exported, 101);
    assert!(report.stats.balanced());
    assert_eq!(recorder.received(), (0..101).collect::<Vec<_>>());
}

#[test]
fn partial_success_is_counted_as_rejected() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let recorder = Recorder {
        reject_each: 2,
        ..Recorder::open()
    };
    let config = BatchConfig::default().with_max_batch_size(10);
    let processor = BatchProcessor::new(config, recorder, runtime.handle()).unwrap();
    for i in 0..30 {
        processor.push(Item(i));
    }
    let report = processor.shutdown(Duration::from_secs(5));
    assert_eq!((report.stats.exported, report.stats.rejected), (24, 6));
    assert!(report.stats.balanced());
}

#[test]
fn exports_run_concurrently_up_to_the_limit() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let recorder = Recorder::closed();
    let config = BatchConfig::default()
        .with_max_batch_size(10)
        .with_max_concurrent_exports(4);
    let processor = BatchProcessor::new(config, recorder.clone(), runtime.handle()).unwrap();
    for i in 0..200 {
        processor.push(Item(i));
    }
    // Wait for the exports to reach the gate (an event), not for a fixed time.
    wait_until(|| recorder.in_flight.load(Ordering::SeqCst) >= 4);
    assert_eq!(
        recorder.in_flight.load(Ordering::SeqCst),
        4,
        "four exports wait at the gate"
    );
    recorder.gate.add_permits(1000);
    let report = processor.shutdown(Duration::from_secs(10));
    assert!(report.completed);
    assert_eq!(report.stats.exported, 200);
    assert_eq!(recorder.peak.load(Ordering::SeqCst), 4);
}

#[test]
fn the_byte_limit_caps_batches() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let recorder = Recorder::open();
    let config = BatchConfig::default()
        .with_max_batch_size(512)
        .with_max_batch_bytes(1000);
    let processor = BatchProcessor::new(config, recorder.clone(), runtime.handle()).unwrap();
    for i in 0..95 {
        processor.push(Item(i));
    }
    processor.shutdown(Duration::from_secs(5));
    let sizes = recorder.batch_sizes.lock().clone();
    assert!(
        sizes.iter().all(|n| *n <= 10),
        "{sizes:?}: 10 items of 100 bytes make 1000 bytes"
    );
    assert_eq!(sizes.iter().sum::<usize>(), 95);
}

#[test]
fn invalid_settings_name_the_setting() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let error = BatchProcessor::new(
        BatchConfig::default().with_max_batch_size(0),
        Recorder::open(),
        runtime.handle(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("batch.max_batch_size"),
        "{error}"
    );
    let error = BatchProcessor::new(
        BatchConfig::default().with_max_queue_size(10),
        Recorder::open(),
        runtime.handle(),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("must not exceed batch.max_queue_size"),
        "{error}"
    );
}
