//! The services the batch processors and the metric reader export through: prepare the batch
//! once (encode it for OTLP, or convert it to messages for a custom exporter), send it through
//! the signal's stack, and report what the backend accepted.

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
use opentelemetry_sdk::Resource;
use otlp_batch::{Batch, Cause, CauseCounters, LogItem, Progress};
use otlp_core::encode::{
    encode_logs, encode_message, encode_metrics, encode_spans, logs_message, metrics_message,
    spans_message, EncodeOptions, OtlpMessage,
};
use otlp_core::{BoxError, ExportOutcome, ExportRequest, Telemetry};
use otlp_reliability::retry::BudgetExhausted;
use otlp_transport::balance::{trace_key, Balancer};
use tokio::runtime::Handle;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

use crate::endpoint_errors::EndpointErrors;

/// Counters of one signal's exports, as requests leave the pipeline.
#[derive(Debug, Default)]
pub(crate) struct ExportCounters {
    pub(crate) requests: AtomicU64,
    pub(crate) failed_requests: AtomicU64,
    pub(crate) items_exported: AtomicU64,
    pub(crate) items_rejected: AtomicU64,
    pub(crate) items_failed: AtomicU64,
    pub(crate) items_too_large: AtomicU64,
    pub(crate) items_spooled: AtomicU64,
    pub(crate) items_replayed: AtomicU64,
    pub(crate) duration_micros: AtomicU64,
    /// `items_failed` (and `items_too_large`), per cause.
    pub(crate) failed_by_cause: CauseCounters,
}

/// Why a request failed for good. The retry budget is known here, where the retry layer's
/// errors are; everything else is otlp-core's classification.
impl ExportCounters {
    /// Counts what the collector accepted and refused in one answer.
    pub(crate) fn count_answer(&self, outcome: &ExportOutcome) {
        self.items_exported
            .fetch_add(outcome.accepted as u64, Ordering::Relaxed);
        self.items_rejected
            .fetch_add(outcome.rejected as u64, Ordering::Relaxed);
    }
}

pub(crate) fn cause_of(error: &BoxError) -> Cause {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
    while let Some(err) = current {
        if err.is::<BudgetExhausted>() {
            return Cause::RetryBudget;
        }
        current = err.source();
    }
    Cause::of(error.as_ref())
}

impl ExportCounters {
    /// Items settled one way or another, for working out what a cut-off export left.
    fn settled_items(&self) -> u64 {
        [
            &self.items_exported,
            &self.items_rejected,
            &self.items_failed,
            &self.items_too_large,
            &self.items_spooled,
        ]
        .iter()
        .map(|c| c.load(Ordering::Acquire))
        .sum()
    }
}

/// Where a signal's batches go.
#[derive(Clone)]
pub(crate) enum Route {
    /// Encoded OTLP requests through the transport stack.
    Otlp {
        service: BoxCloneSyncService<ExportRequest, ExportOutcome, BoxError>,
        options: EncodeOptions,
    },
    /// OTLP messages to a custom exporter, through the same reliability layers.
    Custom {
        service: BoxCloneSyncService<Arc<Telemetry>, ExportOutcome, BoxError>,
    },
}

/// A batch made ready to send: encoded requests, or one message for a custom exporter.
enum Prepared {
    Requests {
        requests: Vec<ExportRequest>,
        too_large: usize,
    },
    Message(Arc<Telemetry>),
}

impl Prepared {
    fn items(&self) -> usize {
        match self {
            Prepared::Requests {
                requests,
                too_large,
            } => requests.iter().map(|r| r.items).sum::<usize>() + too_large,
            Prepared::Message(message) => message.items(),
        }
    }
}

/// Sends one signal's batches.
#[derive(Clone)]
pub(crate) struct SignalSender {
    pub(crate) route: Route,
    pub(crate) counters: Arc<ExportCounters>,
    /// With trace-id balancing: the balancer whose ring groups a span batch by collector.
    pub(crate) affinity: Option<Balancer>,
    /// Every endpoint's last error, and `<signal>:`, the prefix of this signal's endpoints.
    pub(crate) endpoint_errors: (EndpointErrors, String),
}

impl SignalSender {
    fn prepare<M: OtlpMessage>(
        &self,
        message: M,
        wrap: fn(M) -> Telemetry,
    ) -> Result<Prepared, BoxError> {
        Ok(match &self.route {
            Route::Otlp { options, .. } => {
                let encoded = encode_message(message, options)?;
                Prepared::Requests {
                    requests: encoded.requests,
                    too_large: encoded.too_large,
                }
            }
            Route::Custom { .. } => Prepared::Message(Arc::new(wrap(message))),
        })
    }

    fn spans(&self, spans: Vec<SpanData>, resource: &Resource) -> Result<Prepared, BoxError> {
        let options = match &self.route {
            Route::Otlp { options, .. } => *options,
            Route::Custom { .. } => {
                return self.prepare(spans_message(spans, resource), Telemetry::Traces)
            }
        };
        let Some(balancer) = &self.affinity else {
            let encoded = encode_spans(spans, resource, &options)?;
            return Ok(Prepared::Requests {
                requests: encoded.requests,
                too_large: encoded.too_large,
            });
        };
        // Trace-id affinity: one request per collector that owns some of the batch's traces,
        // keyed so the balancer sends it to that owner; a trace is never split.
        let mut groups: Vec<(Option<usize>, u64, Vec<SpanData>)> = Vec::new();
        for span in spans {
            let key = trace_key(&span.span_context.trace_id().to_bytes());
            let owner = balancer.owner(key);
            match groups.iter_mut().find(|(o, _, _)| *o == owner) {
                Some((_, _, group)) => group.push(span),
                None => groups.push((owner, key, vec![span])),
            }
        }
        let mut requests = Vec::new();
        let mut too_large = 0;
        for (_, key, group) in groups {
            let encoded = encode_spans(group, resource, &options)?;
            requests.extend(
                encoded
                    .requests
                    .into_iter()
                    .map(|r| r.with_routing_key(key)),
            );
            too_large += encoded.too_large;
        }
        Ok(Prepared::Requests {
            requests,
            too_large,
        })
    }

    fn logs(&self, items: &[LogItem], resource: &Resource) -> Result<Prepared, BoxError> {
        let pairs: Vec<_> = items
            .iter()
            .map(|item| (&item.record, &item.scope))
            .collect();
        let batch = LogBatch::new(&pairs);
        match &self.route {
            Route::Otlp { options, .. } => {
                let encoded = encode_logs(&batch, resource, options)?;
                Ok(Prepared::Requests {
                    requests: encoded.requests,
                    too_large: encoded.too_large,
                })
            }
            Route::Custom { .. } => self.prepare(logs_message(&batch, resource), Telemetry::Logs),
        }
    }

    fn metrics(&self, metrics: &ResourceMetrics) -> Result<Prepared, BoxError> {
        match &self.route {
            Route::Otlp { options, .. } => {
                let encoded = encode_metrics(metrics, options)?;
                Ok(Prepared::Requests {
                    requests: encoded.requests,
                    too_large: encoded.too_large,
                })
            }
            Route::Custom { .. } => self.prepare(metrics_message(metrics), Telemetry::Metrics),
        }
    }

    /// Sends a prepared batch and adds up the outcome. Each request's result is reported to
    /// `progress` as it arrives (so a cancelled batch keeps what was delivered); a failed
    /// request is logged and counted with its cause.
    async fn send(&self, prepared: Prepared, progress: &Progress) -> ExportOutcome {
        let started = tokio::time::Instant::now();
        let mut total = ExportOutcome::default();
        match (prepared, &self.route) {
            (
                Prepared::Requests {
                    requests,
                    too_large,
                },
                Route::Otlp { service, .. },
            ) => {
                self.counters
                    .items_too_large
                    .fetch_add(too_large as u64, Ordering::Relaxed);
                self.counters
                    .failed_by_cause
                    .add(Cause::TooLarge, too_large);
                progress.failed(too_large, Cause::TooLarge);
                if too_large > 0 {
                    tracing::warn!(
                        items = too_large,
                        "items larger than the request size limit were dropped"
                    );
                }
                for request in requests {
                    let items = request.items;
                    let signal = request.signal;
                    // With a spool, its layer is part of `service` (see otlp_batch::spool).
                    let result = service.clone().oneshot(request).await;
                    self.settle(&mut total, items, result, signal.as_str(), progress);
                }
            }
            (Prepared::Message(message), Route::Custom { service }) => {
                let items = message.items();
                let signal = message.signal();
                let result = service.clone().oneshot(message).await;
                self.settle(&mut total, items, result, signal.as_str(), progress);
            }
            _ => tracing::error!("a batch was prepared for another route; nothing sent"),
        }
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.counters
            .duration_micros
            .fetch_add(micros, Ordering::Relaxed);
        total
    }

    fn settle(
        &self,
        total: &mut ExportOutcome,
        items: usize,
        result: Result<ExportOutcome, BoxError>,
        signal: &str,
        progress: &Progress,
    ) {
        let counters = &self.counters;
        counters.requests.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(outcome) => {
                counters.count_answer(&outcome);
                counters
                    .items_spooled
                    .fetch_add(outcome.deferred as u64, Ordering::Relaxed);
                total.accepted += outcome.accepted;
                total.rejected += outcome.rejected;
                total.deferred += outcome.deferred;
                progress.accepted(outcome.accepted);
                progress.rejected(outcome.rejected, outcome.message.as_deref());
                progress.deferred(outcome.deferred);
                if outcome.message.is_some() {
                    total.message = outcome.message;
                }
            }
            Err(error) => {
                counters.failed_requests.fetch_add(1, Ordering::Relaxed);
                counters
                    .items_failed
                    .fetch_add(items as u64, Ordering::Relaxed);
                let cause = cause_of(&error);
                counters.failed_by_cause.add(cause, items);
                progress.failed(items, cause);
                tracing::warn!(%signal, items, %error, "export failed");
            }
        }
    }
}

impl SignalSender {
    /// For the SDK exporter traits: sends a batch prepared on the caller's thread on the
    /// pipeline runtime, waits, and fails unless every item was accepted, rejected by the
    /// collector, or kept in the spool.
    async fn export_on(
        &self,
        runtime: &Handle,
        prepared: Result<Prepared, BoxError>,
        what: &str,
        timeout: Option<Duration>,
    ) -> OTelSdkResult {
        let prepared = prepared.map_err(|e| OTelSdkError::InternalFailure(e.to_string()))?;
        let items = prepared.items();
        let sender = self.clone();
        let before = self.counters.settled_items();
        let started = std::time::Instant::now();
        let outcome = runtime
            .spawn(async move {
                let progress = Progress::detached();
                let send = sender.send(prepared, &progress);
                match timeout {
                    Some(timeout) => tokio::time::timeout(timeout, send).await.ok(),
                    None => Some(send.await),
                }
            })
            .await
            .map_err(|e| {
                OTelSdkError::InternalFailure(format!("{what} export task failed: {e}"))
            })?;
        let Some(outcome) = outcome else {
            // Cut off: what the requests already settled is counted; the rest is counted
            // under the cause of the last failed attempt (the retries were still going), or as
            // timed out when no attempt failed.
            let counted = self.counters.settled_items().saturating_sub(before);
            let rest = (items as u64).saturating_sub(counted);
            let (errors, prefix) = &self.endpoint_errors;
            let cause = errors
                .last_cause_since(prefix, started)
                .unwrap_or(Cause::Timeout);
            self.counters
                .items_failed
                .fetch_add(rest, Ordering::Relaxed);
            self.counters
                .failed_by_cause
                .add(cause, usize::try_from(rest).unwrap_or(usize::MAX));
            let timeout = timeout.unwrap_or_default();
            tracing::warn!(
                items = rest,
                ?timeout,
                "{what} export cut off at its timeout"
            );
            return Err(OTelSdkError::Timeout(timeout));
        };
        let settled = outcome.accepted + outcome.rejected + outcome.deferred;
        if settled < items {
            return Err(OTelSdkError::InternalFailure(format!(
                "{} of {items} {what} were not delivered",
                items - settled
            )));
        }
        Ok(())
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
            let prepared = sender.spans(batch.items, &batch.resource)?;
            Ok(sender.send(prepared, &batch.progress).await)
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
            let prepared = sender.logs(&batch.items, &batch.resource)?;
            Ok(sender.send(prepared, &batch.progress).await)
        })
    }
}

/// The pipeline's `PushMetricExporter`: prepares the collection on the reader's thread, sends
/// it on the pipeline runtime, and waits for the answer. Also usable under an SDK
/// `PeriodicReader` of your own (see [`OtlpPipeline::metric_exporter`](crate::OtlpPipeline::metric_exporter)).
pub struct OtlpMetricExporter {
    pub(crate) sender: SignalSender,
    pub(crate) runtime: Handle,
    pub(crate) temporality: Temporality,
    /// One export's timeout (`OTEL_METRIC_EXPORT_TIMEOUT`).
    pub(crate) timeout: Duration,
    /// The deadline of a pipeline flush or shutdown under way, which an export never passes.
    pub(crate) deadline: MetricDeadline,
}

/// The deadline a pipeline flush or shutdown gives the metric export it triggers.
#[derive(Debug, Clone, Default)]
pub(crate) struct MetricDeadline(Arc<parking_lot::Mutex<Option<std::time::Instant>>>);

impl MetricDeadline {
    pub(crate) fn set(&self, deadline: Option<std::time::Instant>) {
        *self.0.lock() = deadline;
    }

    /// `timeout`, or what is left until the deadline when that is less.
    fn bound(&self, timeout: Duration) -> Duration {
        match *self.0.lock() {
            Some(deadline) => {
                timeout.min(deadline.saturating_duration_since(std::time::Instant::now()))
            }
            None => timeout,
        }
    }
}

impl std::fmt::Debug for OtlpMetricExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpMetricExporter")
            .field("temporality", &self.temporality)
            .finish_non_exhaustive()
    }
}

impl PushMetricExporter for OtlpMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let prepared = self.sender.metrics(metrics);
        let timeout = self.deadline.bound(self.timeout);
        self.sender
            .export_on(&self.runtime, prepared, "data points", Some(timeout))
            .await
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

/// The pipeline's `SpanExporter`, for use under the SDK's own span processors: each export
/// runs through the pipeline's stack on its runtime.
#[derive(Clone)]
pub struct OtlpSpanExporter {
    pub(crate) sender: SignalSender,
    pub(crate) runtime: Handle,
    pub(crate) resource: Resource,
}

impl std::fmt::Debug for OtlpSpanExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtlpSpanExporter")
    }
}

impl opentelemetry_sdk::trace::SpanExporter for OtlpSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let prepared = self.sender.spans(batch, &self.resource);
        self.sender
            .export_on(&self.runtime, prepared, "spans", None)
            .await
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.clone();
    }
}

/// The pipeline's `LogExporter`, for use under the SDK's own log processors.
#[derive(Clone)]
pub struct OtlpLogExporter {
    pub(crate) sender: SignalSender,
    pub(crate) runtime: Handle,
    pub(crate) resource: Resource,
}

impl std::fmt::Debug for OtlpLogExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtlpLogExporter")
    }
}

impl opentelemetry_sdk::logs::LogExporter for OtlpLogExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let items: Vec<LogItem> = batch
            .iter()
            .map(|(record, scope)| LogItem {
                record: record.clone(),
                scope: scope.clone(),
            })
            .collect();
        let prepared = self.sender.logs(&items, &self.resource);
        self.sender
            .export_on(&self.runtime, prepared, "log records", None)
            .await
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.clone();
    }
}
