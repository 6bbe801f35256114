//! Every collector endpoint's concurrency limit, also of endpoints a balancer discovers later:
//! read by `stats()` and the self-metrics, and added up per signal into the number of exports
//! its batch worker keeps in flight.

use std::sync::Arc;

use otlp_batch::ExportLimit;
use otlp_core::Signal;
use otlp_reliability::adaptive_concurrency::AdaptiveConcurrencyLayer;
use otlp_reliability::OtlpClassify;
use parking_lot::Mutex;

use crate::stats::EndpointConcurrency;

/// One endpoint's limit, by its `<signal>:<endpoint>` name.
type Entry = (String, AdaptiveConcurrencyLayer<OtlpClassify>);

/// The limits of every endpoint of every signal.
#[derive(Clone, Default)]
pub(crate) struct Limits {
    entries: Arc<Mutex<Vec<Entry>>>,
}

impl Limits {
    pub(crate) fn add(&self, name: String, limit: AdaptiveConcurrencyLayer<OtlpClassify>) {
        self.entries.lock().push((name, limit));
    }

    /// Each endpoint's limit, in flight count and smoothed round trip, now.
    pub(crate) fn all(&self) -> Vec<EndpointConcurrency> {
        self.entries
            .lock()
            .iter()
            .map(|(name, limit)| EndpointConcurrency {
                name: name.clone(),
                stats: limit.stats(),
            })
            .collect()
    }

    /// How many exports `signal`'s batch worker keeps in flight: the sum of its endpoints'
    /// limits. An endpoint a balancer dropped still counts (its limit no longer moves); the
    /// batch settings' `max_concurrent_exports` caps the sum.
    pub(crate) fn export_limit(&self, signal: Signal) -> ExportLimit {
        let entries = Arc::clone(&self.entries);
        let prefix = format!("{signal}:");
        Arc::new(move || {
            entries
                .lock()
                .iter()
                .filter(|(name, _)| name.starts_with(&prefix))
                .map(|(_, limit)| limit.stats().limit)
                .sum()
        })
    }
}
