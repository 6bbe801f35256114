//! [`ResponseFuture`]: a [`Bulkhead`](super::Bulkhead) call, from the wait for a slot to the
//! inner service's answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use otlp_core::{BoxError, Error, ErrorKind};
use pin_project_lite::pin_project;
use tokio::sync::{AcquireError, OwnedSemaphorePermit, TryAcquireError};
use tokio::time::Timeout;
use tower::Service;

use super::Shared;
use crate::one_call::{OneCall, POLLED_AFTER_COMPLETION};

/// A place in the semaphore's queue: boxed, because tokio's `acquire_owned` future has no name.
type Queued = Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send>>;

pin_project! {
    /// The future of a [`Bulkhead`](super::Bulkhead) call: takes a slot (waiting at most the
    /// bulkhead's `max_wait`), then calls the inner service and holds the slot until it
    /// answers. Dropped at any point, it gives its slot back.
    pub struct ResponseFuture<S, Request, F> {
        shared: Arc<Shared>,
        #[pin]
        state: State<S, Request, F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, Request, F> {
        // Not polled yet: the slot is asked for at the first poll, as an `async` body would.
        Start {
            inner: Option<S>,
            request: Option<Request>,
        },
        Waiting {
            #[pin]
            queued: Timeout<Queued>,
            inner: Option<S>,
            request: Option<Request>,
        },
        Calling {
            #[pin]
            call: OneCall<S, Request, F>,
            _slot: OwnedSemaphorePermit,
        },
        Done,
    }
}

impl<S, Request, F> ResponseFuture<S, Request, F> {
    pub(super) fn new(shared: Arc<Shared>, inner: S, request: Request) -> Self {
        ResponseFuture {
            shared,
            state: State::Start {
                inner: Some(inner),
                request: Some(request),
            },
        }
    }
}

impl<S, Request, F> Future for ResponseFuture<S, Request, F>
where
    S: Service<Request, Future = F, Error = BoxError>,
    F: Future<Output = Result<S::Response, BoxError>>,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.state.as_mut().project() {
                StateProj::Start { inner, request } => {
                    let (Some(inner), Some(request)) = (inner.take(), request.take()) else {
                        panic!("{POLLED_AFTER_COMPLETION}");
                    };
                    match Arc::clone(&this.shared.slots).try_acquire_owned() {
                        Ok(slot) => calling(inner, request, slot),
                        Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => {
                            let queued: Queued =
                                Box::pin(Arc::clone(&this.shared.slots).acquire_owned());
                            State::Waiting {
                                queued: tokio::time::timeout(this.shared.max_wait, queued),
                                inner: Some(inner),
                                request: Some(request),
                            }
                        }
                    }
                }
                StateProj::Waiting {
                    queued,
                    inner,
                    request,
                } => {
                    let waited = ready!(queued.poll(cx));
                    match (waited, inner.take(), request.take()) {
                        (Ok(Ok(slot)), Some(inner), Some(request)) => calling(inner, request, slot),
                        _ => {
                            this.state.set(State::Done);
                            this.shared.rejected.fetch_add(1, Ordering::Relaxed);
                            let message = format!(
                                "all {} slots busy for {:?}",
                                this.shared.max_concurrent, this.shared.max_wait
                            );
                            let error = Error::new(ErrorKind::BulkheadFull, message);
                            return Poll::Ready(Err(error.into()));
                        }
                    }
                }
                StateProj::Calling { call, .. } => {
                    let result = ready!(call.poll(cx));
                    // Frees the slot.
                    this.state.set(State::Done);
                    return Poll::Ready(result);
                }
                StateProj::Done => panic!("{POLLED_AFTER_COMPLETION}"),
            };
            this.state.set(next);
        }
    }
}

/// The call on the inner service, holding `slot` until it answers.
fn calling<S, Request, F>(
    inner: S,
    request: Request,
    slot: OwnedSemaphorePermit,
) -> State<S, Request, F> {
    State::Calling {
        call: OneCall::new(inner, request),
        _slot: slot,
    }
}
