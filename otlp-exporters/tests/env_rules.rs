//! The parsing rules of the environment: an empty variable counts as unset, an invalid value
//! is warned about (through `tracing`, naming the variable and the value) and ignored, a `0`
//! timeout means no limit, enum values are case-insensitive; and the report names each value's
//! source. Each variable's own values are in `env_matrix.rs`.

#![allow(clippy::unwrap_used)]

mod config_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use otlp_core::Signal;
use otlp_exporters::config::{
    ExemplarFilter, ExporterKind, HistogramAggregation, PipelineConfig, Propagator, SamplerConfig,
    Source, TemporalityPreference, NO_LIMIT,
};
use otlp_exporters::Protocol;
use otlp_transport::Compression;

use config_support::config;

#[test]
fn empty_variables_count_as_unset() {
    let config = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", " "),
    ]);
    assert_eq!(
        config.resolve(Signal::Logs).unwrap().endpoint,
        "http://localhost:4318/v1/logs"
    );
    assert!(config.provenance.warnings().is_empty());
}

#[test]
fn zero_timeouts_mean_no_limit() {
    let config = config(&[
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "0"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "0"),
        ("OTEL_BLRP_EXPORT_TIMEOUT", "0"),
        ("OTEL_METRIC_EXPORT_TIMEOUT", "0"),
    ]);
    assert!(config.provenance.warnings().is_empty());
    for signal in Signal::ALL {
        assert_eq!(config.resolve(signal).unwrap().timeout, NO_LIMIT);
    }
    assert_eq!(config.span_batch.export_timeout, NO_LIMIT);
    assert_eq!(config.log_batch.export_timeout, NO_LIMIT);
    assert_eq!(config.metric_export_timeout, NO_LIMIT);
    let report = config.report();
    assert_eq!(report.get("traces.timeout").unwrap().value, "no limit");
    assert_eq!(
        report.get("metrics.export_timeout").unwrap().value,
        "no limit"
    );
}

#[test]
fn enum_values_are_case_insensitive() {
    let config = config(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/JSON"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "GZip"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "True"),
        ("OTEL_TRACES_EXPORTER", "Console"),
        ("OTEL_METRICS_EXPORTER", "NONE"),
        ("OTEL_LOGS_EXPORTER", "OTLP"),
        ("OTEL_PROPAGATORS", "Baggage,TRACECONTEXT"),
        ("OTEL_TRACES_SAMPLER", "Always_Off"),
        ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "DELTA"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
            "Base2_Exponential_Bucket_Histogram",
        ),
        ("OTEL_METRICS_EXEMPLAR_FILTER", "ALWAYS_ON"),
        ("OTEL_LOG_LEVEL", "DEBUG"),
        ("OTEL_SDK_DISABLED", "tRuE"),
    ]);
    assert!(
        config.provenance.warnings().is_empty(),
        "{:?}",
        config.provenance.warnings()
    );
    let traces = config.resolve(Signal::Traces).unwrap();
    assert_eq!(
        (traces.protocol, traces.compression),
        (Protocol::HttpJson, Compression::Gzip)
    );
    assert_eq!(config.exporter.insecure, Some(true));
    assert_eq!(
        config.exporters,
        [
            ExporterKind::Console,
            ExporterKind::None,
            ExporterKind::Otlp
        ]
    );
    assert_eq!(
        config.propagators,
        vec![Propagator::Baggage, Propagator::TraceContext]
    );
    assert_eq!(config.sampler, SamplerConfig::AlwaysOff);
    assert_eq!(config.temporality, TemporalityPreference::Delta);
    assert_eq!(
        config.histogram_aggregation,
        HistogramAggregation::Base2Exponential
    );
    assert_eq!(config.exemplar_filter, ExemplarFilter::AlwaysOn);
    assert_eq!(config.log_level, "debug");
    assert!(config.disabled);
}

/// A `tracing` subscriber that keeps what is logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn invalid_values_are_warned_about_and_ignored() {
    let cases: &[(&str, &str)] = &[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "-5"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "lz4"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "yes"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/nonexistent/key.pem"),
        (
            "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
            "/nonexistent/cert.pem",
        ),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector:21"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "not a url"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
        ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "many"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "1.5"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "0"),
        ("OTEL_SDK_DISABLED", "maybe"),
        ("OTEL_RESOURCE_ATTRIBUTES", "novalue"),
        ("OTEL_TRACES_EXPORTER", "zipkin"),
        ("OTEL_METRICS_EXPORTER", "prometheus"),
        ("OTEL_LOGS_EXPORTER", "otlp,console"),
        ("OTEL_PROPAGATORS", "jaeger"),
        ("OTEL_TRACES_SAMPLER", "sometimes"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "weekly",
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
            "summary",
        ),
        ("OTEL_METRICS_EXEMPLAR_FILTER", "sometimes"),
        ("OTEL_LOG_LEVEL", "loud"),
        ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "-1"),
        ("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "long"),
    ];
    let defaults = PipelineConfig::default();
    for (variable, value) in cases {
        let logged = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer({
                let logged = logged.clone();
                move || logged.clone()
            })
            .with_ansi(false)
            .finish();
        let config = tracing::subscriber::with_default(subscriber, || config(&[(variable, value)]));
        let warnings = config.provenance.warnings();
        assert_eq!(warnings.len(), 1, "{variable}={value}: {warnings:?}");
        assert!(
            warnings[0].contains(variable) && warnings[0].contains(value),
            "{variable}={value}: {warnings:?}"
        );
        let logged = String::from_utf8(logged.0.lock().unwrap().clone()).unwrap();
        assert!(
            logged.contains("WARN") && logged.contains(variable) && logged.contains(value),
            "{variable}={value} is warned about through tracing: {logged}"
        );
        let mut ignored = config.clone();
        ignored.provenance = defaults.provenance.clone();
        assert_eq!(
            ignored, defaults,
            "{variable}={value}: the value is ignored and the default stays"
        );
        for signal in Signal::ALL {
            config.resolve(signal).unwrap();
        }
    }
    // Header values are secret: the variable is named, the value is not shown.
    let config = config(&[(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "authorization=Bearer%20tok,oops",
    )]);
    let warning = &config.provenance.warnings()[0];
    assert!(
        warning.contains("OTEL_EXPORTER_OTLP_HEADERS") && !warning.contains("tok"),
        "{warning}"
    );
    assert!(config.exporter.headers.is_none());
}

#[test]
fn the_report_names_each_source() {
    let env: HashMap<&str, &str> = [
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://user:hunter2@collector:4318",
        ),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key=s3cret"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "nope"),
    ]
    .into_iter()
    .collect();
    let mut builder = otlp_exporters::OtlpPipeline::builder()
        .with_env_from(&env)
        .unwrap()
        .with_compression(Compression::Gzip);
    let report = builder.config_mut().report();
    let entry = |key: &str| report.get(key).unwrap().clone();
    assert_eq!(entry("metrics.endpoint").source, Source::Environment);
    assert_eq!(
        entry("metrics.endpoint").value,
        "http://<redacted>@collector:4318/v1/metrics"
    );
    assert_eq!(entry("traces.headers").value, "api-key=<redacted>");
    assert_eq!(entry("logs.compression").source, Source::Code);
    assert_eq!(entry("logs.compression").value, "gzip");
    assert_eq!(entry("logs.protocol").source, Source::Default);
    assert_eq!(entry("span_batch.max_queue_size").source, Source::Default);
    assert_eq!(report.warnings.len(), 1);
    let text = report.to_string();
    assert!(
        !text.contains("hunter2") && !text.contains("s3cret"),
        "{text}"
    );
    assert!(text.contains("OTEL_BSP_MAX_QUEUE_SIZE"), "{text}");
}
