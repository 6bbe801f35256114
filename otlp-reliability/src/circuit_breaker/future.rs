//! [`ResponseFuture`]: a [`CircuitBreaker`](super::CircuitBreaker) call, refused at once or
//! holding its permit until the inner service answers, and the [`Permit`] that reports the
//! outcome to the circuit.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use otlp_core::BoxError;
use pin_project_lite::pin_project;
use tokio::time::Instant;
use tower::Service;

use super::handle::Shared;
use super::state::Outcome;
use crate::one_call::{OneCall, POLLED_AFTER_COMPLETION};
use crate::Classify;

pin_project! {
    /// The future of a [`CircuitBreaker`](super::CircuitBreaker) call: a refusal while the
    /// circuit is open, or the inner call, whose outcome the circuit learns when it ends.
    /// Dropped before that, it frees its permit (a probe's slot) without teaching the circuit
    /// anything.
    pub struct ResponseFuture<S, Request, F, C> {
        #[pin]
        state: State<S, Request, F, C>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, Request, F, C> {
        Rejected {
            error: Option<BoxError>,
        },
        Calling {
            #[pin]
            call: OneCall<S, Request, F>,
            permit: Option<Permit>,
            classify: C,
        },
    }
}

impl<S, Request, F, C> ResponseFuture<S, Request, F, C> {
    pub(super) fn rejected(error: BoxError) -> Self {
        ResponseFuture {
            state: State::Rejected { error: Some(error) },
        }
    }

    pub(super) fn new(inner: S, request: Request, permit: Permit, classify: C) -> Self {
        ResponseFuture {
            state: State::Calling {
                call: OneCall::new(inner, request),
                permit: Some(permit),
                classify,
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
        match self.project().state.project() {
            StateProj::Rejected { error } => match error.take() {
                Some(error) => Poll::Ready(Err(error)),
                None => panic!("{POLLED_AFTER_COMPLETION}"),
            },
            StateProj::Calling {
                call,
                permit,
                classify,
            } => {
                let result = ready!(call.poll(cx));
                let outcome = match &result {
                    Ok(_) => Outcome::Success,
                    Err(error) => {
                        let failure = classify.classify(error);
                        if failure.local {
                            Outcome::Ignored
                        } else if failure.is_backend_failure() {
                            Outcome::Failure
                        } else {
                            Outcome::Success
                        }
                    }
                };
                if let Some(permit) = permit.take() {
                    permit.finish(outcome);
                }
                Poll::Ready(result)
            }
        }
    }
}

/// Reports a permit's outcome, or frees it when the call's future is dropped first.
pub(super) struct Permit {
    pub(super) shared: Arc<Shared>,
    pub(super) generation: u64,
    pub(super) probe: bool,
    pub(super) started: Instant,
    pub(super) finished: bool,
}

impl Permit {
    pub(super) fn finish(mut self, outcome: Outcome) {
        self.finished = true;
        let duration = self.started.elapsed();
        self.shared
            .with_machine(|m, now| m.record(self.generation, self.probe, outcome, duration, now));
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.finished {
            let (generation, probe) = (self.generation, self.probe);
            self.shared.with_machine(|m, _| {
                m.release(generation, probe);
                None
            });
        }
    }
}
