//! The OpenTelemetry environment variables: the specification's defaults, per-signal
// tidy: long-file one test per parsing rule of the environment, as TESTING.md lists them
//! precedence, endpoint rules, percent-decoding, and its parsing rules (invalid values warned
//! about and ignored, `0` timeouts meaning no limit, case-insensitive enums).

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otlp_core::Signal;
use otlp_exporters::config::{
    ExemplarFilter, ExporterKind, HistogramAggregation, PipelineConfig, Propagator, SamplerConfig,
    Source, TemporalityPreference, NO_LIMIT,
};
use otlp_exporters::Protocol;
use otlp_transport::Compression;

fn config(vars: &[(&str, &str)]) -> PipelineConfig {
    let env: HashMap<&str, &str> = vars.iter().copied().collect();
    let mut config = PipelineConfig::default();
    config.apply_env(&env).unwrap();
    config
}

#[test]
fn defaults_follow_the_specification() {
    let config = config(&[]);
    let traces = config.resolve(Signal::Traces).unwrap();
    assert_eq!(traces.protocol, Protocol::HttpProtobuf);
    assert_eq!(traces.endpoint, "http://localhost:4318/v1/traces");
    assert_eq!(traces.timeout, Duration::from_secs(10));
    assert_eq!(traces.compression, Compression::None);
    assert_eq!(config.service_name, "unknown_service");
    assert_eq!(config.span_batch.scheduled_delay, Duration::from_secs(5));
    assert_eq!(config.span_batch.export_timeout, Duration::from_secs(30));
    assert_eq!(
        (
            config.span_batch.max_queue_size,
            config.span_batch.max_batch_size
        ),
        (2048, 512)
    );
    assert_eq!(config.log_batch.scheduled_delay, Duration::from_secs(1));
    assert_eq!(config.metric_export_interval, Duration::from_secs(60));
    assert_eq!(config.metric_export_timeout, Duration::from_secs(30));
    assert_eq!(config.exporters, [ExporterKind::Otlp; 3]);
    assert_eq!(
        config.propagators,
        vec![Propagator::TraceContext, Propagator::Baggage]
    );
    assert_eq!(
        config.sampler,
        SamplerConfig::parent_based(SamplerConfig::AlwaysOn)
    );
    assert_eq!(config.temporality, TemporalityPreference::Cumulative);
    assert_eq!(
        config.histogram_aggregation,
        HistogramAggregation::ExplicitBucket
    );
    assert_eq!(config.exemplar_filter, ExemplarFilter::TraceBased);
    assert_eq!(config.log_level, "info");
    let limits = config.limits.span_limits();
    assert_eq!(
        (
            limits.max_attributes_per_span,
            limits.max_events_per_span,
            limits.max_links_per_span
        ),
        (128, 128, 128)
    );
    assert!(config.provenance.warnings().is_empty());
    let grpc = self::config(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
    assert_eq!(
        grpc.resolve(Signal::Logs).unwrap().endpoint,
        "http://localhost:4317"
    );
}

#[test]
fn per_signal_settings_beat_generic_ones() {
    let config = config(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "5000"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "http://metrics:9090/custom/path",
        ),
        ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "zstd"),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "250"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4317"),
    ]);
    let traces = config.resolve(Signal::Traces).unwrap();
    assert_eq!(
        (traces.protocol, traces.endpoint.as_str()),
        (Protocol::Grpc, "http://traces:4317")
    );
    assert_eq!(
        (traces.compression, traces.timeout),
        (Compression::Gzip, Duration::from_secs(5))
    );
    let metrics = config.resolve(Signal::Metrics).unwrap();
    assert_eq!(
        metrics.endpoint, "http://metrics:9090/custom/path",
        "a signal endpoint is used as is"
    );
    assert_eq!(metrics.compression, Compression::Zstd);
    let logs = config.resolve(Signal::Logs).unwrap();
    assert_eq!(logs.protocol, Protocol::HttpJson);
    assert_eq!(
        logs.endpoint, "http://collector:4318/v1/logs",
        "the generic endpoint gets the signal path"
    );
    assert_eq!(logs.timeout, Duration::from_millis(250));
}

#[test]
fn grpc_endpoints_without_a_scheme_follow_insecure() {
    let grpc = ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    let secure = config(&[grpc, ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]);
    assert_eq!(
        secure.resolve(Signal::Traces).unwrap().endpoint,
        "https://collector:4317"
    );
    let plain = config(&[
        grpc,
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
    ]);
    assert_eq!(
        plain.resolve(Signal::Traces).unwrap().endpoint,
        "http://collector:4317"
    );
    let explicit = config(&[
        grpc,
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
    ]);
    assert_eq!(
        explicit.resolve(Signal::Traces).unwrap().endpoint,
        "https://collector:4317",
        "a scheme wins"
    );
}

#[test]
fn headers_are_percent_decoded_and_per_signal_headers_replace_generic_ones() {
    let config = config(&[
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "api-key=secret%20value,x-tenant=acme",
        ),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-tenant=traces-only"),
    ]);
    let metrics = config.resolve(Signal::Metrics).unwrap();
    assert_eq!(metrics.headers.get("api-key").unwrap(), "secret value");
    let traces = config.resolve(Signal::Traces).unwrap();
    assert_eq!(traces.headers.get("x-tenant").unwrap(), "traces-only");
    assert!(
        traces.headers.get("api-key").is_none(),
        "a per-signal HEADERS replaces the generic one"
    );
    assert!(
        !format!("{config:?}").contains("secret value"),
        "header values never appear in Debug"
    );
}

#[test]
fn service_and_resource_attributes() {
    let config = config(&[
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=from-attrs,service.version=2.1,team=pay%20ments",
        ),
        ("OTEL_SERVICE_NAME", "checkout"),
    ]);
    assert_eq!(
        config.service_name, "checkout",
        "OTEL_SERVICE_NAME wins over the attribute"
    );
    assert_eq!(config.service_version.as_deref(), Some("2.1"));
    assert_eq!(
        config.resource_attributes,
        vec![opentelemetry::KeyValue::new("team", "pay ments")]
    );
    let broken = self::config(&[("OTEL_RESOURCE_ATTRIBUTES", "team=a,novalue")]);
    assert!(
        broken.resource_attributes.is_empty(),
        "an invalid value is discarded whole"
    );
}

#[test]
fn batch_and_metric_variables() {
    let config = config(&[
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "3000"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "300"),
        ("OTEL_BLRP_EXPORT_TIMEOUT", "4000"),
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "4096"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "64"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "1000"),
        ("OTEL_METRIC_EXPORT_TIMEOUT", "2000"),
        ("OTEL_SDK_DISABLED", "TRUE"),
    ]);
    assert_eq!(
        config.span_batch.scheduled_delay,
        Duration::from_millis(200)
    );
    assert_eq!(config.span_batch.max_queue_size, 100);
    assert_eq!(
        config.span_batch.max_batch_size, 100,
        "capped at the queue size"
    );
    assert_eq!(config.span_batch.export_timeout, Duration::from_secs(3));
    assert_eq!(config.log_batch.scheduled_delay, Duration::from_millis(300));
    assert_eq!(config.log_batch.export_timeout, Duration::from_secs(4));
    assert_eq!(
        (
            config.log_batch.max_queue_size,
            config.log_batch.max_batch_size
        ),
        (4096, 64)
    );
    assert_eq!(config.metric_export_interval, Duration::from_secs(1));
    assert_eq!(config.metric_export_timeout, Duration::from_secs(2));
    assert!(config.disabled);
}

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

#[test]
fn exporters_propagators_and_samplers() {
    let none = config(&[("OTEL_PROPAGATORS", "none")]);
    assert!(none.propagators.is_empty());
    let deduplicated = config(&[("OTEL_PROPAGATORS", "tracecontext,baggage,tracecontext")]);
    assert_eq!(deduplicated.propagators.len(), 2);
    let unavailable = config(&[("OTEL_PROPAGATORS", "b3,baggage")]);
    assert_eq!(unavailable.propagators, vec![Propagator::Baggage]);
    assert!(unavailable.provenance.warnings()[0].contains("b3"));

    for (name, arg, expected) in [
        ("always_on", None, SamplerConfig::AlwaysOn),
        ("always_off", None, SamplerConfig::AlwaysOff),
        (
            "traceidratio",
            Some("0.25"),
            SamplerConfig::TraceIdRatio(0.25),
        ),
        (
            "parentbased_always_on",
            None,
            SamplerConfig::parent_based(SamplerConfig::AlwaysOn),
        ),
        (
            "parentbased_always_off",
            None,
            SamplerConfig::parent_based(SamplerConfig::AlwaysOff),
        ),
        (
            "parentbased_traceidratio",
            Some("0.5"),
            SamplerConfig::parent_based(SamplerConfig::TraceIdRatio(0.5)),
        ),
        ("traceidratio", Some("2"), SamplerConfig::TraceIdRatio(1.0)),
        ("traceidratio", None, SamplerConfig::TraceIdRatio(1.0)),
    ] {
        let mut vars = vec![("OTEL_TRACES_SAMPLER", name)];
        if let Some(arg) = arg {
            vars.push(("OTEL_TRACES_SAMPLER_ARG", arg));
        }
        assert_eq!(config(&vars).sampler, expected, "{name} {arg:?}");
    }
    let bad_arg = config(&[
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "half"),
    ]);
    assert!(bad_arg.provenance.warnings()[0].contains("half"));

    let limits = config(&[
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "10"),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "3"),
        ("OTEL_SPAN_LINK_COUNT_LIMIT", "4"),
        ("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "5"),
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"),
        ("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "7"),
    ]);
    let span = limits.limits.span_limits();
    assert_eq!(
        (
            span.max_attributes_per_span,
            span.max_events_per_span,
            span.max_links_per_span,
            span.max_attributes_per_event,
            span.max_attributes_per_link
        ),
        (10, 3, 4, 10, 5),
        "OTEL_ATTRIBUTE_COUNT_LIMIT is the default of the span attribute counts"
    );
    let specific = config(&[
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "10"),
        ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "2"),
        ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "1"),
    ]);
    let span = specific.limits.span_limits();
    assert_eq!(
        (span.max_attributes_per_span, span.max_attributes_per_event),
        (2, 1)
    );
    assert_eq!(limits.limits.log_record_attribute_count, Some(7));
    let report = limits.report();
    assert!(
        report.warnings.iter().any(|w| w.contains("not enforced")),
        "limits the SDK cannot enforce are said: {:?}",
        report.warnings
    );
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
