//! Why items were not delivered: the causes a failed export is counted under.

use otlp_core::ErrorKind;

/// Why the items of a failed export were not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// The collector refused them for good (a 4xx status, `INVALID_ARGUMENT`, ...).
    Rejected,
    /// The collector answered that it is unavailable or overloaded, on every attempt.
    Unavailable,
    /// No connection could be made or kept (refused, reset, DNS, TLS).
    Connection,
    /// No answer in time (per attempt, the retry deadline, or the batch's export timeout).
    Timeout,
    /// The endpoint's circuit breaker was open.
    CircuitOpen,
    /// The shared retry budget denied the retries that were left.
    RetryBudget,
    /// An item was larger than the request size limit on its own.
    TooLarge,
    /// The export task panicked.
    Panicked,
    /// Anything else (encoding, a local rejection such as a full bulkhead, an unknown error).
    Other,
}

impl Cause {
    /// Every cause, in the order reports list them.
    pub const ALL: [Cause; 9] = [
        Cause::Rejected,
        Cause::Unavailable,
        Cause::Connection,
        Cause::Timeout,
        Cause::CircuitOpen,
        Cause::RetryBudget,
        Cause::TooLarge,
        Cause::Panicked,
        Cause::Other,
    ];

    /// The cause of an export error, found with otlp-core's classification (which walks the
    /// `source()` chain). A retry budget denial is not visible here; the exporter that knows
    /// its retry layer reports it through [`Progress::failed`](crate::Progress::failed).
    pub fn of(error: &(dyn std::error::Error + 'static)) -> Cause {
        match otlp_core::classify(error).kind {
            Some(ErrorKind::Rejected | ErrorKind::PayloadTooLarge) => Cause::Rejected,
            Some(ErrorKind::Unavailable | ErrorKind::Throttled) => Cause::Unavailable,
            Some(ErrorKind::Connect | ErrorKind::Transport | ErrorKind::Tls) => Cause::Connection,
            Some(ErrorKind::Timeout | ErrorKind::DeadlineExceeded) => Cause::Timeout,
            Some(ErrorKind::CircuitOpen) => Cause::CircuitOpen,
            _ => Cause::Other,
        }
    }

    /// A few words for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Cause::Rejected => "rejected by the collector",
            Cause::Unavailable => "collector unavailable",
            Cause::Connection => "connection failed",
            Cause::Timeout => "timed out",
            Cause::CircuitOpen => "circuit breaker open",
            Cause::RetryBudget => "retry budget exhausted",
            Cause::TooLarge => "larger than the request size limit",
            Cause::Panicked => "export task panicked",
            Cause::Other => "other export failure",
        }
    }

    pub(crate) fn index(self) -> usize {
        Cause::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or(Cause::ALL.len() - 1)
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// Live counters of failed items per [`Cause`], for stages outside a batch processor (the
/// metric exporter) that count failures the same way.
#[derive(Debug, Default)]
pub struct CauseCounters {
    counts: [std::sync::atomic::AtomicU64; 9],
}

impl CauseCounters {
    /// Counts `n` items failed for `cause`.
    pub fn add(&self, cause: Cause, n: usize) {
        self.counts[cause.index()].fetch_add(n as u64, std::sync::atomic::Ordering::AcqRel);
    }

    /// The counts now.
    pub fn snapshot(&self) -> FailureCauses {
        FailureCauses::from_counts(std::array::from_fn(|i| {
            self.counts[i].load(std::sync::atomic::Ordering::Acquire)
        }))
    }
}

/// Failed items, per [`Cause`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureCauses {
    counts: [u64; 9],
}

impl FailureCauses {
    pub(crate) fn from_counts(counts: [u64; 9]) -> Self {
        FailureCauses { counts }
    }

    /// The items failed for `cause`.
    pub fn get(&self, cause: Cause) -> u64 {
        self.counts[cause.index()]
    }

    /// Every failed item.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The causes with a non-zero count, largest first.
    pub fn nonzero(&self) -> Vec<(Cause, u64)> {
        let mut causes: Vec<_> = Cause::ALL
            .iter()
            .map(|c| (*c, self.get(*c)))
            .filter(|(_, n)| *n > 0)
            .collect();
        causes.sort_by_key(|c| std::cmp::Reverse(c.1));
        causes
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &FailureCauses) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp_core::Error;

    #[test]
    fn errors_map_to_their_cause() {
        let cases = [
            (Error::new(ErrorKind::Connect, "refused"), Cause::Connection),
            (Error::from_http_status(400, "bad", None), Cause::Rejected),
            (Error::from_grpc_code(14, "down", None), Cause::Unavailable),
            (Error::new(ErrorKind::Timeout, ""), Cause::Timeout),
            (Error::new(ErrorKind::CircuitOpen, ""), Cause::CircuitOpen),
            (Error::new(ErrorKind::BulkheadFull, ""), Cause::Other),
        ];
        for (error, cause) in cases {
            assert_eq!(Cause::of(&error), cause, "{error}");
        }
        for cause in Cause::ALL {
            assert_eq!(Cause::ALL[cause.index()], cause);
        }
    }
}
