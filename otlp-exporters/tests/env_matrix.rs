//! The OpenTelemetry environment variables, one test per group of variables: the
//! specification's defaults, per-signal precedence, endpoint rules, percent-decoding, the SDK's
//! settings. The parsing rules every variable follows are in `env_rules.rs`.

#![allow(clippy::unwrap_used)]

mod config_support;

use std::time::Duration;

use otlp_core::Signal;
use otlp_exporters::config::{
    ExemplarFilter, ExporterKind, HistogramAggregation, Propagator, SamplerConfig,
    TemporalityPreference,
};
use otlp_exporters::Protocol;
use otlp_transport::Compression;

use config_support::config;

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
