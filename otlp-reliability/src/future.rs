//! [`ResponseFuture`]: the named future of the bulkhead, circuit breaker, adaptive concurrency
//! and retry calls, a boxed `async` body behind a name.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use otlp_core::BoxError;

/// The future of a [`Bulkhead`](crate::bulkhead::Bulkhead),
/// [`CircuitBreaker`](crate::circuit_breaker::CircuitBreaker),
/// [`AdaptiveConcurrency`](crate::adaptive_concurrency::AdaptiveConcurrency) or
/// [`Retry`](crate::retry::Retry) call.
///
/// The per-attempt timeout's and the spool's futures are state machines over the inner
/// future, as tower's are; these four hold a boxed `async` body instead, one allocation per
/// call (for the retry: per export, not per attempt). Each of these layers waits before it
/// calls the inner service (for a slot, for the limit, between attempts) and then calls a
/// clone of it, so a state machine would hold the inner service's own type
/// (`tower::util::Oneshot<S, _>`). A task spawned with such a call over a stack whose bottom
/// is a closure (`service_fn` with a `BoxError`) then fails to compile: rustc cannot prove the
/// state machine `Send` through the inner layers' `Error = BoxError` bounds ("implementation
/// of `From` is not general enough"; `tests/adaptive_concurrency.rs` spawns one). The box
/// hides the inner type. Moving the waits into `poll_ready` (tower's reservation pattern)
/// would change what callers see: the bulkhead's refusal and the open circuit's fast failure
/// are the call's error, and `poll_ready` stays ready while the circuit is open.
pub struct ResponseFuture<T> {
    body: BoxFuture<'static, Result<T, BoxError>>,
}

impl<T> ResponseFuture<T> {
    pub(crate) fn new(body: BoxFuture<'static, Result<T, BoxError>>) -> Self {
        ResponseFuture { body }
    }
}

impl<T> std::fmt::Debug for ResponseFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<T> Future for ResponseFuture<T> {
    type Output = Result<T, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.body.as_mut().poll(cx)
    }
}
