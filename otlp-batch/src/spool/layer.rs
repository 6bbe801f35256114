//! The spool as a tower layer: every request is appended to the disk spool before the inner
//! service sends it, and settled by the answer ([`InFlight`](super::in_flight::InFlight)).
//!
//! A failure that may pass is answered with `Ok` and the request's items in
//! [`ExportOutcome::deferred`]: they are not lost, they wait in the spool, and the replay task
//! ([`replay`](super::replay)) sends them again. A permanent refusal passes through as the
//! inner error. When the spool cannot take a request (a full disk, an I/O error), it is sent
//! without it, with a warning, and counted in the spool's `write_errors`.
//!
//! ```
//! use otlp_batch::spool::{Spool, SpoolConfig, SpoolLayer};
//! use otlp_core::{BoxError, Encoding, ExportOutcome, ExportRequest, Signal};
//! use std::sync::Arc;
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let dir = std::env::temp_dir().join(format!("otlp-doc-spool-{}", std::process::id()));
//! let spool = Arc::new(Spool::open(SpoolConfig::new(&dir))?);
//! let transport = tower::service_fn(|request: ExportRequest| async move {
//!     Ok::<_, BoxError>(ExportOutcome::accepted(request.items))
//! });
//! let service = ServiceBuilder::new()
//!     .layer(SpoolLayer::new(Arc::clone(&spool)))
//!     .service(transport);
//! let request = ExportRequest::new(Signal::Traces, Encoding::Protobuf, "x".into(), 1);
//! let outcome = service.oneshot(request).await?;
//! assert_eq!(outcome.accepted, 1);
//! assert_eq!(spool.stats().pending, 0, "acknowledged");
//! # std::fs::remove_dir_all(dir)?;
//! # Ok::<(), BoxError>(())
//! # })?;
//! # Ok::<(), BoxError>(())
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use otlp_core::{BoxError, ExportOutcome, ExportRequest};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::in_flight::{InFlight, Settled};
use super::Spool;

/// Wraps a service in [`SpoolService`].
#[derive(Debug, Clone)]
pub struct SpoolLayer {
    spool: Arc<Spool>,
}

impl SpoolLayer {
    /// A layer appending to `spool`.
    pub fn new(spool: Arc<Spool>) -> Self {
        SpoolLayer { spool }
    }
}

impl<S> Layer<S> for SpoolLayer {
    type Service = SpoolService<S>;

    fn layer(&self, inner: S) -> SpoolService<S> {
        SpoolService {
            inner,
            spool: Arc::clone(&self.spool),
        }
    }
}

/// Appends each request to the spool before sending it; see the `otlp_batch::spool` module docs.
#[derive(Debug, Clone)]
pub struct SpoolService<S> {
    inner: S,
    spool: Arc<Spool>,
}

impl<S> SpoolService<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S> Service<ExportRequest> for SpoolService<S>
where
    S: Service<ExportRequest, Response = ExportOutcome, Error = BoxError>,
{
    type Response = ExportOutcome;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: ExportRequest) -> Self::Future {
        let items = request.items;
        let in_flight = match self.spool.append(&request) {
            Ok(id) => Some(InFlight::new(Arc::clone(&self.spool), id)),
            Err(error) => {
                tracing::warn!(%error, "cannot write to the spool; sending without it");
                None
            }
        };
        super::in_flight::note_append(in_flight.is_some());
        ResponseFuture {
            future: self.inner.call(request),
            in_flight,
            items,
        }
    }
}

pin_project! {
    /// The future of a [`SpoolService`] call: the inner call, then the spool record settled by
    /// its answer. Dropped first, it releases the record for a replay.
    pub struct ResponseFuture<F> {
        #[pin]
        future: F,
        in_flight: Option<InFlight>,
        items: usize,
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<ExportOutcome, BoxError>>,
{
    type Output = Result<ExportOutcome, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.future.poll(cx));
        let items = *this.items;
        let Some(in_flight) = this.in_flight.take() else {
            return Poll::Ready(result);
        };
        Poll::Ready(match (in_flight.settle(&result), result) {
            (Settled::Deferred, Err(error)) => {
                tracing::warn!(items, %error, "export failed; kept in the spool for a replay");
                Ok(ExportOutcome {
                    deferred: items,
                    ..ExportOutcome::default()
                })
            }
            (_, result) => result,
        })
    }
}
