//! The services the batch processors and the metric reader export through: prepare the batch
//! once (`prepare.rs`: encode it for OTLP, or convert it to messages for a custom exporter),
//! send it through the signal's stack and count what the backend accepted (`send.rs`), behind
//! one always-ready service (`ready.rs`) or the SDK's exporter traits (`sdk.rs`).

mod cut_off;
mod prepare;
mod ready;
mod sdk;
mod send;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use otlp_batch::{Cause, CauseCounters, ExportLimit};
use otlp_core::encode::EncodeOptions;
use otlp_core::{BoxError, ExportOutcome, ExportRequest, Telemetry};
use otlp_reliability::retry::BudgetExhausted;
use otlp_transport::balance::Balancer;
use tower::util::BoxCloneSyncService;

use crate::endpoint_errors::EndpointErrors;

pub(crate) use ready::Sink;
pub(crate) use sdk::MetricDeadline;
pub use sdk::{
    LogExporter, MetricExporter, OtlpLogExporter, OtlpMetricExporter, OtlpSpanExporter,
    SpanExporter,
};

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

impl ExportCounters {
    /// Counts what the collector accepted and refused in one answer.
    pub(crate) fn count_answer(&self, outcome: &ExportOutcome) {
        self.items_exported
            .fetch_add(outcome.accepted as u64, Ordering::Relaxed);
        self.items_rejected
            .fetch_add(outcome.rejected as u64, Ordering::Relaxed);
    }
}

/// Why a request failed for good. The retry budget is known here, where the retry layer's
/// errors are; everything else is otlp-core's classification.
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

/// Sends one signal's batches.
#[derive(Clone)]
pub(crate) struct SignalSender {
    pub(crate) route: Route,
    pub(crate) counters: Arc<ExportCounters>,
    /// With trace-id balancing: the balancer whose ring groups a span batch by collector.
    pub(crate) affinity: Option<Balancer>,
    /// Every endpoint's last error, and `<signal>:`, the prefix of this signal's endpoints.
    pub(crate) endpoint_errors: (EndpointErrors, String),
    /// How many batches the route takes at once: the sum of its endpoints' concurrency
    /// limits, read by a batch processor's worker each time it could start an export.
    pub(crate) export_limit: ExportLimit,
}
