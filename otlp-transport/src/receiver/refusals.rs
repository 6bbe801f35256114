//! Counting what the receiver refused, and logging each kind at most once per interval: under
//! abuse a warning per event would itself be the denial of service.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Kinds of refusal, for [`RefusalCounts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    ConnectionLimit,
    RequestLimit,
    RequestTimeout,
    IdleTimeout,
    HeaderTimeout,
    TlsHandshake,
    AcceptError,
}

const KINDS: usize = 7;

impl Refusal {
    fn index(self) -> usize {
        self as usize
    }

    fn describe(self) -> &'static str {
        match self {
            Refusal::ConnectionLimit => "connections closed at the connection limit",
            Refusal::RequestLimit => "requests answered 503 at the concurrent-request limit",
            Refusal::RequestTimeout => "requests cut off at the request timeout",
            Refusal::IdleTimeout => "idle connections closed",
            Refusal::HeaderTimeout => "connections closed at the header-read timeout",
            Refusal::TlsHandshake => "TLS handshakes failed or timed out",
            Refusal::AcceptError => "accept errors (paused before the next accept)",
        }
    }
}

/// How many of each kind of refusal a receiver made, over both servers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefusalCounts {
    /// Connections closed because `max_connections` were open.
    pub connection_limit: u64,
    /// Requests answered 503 / `UNAVAILABLE` because `max_concurrent_requests` were running.
    pub request_limit: u64,
    /// Requests cut off at `request_timeout`.
    pub request_timeout: u64,
    /// Connections closed after `idle_timeout` without a request.
    pub idle_timeout: u64,
    /// Connections closed because the headers took longer than `header_read_timeout`.
    pub header_timeout: u64,
    /// TLS handshakes that failed or took longer than `header_read_timeout`.
    pub tls_handshake: u64,
    /// Failed `accept` calls (each followed by a pause).
    pub accept_errors: u64,
    /// Warnings logged about all of the above.
    pub warnings_logged: u64,
}

pub(crate) struct Refusals {
    interval: Duration,
    started: Instant,
    total: [AtomicU64; KINDS],
    unlogged: [AtomicU64; KINDS],
    /// Milliseconds since `started` of the last warning of each kind, plus one (0: never).
    last_logged: [AtomicU64; KINDS],
    warnings: AtomicU64,
}

impl Refusals {
    pub(crate) fn new(interval: Duration) -> Self {
        Refusals {
            interval,
            started: Instant::now(),
            total: Default::default(),
            unlogged: Default::default(),
            last_logged: Default::default(),
            warnings: AtomicU64::new(0),
        }
    }

    /// Counts one refusal; logs it (with those not yet logged) when the kind's interval passed.
    pub(crate) fn note(&self, kind: Refusal, detail: &dyn std::fmt::Display) {
        let i = kind.index();
        self.total[i].fetch_add(1, Ordering::Relaxed);
        self.unlogged[i].fetch_add(1, Ordering::Relaxed);
        let now = u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.last_logged[i].load(Ordering::Relaxed);
        let interval = u64::try_from(self.interval.as_millis()).unwrap_or(u64::MAX);
        if last != 0 && now.saturating_sub(last) < interval {
            return;
        }
        if self.last_logged[i]
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let count = self.unlogged[i].swap(0, Ordering::Relaxed);
        self.warnings.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            count,
            interval = ?self.interval,
            last = %detail,
            "OTLP receiver: {} (logged at most once per interval)",
            kind.describe()
        );
    }

    pub(crate) fn counts(&self) -> RefusalCounts {
        let get = |kind: Refusal| self.total[kind.index()].load(Ordering::Relaxed);
        RefusalCounts {
            connection_limit: get(Refusal::ConnectionLimit),
            request_limit: get(Refusal::RequestLimit),
            request_timeout: get(Refusal::RequestTimeout),
            idle_timeout: get(Refusal::IdleTimeout),
            header_timeout: get(Refusal::HeaderTimeout),
            tls_handshake: get(Refusal::TlsHandshake),
            accept_errors: get(Refusal::AcceptError),
            warnings_logged: self.warnings.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_logged_once_and_counted_in_full() {
        let refusals = Refusals::new(Duration::from_secs(3600));
        for _ in 0..10_000 {
            refusals.note(Refusal::AcceptError, &"too many open files");
        }
        refusals.note(Refusal::IdleTimeout, &"idle");
        let counts = refusals.counts();
        assert_eq!(counts.accept_errors, 10_000);
        assert_eq!(counts.idle_timeout, 1);
        assert_eq!(counts.warnings_logged, 2);
    }
}
