//! [`Sink`]: the one always-ready service at the bottom of the batch processors and of a
//! custom exporter's stack. Back pressure comes from the layers and the worker above it, so
//! `poll_ready` never waits; each call is one [`Export`].

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use opentelemetry_sdk::trace::SpanData;
use otlp_batch::{Batch, LogItem};
use otlp_core::{BoxError, ExportOutcome, Telemetry};
use tower::Service;

use super::SignalSender;
use crate::custom::CustomExporter;

/// Exports one request of type `R`.
pub(crate) trait Export<R>: Clone + Send + 'static {
    /// The export of `request`, owning what it needs.
    fn export(&self, request: R) -> BoxFuture<'static, Result<ExportOutcome, BoxError>>;
}

/// `E` as a tower service that is always ready.
#[derive(Clone)]
pub(crate) struct Sink<E>(pub(crate) E);

impl<R, E: Export<R>> Service<R> for Sink<E> {
    type Response = ExportOutcome;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<ExportOutcome, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.0.export(request)
    }
}

/// The span batch processor's exporter.
impl Export<Batch<SpanData>> for SignalSender {
    fn export(
        &self,
        batch: Batch<SpanData>,
    ) -> BoxFuture<'static, Result<ExportOutcome, BoxError>> {
        let sender = self.clone();
        Box::pin(async move {
            let prepared = sender.spans(batch.items, &batch.resource)?;
            Ok(sender.send(prepared, &batch.progress).await)
        })
    }
}

/// The log batch processor's exporter.
impl Export<Batch<LogItem>> for SignalSender {
    fn export(&self, batch: Batch<LogItem>) -> BoxFuture<'static, Result<ExportOutcome, BoxError>> {
        let sender = self.clone();
        Box::pin(async move {
            let prepared = sender.logs(&batch.items, &batch.resource)?;
            Ok(sender.send(prepared, &batch.progress).await)
        })
    }
}

/// A custom exporter at the bottom of its reliability stack.
impl Export<Arc<Telemetry>> for Arc<dyn CustomExporter> {
    fn export(&self, batch: Arc<Telemetry>) -> BoxFuture<'static, Result<ExportOutcome, BoxError>> {
        CustomExporter::export(self.as_ref(), batch)
    }
}
