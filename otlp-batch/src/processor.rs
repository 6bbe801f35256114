//! [`BatchProcessor`]: the application-facing side of a batch pipeline.

use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_utils::CachePadded;
use opentelemetry_sdk::Resource;
use otlp_core::{BoxError, ExportOutcome, InvalidSetting};
use parking_lot::{Mutex, RwLock};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, Notify};
use tower::Service;

use crate::config::{BatchConfig, BatchStrategy};
use crate::progress::{CountersRef, Progress};
use crate::queue::{BoundedQueue, Pushed};
use crate::stats::{add, sub, BatchStats, Counters};
use crate::worker::{self, Control, Deadline};

/// An item a processor can batch: it knows roughly how large it will be once encoded.
pub trait BatchItem: Send + 'static {
    /// The estimated encoded size, in bytes, used by `max_batch_bytes`.
    fn estimated_bytes(&self) -> usize;
}

/// What the exporter service receives: a batch and the resource it belongs to.
#[derive(Debug, Clone)]
pub struct Batch<T> {
    /// The items, oldest first.
    pub items: Vec<T>,
    /// The resource of the provider the items came from.
    pub resource: Arc<Resource>,
    /// Where the exporter reports each request's result as it arrives (see [`Progress`]).
    pub progress: Progress,
}

/// The result of a flush or shutdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlushReport {
    /// Every item accepted before the call was settled (exported, rejected, spooled or failed)
    /// within the deadline, and nothing had to be abandoned.
    pub completed: bool,
    /// Items not delivered since the processor started: rejected, dropped for any reason, and
    /// (after a flush that ran out of time) still queued or in flight.
    pub undelivered: u64,
    /// The last message a collector gave when it rejected items, if any.
    pub last_rejection: Option<String>,
    /// The accounting when the call returned.
    pub stats: BatchStats,
}

/// State shared by producers and the worker. What the worker writes on every batch (the
/// counters, the notifier) sits on cache lines of its own, apart from the fields every push
/// reads, so that a push does not miss the cache each time the worker finishes a batch.
pub(crate) struct Shared<T> {
    pub(crate) queue: BoundedQueue<T>,
    pub(crate) counters: CachePadded<Counters>,
    pub(crate) config: BatchConfig,
    /// How many exports the exporter takes in flight now, when it says (see
    /// [`BatchProcessor::with_export_limit`]); it replaces `max_concurrent_exports`.
    pub(crate) export_limit: Option<ExportLimit>,
    pub(crate) wake: CachePadded<Notify>,
    /// Set by the producer that wakes the worker, cleared by the worker before it looks at the
    /// queue: producers notify once per batch rather than on every push.
    pub(crate) wake_pending: AtomicBool,
    pub(crate) resource: RwLock<Arc<Resource>>,
    shut_down: AtomicBool,
    /// Set by the worker before its last look at the queue: a producer that finds it set after
    /// its push settles the queue itself, so no item is stranded after shutdown.
    pub(crate) closed: AtomicBool,
    last_rejection: Mutex<Option<String>>,
    control: mpsc::UnboundedSender<Control>,
}

impl<T> Shared<T> {
    /// Wakes the worker for a ready batch, unless a wake-up is already on its way.
    ///
    /// No fence is needed on this side: the push that made the batch ready was a `SeqCst`
    /// compare-and-swap on the queue's tail (crossbeam's `ArrayQueue::push`), and the flag is
    /// read `SeqCst` after it. Against the fence in [`Shared::wake_taken`], either the
    /// worker's next look at the queue (a `SeqCst` read of the tail) sees this push, or this
    /// read sees the cleared flag and notifies. The worker's periodic tick is a second net.
    #[inline]
    fn wake_worker(&self) {
        if !self.wake_pending.load(Ordering::SeqCst)
            && !self.wake_pending.swap(true, Ordering::AcqRel)
        {
            self.wake.notify_one();
        }
    }

    /// Called by the worker when a wake-up arrives, before it looks at the queue.
    pub(crate) fn wake_taken(&self) {
        self.wake_pending.store(false, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    /// Whether a full batch may be waiting, judged by a producer right after its push from
    /// the `queued` gauge as its own increment returned it, rather than from the queue:
    /// reading the queue's length would touch the head the worker moves on every item taken.
    /// The gauge is lowered after items leave, so the estimate is never below the true
    /// length: at worst the worker wakes once for nothing.
    #[inline]
    fn ready_after_push(&self, queued: u64) -> bool {
        queued >= self.config.max_batch_size as u64 || self.bytes_ready()
    }

    /// Takes everything left in the queue, counting it as dropped at shutdown.
    pub(crate) fn abandon_queued(&self) {
        loop {
            let left = self.queue.take(usize::MAX, None);
            if left.is_empty() {
                break;
            }
            add(&self.counters.dropped_at_shutdown, left.len());
            sub(&self.counters.queued, left.len());
        }
    }

    /// Whether the queued items' estimated size reached the byte limit, when there is one.
    fn bytes_ready(&self) -> bool {
        self.config
            .max_batch_bytes
            .is_some_and(|limit| self.queue.bytes() >= limit)
    }

    /// Whether a full batch is waiting, by count or by estimated bytes.
    pub(crate) fn batch_ready(&self) -> bool {
        self.queue.len() >= self.config.max_batch_size || self.bytes_ready()
    }
}

/// How many exports an exporter takes in flight at this moment, read by the worker each time
/// it could start one: for example the sum of the adaptive concurrency limits of the
/// collector endpoints behind it.
pub type ExportLimit = Arc<dyn Fn() -> usize + Send + Sync>;

/// A bounded queue and a batch worker that exports through a tower service.
///
/// [`BatchProcessor::push`] never blocks (except under [`Overflow::Block`](crate::Overflow),
/// for at most its wait) and never fails loudly: an item that does not fit is counted. The
/// worker runs on the given runtime handle, normally a [`PipelineRuntime`](crate::PipelineRuntime).
pub struct BatchProcessor<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for BatchProcessor<T> {
    fn clone(&self) -> Self {
        BatchProcessor {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> std::fmt::Debug for BatchProcessor<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchProcessor")
            .field("config", &self.shared.config)
            .field("stats", &self.shared.counters.snapshot())
            .finish()
    }
}

impl<T: BatchItem> BatchProcessor<T> {
    /// Starts a processor whose worker runs on `runtime` and exports through `exporter`,
    /// keeping up to `max_concurrent_exports` exports in flight.
    pub fn new<S>(
        config: BatchConfig,
        exporter: S,
        runtime: &Handle,
    ) -> Result<Self, InvalidSetting>
    where
        S: Service<Batch<T>, Response = ExportOutcome, Error = BoxError> + Clone + Send + 'static,
        S::Future: Send,
    {
        Self::start(config, exporter, runtime, None)
    }

    /// Like [`new`](Self::new), with as many exports in flight as `limit` says at each moment
    /// (at least one) instead of `max_concurrent_exports`. The memory held by exports in flight
    /// is then at most the limit's maximum times a batch. With several exports in flight the
    /// batches may reach the collector in any order; the accounting stays exact.
    pub fn with_export_limit<S>(
        config: BatchConfig,
        exporter: S,
        runtime: &Handle,
        limit: ExportLimit,
    ) -> Result<Self, InvalidSetting>
    where
        S: Service<Batch<T>, Response = ExportOutcome, Error = BoxError> + Clone + Send + 'static,
        S::Future: Send,
    {
        Self::start(config, exporter, runtime, Some(limit))
    }

    fn start<S>(
        config: BatchConfig,
        exporter: S,
        runtime: &Handle,
        export_limit: Option<ExportLimit>,
    ) -> Result<Self, InvalidSetting>
    where
        S: Service<Batch<T>, Response = ExportOutcome, Error = BoxError> + Clone + Send + 'static,
        S::Future: Send,
    {
        config.validate()?;
        let (control, commands) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            // The size estimate walks the item; only a byte limit needs it.
            queue: BoundedQueue::new(
                config.max_queue_size,
                config
                    .max_batch_bytes
                    .map(|_| T::estimated_bytes as fn(&T) -> usize),
            ),
            counters: CachePadded::new(Counters::default()),
            config,
            export_limit,
            wake: CachePadded::new(Notify::new()),
            wake_pending: AtomicBool::new(false),
            resource: RwLock::new(Arc::new(Resource::builder_empty().build())),
            shut_down: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            last_rejection: Mutex::new(None),
            control,
        });
        runtime.spawn(worker::run(Arc::clone(&shared), exporter, commands));
        Ok(BatchProcessor { shared })
    }

    /// Queues an item; returns whether it was queued. A refused or evicted item is counted in
    /// `dropped_queue_full`; after shutdown, items are counted in `dropped_at_shutdown`.
    #[inline]
    pub fn push(&self, item: T) -> bool {
        let shared = &*self.shared;
        let counters = &shared.counters;
        counters.offered.fetch_add(1, Ordering::AcqRel);
        if shared.shut_down.load(Ordering::Acquire) {
            add(&counters.dropped_at_shutdown, 1);
            return false;
        }
        // Counted as queued before the push, so the worker never lowers the gauge first.
        let waiting = counters.queued.fetch_add(1, Ordering::AcqRel) + 1;
        // An eviction drops an older item, a refusal the new one: one drop either way.
        let queued = match shared.queue.push(item, shared.config.overflow) {
            Pushed::Queued => true,
            Pushed::Evicted => {
                add(&counters.dropped_queue_full, 1);
                sub(&counters.queued, 1);
                true
            }
            Pushed::Refused => {
                add(&counters.dropped_queue_full, 1);
                sub(&counters.queued, 1);
                false
            }
        };
        if queued && shared.closed.load(Ordering::SeqCst) {
            // The worker has made its last pass: nothing else will take this item.
            shared.abandon_queued();
            return false;
        }
        if shared.config.strategy != BatchStrategy::Time && shared.ready_after_push(waiting) {
            shared.wake_worker();
        }
        queued
    }

    /// Sets the resource attached to every later batch.
    pub fn set_resource(&self, resource: Resource) {
        *self.shared.resource.write() = Arc::new(resource);
    }

    /// Exports everything queued now and waits for every export in flight, for at most
    /// `timeout`. Callable from any thread, inside a runtime or not (it blocks the caller).
    pub fn force_flush(&self, timeout: Duration) -> FlushReport {
        self.command(timeout, |deadline, done| Control::Flush { deadline, done })
    }

    /// Flushes like [`BatchProcessor::force_flush`], then stops the worker: at the deadline,
    /// what is still queued or in flight is dropped and counted. Later pushes are counted as
    /// dropped. Calling it again returns at once.
    pub fn shutdown(&self, timeout: Duration) -> FlushReport {
        if self.shared.shut_down.swap(true, Ordering::AcqRel) {
            return self.report(true, &self.stats());
        }
        self.command(timeout, |deadline, done| Control::Shutdown {
            deadline,
            done,
        })
    }

    /// The accounting now.
    pub fn stats(&self) -> BatchStats {
        self.shared.counters.snapshot()
    }

    /// Whether `shutdown` was called.
    pub fn is_shut_down(&self) -> bool {
        self.shared.shut_down.load(Ordering::Acquire)
    }

    fn command(
        &self,
        timeout: Duration,
        make: impl FnOnce(Deadline, std::sync::mpsc::SyncSender<()>) -> Control,
    ) -> FlushReport {
        let before = self.stats();
        let deadline = Deadline {
            called: std::time::Instant::now(),
            timeout,
        };
        let (done, finished) = std::sync::mpsc::sync_channel(1);
        if self.shared.control.send(make(deadline, done)).is_err() {
            return self.report(false, &before);
        }
        // The worker answers by the deadline; the margin covers scheduling, not work.
        let answered = finished
            .recv_timeout(timeout + Duration::from_millis(200))
            .is_ok();
        self.report(answered, &before)
    }

    fn report(&self, answered: bool, before: &BatchStats) -> FlushReport {
        let stats = self.stats();
        let left = stats.queued + stats.in_flight;
        let abandoned = stats.dropped_at_shutdown - before.dropped_at_shutdown;
        FlushReport {
            completed: answered && left == 0 && abandoned == 0,
            undelivered: stats.undelivered() + left,
            last_rejection: self.last_rejection(),
            stats,
        }
    }

    /// The last message a collector gave when it rejected items, if any.
    pub fn last_rejection(&self) -> Option<String> {
        self.shared.last_rejection.lock().clone()
    }
}

impl<T> Shared<T> {
    pub(crate) fn resource(&self) -> Arc<Resource> {
        Arc::clone(&self.resource.read())
    }
}

impl<T: Send + 'static> CountersRef for Shared<T> {
    fn counters(&self) -> &Counters {
        &self.counters
    }

    fn note_rejection(&self, message: String) {
        *self.last_rejection.lock() = Some(message);
    }
}
