//! What a processor did with every item it was given.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of a batch processor. Every item offered ends up in exactly one bucket:
/// `offered == exported + rejected + dropped() + spooled + queued + in_flight`.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) offered: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) dequeued: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) dropped_at_shutdown: AtomicU64,
    pub(crate) spooled: AtomicU64,
    pub(crate) batches: AtomicU64,
}

pub(crate) fn add(counter: &AtomicU64, n: usize) {
    counter.fetch_add(n as u64, Ordering::Relaxed);
}

/// A snapshot of a processor's accounting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Items given to the processor.
    pub offered: u64,
    /// Items the collector accepted.
    pub exported: u64,
    /// Items the collector refused in a partial success.
    pub rejected: u64,
    /// Items dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Items whose export failed for good (after the retries of the export stack).
    pub failed: u64,
    /// Items still queued or in flight when a shutdown deadline passed.
    pub dropped_at_shutdown: u64,
    /// Items whose export failed but that the exporter kept in its disk spool for a later
    /// attempt (the spool's own numbers say when they are delivered).
    pub spooled: u64,
    /// Items waiting in the queue.
    pub queued: u64,
    /// Items in exports that have not finished.
    pub in_flight: u64,
    /// Exports started.
    pub batches: u64,
}

impl BatchStats {
    /// Every item that will never reach the collector: queue overflow, failed exports, and
    /// what a shutdown had to leave behind.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full + self.failed + self.dropped_at_shutdown
    }

    /// Whether the books balance: every item offered is exported, rejected, dropped, queued or
    /// in flight.
    pub fn balanced(&self) -> bool {
        self.offered
            == self.exported + self.rejected + self.dropped() + self.queued + self.in_flight
    }
}

impl Counters {
    pub(crate) fn snapshot(&self) -> BatchStats {
        // Read the later stages first, so that an item moving along while we read is never
        // counted twice; it can only show up in an earlier bucket.
        let get = |c: &AtomicU64| c.load(Ordering::Acquire);
        let exported = get(&self.exported);
        let rejected = get(&self.rejected);
        let failed = get(&self.failed);
        let dropped_at_shutdown = get(&self.dropped_at_shutdown);
        let spooled = get(&self.spooled);
        let dequeued = get(&self.dequeued);
        let dropped_queue_full = get(&self.dropped_queue_full);
        let offered = get(&self.offered);
        let finished = exported + rejected + failed + dropped_at_shutdown + spooled;
        BatchStats {
            offered,
            exported,
            rejected,
            dropped_queue_full,
            failed,
            dropped_at_shutdown,
            spooled,
            queued: offered.saturating_sub(dropped_queue_full + dequeued),
            in_flight: dequeued.saturating_sub(finished),
            batches: get(&self.batches),
        }
    }
}
