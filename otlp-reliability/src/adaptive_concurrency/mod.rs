//! An adaptive concurrency limit: as many attempts in flight as the collector answers without
//! slowing down or pushing back, found by additive increase and multiplicative decrease (AIMD)
//! on each attempt's round trip.
//!
//! Place it inside the retry layer, under the circuit breaker and over the per-attempt
//! timeout, so that each attempt is measured on its own: a round trip measured around a whole
//! retry sequence would include backoff sleeps, and a request throttled then accepted would
//! never count as back pressure. What counts as back pressure is decided by a
//! [`Classify`] ([`Load`](crate::Load)): with [`OtlpClassify`](crate::OtlpClassify),
//! throttling (429, `RESOURCE_EXHAUSTED`), `UNAVAILABLE` / 502 / 503, timeouts (the server's or
//! the per-attempt one) and any server delay hint. See the `controller` module for the rules.
//!
//! A call waits for a slot in its [`ResponseFuture`] (not in `poll_ready`), so a caller's
//! deadline covers the wait; waiters are not served in order. A future dropped while waiting or
//! in flight gives its slot back without teaching the controller anything. A free slot is taken
//! without allocating; only a call that has to wait boxes its wait.
//!
//! ```
//! use otlp_reliability::adaptive_concurrency::{AdaptiveConcurrencyLayer, ConcurrencyConfig};
//! use otlp_reliability::OtlpClassify;
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), otlp_core::BoxError> {
//! let limit = AdaptiveConcurrencyLayer::new(ConcurrencyConfig::default(), OtlpClassify)?;
//! let stats = limit.clone();
//! let service = ServiceBuilder::new()
//!     .layer(limit)
//!     .service_fn(|request: u32| async move { Ok::<_, otlp_core::BoxError>(request) });
//! assert_eq!(service.oneshot(7).await?, 7);
//! assert_eq!(stats.stats().limit, 4); // the default initial limit
//! # Ok(()) }
//! ```

mod config;
mod controller;
mod future;
mod layer;

use std::sync::Arc;
use std::task::{Context, Poll};

use otlp_core::BoxError;
use tower::Service;

pub use config::{AdaptiveConfig, ConcurrencyConfig};
pub use future::ResponseFuture;
pub use layer::{AdaptiveConcurrencyLayer, ConcurrencyStats};

use crate::Classify;
use layer::Shared;

/// A service behind an adaptive (or fixed) concurrency limit; see the module docs.
#[derive(Clone)]
pub struct AdaptiveConcurrency<S, C> {
    inner: S,
    shared: Arc<Shared>,
    classify: C,
}

impl<S, C> std::fmt::Debug for AdaptiveConcurrency<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdaptiveConcurrency")
            .field("stats", &self.shared.stats())
            .finish_non_exhaustive()
    }
}

impl<S, C> AdaptiveConcurrency<S, C> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, by value.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, C, Request> Service<Request> for AdaptiveConcurrency<S, C>
where
    S: Service<Request, Error = BoxError> + Clone,
    C: Classify,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S, Request, S::Future, C>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The wait for a slot happens in the call's future, where the caller's deadline covers
        // it.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        ResponseFuture::new(
            Arc::clone(&self.shared),
            self.inner.clone(),
            request,
            self.classify.clone(),
        )
    }
}
