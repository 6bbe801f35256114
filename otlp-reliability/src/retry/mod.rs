//! Retry with the OTLP classification, server delay hints, full jitter, a total deadline and a
//! shared retry budget.
//!
//! Each call is a retry session: it owns its random source (so concurrent sessions do not
//! retry in lockstep), sends clones of the same request (an `ExportRequest` clone shares its
//! encoded bytes), and stops at the first of: success, a failure that is not retryable,
//! `max_attempts`, or a next attempt that could not finish before the total deadline (its
//! start plus `attempt_timeout` past the deadline). A server-given delay (RetryInfo,
//! Retry-After) replaces the computed backoff; it is cut to [`otlp_core::MAX_RETRY_AFTER`], and
//! time arithmetic on it is checked, so no value from the network can overflow the clock. When
//! the shared retry budget denies a retry, the session waits another backoff interval and asks
//! again, as long as the deadline allows; a session that runs out of time this way fails with
//! [`BudgetExhausted`] (its source is the last attempt's error). Otherwise the error returned
//! is the last attempt's, so callers see the real cause; an attempt still running at the
//! deadline is abandoned, and the session returns the previous attempt's error, or
//! `DeadlineExceeded` when there was none.
//!
//! The call's [`ResponseFuture`] holds the session as a boxed `async` body: one allocation per
//! call, not per attempt (why boxed: its docs).
//!
//! ```
//! use otlp_reliability::retry::{RetryConfig, RetryLayer};
//! use otlp_reliability::OtlpClassify;
//! use std::time::Duration;
//! use tower::ServiceBuilder;
//!
//! let retry = RetryLayer::new(
//!     RetryConfig::default().with_max_attempts(4).with_total_timeout(Duration::from_secs(30)),
//!     OtlpClassify,
//! )?;
//! let stats = retry.stats();
//! let service = ServiceBuilder::new()
//!     .layer(retry)
//!     .timeout(Duration::from_secs(5)) // per attempt
//!     .service_fn(|request: u32| async move { Ok::<_, otlp_core::BoxError>(request) });
//! # let _ = (service, stats);
//! # Ok::<(), otlp_core::InvalidSetting>(())
//! ```

mod backoff;
mod config;
mod error;
mod future;
mod layer;
mod session;
mod stats;

use std::sync::Arc;
use std::task::{Context, Poll};

use otlp_core::BoxError;
use tower::retry::budget::TpsBudget;
use tower::Service;

pub use backoff::Backoff;
pub use config::{BudgetConfig, RetryConfig};
pub use error::BudgetExhausted;
pub use future::ResponseFuture;
pub use layer::RetryLayer;
pub use stats::{RetrySnapshot, RetryStats};

use crate::Classify;

/// What a retry session shares with its siblings.
pub(crate) struct Shared<C> {
    pub(crate) config: RetryConfig,
    pub(crate) classify: C,
    pub(crate) budget: Option<TpsBudget>,
    pub(crate) stats: Arc<RetryStats>,
}

/// Retries failed calls of the inner service; see the module docs.
pub struct Retry<S, C> {
    inner: S,
    shared: Arc<Shared<C>>,
}

impl<S: Clone, C> Clone for Retry<S, C> {
    fn clone(&self) -> Self {
        Retry {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S, C> std::fmt::Debug for Retry<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retry")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl<S, C> Retry<S, C> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The counters shared by the layer's services.
    pub fn stats(&self) -> Arc<RetryStats> {
        Arc::clone(&self.shared.stats)
    }
}

impl<S, C, Request> Service<Request> for Retry<S, C>
where
    S: Service<Request, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send,
    Request: Clone + Send + 'static,
    C: Classify,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Response>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Each attempt waits for the inner service's readiness on its own clone.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let inner = self.inner.clone();
        let shared = Arc::clone(&self.shared);
        ResponseFuture::new(Box::pin(session::session(inner, shared, request)))
    }
}
