//! The settings both transports share, in one type: [`ClientOptions`].
//!
//! The gRPC and the HTTP transport take the same timeout, connect timeout, TLS, headers,
//! compression, connection settings, response limit and proxy, so that a setting means the
//! same on both and is set the same way. What one protocol cannot honour is said on the field.

mod connection;
mod proxy;

use std::time::Duration;

pub use connection::ConnectionSettings;
pub use proxy::ProxyConfig;

use crate::{Compression, Headers, TlsConfig};

/// The default per-request timeout (the OTLP specification's 10 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default largest collector response read: 4 MiB (gRPC's usual message limit).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Settings shared by [`GrpcConfig`](crate::grpc::GrpcConfig) and
/// [`HttpConfig`](crate::http::HttpConfig). `Debug` shows no header value and no proxy
/// credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientOptions {
    /// Request compression (default none).
    pub compression: Compression,
    /// Headers (HTTP) or metadata (gRPC) sent with every request.
    pub headers: Headers,
    /// TLS settings for `https://` endpoints (system roots when `None`).
    pub tls: Option<TlsConfig>,
    /// The per-request timeout, answer included (default 10 s; `None`: none). gRPC also
    /// sends it to the server as `grpc-timeout`.
    pub timeout: Option<Duration>,
    /// How long to wait for a connection (default 10 s).
    pub connect_timeout: Duration,
    /// Keep-alive, pool and HTTP/2 settings.
    pub connection: ConnectionSettings,
    /// The largest collector response read (default 4 MiB). A successful answer that is larger
    /// is an error naming this setting; the data may have arrived, so it is not retried.
    pub max_response_bytes: usize,
    /// The HTTP(S) proxy (default none: connections go straight to the collector).
    pub proxy: ProxyConfig,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            compression: Compression::None,
            headers: Headers::new(),
            tls: None,
            timeout: Some(DEFAULT_TIMEOUT),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            connection: ConnectionSettings::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            proxy: ProxyConfig::default(),
        }
    }
}

/// The `with_*` setters of [`ClientOptions`], for a config type with an `options` field, so
/// that both transports' configs are set up with the same calls.
macro_rules! client_option_setters {
    () => {
        /// Replaces all the shared client settings.
        pub fn with_options(mut self, options: $crate::client::ClientOptions) -> Self {
            self.options = options;
            self
        }

        /// Sets the compression.
        pub fn with_compression(mut self, compression: $crate::Compression) -> Self {
            self.options.compression = compression;
            self
        }

        /// Sets the headers sent with every request.
        pub fn with_headers(mut self, headers: $crate::Headers) -> Self {
            self.options.headers = headers;
            self
        }

        /// Sets the TLS settings.
        pub fn with_tls(mut self, tls: $crate::TlsConfig) -> Self {
            self.options.tls = Some(tls);
            self
        }

        /// Sets the per-request timeout.
        pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.timeout = Some(timeout);
            self
        }

        /// Removes the per-request timeout (the retry layer's attempt timeout still applies
        /// in a pipeline).
        pub fn without_timeout(mut self) -> Self {
            self.options.timeout = None;
            self
        }

        /// Sets the connect timeout.
        pub fn with_connect_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.connect_timeout = timeout;
            self
        }

        /// Sets the keep-alive, pool and HTTP/2 settings.
        pub fn with_connection(mut self, connection: $crate::client::ConnectionSettings) -> Self {
            self.options.connection = connection;
            self
        }

        /// Sets the largest collector response read.
        pub fn with_max_response_bytes(mut self, max_response_bytes: usize) -> Self {
            self.options.max_response_bytes = max_response_bytes;
            self
        }

        /// Sets the proxy.
        pub fn with_proxy(mut self, proxy: $crate::client::ProxyConfig) -> Self {
            self.options.proxy = proxy;
            self
        }
    };
}

pub(crate) use client_option_setters;
