//! [`OneCall`]: waits for a service to be ready, then calls it once, as tower's `Oneshot`
//! does, but with the service's future as a type parameter rather than a projection
//! (`S::Future`). A future holding it is then `Send` by its fields alone: with `Oneshot`, rustc
//! must prove the inner layers' `Error = BoxError` bounds inside a spawned task, and fails for
//! a stack over a `service_fn` closure ("implementation of `From` is not general enough").

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use otlp_core::BoxError;
use pin_project_lite::pin_project;
use tower::Service;

pin_project! {
    /// One call of `inner` with `request`; see the module docs.
    #[project = OneCallProj]
    pub(crate) enum OneCall<S, Request, F> {
        Ready {
            inner: S,
            request: Option<Request>,
        },
        Calling {
            #[pin]
            future: F,
        },
        Done,
    }
}

impl<S, Request, F> OneCall<S, Request, F> {
    pub(crate) fn new(inner: S, request: Request) -> Self {
        OneCall::Ready {
            inner,
            request: Some(request),
        }
    }
}

impl<S, Request, F> Future for OneCall<S, Request, F>
where
    S: Service<Request, Future = F, Error = BoxError>,
    F: Future<Output = Result<S::Response, BoxError>>,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                OneCallProj::Ready { inner, request } => {
                    if let Err(error) = ready!(inner.poll_ready(cx)) {
                        self.set(OneCall::Done);
                        return Poll::Ready(Err(error));
                    }
                    let Some(request) = request.take() else {
                        panic!("{POLLED_AFTER_COMPLETION}");
                    };
                    let future = inner.call(request);
                    self.set(OneCall::Calling { future });
                }
                OneCallProj::Calling { future } => {
                    let result = ready!(future.poll(cx));
                    self.set(OneCall::Done);
                    return Poll::Ready(result);
                }
                OneCallProj::Done => panic!("{POLLED_AFTER_COMPLETION}"),
            }
        }
    }
}

/// The message of a future polled again after it returned `Ready`, as `async` bodies panic.
pub(crate) const POLLED_AFTER_COMPLETION: &str = "a response future polled after completion";
