//! A bulkhead: at most N calls in flight, with a bounded wait for a free slot.
//!
//! tower's `ConcurrencyLimit` waits for a slot forever and `LoadShed` not at all; a telemetry
//! pipeline wants a short wait and then a clear, counted refusal. Past `max_wait`, `call` fails
//! with an [`otlp_core::Error`] of kind `BulkheadFull`, a local rejection.
//!
//! The wait happens in the call's [`ResponseFuture`], not in `poll_ready`, so that a caller's
//! deadline covers it and a refusal is the call's error. A free slot is taken without
//! allocating; only a call that has to wait boxes its place in the semaphore's queue (tokio's
//! `acquire_owned` future has no name).
//!
//! ```
//! use otlp_reliability::bulkhead::BulkheadLayer;
//! use std::time::Duration;
//! use tower::ServiceBuilder;
//!
//! let bulkhead = BulkheadLayer::new(8, Duration::from_millis(100))?;
//! let service = ServiceBuilder::new()
//!     .layer(bulkhead)
//!     .service_fn(|request: u32| async move { Ok::<_, otlp_core::BoxError>(request) });
//! # let _ = service;
//! # Ok::<(), otlp_core::InvalidSetting>(())
//! ```

mod future;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use otlp_core::{BoxError, InvalidSetting};
use tokio::sync::Semaphore;
use tower::{Layer, Service};

pub use future::ResponseFuture;

#[derive(Debug)]
struct Shared {
    slots: Arc<Semaphore>,
    max_concurrent: usize,
    max_wait: Duration,
    rejected: AtomicU64,
}

/// Builds [`Bulkhead`] services that share one set of slots.
#[derive(Debug, Clone)]
pub struct BulkheadLayer {
    shared: Arc<Shared>,
}

impl BulkheadLayer {
    /// At most `max_concurrent` calls at once; a call waits at most `max_wait` for a slot.
    pub fn new(max_concurrent: usize, max_wait: Duration) -> Result<Self, InvalidSetting> {
        if max_concurrent == 0 || max_concurrent > Semaphore::MAX_PERMITS {
            return Err(InvalidSetting::new(
                "bulkhead.max_concurrent",
                max_concurrent.to_string(),
                "must be at least 1",
            ));
        }
        Ok(BulkheadLayer {
            shared: Arc::new(Shared {
                slots: Arc::new(Semaphore::new(max_concurrent)),
                max_concurrent,
                max_wait,
                rejected: AtomicU64::new(0),
            }),
        })
    }

    /// Calls refused because no slot freed up in time.
    pub fn rejected(&self) -> u64 {
        self.shared.rejected.load(Ordering::Relaxed)
    }

    /// Calls in flight now.
    pub fn in_flight(&self) -> usize {
        self.shared.max_concurrent - self.shared.slots.available_permits()
    }
}

impl<S> Layer<S> for BulkheadLayer {
    type Service = Bulkhead<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Bulkhead {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// A service behind a bulkhead; see the module docs.
#[derive(Debug, Clone)]
pub struct Bulkhead<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Bulkhead<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, Request> Service<Request> for Bulkhead<S>
where
    S: Service<Request, Error = BoxError> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S, Request, S::Future>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The bounded wait happens in the call's future, where it can time out.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        ResponseFuture::new(Arc::clone(&self.shared), self.inner.clone(), request)
    }
}
