//! An export limit decides how many exports are in flight (not `max_concurrent_exports`),
//! and the books balance with several in flight.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_batch::{Batch, BatchConfig, BatchItem, BatchProcessor, BatchStrategy, PipelineRuntime};
use otlp_core::{BoxError, ExportOutcome};
use parking_lot::Mutex;
use tokio::sync::Semaphore;

struct Item(usize);

impl BatchItem for Item {
    fn estimated_bytes(&self) -> usize {
        100
    }
}

/// An exporter held closed by a gate, recording the most exports it had in flight at once.
#[derive(Clone)]
struct Recorder {
    received: Arc<Mutex<Vec<usize>>>,
    gate: Arc<Semaphore>,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Recorder {
    fn closed() -> Self {
        Recorder {
            received: Arc::default(),
            gate: Arc::new(Semaphore::new(0)),
            in_flight: Arc::default(),
            peak: Arc::default(),
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
            this.in_flight.fetch_sub(1, Ordering::SeqCst);
            this.received.lock().extend(batch.items.iter().map(|i| i.0));
            Ok(ExportOutcome::accepted(batch.items.len()))
        })
    }
}

/// With an export limit, the worker keeps exactly as many exports in flight as it says, not
/// `max_concurrent_exports`, and the books still balance with several in flight.
#[test]
fn the_export_limit_decides_how_many_exports_are_in_flight() {
    let runtime = PipelineRuntime::new("test").unwrap();
    let recorder = Recorder::closed();
    let limit = Arc::new(AtomicUsize::new(3));
    let export_limit = {
        let limit = Arc::clone(&limit);
        Arc::new(move || limit.load(Ordering::SeqCst)) as otlp_batch::ExportLimit
    };
    let config = BatchConfig::default()
        .with_max_queue_size(1000)
        .with_max_batch_size(10)
        .with_max_concurrent_exports(1)
        .with_strategy(BatchStrategy::Size);
    let processor =
        BatchProcessor::with_export_limit(config, recorder.clone(), runtime.handle(), export_limit)
            .unwrap();
    for i in 0..100 {
        assert!(processor.push(Item(i)));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while recorder.in_flight.load(Ordering::SeqCst) < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        recorder.peak.load(Ordering::SeqCst),
        3,
        "{:?}",
        processor.stats()
    );
    assert!(processor.stats().balanced(), "{:?}", processor.stats());
    recorder.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    let report = processor.shutdown(Duration::from_secs(10));
    assert!(report.completed, "{report:?}");
    assert_eq!(report.stats.exported, 100);
    assert!(report.stats.balanced(), "{report:?}");
    assert_eq!(recorder.peak.load(Ordering::SeqCst), 3);
    let mut received = recorder.received();
    received.sort_unstable();
    assert_eq!(received, (0..100).collect::<Vec<_>>());
}
