//! The batch worker: takes batches off the queue on size, bytes or time, keeps up to
//! `max_concurrent_exports` exports in flight, and settles flushes and shutdowns by their
//! deadlines.

use std::sync::Arc;

use otlp_core::{BoxError, ExportOutcome};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};
use tower::{Service, ServiceExt};

use crate::config::Strategy;
use crate::processor::{Batch, BatchItem, Shared};
use crate::stats::{add, Counters};

pub(crate) enum Control {
    Flush {
        deadline: Instant,
        done: std::sync::mpsc::SyncSender<()>,
    },
    Shutdown {
        deadline: Instant,
        done: std::sync::mpsc::SyncSender<()>,
    },
}

/// Items of an export in flight. If the export task is cancelled (a shutdown deadline), its
/// items are counted as dropped when this is dropped.
struct InFlight {
    counters: Arc<SharedCounters>,
    items: usize,
    settled: bool,
}

type SharedCounters = dyn CountersRef + Send + Sync;

/// Access to the counters of a `Shared<T>` without its item type.
trait CountersRef {
    fn counters(&self) -> &Counters;
}

impl<T> CountersRef for Shared<T> {
    fn counters(&self) -> &Counters {
        &self.counters
    }
}

impl InFlight {
    fn settle(
        mut self,
        result: Result<Result<ExportOutcome, BoxError>, tokio::time::error::Elapsed>,
    ) {
        self.settled = true;
        let counters = self.counters.counters();
        let items = self.items;
        match result {
            Ok(Ok(outcome)) => {
                let accepted = outcome.accepted.min(items);
                let rejected = outcome.rejected.min(items - accepted);
                let deferred = outcome.deferred.min(items - accepted - rejected);
                add(&counters.exported, accepted);
                add(&counters.rejected, rejected);
                add(&counters.spooled, deferred);
                add(&counters.failed, items - accepted - rejected - deferred);
                if rejected > 0 {
                    tracing::warn!(rejected, message = ?outcome.message, "collector rejected part of a batch");
                }
            }
            Ok(Err(error)) => {
                add(&counters.failed, items);
                tracing::warn!(items, %error, "export failed; items dropped");
            }
            Err(_) => {
                add(&counters.failed, items);
                tracing::warn!(items, "export timed out; items dropped");
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.settled {
            add(&self.counters.counters().dropped_at_shutdown, self.items);
        }
    }
}

pub(crate) async fn run<T, S>(
    shared: Arc<Shared<T>>,
    exporter: S,
    mut commands: mpsc::UnboundedReceiver<Control>,
) where
    T: BatchItem,
    S: Service<Batch<T>, Response = ExportOutcome, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
{
    let mut worker = Worker {
        shared,
        exporter,
        exports: JoinSet::new(),
    };
    let strategy = worker.shared.config.strategy;
    let delay = worker.shared.config.scheduled_delay;
    let mut next_tick = Instant::now() + delay;
    loop {
        tokio::select! {
            biased;
            command = commands.recv() => match command {
                Some(Control::Flush { deadline, done }) => {
                    worker.drain(Some(deadline)).await;
                    worker.wait(deadline).await;
                    let _ = done.send(());
                }
                Some(Control::Shutdown { deadline, done }) => {
                    worker.drain(Some(deadline)).await;
                    worker.wait(deadline).await;
                    worker.abandon().await;
                    let _ = done.send(());
                    return;
                }
                None => {
                    worker.abandon().await;
                    return;
                }
            },
            _ = worker.shared.wake.notified(), if strategy != Strategy::Time => {
                worker.shared.wake_taken();
                worker.export_ready().await;
            }
            // Under the size strategy the tick only re-checks for full batches: producers wake
            // the worker, and this bounds the wait should a wake-up ever be missed.
            _ = sleep_until(next_tick) => {
                if strategy == Strategy::Size {
                    worker.export_ready().await;
                } else {
                    worker.drain(None).await;
                }
                next_tick = Instant::now() + delay;
            }
            Some(_) = worker.exports.join_next(), if !worker.exports.is_empty() => {}
        }
    }
}

struct Worker<T, S> {
    shared: Arc<Shared<T>>,
    exporter: S,
    exports: JoinSet<()>,
}

impl<T, S> Worker<T, S>
where
    T: BatchItem,
    S: Service<Batch<T>, Response = ExportOutcome, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
{
    /// Exports full batches while there are any.
    async fn export_ready(&mut self) {
        while self.shared.batch_ready() {
            if !self.export_one(None).await {
                break;
            }
        }
    }

    /// Exports everything queued, batch by batch, stopping at the deadline.
    async fn drain(&mut self, deadline: Option<Instant>) {
        while self.shared.queue.len() > 0 {
            if !self.export_one(deadline).await {
                break;
            }
        }
    }

    /// Waits for a free export slot (until `deadline`), then starts one export. Returns false
    /// when the deadline passed first or the queue was empty.
    async fn export_one(&mut self, deadline: Option<Instant>) -> bool {
        while self.exports.len() >= self.shared.config.max_concurrent_exports {
            let far = Instant::now() + self.shared.config.export_timeout * 2;
            tokio::select! {
                _ = self.exports.join_next() => {}
                _ = sleep_until(deadline.unwrap_or(far)) => {
                    if deadline.is_some() {
                        return false;
                    }
                }
            }
        }
        let config = &self.shared.config;
        let items = self
            .shared
            .queue
            .take(config.max_batch_size, config.max_batch_bytes);
        if items.is_empty() {
            return false;
        }
        let counters = &self.shared.counters;
        add(&counters.dequeued, items.len());
        add(&counters.batches, 1);
        let in_flight = InFlight {
            counters: Arc::clone(&self.shared) as Arc<SharedCounters>,
            items: items.len(),
            settled: false,
        };
        let batch = Batch {
            items,
            resource: self.shared.resource(),
        };
        let timeout = config.export_timeout;
        let exporter = self.exporter.clone();
        self.exports.spawn(async move {
            let result = tokio::time::timeout(timeout, exporter.oneshot(batch)).await;
            in_flight.settle(result);
        });
        true
    }

    /// Waits for every export in flight, until the deadline.
    async fn wait(&mut self, deadline: Instant) {
        loop {
            tokio::select! {
                next = self.exports.join_next() => if next.is_none() { return },
                _ = sleep_until(deadline) => return,
            }
        }
    }

    /// Cancels what is left, counting queued and in-flight items as dropped at shutdown.
    async fn abandon(&mut self) {
        self.exports.shutdown().await;
        let counters = &self.shared.counters;
        loop {
            let left = self.shared.queue.take(usize::MAX, None);
            if left.is_empty() {
                break;
            }
            add(&counters.dequeued, left.len());
            add(&counters.dropped_at_shutdown, left.len());
        }
    }
}
