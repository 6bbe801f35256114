//! The services the batch processors and the metric reader export through: encode once, send
//! every request through the signal's stack, and report what the collector accepted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::LogBatch;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::SpanData;
use otlp_batch::{Batch, LogItem};
use otlp_core::encode::{encode_logs, encode_metrics, encode_spans, EncodeOptions, Encoded};
use otlp_core::{BoxError, ExportOutcome};
use tokio::runtime::Handle;
use tower::{Service, ServiceExt};

use crate::stack::ExportService;

/// Counters of one signal's exports, as requests leave the pipeline.
#[derive(Debug, Default)]
pub(crate) struct ExportCounters {
    pub(crate) requests: AtomicU64,
    pub(crate) failed_requests: AtomicU64,
    pub(crate) items_exported: AtomicU64,
    pub(crate) items_rejected: AtomicU64,
    pub(crate) items_failed: AtomicU64,
    pub(crate) items_too_large: AtomicU64,
    pub(crate) duration_micros: AtomicU64,
}

/// Sends encoded requests of one signal through its stack.
#[derive(Clone)]
pub(crate) struct SignalSender {
    pub(crate) service: ExportService,
    pub(crate) options: EncodeOptions,
    pub(crate) counters: Arc<ExportCounters>,
}

impl SignalSender {
    /// Sends every request of `encoded`, one after another, and adds up the outcome. A failed
    /// request is logged and counted; its items are neither accepted nor rejected, which the
    /// batch processor counts as failed.
    async fn send(&self, encoded: Encoded) -> ExportOutcome {
        let started = tokio::time::Instant::now();
        let counters = &self.counters;
        let mut total = ExportOutcome::default();
        counters
            .items_too_large
            .fetch_add(encoded.too_large as u64, Ordering::Relaxed);
        if encoded.too_large > 0 {
            tracing::warn!(
                items = encoded.too_large,
                "items larger than the request size limit were dropped"
            );
        }
        for request in encoded.requests {
            counters.requests.fetch_add(1, Ordering::Relaxed);
            let signal = request.signal;
            let items = request.items;
            match self.service.clone().oneshot(request).await {
                Ok(outcome) => {
                    counters
                        .items_exported
                        .fetch_add(outcome.accepted as u64, Ordering::Relaxed);
                    counters
                        .items_rejected
                        .fetch_add(outcome.rejected as u64, Ordering::Relaxed);
                    total.accepted += outcome.accepted;
                    total.rejected += outcome.rejected;
                    if outcome.message.is_some() {
                        total.message = outcome.message;
                    }
                }
                Err(error) => {
                    counters.failed_requests.fetch_add(1, Ordering::Relaxed);
                    counters
                        .items_failed
                        .fetch_add(items as u64, Ordering::Relaxed);
                    tracing::warn!(%signal, items, %error, "export failed");
                }
            }
        }
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        counters
            .duration_micros
            .fetch_add(micros, Ordering::Relaxed);
        total
    }
}

/// The span batch processor's exporter.
#[derive(Clone)]
pub(crate) struct SpanSink(pub(crate) SignalSender);

impl Service<Batch<SpanData>> for SpanSink {
    type Response = ExportOutcome;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<ExportOutcome, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, batch: Batch<SpanData>) -> Self::Future {
        let sender = self.0.clone();
        Box::pin(async move {
            let encoded = encode_spans(batch.items, &batch.resource, &sender.options)?;
            Ok(sender.send(encoded).await)
        })
    }
}

/// The log batch processor's exporter.
#[derive(Clone)]
pub(crate) struct LogSink(pub(crate) SignalSender);

impl Service<Batch<LogItem>> for LogSink {
    type Response = ExportOutcome;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<ExportOutcome, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, batch: Batch<LogItem>) -> Self::Future {
        let sender = self.0.clone();
        Box::pin(async move {
            let pairs: Vec<_> = batch
                .items
                .iter()
                .map(|item| (&item.record, &item.scope))
                .collect();
            let encoded = encode_logs(&LogBatch::new(&pairs), &batch.resource, &sender.options)?;
            drop(pairs);
            Ok(sender.send(encoded).await)
        })
    }
}

/// The SDK periodic reader's exporter: encodes on the reader's thread, sends on the pipeline
/// runtime, and waits for the answer.
pub(crate) struct MetricSink {
    pub(crate) sender: SignalSender,
    pub(crate) runtime: Handle,
    pub(crate) temporality: Temporality,
}

impl std::fmt::Debug for MetricSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricSink")
            .field("temporality", &self.temporality)
            .finish_non_exhaustive()
    }
}

impl PushMetricExporter for MetricSink {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let encoded = encode_metrics(metrics, &self.sender.options)
            .map_err(|e| OTelSdkError::InternalFailure(e.to_string()))?;
        let items = encoded.items() + encoded.too_large;
        let sender = self.sender.clone();
        let outcome = self
            .runtime
            .spawn(async move { sender.send(encoded).await })
            .await
            .map_err(|e| {
                OTelSdkError::InternalFailure(format!("metrics export task failed: {e}"))
            })?;
        if outcome.accepted + outcome.rejected < items {
            return Err(OTelSdkError::InternalFailure(format!(
                "{} of {items} data points were not delivered",
                items - outcome.accepted - outcome.rejected
            )));
        }
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        self.temporality
    }
}
