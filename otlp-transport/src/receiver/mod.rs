//! An embeddable OTLP receiver: gRPC and HTTP servers on 127.0.0.1 that decode what they get.
//!
//! It is a real collector front end, used by this project's tests and demos and meant for your
//! own integration tests: both OTLP protocols (gRPC with gzip/zstd; HTTP with protobuf or JSON
//! bodies and gzip/zstd), TLS and mTLS, a bearer-token check (constant time, scheme in any
//! case), size limits that refuse a gzip bomb without inflating it, [`ConnectionLimits`]
//! (header-read, idle and request timeouts, connection and concurrency caps, backoff on accept
//! errors; see SECURITY.md), and scripted [`Fault`]s. What it receives is kept (see
//! [`Receiver::received`]), counted ([`Receiver::counts`]) and handed to an optional callback.
//!
//! ```
//! # #[tokio::main] async fn main() -> std::io::Result<()> {
//! use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};
//!
//! let receiver = Receiver::start(ReceiverConfig::default()).await?;
//! println!("gRPC on {}, HTTP on {}", receiver.grpc_endpoint(), receiver.http_endpoint());
//! receiver.faults().push_n(Fault::unavailable(), 2); // the next two requests fail with 503
//! receiver.shutdown().await;
//! # Ok(()) }
//! ```

mod faults;
mod grpc;
mod http;
mod limits;
mod refusals;
mod refused;
mod serve;
mod state;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use otlp_core::{Encoding, Signal, Telemetry};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::{Fault, Faults};
pub use limits::ConnectionLimits;
pub use refusals::RefusalCounts;
use refusals::Refusals;
pub use refused::{OnRefuse, Refused};
pub use state::Counts;
use state::State;
/// gRPC status codes, for [`Fault::status`].
pub use tonic::Code as GrpcCode;

/// Server certificate, key and (for mTLS) the CA that client certificates must chain to.
#[derive(Clone)]
pub struct ServerTls {
    /// The server certificate chain, PEM.
    pub certificate_pem: Vec<u8>,
    /// The server private key, PEM.
    pub key_pem: Vec<u8>,
    /// When set, clients must present a certificate issued by this CA (PEM).
    pub client_ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("requires_client_certificate", &self.client_ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

/// A callback that sees every accepted request.
pub type OnReceive = Arc<dyn Fn(&Received) + Send + Sync>;

/// Settings of a [`Receiver`].
#[derive(Clone)]
pub struct ReceiverConfig {
    /// Where the gRPC server listens (default `127.0.0.1:0`: any free port).
    pub grpc_addr: SocketAddr,
    /// Where the HTTP server listens (default `127.0.0.1:0`).
    pub http_addr: SocketAddr,
    /// When set, requests must carry `authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
    /// TLS for both servers.
    pub tls: Option<ServerTls>,
    /// The largest request body accepted as sent (compressed), in bytes.
    pub max_request_bytes: usize,
    /// The largest request accepted after decompression, in bytes.
    pub max_decompressed_bytes: usize,
    /// Keep every accepted request for [`Receiver::received`] (turn off for long load runs).
    pub keep_requests: bool,
    /// Called with every accepted request.
    pub on_receive: Option<OnReceive>,
    /// Called with every request answered with an error (bad input, authentication, faults).
    pub on_refuse: Option<OnRefuse>,
    /// Timeouts and connection, request and stream limits (see [`ConnectionLimits`]).
    pub limits: ConnectionLimits,
}

impl std::fmt::Debug for ReceiverConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverConfig")
            .field("grpc_addr", &self.grpc_addr)
            .field("http_addr", &self.http_addr)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("tls", &self.tls)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("max_decompressed_bytes", &self.max_decompressed_bytes)
            .field("keep_requests", &self.keep_requests)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        ReceiverConfig {
            grpc_addr: loopback,
            http_addr: loopback,
            bearer_token: None,
            tls: None,
            max_request_bytes: 16 * 1024 * 1024,
            max_decompressed_bytes: 64 * 1024 * 1024,
            keep_requests: true,
            on_receive: None,
            on_refuse: None,
            limits: ConnectionLimits::default(),
        }
    }
}

impl ReceiverConfig {
    /// Requires `authorization: Bearer <token>`.
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Serves TLS (and mTLS when `client_ca_pem` is set).
    pub fn with_tls(mut self, tls: ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sets the compressed and decompressed size limits.
    pub fn with_limits(mut self, max_request_bytes: usize, max_decompressed_bytes: usize) -> Self {
        self.max_request_bytes = max_request_bytes;
        self.max_decompressed_bytes = max_decompressed_bytes;
        self
    }

    /// Sets the timeouts and the connection, request and stream limits.
    pub fn with_connection_limits(mut self, limits: ConnectionLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Keeps (or stops keeping) accepted requests in memory.
    pub fn with_keep_requests(mut self, keep: bool) -> Self {
        self.keep_requests = keep;
        self
    }

    /// Calls `callback` with every accepted request.
    pub fn with_on_receive(mut self, callback: impl Fn(&Received) + Send + Sync + 'static) -> Self {
        self.on_receive = Some(Arc::new(callback));
        self
    }

    /// Calls `callback` with every request answered with an error: an unsupported content
    /// type or encoding (415), an undecodable body (400), a body over the limits (413), a
    /// missing or wrong token (401), an unknown path (404), a scripted [`Fault`]. (Connection
    /// limits and timeouts are counted in [`Receiver::refusals`] instead.)
    pub fn with_on_refuse(mut self, callback: impl Fn(&Refused) + Send + Sync + 'static) -> Self {
        self.on_refuse = Some(Arc::new(callback));
        self
    }
}

/// The protocol a request arrived over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivedOver {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP.
    Http,
}

/// One request the receiver accepted, with how it arrived.
///
/// `Debug` shows header names, and values only of headers that never carry credentials
/// ([`otlp_core::redact::is_public_header`]): a bearer token or an API key is `<redacted>`.
#[derive(Clone)]
pub struct Received {
    /// gRPC or HTTP.
    pub protocol: ReceivedOver,
    /// How the body was encoded (always protobuf for gRPC).
    pub encoding: Encoding,
    /// The content or gRPC encoding the body was compressed with, when it was.
    pub compression: Option<String>,
    /// The request headers (gRPC metadata as headers).
    pub headers: ::http::HeaderMap,
    /// The decoded request.
    pub payload: Telemetry,
}

impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Shown<'a>(&'a ::http::HeaderMap);
        impl std::fmt::Debug for Shown<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_map()
                    .entries(self.0.iter().map(|(name, value)| {
                        let name = name.as_str();
                        (
                            name,
                            otlp_core::redact::header_value(name, value.as_bytes()),
                        )
                    }))
                    .finish()
            }
        }
        f.debug_struct("Received")
            .field("protocol", &self.protocol)
            .field("encoding", &self.encoding)
            .field("compression", &self.compression)
            .field("headers", &Shown(&self.headers))
            .field("payload", &self.payload)
            .finish()
    }
}

/// A running receiver. Dropping it stops the servers; [`Receiver::shutdown`] waits for them.
pub struct Receiver {
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    tls: bool,
    state: Arc<State>,
    refusals: Arc<Refusals>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("grpc_addr", &self.grpc_addr)
            .field("http_addr", &self.http_addr)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Binds both servers and starts serving on the current tokio runtime.
    pub async fn start(config: ReceiverConfig) -> std::io::Result<Receiver> {
        let state = Arc::new(State::new(&config));
        let (stop, stopped) = watch::channel(false);
        let grpc_listener = tokio::net::TcpListener::bind(config.grpc_addr).await?;
        let http_listener = tokio::net::TcpListener::bind(config.http_addr).await?;
        let grpc_addr = grpc_listener.local_addr()?;
        let http_addr = http_listener.local_addr()?;
        let refusals = Arc::new(Refusals::new(config.limits.refusal_log_interval));
        let grpc_task = grpc::serve(
            grpc_listener,
            Arc::clone(&state),
            &config,
            Arc::clone(&refusals),
            stopped.clone(),
        )?;
        let http_task = http::serve(
            http_listener,
            Arc::clone(&state),
            &config,
            Arc::clone(&refusals),
            stopped,
        )?;
        Ok(Receiver {
            grpc_addr,
            http_addr,
            tls: config.tls.is_some(),
            state,
            refusals,
            stop,
            tasks: vec![grpc_task, http_task],
        })
    }

    fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    /// The gRPC server's address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The HTTP server's address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The gRPC endpoint URL, e.g. `http://127.0.0.1:43117`.
    pub fn grpc_endpoint(&self) -> String {
        format!("{}://{}", self.scheme(), self.grpc_addr)
    }

    /// The HTTP base endpoint URL (append `/v1/traces` etc., or let the transport do it).
    pub fn http_endpoint(&self) -> String {
        format!("{}://{}", self.scheme(), self.http_addr)
    }

    /// The fault script applied to incoming requests.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// Every request accepted so far (empty when `keep_requests` is off).
    pub fn received(&self) -> Vec<Received> {
        self.state.received()
    }

    /// Removes and returns the requests accepted so far.
    pub fn take_received(&self) -> Vec<Received> {
        self.state.take_received()
    }

    /// Counters of what arrived.
    pub fn counts(&self) -> Counts {
        self.state.counts()
    }

    /// Counters of what the limits refused (connections, requests, timeouts, accept errors).
    pub fn refusals(&self) -> RefusalCounts {
        self.refusals.counts()
    }

    /// Waits until at least `items` items of `signal` were accepted in total, or `timeout`
    /// passes; returns whether they arrived.
    pub async fn wait_for_items(&self, signal: Signal, items: usize, timeout: Duration) -> bool {
        self.state.wait_for_items(signal, items, timeout).await
    }

    /// Stops both servers and waits for them; requests still hanging are cut off.
    pub async fn shutdown(mut self) {
        self.stop_and_join().await;
    }

    async fn stop_and_join(&mut self) {
        let _ = self.stop.send(true);
        for mut task in self.tasks.drain(..) {
            // A request held by a `hang` fault would keep a graceful shutdown waiting forever.
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}
