//! [`DeliveryReport`]: what was not delivered since start, per signal and cause, and the last
//! error of each endpoint; its `Display` is one paragraph a person can act on.

use std::fmt;
use std::time::Instant;

use otlp_batch::{BatchStats, Cause, FailureCauses};
use otlp_core::Signal;

pub use crate::endpoint_errors::EndpointError;
use crate::stats::ExportStats;

/// One signal's delivery since the pipeline started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalDelivery {
    /// The signal.
    pub signal: Signal,
    /// Items recorded (for metrics: data points handed to the exporter).
    pub offered: u64,
    /// Items the collector accepted.
    pub delivered: u64,
    /// Items dropped because the queue was full.
    pub queue_full: u64,
    /// Items the collector refused in partial successes.
    pub rejected: u64,
    /// Items whose export failed for good, per cause.
    pub failed: FailureCauses,
    /// Items a shutdown had to leave behind, or offered after it.
    pub shutdown: u64,
    /// Items still queued or in flight.
    pub pending: u64,
    /// The collector's last message when it rejected items.
    pub last_rejection: Option<String>,
}

impl SignalDelivery {
    pub(crate) fn from_batch(
        signal: Signal,
        stats: &BatchStats,
        rejection: Option<String>,
    ) -> Self {
        SignalDelivery {
            signal,
            offered: stats.offered,
            delivered: stats.exported,
            queue_full: stats.dropped_queue_full,
            rejected: stats.rejected,
            failed: stats.failed_by_cause,
            shutdown: stats.dropped_at_shutdown,
            pending: stats.queued + stats.in_flight,
            last_rejection: rejection,
        }
    }

    pub(crate) fn from_exports(signal: Signal, stats: &ExportStats) -> Self {
        SignalDelivery {
            signal,
            offered: stats.exported + stats.rejected + stats.failed + stats.too_large,
            delivered: stats.exported,
            queue_full: 0,
            rejected: stats.rejected,
            failed: stats.failed_by_cause,
            shutdown: 0,
            pending: 0,
            last_rejection: None,
        }
    }

    /// Items that will not reach the collector: rejected, failed, dropped.
    pub fn undelivered(&self) -> u64 {
        self.queue_full + self.rejected + self.failed.total() + self.shutdown
    }

    /// Every cause with its count, largest first.
    pub fn causes(&self) -> Vec<(String, u64)> {
        let mut causes: Vec<(String, u64)> = self
            .failed
            .nonzero()
            .into_iter()
            .map(|(c, n)| (c.describe().to_owned(), n))
            .collect();
        if self.queue_full > 0 {
            causes.push(("queue full".into(), self.queue_full));
        }
        if self.rejected > 0 {
            let what = match &self.last_rejection {
                Some(message) => format!("rejected by the collector ({message})"),
                None => "rejected by the collector".into(),
            };
            causes.push((what, self.rejected));
        }
        if self.shutdown > 0 {
            causes.push(("still waiting at shutdown".into(), self.shutdown));
        }
        causes.sort_by_key(|c| std::cmp::Reverse(c.1));
        causes
    }
}

/// What was not delivered since start, per signal and cause, and the last error of every
/// endpoint that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Traces, metrics, logs.
    pub signals: Vec<SignalDelivery>,
    /// Endpoints that failed at least once, most recent error first.
    pub endpoints: Vec<EndpointError>,
}

impl DeliveryReport {
    /// Items not delivered, over all signals.
    pub fn undelivered(&self) -> u64 {
        self.signals.iter().map(SignalDelivery::undelivered).sum()
    }

    /// One signal's part.
    pub fn signal(&self, signal: Signal) -> Option<&SignalDelivery> {
        self.signals.iter().find(|s| s.signal == signal)
    }

    /// The items failed for `cause`, over all signals.
    pub fn failed(&self, cause: Cause) -> u64 {
        self.signals.iter().map(|s| s.failed.get(cause)).sum()
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for DeliveryReport {
    /// One paragraph: what was lost and why, and the last error of the endpoint that failed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lost: Vec<&SignalDelivery> = self
            .signals
            .iter()
            .filter(|s| s.undelivered() > 0)
            .collect();
        if lost.is_empty() {
            let delivered: Vec<String> = self
                .signals
                .iter()
                .filter(|s| s.delivered > 0)
                .map(|s| format!("{} {}", s.delivered, s.signal.item_name()))
                .collect();
            return if delivered.is_empty() {
                f.write_str("nothing was recorded, nothing was lost")
            } else {
                write!(f, "everything was delivered: {}", delivered.join(", "))
            };
        }
        let parts: Vec<String> = lost
            .iter()
            .map(|s| {
                let causes: Vec<String> = s
                    .causes()
                    .into_iter()
                    .map(|(cause, n)| format!("{cause}: {n}"))
                    .collect();
                format!(
                    "{} of {} {} ({})",
                    s.undelivered(),
                    s.offered,
                    s.signal.item_name(),
                    causes.join(", ")
                )
            })
            .collect();
        write!(f, "not delivered: {}", parts.join("; "))?;
        if let Some(last) = self.endpoints.first() {
            let age = Instant::now().saturating_duration_since(last.at);
            write!(
                f,
                ". Last error from {}: {} ({} failed, {} succeeded); {:.1} s ago",
                last.endpoint,
                last.error,
                plural(last.failed_attempts, "attempt", "attempts"),
                last.succeeded_attempts,
                age.as_secs_f64()
            )?;
            if self.endpoints.len() > 1 {
                write!(f, " ({} endpoints failed)", self.endpoints.len())?;
            }
        }
        f.write_str(".")
    }
}
