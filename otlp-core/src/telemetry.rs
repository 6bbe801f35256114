//! A decoded collector request of any signal.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::split::Items;
use crate::Signal;

/// One collector request as OTLP messages: what a receiver decodes, and what a custom
/// (non-OTLP) exporter is given.
#[derive(Debug, Clone, PartialEq)]
pub enum Telemetry {
    /// A trace service request.
    Traces(ExportTraceServiceRequest),
    /// A metrics service request.
    Metrics(ExportMetricsServiceRequest),
    /// A logs service request.
    Logs(ExportLogsServiceRequest),
}

impl Telemetry {
    /// The signal of the request.
    pub fn signal(&self) -> Signal {
        match self {
            Telemetry::Traces(_) => Signal::Traces,
            Telemetry::Metrics(_) => Signal::Metrics,
            Telemetry::Logs(_) => Signal::Logs,
        }
    }

    /// Spans, data points or log records in the request.
    pub fn items(&self) -> usize {
        match self {
            Telemetry::Traces(r) => r.item_count(),
            Telemetry::Metrics(r) => r.item_count(),
            Telemetry::Logs(r) => r.item_count(),
        }
    }
}
