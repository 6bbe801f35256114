//! [`MetricExporterBuilder`]: `MetricExporter::builder().with_tonic()` (or `.with_http()`), as
//! upstream spells it, building a [`MetricExporter`] that sends through the reliability stack.

use std::marker::PhantomData;

use opentelemetry_sdk::metrics::Temporality;
use otlp_core::Signal;

use super::settings::{Settings, Transport};
use super::traits::sealed::HasSettings;
use super::traits::{HttpExporterBuilderSet, NoExporterBuilderSet, TonicExporterBuilderSet};
use crate::pipeline::BuildError;
use crate::sinks::{MetricDeadline, MetricExporter};

/// Builds a [`MetricExporter`]; choose the transport with
/// [`with_tonic`](MetricExporterBuilder::with_tonic) or
/// [`with_http`](MetricExporterBuilder::with_http), then set what the environment should not
/// decide through [`WithExportConfig`](crate::WithExportConfig),
/// [`WithTonicConfig`](crate::WithTonicConfig) or [`WithHttpConfig`](crate::WithHttpConfig).
#[derive(Debug, Clone, Default)]
pub struct MetricExporterBuilder<C> {
    settings: Settings,
    temporality: Option<Temporality>,
    transport: PhantomData<C>,
}

impl MetricExporter {
    /// A builder reading the environment, like upstream's.
    pub fn builder() -> MetricExporterBuilder<NoExporterBuilderSet> {
        MetricExporterBuilder::default()
    }
}

impl MetricExporterBuilder<NoExporterBuilderSet> {
    /// A builder reading the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Exports over gRPC.
    pub fn with_tonic(self) -> MetricExporterBuilder<TonicExporterBuilderSet> {
        MetricExporterBuilder {
            settings: self.settings,
            temporality: self.temporality,
            transport: PhantomData,
        }
    }

    /// Exports over HTTP (protobuf, or JSON with `Protocol::HttpJson`).
    pub fn with_http(self) -> MetricExporterBuilder<HttpExporterBuilderSet> {
        MetricExporterBuilder {
            settings: self.settings,
            temporality: self.temporality,
            transport: PhantomData,
        }
    }

    /// Builds with the protocol the environment names (`OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`,
    /// `OTEL_EXPORTER_OTLP_PROTOCOL`; default `http/protobuf`).
    pub fn build(self) -> Result<MetricExporter, BuildError> {
        build(&self.settings, self.temporality, None)
    }
}

impl MetricExporterBuilder<TonicExporterBuilderSet> {
    /// Builds the exporter. Connections are made lazily, at the first export.
    pub fn build(self) -> Result<MetricExporter, BuildError> {
        build(&self.settings, self.temporality, Some(Transport::Grpc))
    }
}

impl MetricExporterBuilder<HttpExporterBuilderSet> {
    /// Builds the exporter. Connections are made lazily, at the first export.
    pub fn build(self) -> Result<MetricExporter, BuildError> {
        build(&self.settings, self.temporality, Some(Transport::Http))
    }
}

impl<C> MetricExporterBuilder<C> {
    /// The temporality the exporter asks the SDK for (default: cumulative, or
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
    pub fn with_temporality(mut self, temporality: Temporality) -> Self {
        self.temporality = Some(temporality);
        self
    }
}

impl<C> HasSettings for MetricExporterBuilder<C> {
    type Transport = C;

    fn settings(&mut self) -> &mut Settings {
        &mut self.settings
    }
}

fn build(
    settings: &Settings,
    temporality: Option<Temporality>,
    transport: Option<Transport>,
) -> Result<MetricExporter, BuildError> {
    let parts = settings.build(Signal::Metrics, transport)?;
    Ok(MetricExporter {
        sender: parts.sender,
        runtime: parts.runtime,
        temporality: temporality.unwrap_or_else(|| parts.config.temporality.sdk()),
        timeout: parts.config.metric_export_timeout,
        deadline: MetricDeadline::default(),
    })
}
