//! The OpenTelemetry environment variables: per-signal precedence, endpoint rules,
//! percent-decoding, and an error naming the variable and the value for every bad value.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use otlp_core::Signal;
use otlp_exporters::config::PipelineConfig;
use otlp_exporters::Protocol;
use otlp_transport::Compression;

fn config(vars: &[(&str, &str)]) -> Result<PipelineConfig, otlp_core::InvalidSetting> {
    let env: HashMap<&str, &str> = vars.iter().copied().collect();
    let mut config = PipelineConfig::default();
    config.apply_env(&env)?;
    Ok(config)
}

#[test]
fn defaults_follow_the_specification() {
    let config = config(&[]).unwrap();
    let traces = config.resolve(Signal::Traces).unwrap();
    assert_eq!(traces.protocol, Protocol::Grpc);
    assert_eq!(traces.endpoint, "http://localhost:4317");
    assert_eq!(traces.timeout, Duration::from_secs(10));
    assert_eq!(traces.compression, Compression::None);
    assert_eq!(config.service_name, "unknown_service");
    assert_eq!(config.span_batch.scheduled_delay, Duration::from_secs(5));
    assert_eq!(config.log_batch.scheduled_delay, Duration::from_secs(1));
    assert_eq!(config.metric_export_interval, Duration::from_secs(60));
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
    ])
    .unwrap();
    let traces = config.resolve(Signal::Traces).unwrap();
    assert_eq!(
        traces.endpoint, "http://collector:4318/v1/traces",
        "the generic endpoint gets the signal path"
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
    assert_eq!(logs.endpoint, "http://collector:4318/v1/logs");
    assert_eq!(logs.timeout, Duration::from_millis(250));
}

#[test]
fn grpc_endpoints_without_a_scheme_follow_insecure() {
    let secure = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]).unwrap();
    assert_eq!(
        secure.resolve(Signal::Traces).unwrap().endpoint,
        "https://collector:4317"
    );
    let plain = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
    ])
    .unwrap();
    assert_eq!(
        plain.resolve(Signal::Traces).unwrap().endpoint,
        "http://collector:4317"
    );
    let explicit = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
    ])
    .unwrap();
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
    ])
    .unwrap();
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
    ])
    .unwrap();
    assert_eq!(
        config.service_name, "checkout",
        "OTEL_SERVICE_NAME wins over the attribute"
    );
    assert_eq!(config.service_version.as_deref(), Some("2.1"));
    assert_eq!(
        config.resource_attributes,
        vec![("team".to_owned(), "pay ments".to_owned())]
    );
}

#[test]
fn batch_and_metric_variables() {
    let config = config(&[
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "3000"),
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "4096"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "1000"),
        ("OTEL_METRIC_EXPORT_TIMEOUT", "2000"),
        ("OTEL_SDK_DISABLED", "TRUE"),
    ])
    .unwrap();
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
    assert_eq!(config.log_batch.max_queue_size, 4096);
    assert_eq!(config.metric_export_interval, Duration::from_secs(1));
    assert_eq!(config.metric_export_timeout, Duration::from_secs(2));
    assert!(config.disabled);
}

#[test]
fn empty_variables_count_as_unset() {
    let config = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", " "),
    ])
    .unwrap();
    assert_eq!(
        config.resolve(Signal::Logs).unwrap().endpoint,
        "http://localhost:4317"
    );
}

#[test]
fn every_bad_value_names_the_variable_and_the_value() {
    let cases: &[(&str, &str)] = &[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "-5"),
        ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "0"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "lz4"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "yes"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/nonexistent/key.pem"),
        (
            "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
            "/nonexistent/cert.pem",
        ),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
        ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "many"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "1.5"),
        ("OTEL_SDK_DISABLED", "maybe"),
        ("OTEL_RESOURCE_ATTRIBUTES", "novalue"),
    ];
    for (variable, value) in cases {
        let error = config(&[(variable, value)]).unwrap_err().to_string();
        assert!(error.contains(variable), "{variable}={value}: {error}");
        assert!(error.contains(value), "{variable}={value}: {error}");
    }
    // Endpoints are checked when resolved.
    for (variable, value) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector:21"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "not a url"),
    ] {
        let config = config(&[
            (variable, value),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ])
        .unwrap();
        let error = config.resolve(Signal::Traces).unwrap_err().to_string();
        assert!(error.contains(variable) && error.contains(value), "{error}");
    }
    // Header values are secret: the variable is named, the value is not shown.
    let error = config(&[(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "authorization=Bearer%20tok,oops",
    )])
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("OTEL_EXPORTER_OTLP_HEADERS") && !error.contains("tok"),
        "{error}"
    );
}
