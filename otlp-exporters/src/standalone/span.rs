//! [`SpanExporterBuilder`]: `SpanExporter::builder().with_tonic()` (or `.with_http()`), as
//! upstream spells it, building a [`SpanExporter`] that sends through the reliability stack.

use std::marker::PhantomData;

use opentelemetry_sdk::Resource;
use otlp_core::Signal;

use super::settings::{Settings, Transport};
use super::traits::sealed::HasSettings;
use super::traits::{HttpExporterBuilderSet, NoExporterBuilderSet, TonicExporterBuilderSet};
use crate::pipeline::BuildError;
use crate::sinks::SpanExporter;

/// Builds a [`SpanExporter`]; choose the transport with
/// [`with_tonic`](SpanExporterBuilder::with_tonic) or
/// [`with_http`](SpanExporterBuilder::with_http), then set what the environment should not
/// decide through [`WithExportConfig`](crate::WithExportConfig),
/// [`WithTonicConfig`](crate::WithTonicConfig) or [`WithHttpConfig`](crate::WithHttpConfig).
#[derive(Debug, Clone, Default)]
pub struct SpanExporterBuilder<C> {
    settings: Settings,
    transport: PhantomData<C>,
}

impl SpanExporter {
    /// A builder reading the environment, like upstream's.
    pub fn builder() -> SpanExporterBuilder<NoExporterBuilderSet> {
        SpanExporterBuilder::default()
    }
}

impl SpanExporterBuilder<NoExporterBuilderSet> {
    /// A builder reading the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Exports over gRPC.
    pub fn with_tonic(self) -> SpanExporterBuilder<TonicExporterBuilderSet> {
        SpanExporterBuilder {
            settings: self.settings,
            transport: PhantomData,
        }
    }

    /// Exports over HTTP (protobuf, or JSON with `Protocol::HttpJson`).
    pub fn with_http(self) -> SpanExporterBuilder<HttpExporterBuilderSet> {
        SpanExporterBuilder {
            settings: self.settings,
            transport: PhantomData,
        }
    }

    /// Builds with the protocol the environment names (`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`,
    /// `OTEL_EXPORTER_OTLP_PROTOCOL`; default `http/protobuf`).
    pub fn build(self) -> Result<SpanExporter, BuildError> {
        build(&self.settings, None)
    }
}

impl SpanExporterBuilder<TonicExporterBuilderSet> {
    /// Builds the exporter. Connections are made lazily, at the first export.
    pub fn build(self) -> Result<SpanExporter, BuildError> {
        build(&self.settings, Some(Transport::Grpc))
    }
}

impl SpanExporterBuilder<HttpExporterBuilderSet> {
    /// Builds the exporter. Connections are made lazily, at the first export.
    pub fn build(self) -> Result<SpanExporter, BuildError> {
        build(&self.settings, Some(Transport::Http))
    }
}

impl<C> HasSettings for SpanExporterBuilder<C> {
    type Transport = C;

    fn settings(&mut self) -> &mut Settings {
        &mut self.settings
    }
}

fn build(settings: &Settings, transport: Option<Transport>) -> Result<SpanExporter, BuildError> {
    let parts = settings.build(Signal::Traces, transport)?;
    Ok(SpanExporter {
        sender: parts.sender,
        runtime: parts.runtime,
        resource: Resource::builder_empty().build(),
    })
}
