//! Every collector endpoint's concurrency limit, also of endpoints a balancer discovers later:
//! read by `stats()` and the self-metrics, and added up per signal into the number of exports
//! its batch worker keeps in flight. An endpoint counts while its service lives: when a
//! balancer drops it (re-resolution or discovery no longer names it) and its last request has
//! finished, its limit leaves the sum and `stats().concurrency`.

use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use otlp_batch::ExportLimit;
use otlp_core::Signal;
use otlp_reliability::adaptive_concurrency::AdaptiveConcurrencyLayer;
use otlp_reliability::retry::RetryStats;
use otlp_reliability::OtlpClassify;
use parking_lot::Mutex;
use tower::Service;

use crate::stats::EndpointConcurrency;

/// One endpoint's limit, by its `<signal>:<endpoint>` name.
struct Entry {
    id: u64,
    name: String,
    limit: AdaptiveConcurrencyLayer<OtlpClassify>,
}

#[derive(Default)]
struct Entries {
    next_id: u64,
    live: Vec<Entry>,
}

/// The limits of every endpoint of every signal.
#[derive(Clone, Default)]
pub(crate) struct Limits {
    entries: Arc<Mutex<Entries>>,
}

impl Limits {
    /// Counts `limit` until the returned registration is dropped.
    pub(crate) fn add(
        &self,
        name: String,
        limit: AdaptiveConcurrencyLayer<OtlpClassify>,
    ) -> Registration {
        let mut entries = self.entries.lock();
        let id = entries.next_id;
        entries.next_id += 1;
        entries.live.push(Entry { id, name, limit });
        Registration {
            entries: Arc::downgrade(&self.entries),
            id,
        }
    }

    /// Each endpoint's limit, in flight count and smoothed round trip, now.
    pub(crate) fn all(&self) -> Vec<EndpointConcurrency> {
        self.entries
            .lock()
            .live
            .iter()
            .map(|entry| EndpointConcurrency {
                name: entry.name.clone(),
                stats: entry.limit.stats(),
            })
            .collect()
    }

    /// How many exports `signal`'s batch worker keeps in flight: the sum of the limits of its
    /// endpoints that are still in use, plus the exports of `retry`'s layer that are waiting
    /// out a delay between attempts (they hold no attempt at the collector, so a refused batch
    /// waiting for its retry does not stop the next batches), those at most as many again as
    /// the limits: exports hold their batches, and against a collector that refuses everything
    /// the queue's byte budget, not the retry waits, must stay what bounds memory. The retry
    /// layer is shared by the signals, so a wait of one signal counts for each. The worker reads
    /// this when it wakes (a batch ready, an export ended, its timer): a wait beginning does
    /// not wake it.
    pub(crate) fn export_limit(&self, signal: Signal, retry: Arc<RetryStats>) -> ExportLimit {
        let entries = Arc::clone(&self.entries);
        let prefix = format!("{signal}:");
        Arc::new(move || {
            let limits: usize = entries
                .lock()
                .live
                .iter()
                .filter(|entry| entry.name.starts_with(&prefix))
                .map(|entry| entry.limit.stats().limit)
                .sum();
            let waiting = usize::try_from(retry.snapshot().waiting).unwrap_or(usize::MAX);
            limits.saturating_add(waiting.min(limits.max(1)))
        })
    }
}

/// Keeps one endpoint's limit counted; dropping it removes the limit from the sum.
pub(crate) struct Registration {
    entries: Weak<Mutex<Entries>>,
    id: u64,
}

impl Registration {
    /// `service`, holding this registration for as long as it or a clone of it lives.
    pub(crate) fn held_by<S>(self, service: S) -> Registered<S> {
        Registered {
            inner: service,
            _registration: Arc::new(self),
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(entries) = self.entries.upgrade() {
            entries.lock().live.retain(|entry| entry.id != self.id);
        }
    }
}

/// An endpoint's service whose limit counts while any clone of it lives (the balancer's
/// endpoint, and each request in flight through it).
#[derive(Clone)]
pub(crate) struct Registered<S> {
    inner: S,
    _registration: Arc<Registration>,
}

impl<S: Service<R>, R> Service<R> for Registered<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp_reliability::adaptive_concurrency::ConcurrencyConfig;

    fn fixed(n: usize) -> AdaptiveConcurrencyLayer<OtlpClassify> {
        let config = ConcurrencyConfig::Fixed(n);
        AdaptiveConcurrencyLayer::new(config, OtlpClassify).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_limit_counts_until_the_last_clone_of_its_service_is_dropped() {
        let limits = Limits::default();
        let sum = limits.export_limit(Signal::Traces, Arc::default());
        let kept = limits.add("traces:a".into(), fixed(4)).held_by(());
        let dropped = limits.add("traces:b".into(), fixed(3)).held_by(());
        let _other_signal = limits.add("logs:b".into(), fixed(5)).held_by(());
        assert_eq!(sum(), 7);
        let in_flight = dropped.clone();
        drop(dropped);
        assert_eq!(sum(), 7, "a request in flight still holds it");
        drop(in_flight);
        assert_eq!(sum(), 4);
        let names: Vec<String> = limits.all().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["traces:a", "logs:b"]);
        drop(kept);
        assert_eq!(sum(), 0);
    }
}
