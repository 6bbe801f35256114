//! The SDK providers a pipeline hands out, with its processors, its metric reader and views.

use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{Instrument, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData};
use opentelemetry_sdk::Resource;
use otlp_batch::{BatchLogProcessor, BatchProcessor, BatchSpanProcessor, LogItem};
use otlp_core::Signal;

use crate::config::{ExporterKind, PipelineConfig};
use crate::sinks::MetricExporter;
use crate::views::{self, View};

/// The tracer provider: the configured sampler and limits, and the span processor unless the
/// traces exporter is `none`.
pub(super) fn tracer(
    config: &PipelineConfig,
    resource: &Resource,
    processor: &BatchProcessor<SpanData>,
) -> SdkTracerProvider {
    // The sampler and limits are always set, so that the SDK's own reading of the
    // environment never overrides a configuration file.
    let mut builder = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_sampler(config.sampler.build())
        .with_span_limits(config.limits.span_limits());
    if config.exporter_kind(Signal::Traces) != ExporterKind::None {
        builder = builder.with_span_processor(BatchSpanProcessor::new(
            processor.clone(),
            config.span_batch.export_timeout,
        ));
    }
    builder.build()
}

/// The logger provider, with the log processor unless the logs exporter is `none`.
pub(super) fn logger(
    config: &PipelineConfig,
    resource: &Resource,
    processor: &BatchProcessor<LogItem>,
) -> SdkLoggerProvider {
    let mut builder = SdkLoggerProvider::builder().with_resource(resource.clone());
    if config.exporter_kind(Signal::Logs) != ExporterKind::None {
        builder = builder.with_log_processor(BatchLogProcessor::new(
            processor.clone(),
            config.log_batch.export_timeout,
        ));
    }
    builder.build()
}

/// The meter provider: a periodic reader over `exporter` unless the metrics exporter is
/// `none`, the file's views, the caller's, and the default histogram aggregation.
pub(super) fn meter(
    config: &PipelineConfig,
    resource: &Resource,
    exporter: MetricExporter,
    views: Vec<View>,
) -> SdkMeterProvider {
    let mut builder = SdkMeterProvider::builder().with_resource(resource.clone());
    if config.exporter_kind(Signal::Metrics) != ExporterKind::None {
        let reader = PeriodicReader::builder(exporter)
            .with_interval(config.metric_export_interval)
            .build();
        builder = builder.with_reader(reader);
    }
    let mut all_views: Vec<View> = config
        .views
        .iter()
        .cloned()
        .map(views::from_config)
        .collect();
    all_views.extend(views);
    if let Some(default) = views::default_histogram(config.histogram_aggregation, all_views.clone())
    {
        all_views.push(default);
    }
    for view in all_views {
        builder = builder.with_view(move |instrument: &Instrument| view(instrument));
    }
    builder.build()
}
