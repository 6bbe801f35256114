//! A credential hook: headers supplied per attempt by a user's async function, for tokens that
//! expire (OAuth client credentials, cloud workload identity).
//!
//! [`Credentials`] calls its [`CredentialSource`] before every attempt and sets the headers it
//! returns on the request ([`ExportRequest::headers`]); the transport sends them after its
//! configured headers, replacing one of the same name. Placed under the retry layer, each retry
//! asks again, so a token refreshed meanwhile is used at once. The hook is called once per
//! attempt: a hook that fetches tokens over the network should cache them until shortly before
//! they expire.
//!
//! A hook that fails says whether trying again may help ([`CredentialError::retryable`], e.g.
//! the token service timed out) or not ([`CredentialError::permanent`], e.g. the client secret
//! was refused); the export fails as `Unavailable` (retried per the retry policy) or `Rejected`
//! (not retried). Header values never appear in any error, log or `Debug` output.
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), otlp_core::BoxError> {
//! use otlp_core::RequestHeaders;
//! use otlp_transport::credentials::{CredentialError, CredentialsLayer};
//! use otlp_transport::http::{HttpConfig, HttpTransport};
//! use tower::ServiceBuilder;
//!
//! let hook = || async {
//!     let token = "fetched-or-cached-token"; // e.g. from an OAuth token endpoint
//!     let mut headers = RequestHeaders::new();
//!     headers.insert("authorization", format!("Bearer {token}"));
//!     Ok::<_, CredentialError>(headers)
//! };
//! let transport = HttpTransport::new(HttpConfig::from_base_endpoint("http://127.0.0.1:4318")?)?;
//! let service = ServiceBuilder::new()
//!     .layer(CredentialsLayer::new(hook))
//!     .service(transport);
//! # drop(service);
//! # Ok(()) }
//! ```

mod error;

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, ExportOutcome, ExportRequest, RequestHeaders};
use tower::{Layer, Service};

pub use error::CredentialError;

/// Supplies the headers of one attempt. Implemented for every
/// `Fn() -> impl Future<Output = Result<RequestHeaders, CredentialError>>`.
pub trait CredentialSource: Send + Sync + 'static {
    /// The headers for the next attempt.
    fn headers(&self) -> BoxFuture<'static, Result<RequestHeaders, CredentialError>>;
}

impl<F, Fut> CredentialSource for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<RequestHeaders, CredentialError>> + Send + 'static,
{
    fn headers(&self) -> BoxFuture<'static, Result<RequestHeaders, CredentialError>> {
        Box::pin(self())
    }
}

/// Sets the headers of a [`CredentialSource`] on every request before passing it on.
#[derive(Clone)]
pub struct Credentials<S> {
    inner: S,
    source: Arc<dyn CredentialSource>,
}

impl<S> std::fmt::Debug for Credentials<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials")
    }
}

impl<S> Credentials<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, source: impl CredentialSource) -> Self {
        Credentials {
            inner,
            source: Arc::new(source),
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, by value.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The layer of [`Credentials`].
#[derive(Clone)]
pub struct CredentialsLayer {
    source: Arc<dyn CredentialSource>,
}

impl std::fmt::Debug for CredentialsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialsLayer")
    }
}

impl CredentialsLayer {
    /// A layer that asks `source` for headers before every attempt.
    pub fn new(source: impl CredentialSource) -> Self {
        CredentialsLayer {
            source: Arc::new(source),
        }
    }

    /// The same, from a shared source.
    pub fn from_shared(source: Arc<dyn CredentialSource>) -> Self {
        CredentialsLayer { source }
    }
}

impl<S> Layer<S> for CredentialsLayer {
    type Service = Credentials<S>;

    fn layer(&self, inner: S) -> Credentials<S> {
        Credentials {
            inner,
            source: Arc::clone(&self.source),
        }
    }
}

impl<S> Service<ExportRequest> for Credentials<S>
where
    S: Service<ExportRequest, Response = ExportOutcome, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = ExportOutcome;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<ExportOutcome, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: ExportRequest) -> Self::Future {
        // The clone that was polled ready is the one that is called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let source = Arc::clone(&self.source);
        Box::pin(async move {
            let headers = source.headers().await.map_err(|error| {
                tracing::warn!(retryable = error.is_retryable(), error = %error, "credential hook failed");
                BoxError::from(error.into_error())
            })?;
            for (name, value) in headers.iter() {
                request.headers.insert(name, value);
            }
            inner.call(request).await
        })
    }
}
