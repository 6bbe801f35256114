//! [`Progress`]: how an exporter settles a batch's items as its requests finish, so that the
//! part already delivered stays counted when the rest of the export is cancelled.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::cause::Cause;
use crate::stats::{add, sub, Counters};

/// Access to a processor's counters without its item type.
pub(crate) trait CountersRef: Send + Sync {
    fn counters(&self) -> &Counters;
    fn note_rejection(&self, message: String);
}

struct Inner {
    counters: Arc<dyn CountersRef>,
    items: usize,
    settled: AtomicUsize,
}

/// The settlement of one batch's items, shared by the exporter and the batch worker.
///
/// An exporter that sends a batch as several requests reports each request's result here as it
/// arrives; the items move from `in_flight` to their bucket at once. When the export ends, the
/// worker settles only what was not reported: a cancelled export (shutdown) leaves the
/// delivered part counted as exported. An exporter that reports nothing here is settled from
/// the [`ExportOutcome`](otlp_core::ExportOutcome) it returns.
#[derive(Clone)]
pub struct Progress {
    inner: Option<Arc<Inner>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("items", &self.items())
            .field("settled", &self.settled())
            .finish()
    }
}

impl Progress {
    pub(crate) fn new(counters: Arc<dyn CountersRef>, items: usize) -> Self {
        Progress {
            inner: Some(Arc::new(Inner {
                counters,
                items,
                settled: AtomicUsize::new(0),
            })),
        }
    }

    /// A progress that counts nothing, for batches made outside a processor (tests, tools).
    pub fn detached() -> Self {
        Progress { inner: None }
    }

    /// The batch's items.
    pub fn items(&self) -> usize {
        self.inner.as_ref().map_or(0, |i| i.items)
    }

    /// Items settled so far.
    pub fn settled(&self) -> usize {
        self.inner
            .as_ref()
            .map_or(0, |i| i.settled.load(Ordering::Acquire))
    }

    /// Takes up to `n` unsettled items; returns how many were taken.
    fn take(&self, n: usize) -> Option<(&Counters, usize)> {
        let inner = self.inner.as_ref()?;
        let mut taken = 0;
        let _ = inner
            .settled
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |settled| {
                taken = n.min(inner.items.saturating_sub(settled));
                Some(settled + taken)
            });
        (taken > 0).then(|| (inner.counters.counters(), taken))
    }

    fn settle(&self, n: usize, bucket: impl FnOnce(&Counters, usize)) {
        if let Some((counters, taken)) = self.take(n) {
            bucket(counters, taken);
            sub(&counters.in_flight, taken);
        }
    }

    /// `n` items were accepted by the collector.
    pub fn accepted(&self, n: usize) {
        self.settle(n, |c, n| add(&c.exported, n));
    }

    /// `n` items were rejected by the collector in a partial success, with its message.
    pub fn rejected(&self, n: usize, message: Option<&str>) {
        if let (Some(inner), Some(message), true) = (&self.inner, message, n > 0) {
            inner.counters.note_rejection(message.to_owned());
        }
        self.settle(n, |c, n| add(&c.rejected, n));
    }

    /// `n` items were kept in the disk spool for a later attempt.
    pub fn deferred(&self, n: usize) {
        self.settle(n, |c, n| add(&c.spooled, n));
    }

    /// `n` items failed for good, for `cause`.
    pub fn failed(&self, n: usize, cause: Cause) {
        self.settle(n, |c, n| c.fail(cause, n));
    }

    /// Every unsettled item failed for `cause`.
    pub(crate) fn fail_rest(&self, cause: Cause) {
        self.failed(usize::MAX, cause);
    }

    /// Every unsettled item was abandoned by a shutdown.
    pub(crate) fn abandon_rest(&self) {
        self.settle(usize::MAX, |c, n| add(&c.dropped_at_shutdown, n));
    }
}
