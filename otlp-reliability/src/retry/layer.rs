//! [`RetryLayer`]: builds [`Retry`] services that share one budget and one set of counters.

use std::sync::Arc;

use otlp_core::InvalidSetting;
use tower::retry::budget::TpsBudget;
use tower::Layer;

use super::{Retry, RetryConfig, RetryStats, Shared};
use crate::Classify;

/// Wraps services in [`Retry`]; every service it makes shares the retry budget and counters.
pub struct RetryLayer<C> {
    shared: Arc<Shared<C>>,
}

impl<C> Clone for RetryLayer<C> {
    fn clone(&self) -> Self {
        RetryLayer {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C> std::fmt::Debug for RetryLayer<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryLayer")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl<C: Classify> RetryLayer<C> {
    /// A layer with `config`, classifying failures with `classify`.
    pub fn new(config: RetryConfig, classify: C) -> Result<Self, InvalidSetting> {
        config.validate()?;
        let budget = config
            .budget
            .map(|b| TpsBudget::new(b.window, b.min_retries_per_second, b.retry_ratio));
        Ok(RetryLayer {
            shared: Arc::new(Shared {
                config,
                classify,
                budget,
                stats: Arc::new(RetryStats::default()),
            }),
        })
    }

    /// The counters shared by every service of this layer.
    pub fn stats(&self) -> Arc<RetryStats> {
        Arc::clone(&self.shared.stats)
    }
}

impl<S, C> Layer<S> for RetryLayer<C> {
    type Service = Retry<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Retry {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}
