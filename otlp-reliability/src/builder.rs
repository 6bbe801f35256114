//! `ServiceBuilder` methods for the reliability layers, so a stack reads as one chain.

use std::time::Duration;

use otlp_core::InvalidSetting;
use tower::layer::util::Stack;
use tower::timeout::TimeoutLayer;
use tower::ServiceBuilder;

use crate::adaptive_concurrency::{AdaptiveConcurrencyLayer, ConcurrencyConfig};
use crate::bulkhead::BulkheadLayer;
use crate::circuit_breaker::{BreakerConfig, CircuitBreakerLayer};
use crate::retry::{RetryConfig, RetryLayer};
use crate::Classify;

/// Adds the reliability layers to a `tower::ServiceBuilder`.
///
/// ```
/// use otlp_reliability::{OtlpClassify, ReliabilityBuilderExt};
/// use otlp_reliability::adaptive_concurrency::ConcurrencyConfig;
/// use otlp_reliability::circuit_breaker::BreakerConfig;
/// use otlp_reliability::retry::RetryConfig;
/// use std::time::Duration;
/// use tower::ServiceBuilder;
///
/// let service = ServiceBuilder::new()
///     .bulkhead(16, Duration::from_millis(50))?
///     .retry_with(RetryConfig::default(), OtlpClassify)?
///     .circuit_breaker("collector", BreakerConfig::default(), OtlpClassify)?
///     .adaptive_concurrency(ConcurrencyConfig::default(), OtlpClassify)?
///     .attempt_timeout(Duration::from_secs(10))
///     .service_fn(|request: u32| async move { Ok::<_, otlp_core::BoxError>(request) });
/// # let _ = service;
/// # Ok::<(), otlp_core::InvalidSetting>(())
/// ```
pub trait ReliabilityBuilderExt<L>: Sized {
    /// At most `max_concurrent` calls in flight, waiting at most `max_wait` for a slot.
    fn bulkhead(
        self,
        max_concurrent: usize,
        max_wait: Duration,
    ) -> Result<ServiceBuilder<Stack<BulkheadLayer, L>>, InvalidSetting>;

    /// Retries per `config`, classifying failures with `classify`.
    fn retry_with<C: Classify>(
        self,
        config: RetryConfig,
        classify: C,
    ) -> Result<ServiceBuilder<Stack<RetryLayer<C>, L>>, InvalidSetting>;

    /// A circuit breaker named `name`.
    fn circuit_breaker<C: Classify>(
        self,
        name: &str,
        config: BreakerConfig,
        classify: C,
    ) -> Result<ServiceBuilder<Stack<CircuitBreakerLayer<C>, L>>, InvalidSetting>;

    /// A concurrency limit per `config` (adaptive by default), learning from failures as
    /// `classify` says.
    fn adaptive_concurrency<C: Classify>(
        self,
        config: ConcurrencyConfig,
        classify: C,
    ) -> Result<ServiceBuilder<Stack<AdaptiveConcurrencyLayer<C>, L>>, InvalidSetting>;

    /// tower's timeout, per attempt.
    fn attempt_timeout(self, timeout: Duration) -> ServiceBuilder<Stack<TimeoutLayer, L>>;
}

impl<L> ReliabilityBuilderExt<L> for ServiceBuilder<L> {
    fn bulkhead(
        self,
        max_concurrent: usize,
        max_wait: Duration,
    ) -> Result<ServiceBuilder<Stack<BulkheadLayer, L>>, InvalidSetting> {
        Ok(self.layer(BulkheadLayer::new(max_concurrent, max_wait)?))
    }

    fn retry_with<C: Classify>(
        self,
        config: RetryConfig,
        classify: C,
    ) -> Result<ServiceBuilder<Stack<RetryLayer<C>, L>>, InvalidSetting> {
        Ok(self.layer(RetryLayer::new(config, classify)?))
    }

    fn circuit_breaker<C: Classify>(
        self,
        name: &str,
        config: BreakerConfig,
        classify: C,
    ) -> Result<ServiceBuilder<Stack<CircuitBreakerLayer<C>, L>>, InvalidSetting> {
        Ok(self.layer(CircuitBreakerLayer::new(name, config, classify)?))
    }

    fn adaptive_concurrency<C: Classify>(
        self,
        config: ConcurrencyConfig,
        classify: C,
    ) -> Result<ServiceBuilder<Stack<AdaptiveConcurrencyLayer<C>, L>>, InvalidSetting> {
        Ok(self.layer(AdaptiveConcurrencyLayer::new(config, classify)?))
    }

    fn attempt_timeout(self, timeout: Duration) -> ServiceBuilder<Stack<TimeoutLayer, L>> {
        self.layer(TimeoutLayer::new(timeout))
    }
}
