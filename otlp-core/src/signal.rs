//! The three OTLP signals and where each one is sent.

use std::fmt;

/// One of the telemetry signals that OTLP carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// Spans, sent to the trace service.
    Traces,
    /// Metric data points, sent to the metrics service.
    Metrics,
    /// Log records, sent to the logs service.
    Logs,
}

impl Signal {
    /// All signals, in a fixed order.
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    /// The lower-case name used in URLs and environment variables: `traces`, `metrics`, `logs`.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    /// The OTLP/HTTP path of the signal, relative to the collector's base URL (`v1/traces`, ...).
    pub fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "v1/traces",
            Signal::Metrics => "v1/metrics",
            Signal::Logs => "v1/logs",
        }
    }

    /// The full gRPC method path of the signal's collector service `Export` call.
    pub fn grpc_path(self) -> &'static str {
        match self {
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        }
    }

    /// What one item of this signal is called in counts: `spans`, `data points`, `log records`.
    pub fn item_name(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics => "data points",
            Signal::Logs => "log records",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_otlp_specification() {
        assert_eq!(Signal::Logs.http_path(), "v1/logs");
        assert_eq!(
            Signal::Metrics.grpc_path(),
            "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
        );
        assert_eq!(Signal::Traces.to_string(), "traces");
    }
}
