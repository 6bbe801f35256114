//! [`ResponseFuture`]: an [`AdaptiveConcurrency`](super::AdaptiveConcurrency) call, from the
//! wait for a slot to the measured answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use otlp_core::BoxError;
use pin_project_lite::pin_project;
use tokio::time::Instant;
use tower::Service;

use super::controller::Outcome;
use super::layer::{Shared, Slot};
use crate::one_call::{OneCall, POLLED_AFTER_COMPLETION};
use crate::{Classify, Load};

/// A wait for a slot to free up: boxed, because it is an `async` body (a `Notify` wait in a
/// loop), and taken only when no slot is free.
type Waiting = Pin<Box<dyn Future<Output = Slot> + Send>>;

pin_project! {
    /// The future of an [`AdaptiveConcurrency`](super::AdaptiveConcurrency) call: takes a
    /// slot under the limit (waiting while none is free), calls the inner service, and reports
    /// the round trip and what the answer says about the collector's load. Dropped at any
    /// point, it gives its slot back without a measurement.
    pub struct ResponseFuture<S, Request, F, C> {
        shared: Arc<Shared>,
        classify: C,
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
            waiting: Waiting,
            inner: Option<S>,
            request: Option<Request>,
        },
        Calling {
            #[pin]
            call: OneCall<S, Request, F>,
            slot: Option<Slot>,
            started: Instant,
        },
        Done,
    }
}

impl<S, Request, F, C> ResponseFuture<S, Request, F, C> {
    pub(super) fn new(shared: Arc<Shared>, inner: S, request: Request, classify: C) -> Self {
        ResponseFuture {
            shared,
            classify,
            state: State::Start {
                inner: Some(inner),
                request: Some(request),
            },
        }
    }
}

impl<S, Request, F, C> Future for ResponseFuture<S, Request, F, C>
where
    S: Service<Request, Future = F, Error = BoxError>,
    F: Future<Output = Result<S::Response, BoxError>>,
    C: Classify,
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
                    match this.shared.try_acquire() {
                        Some(slot) => calling(inner, request, slot),
                        None => State::Waiting {
                            waiting: Box::pin(Arc::clone(this.shared).acquire()),
                            inner: Some(inner),
                            request: Some(request),
                        },
                    }
                }
                StateProj::Waiting {
                    waiting,
                    inner,
                    request,
                } => {
                    let slot = ready!(waiting.as_mut().poll(cx));
                    let (Some(inner), Some(request)) = (inner.take(), request.take()) else {
                        panic!("{POLLED_AFTER_COMPLETION}");
                    };
                    calling(inner, request, slot)
                }
                StateProj::Calling {
                    call,
                    slot,
                    started,
                } => {
                    let result = ready!(call.poll(cx));
                    let outcome = match &result {
                        Ok(_) => Outcome::Answered,
                        Err(error) => match this.classify.load(error) {
                            Load::Overloaded => Outcome::BackPressure,
                            Load::Answered => Outcome::Answered,
                            Load::Unknown => Outcome::Unmeasured,
                        },
                    };
                    if let Some(slot) = slot.take() {
                        slot.finish(started.elapsed(), outcome);
                    }
                    this.state.set(State::Done);
                    return Poll::Ready(result);
                }
                StateProj::Done => panic!("{POLLED_AFTER_COMPLETION}"),
            };
            this.state.set(next);
        }
    }
}

/// The call on the inner service, its round trip measured from now.
fn calling<S, Request, F>(inner: S, request: Request, slot: Slot) -> State<S, Request, F> {
    State::Calling {
        call: OneCall::new(inner, request),
        slot: Some(slot),
        started: Instant::now(),
    }
}
