//! The foundation of the otlp-* family: the OTLP data model, encoders and the error taxonomy.
//!
//! Every other crate builds on this one:
//!
//! - [`proto`]: the OTLP message types and collector service stubs, re-exported from
//!   `opentelemetry-proto` (never copied or regenerated here);
//! - [`Signal`], [`ExportRequest`] and [`ExportOutcome`]: what flows through the tower stack
//!   of `otlp-reliability` and `otlp-transport`;
//! - [`Error`], [`ErrorKind`] and [`classify`]: the one place where retryability is decided,
//!   following the OTLP specification's gRPC and HTTP tables;
//! - [`encode`]: SDK data to protobuf or OTLP/JSON bodies, split to a size limit;
//! - [`InvalidSetting`]: the error for bad configuration, naming the setting and the value.
//!
//! The crate does no I/O and does not depend on an async runtime.
//!
//! # Example
//!
//! ```
//! use otlp_core::encode::{decode, encode_message, EncodeOptions};
//! use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
//! use otlp_core::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
//! use otlp_core::{Encoding, Signal};
//!
//! let span = |name: &str| Span { name: name.into(), trace_id: vec![1; 16], span_id: vec![2; 8], ..Default::default() };
//! let message = ExportTraceServiceRequest {
//!     resource_spans: vec![ResourceSpans {
//!         scope_spans: vec![ScopeSpans { spans: vec![span("a"), span("b")], ..Default::default() }],
//!         ..Default::default()
//!     }],
//! };
//! let options = EncodeOptions::default().with_encoding(Encoding::Json);
//! let encoded = encode_message(message.clone(), &options)?;
//! let request = &encoded.requests[0];
//! assert_eq!((request.signal, request.items), (Signal::Traces, 2));
//! assert_eq!(decode::<ExportTraceServiceRequest>(Encoding::Json, &request.body)?, message);
//! # Ok::<(), otlp_core::Error>(())
//! ```

pub mod bearer;
pub mod encode;
mod error;
pub mod redact;
mod request;
mod request_headers;
mod setting;
mod signal;
mod split;
mod telemetry;

pub use error::{classify, BoxError, Classification, Error, ErrorKind, Status, MAX_RETRY_AFTER};
pub use request::{Encoding, ExportOutcome, ExportRequest};
pub use request_headers::RequestHeaders;
pub use setting::InvalidSetting;
pub use signal::Signal;
pub use telemetry::Telemetry;

/// The OTLP protobuf message types and gRPC service stubs (`opentelemetry-proto`'s `tonic`
/// module).
pub use opentelemetry_proto::tonic as proto;
