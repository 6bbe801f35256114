//! The layer, the state its services share, and the slot each attempt holds.

use std::sync::Arc;
use std::time::Duration;

use otlp_core::InvalidSetting;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;
use tower::Layer;

use super::config::ConcurrencyConfig;
use super::controller::{Controller, Outcome};
use super::AdaptiveConcurrency;
use crate::Classify;

/// What the limit is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConcurrencyStats {
    /// Attempts allowed in flight at once.
    pub limit: usize,
    /// Attempts in flight now.
    pub in_flight: usize,
    /// The smoothed round trip of answered attempts, once one was measured.
    pub rtt: Option<Duration>,
    /// Times the limit went up.
    pub increases: u64,
    /// Times the limit went down.
    pub decreases: u64,
}

pub(super) struct Shared {
    controller: Mutex<Controller>,
    freed: Notify,
}

impl Shared {
    pub(super) fn stats(&self) -> ConcurrencyStats {
        let controller = self.controller.lock();
        let (increases, decreases) = controller.adjustments();
        ConcurrencyStats {
            limit: controller.limit(),
            in_flight: controller.in_flight(),
            rtt: controller.rtt(),
            increases,
            decreases,
        }
    }

    /// A free slot now, if there is one.
    pub(super) fn try_acquire(self: &Arc<Self>) -> Option<Slot> {
        self.controller.lock().try_acquire().then(|| Slot {
            shared: Some(Arc::clone(self)),
        })
    }

    /// Waits for a free slot.
    pub(super) async fn acquire(self: Arc<Self>) -> Slot {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before the check, so a slot freed in between still wakes this waiter.
            freed.as_mut().enable();
            if let Some(slot) = self.try_acquire() {
                return slot;
            }
            freed.await;
        }
    }
}

/// One attempt's place under the limit. Dropped unfinished (the attempt was cancelled), it
/// gives the place back without a measurement.
pub(super) struct Slot {
    shared: Option<Arc<Shared>>,
}

impl Slot {
    pub(super) fn finish(mut self, rtt: Duration, outcome: Outcome) {
        if let Some(shared) = self.shared.take() {
            shared
                .controller
                .lock()
                .release(Instant::now(), rtt, outcome);
            shared.freed.notify_waiters();
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.controller.lock().cancel();
            shared.freed.notify_waiters();
        }
    }
}

/// Builds [`AdaptiveConcurrency`] services that share one limit (one per collector endpoint).
/// Clones share it too, so a clone kept aside reads [`stats`](Self::stats).
#[derive(Clone)]
pub struct AdaptiveConcurrencyLayer<C> {
    shared: Arc<Shared>,
    classify: C,
}

impl<C> std::fmt::Debug for AdaptiveConcurrencyLayer<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdaptiveConcurrencyLayer")
            .field("stats", &self.shared.stats())
            .finish_non_exhaustive()
    }
}

impl<C: Classify> AdaptiveConcurrencyLayer<C> {
    /// A limit per `config`, learning from failures as `classify` says.
    pub fn new(config: ConcurrencyConfig, classify: C) -> Result<Self, InvalidSetting> {
        config.validate()?;
        let now = Instant::now();
        let controller = match config {
            ConcurrencyConfig::Fixed(limit) => Controller::fixed(limit, now),
            ConcurrencyConfig::Adaptive(adaptive) => Controller::new(adaptive, now),
        };
        Ok(AdaptiveConcurrencyLayer {
            shared: Arc::new(Shared {
                controller: Mutex::new(controller),
                freed: Notify::new(),
            }),
            classify,
        })
    }

    /// The limit, what is in flight and the smoothed round trip, now.
    pub fn stats(&self) -> ConcurrencyStats {
        self.shared.stats()
    }
}

impl<S, C: Classify> Layer<S> for AdaptiveConcurrencyLayer<C> {
    type Service = AdaptiveConcurrency<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        AdaptiveConcurrency {
            inner,
            shared: Arc::clone(&self.shared),
            classify: self.classify.clone(),
        }
    }
}
