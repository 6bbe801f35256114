//! Where a demo's telemetry goes: the embedded receiver, or the collector that the standard
//! `OTEL_EXPORTER_OTLP_*` variables name.

use otlp_exporters::{OtlpPipeline, PipelineBuilder};
use otlp_transport::receiver::{Receiver, ReceiverConfig};

/// The embedded receiver, or an external collector.
#[derive(Debug)]
pub enum Target {
    /// An OTLP receiver in this process on 127.0.0.1; the demo shows what it got.
    Embedded(Receiver),
    /// The collector of `OTEL_EXPORTER_OTLP_*`.
    External(String),
}

const ENDPOINT_VARIABLES: [&str; 4] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
];

impl Target {
    /// An external collector when an endpoint variable is set, the embedded receiver otherwise.
    pub async fn from_env() -> std::io::Result<Target> {
        for variable in ENDPOINT_VARIABLES {
            if let Some(value) = std::env::var(variable)
                .ok()
                .filter(|v| !v.trim().is_empty())
            {
                return Ok(Target::External(format!("{variable}={value}")));
            }
        }
        Ok(Target::Embedded(
            Receiver::start(ReceiverConfig::default()).await?,
        ))
    }

    /// A pipeline builder for `service`: the environment applied, pointed at the target.
    pub fn pipeline(&self, service: &str) -> Result<PipelineBuilder, Box<dyn std::error::Error>> {
        let builder = OtlpPipeline::builder()
            .with_env()?
            .with_service_name(service);
        Ok(match self {
            Target::Embedded(receiver) => builder.with_endpoint(receiver.grpc_endpoint()),
            Target::External(_) => builder,
        })
    }

    /// One line saying where telemetry goes.
    pub fn describe(&self) -> String {
        match self {
            Target::Embedded(receiver) => format!(
                "embedded OTLP receiver (gRPC {}, HTTP {}); set OTEL_EXPORTER_OTLP_ENDPOINT to use a collector",
                receiver.grpc_endpoint(),
                receiver.http_endpoint()
            ),
            Target::External(from) => format!("collector from {from}"),
        }
    }

    /// The embedded receiver, when there is one.
    pub fn receiver(&self) -> Option<&Receiver> {
        match self {
            Target::Embedded(receiver) => Some(receiver),
            Target::External(_) => None,
        }
    }
}
