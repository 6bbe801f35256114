//! [`AttemptTimeout`]: tower's timeout for one attempt, whose `Elapsed` becomes an
//! `otlp_core::Error` of kind `Timeout` right here, so every layer above classifies it through
//! otlp-core like any other failure (and nothing else needs to know tower's error type).

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use otlp_core::{BoxError, Error, ErrorKind};
use pin_project_lite::pin_project;
use tower::timeout::Timeout;
use tower::{Layer, Service};

/// Fails an attempt that takes longer than `timeout` with a retryable
/// [`ErrorKind::Timeout`] error (its source is tower's `Elapsed`).
///
/// ```
/// use otlp_reliability::timeout::AttemptTimeoutLayer;
/// use std::time::Duration;
/// use tower::ServiceBuilder;
///
/// let service = ServiceBuilder::new()
///     .layer(AttemptTimeoutLayer::new(Duration::from_secs(10)))
///     .service_fn(|request: u32| async move { Ok::<_, otlp_core::BoxError>(request) });
/// # let _ = service;
/// ```
#[derive(Debug, Clone)]
pub struct AttemptTimeout<S> {
    inner: Timeout<S>,
    timeout: Duration,
}

impl<S> AttemptTimeout<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, timeout: Duration) -> Self {
        AttemptTimeout {
            inner: Timeout::new(inner, timeout),
            timeout,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        self.inner.get_ref()
    }
}

/// Makes [`AttemptTimeout`] services.
#[derive(Debug, Clone, Copy)]
pub struct AttemptTimeoutLayer {
    timeout: Duration,
}

impl AttemptTimeoutLayer {
    /// A layer failing attempts after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        AttemptTimeoutLayer { timeout }
    }
}

impl<S> Layer<S> for AttemptTimeoutLayer {
    type Service = AttemptTimeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AttemptTimeout::new(inner, self.timeout)
    }
}

/// Maps tower's `Elapsed` to an `otlp_core::Error`; other errors pass unchanged.
fn map(error: BoxError, timeout: Duration) -> BoxError {
    if error.is::<tower::timeout::error::Elapsed>() {
        let message = format!("no answer within the attempt timeout of {timeout:?}");
        return Error::new(ErrorKind::Timeout, message)
            .with_source(error)
            .into();
    }
    error
}

pin_project! {
    /// The future of an [`AttemptTimeout`] call: tower's timeout future, its `Elapsed` mapped
    /// to an `otlp_core::Error` of kind `Timeout`.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: tower::timeout::future::ResponseFuture<F>,
        timeout: Duration,
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        Poll::Ready(result.map_err(|e| map(e, *this.timeout)))
    }
}

impl<S, R> Service<R> for AttemptTimeout<S>
where
    S: Service<R>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let timeout = self.timeout;
        self.inner.poll_ready(cx).map_err(|e| map(e, timeout))
    }

    fn call(&mut self, request: R) -> Self::Future {
        ResponseFuture {
            inner: self.inner.call(request),
            timeout: self.timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test(start_paused = true)]
    async fn an_elapsed_attempt_is_an_otlp_timeout() {
        let hanging = tower::service_fn(|_: u32| std::future::pending::<Result<u32, BoxError>>());
        let error = AttemptTimeout::new(hanging, Duration::from_secs(1))
            .oneshot(1)
            .await
            .unwrap_err();
        let class = otlp_core::classify(error.as_ref());
        assert_eq!(class.kind, Some(ErrorKind::Timeout));
        assert!(class.retryable && !class.local);
    }
}
