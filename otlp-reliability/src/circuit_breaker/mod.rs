//! A circuit breaker as a tower layer, with count- or time-based windows, consecutive-failure
//! and slow-call triggers, growing open times, N half-open probes shared by every clone,
//! manual control, and state-change events.
//!
//! While the circuit is open, `poll_ready` stays ready and `call` fails at once with an
//! [`otlp_core::Error`] of kind `CircuitOpen` whose `retry_after` is the time until the next
//! probe. Which failures count is decided by a [`Classify`]: only backend failures
//! ([`Failure::is_backend_failure`](crate::Failure::is_backend_failure)) do; local rejections
//! and refused requests do not. A probe whose future is dropped frees its slot.
//!
//! ```
//! use otlp_reliability::circuit_breaker::{BreakerConfig, CircuitBreakerLayer, CircuitState};
//! use otlp_reliability::OtlpClassify;
//! use tower::ServiceBuilder;
//!
//! let breaker = CircuitBreakerLayer::new("collector-a", BreakerConfig::default().with_consecutive_failures(5), OtlpClassify)?;
//! let handle = breaker.handle();
//! let service = ServiceBuilder::new()
//!     .layer(breaker)
//!     .service_fn(|request: u32| async move { Ok::<_, otlp_core::BoxError>(request) });
//! assert_eq!(handle.state(), CircuitState::Closed);
//! # let _ = service;
//! # Ok::<(), otlp_core::InvalidSetting>(())
//! ```

mod config;
mod future;
mod handle;
mod state;

use std::sync::Arc;
use std::task::{Context, Poll};

use otlp_core::{BoxError, Error, ErrorKind, InvalidSetting};
use tokio::time::Instant;
use tower::{Layer, Service};

pub use config::{BreakerConfig, Window};
pub use future::ResponseFuture;
pub use handle::{BreakerEvent, BreakerHandle, BreakerStats};
pub use state::CircuitState;
// The pure state machine under the layer: public for the model test in `tests/`, not part of
// the API.
#[doc(hidden)]
pub use state::{Admission, Machine, Outcome, Transition};

use crate::Classify;
use future::Permit;
use handle::Shared;

/// Builds [`CircuitBreaker`] services that share one circuit.
#[derive(Clone)]
pub struct CircuitBreakerLayer<C> {
    shared: Arc<Shared>,
    classify: C,
}

impl<C> std::fmt::Debug for CircuitBreakerLayer<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreakerLayer")
            .field("name", &self.shared.name)
            .finish_non_exhaustive()
    }
}

impl<C: Classify> CircuitBreakerLayer<C> {
    /// A closed circuit named `name` (used in errors, events and health reports).
    pub fn new(
        name: impl Into<String>,
        config: BreakerConfig,
        classify: C,
    ) -> Result<Self, InvalidSetting> {
        config.validate()?;
        Ok(CircuitBreakerLayer {
            shared: Arc::new(Shared::new(name.into(), Machine::new(config))),
            classify,
        })
    }

    /// Control and observation of the circuit.
    pub fn handle(&self) -> BreakerHandle {
        BreakerHandle::new(Arc::clone(&self.shared))
    }
}

impl<S, C: Clone> Layer<S> for CircuitBreakerLayer<C> {
    type Service = CircuitBreaker<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreaker {
            inner,
            shared: Arc::clone(&self.shared),
            classify: self.classify.clone(),
        }
    }
}

/// A service behind a circuit breaker; clones share the circuit.
#[derive(Clone)]
pub struct CircuitBreaker<S, C> {
    inner: S,
    shared: Arc<Shared>,
    classify: C,
}

impl<S, C> std::fmt::Debug for CircuitBreaker<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.shared.name)
            .finish_non_exhaustive()
    }
}

impl<S, C> CircuitBreaker<S, C> {
    /// Control and observation of the circuit.
    pub fn handle(&self) -> BreakerHandle {
        BreakerHandle::new(Arc::clone(&self.shared))
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, C, Request> Service<Request> for CircuitBreaker<S, C>
where
    S: Service<Request, Error = BoxError> + Clone,
    C: Classify,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S, Request, S::Future, C>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Ready even while open, so that `call` can fail fast; the inner service's readiness
        // is awaited on a clone inside the call.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let admission = self.shared.with_machine_admit();
        let (generation, probe) = match admission {
            Admission::Permit { generation, probe } => (generation, probe),
            Admission::Reject { retry_after } => {
                self.shared.count_rejection();
                let mut error = Error::new(
                    ErrorKind::CircuitOpen,
                    format!("circuit breaker {:?} is open", self.shared.name),
                );
                if let Some(delay) = retry_after {
                    error = error.with_retry_after(delay);
                }
                return ResponseFuture::rejected(error.into());
            }
        };
        let permit = Permit {
            shared: Arc::clone(&self.shared),
            generation,
            probe,
            started: Instant::now(),
            finished: false,
        };
        ResponseFuture::new(self.inner.clone(), request, permit, self.classify.clone())
    }
}
