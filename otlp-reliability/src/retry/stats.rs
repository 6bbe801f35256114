//! [`RetryStats`]: the counters every service of a retry layer shares, and their snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of a retry layer, shared by every service it made.
#[derive(Debug, Default)]
pub struct RetryStats {
    pub(super) sessions: AtomicU64,
    pub(super) attempts: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) budget_denied: AtomicU64,
    pub(super) budget_exhausted: AtomicU64,
    pub(super) deadline_exceeded: AtomicU64,
    pub(super) attempts_exhausted: AtomicU64,
    pub(super) waiting: AtomicU64,
}

/// A snapshot of [`RetryStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetrySnapshot {
    /// Calls made through the layer.
    pub sessions: u64,
    /// Attempts sent to the inner service.
    pub attempts: u64,
    /// Attempts after the first.
    pub retries: u64,
    /// Retries the budget denied (each was waited for and asked again while time allowed).
    pub budget_denied: u64,
    /// Sessions that ran out of time waiting for the retry budget.
    pub budget_exhausted: u64,
    /// Sessions that stopped at the total deadline.
    pub deadline_exceeded: u64,
    /// Sessions that used every attempt and still failed.
    pub attempts_exhausted: u64,
    /// Sessions waiting out a delay between two attempts now (a gauge). They hold no attempt
    /// in flight: a caller that bounds its calls by the attempts a collector may take can
    /// start this many more.
    pub waiting: u64,
}

impl RetryStats {
    /// The current counts.
    pub fn snapshot(&self) -> RetrySnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RetrySnapshot {
            sessions: get(&self.sessions),
            attempts: get(&self.attempts),
            retries: get(&self.retries),
            budget_denied: get(&self.budget_denied),
            budget_exhausted: get(&self.budget_exhausted),
            deadline_exceeded: get(&self.deadline_exceeded),
            attempts_exhausted: get(&self.attempts_exhausted),
            waiting: get(&self.waiting),
        }
    }
}

/// Counts a session as waiting between attempts until dropped (also when the session is
/// cancelled during the wait).
pub(super) struct Waiting<'a>(&'a AtomicU64);

impl<'a> Waiting<'a> {
    pub(super) fn start(gauge: &'a AtomicU64) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        Waiting(gauge)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
