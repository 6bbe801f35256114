//! The receiver's connection and request limits, with their defaults.
//!
//! They bound what a client that does not play by the rules can hold: slow headers
//! (`header_read_timeout`), connections that send nothing (`idle_timeout`), held or trickled
//! bodies (`request_timeout`), many connections (`max_connections`), many requests at once
//! (`max_concurrent_requests`, and `max_concurrent_streams` per HTTP/2 connection), dead peers
//! (HTTP/2 keep-alive), and a loop that spins when file descriptors run out
//! (`accept_error_backoff`). Memory held by request bodies is at most about
//! `max_concurrent_requests × (max_request_bytes + max_decompressed_bytes)` per server.

use std::time::Duration;

/// Limits applied by both of the receiver's servers (each has its own counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a client may take to send a request's headers (HTTP/1; default 10 s), and the
    /// TLS handshake.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight for this long is closed (default 30 s).
    pub idle_timeout: Duration,
    /// The longest a request may take from its headers to its answer, body included (default
    /// 30 s); past it the answer is 503 / `UNAVAILABLE`.
    pub request_timeout: Duration,
    /// HTTP/2 keep-alive ping interval (default 20 s; `None`: no pings).
    pub http2_keep_alive_interval: Option<Duration>,
    /// How long a ping may go unanswered before the connection is closed (default 10 s).
    pub http2_keep_alive_timeout: Duration,
    /// Open connections at most; one more is closed at once (default 512).
    pub max_connections: usize,
    /// Requests handled at once; one more is answered 503 / `UNAVAILABLE` (default 32).
    pub max_concurrent_requests: usize,
    /// Streams at once on one HTTP/2 connection (default 32).
    pub max_concurrent_streams: u32,
    /// The longest pause after a failed `accept` (too many open files); the pause starts at
    /// 5 ms and doubles up to this (default 1 s).
    pub accept_error_backoff: Duration,
    /// Refusals of one kind are logged at most once per this interval, with their count
    /// (default 10 s).
    pub refusal_log_interval: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            http2_keep_alive_interval: Some(Duration::from_secs(20)),
            http2_keep_alive_timeout: Duration::from_secs(10),
            max_connections: 512,
            max_concurrent_requests: 32,
            max_concurrent_streams: 32,
            accept_error_backoff: Duration::from_secs(1),
            refusal_log_interval: Duration::from_secs(10),
        }
    }
}

impl ConnectionLimits {
    /// Sets the header-read and idle timeouts.
    pub fn with_timeouts(mut self, header_read: Duration, idle: Duration) -> Self {
        self.header_read_timeout = header_read;
        self.idle_timeout = idle;
        self
    }

    /// Sets the request timeout.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the connection and concurrent-request limits.
    pub fn with_max_connections(mut self, connections: usize, concurrent_requests: usize) -> Self {
        self.max_connections = connections;
        self.max_concurrent_requests = concurrent_requests;
        self
    }

    /// Sets how often refusals of one kind are logged.
    pub fn with_refusal_log_interval(mut self, interval: Duration) -> Self {
        self.refusal_log_interval = interval;
        self
    }
}
