//! The batch worker: takes batches off the queue on size, bytes or time, keeps up to
//! `max_concurrent_exports` exports in flight (or as many as the exporter's
//! [`ExportLimit`](crate::ExportLimit) says), and settles flushes and shutdowns by their
//! deadlines. With several exports in flight, batches may finish in any order.
//!
//! The worker never waits inside a step: starting an export, an export finishing, a command, a
//! tick and a deadline are all events of one `select!`, so a flush or a shutdown is heard while
//! every export slot is taken. When a shutdown returns, every item is settled: exported,
//! rejected, spooled, failed, or dropped at shutdown (nothing left queued or in flight).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use otlp_core::{BoxError, ExportOutcome};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};
use tower::{Service, ServiceExt};

use crate::cause::Cause;
use crate::config::BatchStrategy;
use crate::processor::{Batch, BatchItem, Shared};
use crate::progress::{CountersRef, Progress};
use crate::stats::{add, sub};

pub(crate) enum Control {
    Flush {
        deadline: Deadline,
        done: std::sync::mpsc::SyncSender<()>,
    },
    Shutdown {
        deadline: Deadline,
        done: std::sync::mpsc::SyncSender<()>,
    },
}

/// A caller's deadline on its way to the worker: a timeout and when the call was made, in
/// real time. The worker reads it on its runtime's clock: the same instant when that clock is
/// real time, and the same timeout (less the time in the channel) when it is paused, a clock
/// no other thread can read an instant from.
pub(crate) struct Deadline {
    pub(crate) called: std::time::Instant,
    pub(crate) timeout: Duration,
}

impl Deadline {
    fn on_runtime_clock(&self) -> Instant {
        Instant::now() + self.timeout.saturating_sub(self.called.elapsed())
    }
}

/// A flush or shutdown waiting for the queue to empty and the exports to finish.
struct Waiter {
    deadline: Instant,
    done: std::sync::mpsc::SyncSender<()>,
}

/// The items of an export in flight. Dropped unsettled (the task was aborted by a shutdown),
/// its unsettled items count as dropped at shutdown.
struct InFlight(Progress);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.abandon_rest();
    }
}

/// Settles what the exporter did not report through the progress.
fn settle(
    progress: &Progress,
    result: Result<Result<ExportOutcome, BoxError>, tokio::time::error::Elapsed>,
) {
    match result {
        Ok(Ok(outcome)) => {
            if progress.settled() == 0 {
                progress.accepted(outcome.accepted);
                progress.rejected(outcome.rejected, outcome.message.as_deref());
                progress.deferred(outcome.deferred);
            }
            if outcome.rejected > 0 {
                tracing::warn!(rejected = outcome.rejected, message = ?outcome.message, "collector rejected part of a batch");
            }
            progress.fail_rest(Cause::Other);
        }
        Ok(Err(error)) => {
            let cause = Cause::of(error.as_ref());
            tracing::warn!(items = progress.items(), %error, "export failed; items dropped");
            progress.fail_rest(cause);
        }
        Err(_) => {
            tracing::warn!(items = progress.items(), "export timed out; items dropped");
            progress.fail_rest(Cause::Timeout);
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
    let strategy = shared.config.strategy;
    let delay = shared.config.scheduled_delay;
    let mut worker = Worker {
        shared,
        exporter,
        exports: JoinSet::new(),
        flushes: Vec::new(),
        shutdown: None,
        tick_drain: false,
    };
    let mut next_tick = Instant::now() + delay;
    loop {
        worker.start_exports();
        if worker.answer_waiters().await {
            return;
        }
        let deadline = worker.next_deadline();
        tokio::select! {
            biased;
            command = commands.recv() => match command {
                Some(Control::Flush { deadline, done }) => worker.flushes.push(Waiter { deadline: deadline.on_runtime_clock(), done }),
                Some(Control::Shutdown { deadline, done }) => worker.shutdown = Some(Waiter { deadline: deadline.on_runtime_clock(), done }),
                None => {
                    worker.close().await;
                    return;
                }
            },
            Some(_) = worker.exports.join_next(), if !worker.exports.is_empty() => {}
            _ = worker.shared.wake.notified(), if strategy != BatchStrategy::Time => {
                worker.shared.wake_taken();
            }
            // Under the size strategy the tick only re-checks for full batches: producers wake
            // the worker, and this bounds the wait should a wake-up ever be missed.
            _ = sleep_until(next_tick) => {
                worker.tick_drain = strategy != BatchStrategy::Size;
                next_tick = Instant::now() + delay;
            }
            _ = sleep_until(deadline.unwrap_or(next_tick)), if deadline.is_some() => {}
        }
    }
}

struct Worker<T, S> {
    shared: Arc<Shared<T>>,
    exporter: S,
    exports: JoinSet<()>,
    flushes: Vec<Waiter>,
    shutdown: Option<Waiter>,
    /// A time-triggered export of everything queued is under way.
    tick_drain: bool,
}

impl<T, S> Worker<T, S>
where
    T: BatchItem,
    S: Service<Batch<T>, Response = ExportOutcome, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
{
    /// Starts exports while a slot is free and there is something to send: full batches, or
    /// everything queued during a tick, flush or shutdown.
    fn start_exports(&mut self) {
        let draining = self.tick_drain || !self.flushes.is_empty() || self.shutdown.is_some();
        let by_size = self.shared.config.strategy != BatchStrategy::Time;
        while self.exports.len() < self.export_slots() {
            let wanted =
                (by_size && self.shared.batch_ready()) || (draining && self.shared.queue.len() > 0);
            if !wanted || !self.export_one() {
                break;
            }
        }
        if self.shared.queue.len() == 0 {
            self.tick_drain = false;
        }
    }

    /// How many exports may be in flight now: the exporter's limit when it has one (never
    /// below one, so that an export always moves), else `max_concurrent_exports`.
    fn export_slots(&self) -> usize {
        match &self.shared.export_limit {
            Some(limit) => limit().max(1),
            None => self.shared.config.max_concurrent_exports,
        }
    }

    /// Starts one export; false when the queue was empty.
    fn export_one(&mut self) -> bool {
        let config = &self.shared.config;
        let items = self
            .shared
            .queue
            .take(config.max_batch_size, config.max_batch_bytes);
        if items.is_empty() {
            return false;
        }
        let counters = &self.shared.counters;
        add(&counters.in_flight, items.len());
        sub(&counters.queued, items.len());
        add(&counters.batches, 1);
        let progress = Progress::new(
            Arc::clone(&self.shared) as Arc<dyn CountersRef>,
            items.len(),
        );
        let in_flight = InFlight(progress.clone());
        let batch = Batch {
            items,
            resource: self.shared.resource(),
            progress,
        };
        let timeout = config.export_timeout;
        let exporter = self.exporter.clone();
        self.exports.spawn(async move {
            let export = tokio::time::timeout(timeout, exporter.oneshot(batch));
            match AssertUnwindSafe(export).catch_unwind().await {
                Ok(result) => settle(&in_flight.0, result),
                Err(_) => {
                    tracing::error!(
                        items = in_flight.0.items(),
                        "an export task panicked; items dropped"
                    );
                    in_flight.0.fail_rest(Cause::Panicked);
                }
            }
        });
        true
    }

    /// The earliest flush or shutdown deadline.
    fn next_deadline(&self) -> Option<Instant> {
        self.flushes
            .iter()
            .chain(&self.shutdown)
            .map(|w| w.deadline)
            .min()
    }

    /// Answers the flushes that are done (nothing queued or in flight) or out of time, and the
    /// shutdown likewise, closing the worker first. Returns true when the worker shut down.
    async fn answer_waiters(&mut self) -> bool {
        let now = Instant::now();
        let idle = self.shared.queue.len() == 0 && self.exports.is_empty();
        self.flushes.retain(|flush| {
            let finished = idle || now >= flush.deadline;
            if finished {
                let _ = flush.done.try_send(());
            }
            !finished
        });
        let Some(shutdown) = &self.shutdown else {
            return false;
        };
        if !(idle || now >= shutdown.deadline) {
            return false;
        }
        self.close().await;
        for waiter in self.flushes.drain(..).chain(self.shutdown.take()) {
            let _ = waiter.done.try_send(());
        }
        true
    }

    /// Cancels what is left, counting queued and in-flight items as dropped at shutdown.
    async fn close(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.exports.shutdown().await;
        self.shared.abandon_queued();
    }
}
