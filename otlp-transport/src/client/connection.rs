//! Keep-alive, connection pool and HTTP/2 flow-control settings of a transport.

use std::time::Duration;

/// The default HTTP/2 keep-alive ping interval.
pub const DEFAULT_HTTP2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// The default time to wait for a keep-alive ping's answer before the connection is closed.
pub const DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// The default time an idle pooled connection is kept (HTTP transport).
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// The default number of idle connections kept per host (HTTP transport).
pub const DEFAULT_POOL_MAX_IDLE_PER_HOST: usize = 32;

/// How connections are kept: TCP and HTTP/2 keep-alive, the idle pool, HTTP/2 windows.
///
/// `None` leaves a setting to hyper's default. The HTTP/2 settings apply to every gRPC
/// connection and to HTTP connections that negotiate HTTP/2 (`https://` collectors that offer
/// it through ALPN); plaintext OTLP/HTTP runs over HTTP/1.1, where they do not apply. The pool
/// settings apply to the HTTP transport only: gRPC multiplexes every request over one
/// connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// TCP keep-alive idle time (`SO_KEEPALIVE`; default `None`: off).
    pub tcp_keepalive: Option<Duration>,
    /// HTTP/2 PING interval while requests are in flight (default 30 s; `None`: no pings).
    pub http2_keep_alive_interval: Option<Duration>,
    /// How long a PING may go unanswered before the connection is closed (default 20 s).
    pub http2_keep_alive_timeout: Duration,
    /// The HTTP/2 initial stream window, in bytes (default `None`: hyper's).
    pub http2_initial_stream_window_size: Option<u32>,
    /// The HTTP/2 initial connection window, in bytes (default `None`: hyper's).
    pub http2_initial_connection_window_size: Option<u32>,
    /// Idle connections kept per host (default 32).
    pub pool_max_idle_per_host: usize,
    /// How long an idle connection is kept (default 90 s; `None`: until the server closes it).
    pub pool_idle_timeout: Option<Duration>,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        ConnectionSettings {
            tcp_keepalive: None,
            http2_keep_alive_interval: Some(DEFAULT_HTTP2_KEEP_ALIVE_INTERVAL),
            http2_keep_alive_timeout: DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT,
            http2_initial_stream_window_size: None,
            http2_initial_connection_window_size: None,
            pool_max_idle_per_host: DEFAULT_POOL_MAX_IDLE_PER_HOST,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
        }
    }
}

impl ConnectionSettings {
    /// Sets the TCP keep-alive idle time.
    pub fn with_tcp_keepalive(mut self, idle: Duration) -> Self {
        self.tcp_keepalive = Some(idle);
        self
    }

    /// Sets the HTTP/2 keep-alive ping interval and timeout.
    pub fn with_http2_keep_alive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.http2_keep_alive_interval = Some(interval);
        self.http2_keep_alive_timeout = timeout;
        self
    }

    /// Sets the HTTP/2 initial stream and connection windows.
    pub fn with_http2_windows(mut self, stream_bytes: u32, connection_bytes: u32) -> Self {
        self.http2_initial_stream_window_size = Some(stream_bytes);
        self.http2_initial_connection_window_size = Some(connection_bytes);
        self
    }

    /// Sets the idle pool: connections kept per host and how long.
    pub fn with_pool(mut self, max_idle_per_host: usize, idle_timeout: Option<Duration>) -> Self {
        self.pool_max_idle_per_host = max_idle_per_host;
        self.pool_idle_timeout = idle_timeout;
        self
    }
}
