//! The pipeline's own numbers: what each stage accepted, exported, rejected, retried and
//! dropped.

use std::sync::atomic::Ordering;
use std::time::Duration;

use otlp_batch::{BatchStats, FailureCauses};
use otlp_reliability::adaptive_concurrency::ConcurrencyStats;
use otlp_reliability::circuit_breaker::{BreakerStats, CircuitState};
use otlp_reliability::retry::RetrySnapshot;

use crate::report::DeliveryReport;
use crate::sinks::ExportCounters;

/// Export counters of one signal, counted per request as it leaves the pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Requests sent (each batch is one or more requests).
    pub requests: u64,
    /// Requests that failed for good.
    pub failed_requests: u64,
    /// Items the collector accepted.
    pub exported: u64,
    /// Items the collector rejected in partial successes.
    pub rejected: u64,
    /// Items in requests that failed for good.
    pub failed: u64,
    /// Items dropped because they alone exceed the request size limit.
    pub too_large: u64,
    /// Items whose request failed for now and was kept in the disk spool.
    pub spooled: u64,
    /// Items delivered later from the disk spool (also counted in `exported`).
    pub replayed: u64,
    /// Time spent exporting, summed over requests.
    pub export_time: Duration,
    /// `failed` and `too_large`, per cause.
    pub failed_by_cause: FailureCauses,
}

impl ExportStats {
    pub(crate) fn read(counters: &ExportCounters) -> Self {
        let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        ExportStats {
            requests: get(&counters.requests),
            failed_requests: get(&counters.failed_requests),
            exported: get(&counters.items_exported),
            rejected: get(&counters.items_rejected),
            failed: get(&counters.items_failed),
            too_large: get(&counters.items_too_large),
            spooled: get(&counters.items_spooled),
            replayed: get(&counters.items_replayed),
            export_time: Duration::from_micros(get(&counters.duration_micros)),
            failed_by_cause: counters.failed_by_cause.snapshot(),
        }
    }
}

/// A circuit breaker's state and counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitStats {
    /// `<signal>:<endpoint>`.
    pub name: String,
    /// Its state now.
    pub state: CircuitState,
    /// Its counters.
    pub stats: BreakerStats,
}

/// One collector endpoint's concurrency limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointConcurrency {
    /// `<signal>:<endpoint>`, as the circuit breakers are named.
    pub name: String,
    /// The limit, the attempts in flight and the smoothed round trip, now.
    pub stats: ConcurrencyStats,
}

/// Everything [`OtlpPipeline::stats`](crate::OtlpPipeline::stats) reports.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineStats {
    /// The span processor's accounting.
    pub spans: BatchStats,
    /// The log processor's accounting.
    pub logs: BatchStats,
    /// Span exports.
    pub span_exports: ExportStats,
    /// Metric exports (items are data points).
    pub metric_exports: ExportStats,
    /// Log exports.
    pub log_exports: ExportStats,
    /// Retries, over all signals.
    pub retry: RetrySnapshot,
    /// One entry per circuit breaker.
    pub circuits: Vec<CircuitStats>,
    /// One entry per collector endpoint: its concurrency limit.
    pub concurrency: Vec<EndpointConcurrency>,
    /// Exports refused by the bulkhead.
    pub bulkhead_rejected: u64,
    /// The disk spool, when configured.
    pub spool: Option<otlp_batch::spool::SpoolStats>,
    /// What was not delivered since start, per signal and cause, and each endpoint's last
    /// error.
    pub delivery: DeliveryReport,
}
