//! Exporters to non-OTLP backends that still get batching, retry, circuit breaking, timeouts
//! and the bulkhead of the pipeline.
//!
//! A [`CustomExporter`] receives each batch as OTLP messages ([`Telemetry`]), already grouped
//! by resource and scope, and answers with an [`ExportOutcome`] or an error that the retry
//! layer classifies like any other (`otlp_core::Error::from_http_status` for an HTTP backend).
//! Install one with
//! [`PipelineBuilder::with_custom_exporter`](crate::PipelineBuilder::with_custom_exporter).
//!
//! Shipped as worked examples: [`JsonHttpExporter`] (the guide's custom JSON backend, with a
//! bearer token) and [`JsonLinesExporter`] (JSON lines to stdout or a file, for debugging).
//! [`ConsoleExporter`] is the specification's `console` exporter (`OTEL_TRACES_EXPORTER=console`).

mod console;
mod json_http;
mod json_lines;
pub mod records;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, ExportOutcome, Telemetry};

pub use console::ConsoleExporter;
pub use json_http::JsonHttpExporter;
pub use json_lines::JsonLinesExporter;

/// A backend that is not an OTLP collector.
pub trait CustomExporter: Send + Sync + 'static {
    /// Exports one batch. The same `Arc` is passed again on a retry.
    fn export(&self, batch: Arc<Telemetry>) -> BoxFuture<'static, Result<ExportOutcome, BoxError>>;
}

/// A [`CustomExporter`] as the bottom service of the reliability stack (always ready).
pub(crate) use crate::sinks::Sink as CustomService;
