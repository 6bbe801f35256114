//! OTLP transports for the otlp-* family, as `tower::Service<ExportRequest>`s, and an
//! embeddable OTLP receiver.
//!
//! - [`grpc::GrpcTransport`]: tonic, pre-encoded bytes through a pass-through codec, gzip and
//!   zstd, metadata headers, TLS and mTLS;
//! - [`http::HttpTransport`]: reqwest, protobuf or OTLP/JSON, gzip and zstd, headers, TLS and
//!   mTLS, pooled connections;
//! - `receiver::Receiver` (feature `receiver`, off by default): a real OTLP server (gRPC and
//!   HTTP) on 127.0.0.1 for tests, demos and your own integration tests, with fault injection.
//!
//! Both take the same [`ClientOptions`] (timeouts, TLS, headers, compression, connection
//! settings, response limit, proxy) and accept `unix:///path` endpoints;
//! [`credentials::CredentialsLayer`] adds per-attempt headers from a user's async hook.
//!
//! Both transports map collector answers to [`otlp_core::Error`] following the OTLP
//! specification, so `otlp-reliability`'s retry layer can tell what to retry. They know nothing
//! about batching or retries themselves.
//!
//! # Example
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), otlp_core::BoxError> {
//! use otlp_core::encode::{encode_message, EncodeOptions};
//! use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
//! use otlp_core::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
//! use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
//! use otlp_transport::receiver::{Receiver, ReceiverConfig};
//! use tower::ServiceExt;
//!
//! let receiver = Receiver::start(ReceiverConfig::default()).await?;
//! let transport = GrpcTransport::new(GrpcConfig::new(receiver.grpc_endpoint()))?;
//!
//! let span = Span { name: "checkout".into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() };
//! let message = ExportTraceServiceRequest {
//!     resource_spans: vec![ResourceSpans {
//!         scope_spans: vec![ScopeSpans { spans: vec![span], ..Default::default() }],
//!         ..Default::default()
//!     }],
//! };
//! let request = encode_message(message, &EncodeOptions::default())?.requests.remove(0);
//! let outcome = transport.oneshot(request).await?;
//! assert_eq!(outcome.accepted, 1);
//! assert_eq!(receiver.counts().spans, 1);
//! receiver.shutdown().await;
//! # Ok(()) }
//! ```

pub mod balance;
pub mod client;
mod compression;
pub mod credentials;
pub mod endpoint;
pub mod grpc;
mod headers;
pub mod http;
#[cfg(feature = "receiver")]
pub mod receiver;
mod response;
mod tls;

pub use client::{ClientOptions, ConnectionSettings, ProxyConfig};
pub use compression::Compression;
pub use headers::Headers;
pub use response::parse_retry_after;
pub use tls::TlsConfig;
