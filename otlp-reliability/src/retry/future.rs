//! [`ResponseFuture`]: a [`Retry`](super::Retry) call, the whole retry session.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use otlp_core::BoxError;

/// The future of a [`Retry`](super::Retry) call: every attempt, the delays between them, the
/// budget and the deadline.
///
/// Unlike the other layers' futures it holds a boxed `async` body: one allocation per call
/// (one export), not per attempt, since the attempts are the inner service's own futures,
/// awaited inside it. Written out as a state machine, the session's waits (the attempt under
/// the deadline, the backoff, the budget's second chances) would each be a state; as one body
/// it reads as the rules in the module docs.
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
