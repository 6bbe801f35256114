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
        }
    }
}

pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
