//! What a processor did with every item it was given.
//!
//! Each state has one counter, raised (or, for the two gauges, lowered) where the item enters
//! or leaves it: nothing is derived by subtraction, so [`BatchStats::balanced`] is a real check
//! that an item sits in exactly one bucket.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::cause::{Cause, FailureCauses};

/// Counters of a batch processor. An item moving from one state to the next is added to the
/// next before it is taken from the previous, so a gauge never wraps below zero.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) offered: AtomicU64,
    /// A gauge: items in the queue (raised before the push, lowered after the take).
    pub(crate) queued: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    /// A gauge: items taken by the worker and not settled yet.
    pub(crate) in_flight: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) spooled: AtomicU64,
    pub(crate) failed: [AtomicU64; 9],
    pub(crate) dropped_at_shutdown: AtomicU64,
    pub(crate) batches: AtomicU64,
}

pub(crate) fn add(counter: &AtomicU64, n: usize) {
    counter.fetch_add(n as u64, Ordering::AcqRel);
}

pub(crate) fn sub(counter: &AtomicU64, n: usize) {
    counter.fetch_sub(n as u64, Ordering::AcqRel);
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
    /// Items whose export failed for good (after the retries of the export stack); the sum of
    /// `failed_by_cause`.
    pub failed: u64,
    /// The failed items, per cause.
    pub failed_by_cause: FailureCauses,
    /// Items still queued or in flight when a shutdown deadline passed, and items offered after
    /// shutdown.
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
    /// Every item that will never reach the collector from this processor: queue overflow,
    /// failed exports, and what a shutdown had to leave behind.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full + self.failed + self.dropped_at_shutdown
    }

    /// Every item not delivered since start: [`BatchStats::dropped`] plus what the collector
    /// rejected in partial successes.
    pub fn undelivered(&self) -> u64 {
        self.dropped() + self.rejected
    }

    /// Whether the books balance: every item offered is exported, rejected, dropped, spooled,
    /// queued or in flight. Exact when nothing moves (after a flush or shutdown returned); a
    /// snapshot taken while items move is retried until two reads agree.
    pub fn balanced(&self) -> bool {
        self.offered
            == self.exported
                + self.rejected
                + self.dropped()
                + self.spooled
                + self.queued
                + self.in_flight
    }
}

impl Counters {
    pub(crate) fn fail(&self, cause: Cause, n: usize) {
        add(&self.failed[cause.index()], n);
    }

    fn read(&self) -> BatchStats {
        let get = |c: &AtomicU64| c.load(Ordering::Acquire);
        let causes = FailureCauses::from_counts(std::array::from_fn(|i| get(&self.failed[i])));
        BatchStats {
            offered: get(&self.offered),
            exported: get(&self.exported),
            rejected: get(&self.rejected),
            dropped_queue_full: get(&self.dropped_queue_full),
            failed: causes.total(),
            failed_by_cause: causes,
            dropped_at_shutdown: get(&self.dropped_at_shutdown),
            spooled: get(&self.spooled),
            queued: get(&self.queued),
            in_flight: get(&self.in_flight),
            batches: get(&self.batches),
        }
    }

    /// Reads until two reads in a row agree (at most a few times): counters read one by one
    /// could otherwise catch an item between two buckets.
    pub(crate) fn snapshot(&self) -> BatchStats {
        let mut last = self.read();
        for _ in 0..8 {
            let next = self.read();
            if next == last {
                return next;
            }
            last = next;
        }
        last
    }
}
