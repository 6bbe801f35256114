//! The TOML configuration file: every section of the production guide, and errors that name
//! the file, the key and the value.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use otlp_batch::{Overflow, Strategy};
use otlp_core::Signal;
use otlp_exporters::config::{LogFormat, PipelineConfig};
use otlp_exporters::Protocol;
use otlp_transport::Compression;

const PRODUCTION: &str = r#"
service_name = "production-app"
service_version = "1.0.0"
environment = "production"

[transport]
protocol = "http/protobuf"
endpoint = "https://otel-collector:4318"
compression = "gzip"
timeout = "15s"
headers = { x-tenant = "acme" }

[transport.traces]
endpoint = "https://traces-gateway:4318/v1/traces"
compression = "zstd"

[connection]
connect_timeout = "3s"

[batch]
max_batch_size = 1000
max_queue_size = 50000
scheduled_delay = "200ms"
max_batch_bytes = 4194304
max_concurrent_exports = 4
strategy = "hybrid"
overflow = "block"
block_timeout = "20ms"

[retry]
max_attempts = 3
initial_backoff = "100ms"
max_backoff = "5s"
multiplier = 2.0
total_timeout = "30s"

[monitoring]
health_endpoint = "127.0.0.1:8080"
metrics_export_interval = "10s"

[security]
bearer_token = "prod-token"

[logging]
level = "warn"
format = "json"
"#;

#[test]
fn every_section_is_read() {
    let mut config = PipelineConfig::default();
    config.apply_toml(PRODUCTION, "production.toml").unwrap();
    assert_eq!(config.service_name, "production-app");
    assert_eq!(config.environment.as_deref(), Some("production"));
    let traces = config.resolve(Signal::Traces).unwrap();
    assert_eq!(traces.endpoint, "https://traces-gateway:4318/v1/traces");
    assert_eq!(traces.compression, Compression::Zstd);
    let logs = config.resolve(Signal::Logs).unwrap();
    assert_eq!(logs.protocol, Protocol::HttpProtobuf);
    assert_eq!(logs.endpoint, "https://otel-collector:4318/v1/logs");
    assert_eq!(
        (logs.compression, logs.timeout),
        (Compression::Gzip, Duration::from_secs(15))
    );
    assert_eq!(logs.headers.get("x-tenant").unwrap(), "acme");
    assert_eq!(
        logs.headers.get("authorization").unwrap(),
        "Bearer prod-token"
    );
    assert_eq!(config.connect_timeout, Duration::from_secs(3));
    for batch in [&config.span_batch, &config.log_batch] {
        assert_eq!((batch.max_batch_size, batch.max_queue_size), (1000, 50000));
        assert_eq!(batch.scheduled_delay, Duration::from_millis(200));
        assert_eq!(batch.max_batch_bytes, Some(4194304));
        assert_eq!(batch.max_concurrent_exports, 4);
        assert_eq!(batch.strategy, Strategy::Hybrid);
        assert_eq!(batch.overflow, Overflow::Block(Duration::from_millis(20)));
    }
    assert_eq!(config.retry.max_attempts, 3);
    assert_eq!(config.retry.backoff.initial, Duration::from_millis(100));
    assert_eq!(config.retry.total_timeout, Some(Duration::from_secs(30)));
    assert_eq!(
        config.health_endpoint,
        Some("127.0.0.1:8080".parse().unwrap())
    );
    assert_eq!(config.metric_export_interval, Duration::from_secs(10));
    assert_eq!(
        (config.log_level.as_str(), config.log_format),
        ("warn", LogFormat::Json)
    );
    assert!(
        !format!("{config:?}").contains("prod-token"),
        "the token never appears in Debug"
    );
}

#[test]
fn the_environment_overrides_the_file() {
    let mut config = PipelineConfig::default();
    config.apply_toml(PRODUCTION, "production.toml").unwrap();
    let env: HashMap<&str, &str> = [
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
        ("OTEL_SERVICE_NAME", "from-env"),
    ]
    .into_iter()
    .collect();
    config.apply_env(&env).unwrap();
    assert_eq!(config.service_name, "from-env");
    assert_eq!(
        config.resolve(Signal::Logs).unwrap().compression,
        Compression::None
    );
    assert_eq!(
        config.resolve(Signal::Traces).unwrap().compression,
        Compression::Zstd,
        "the file's per-signal setting still wins over a generic one"
    );
}

#[test]
fn bad_files_name_the_key_and_the_value() {
    let cases = [
        (
            "[transport]\nprotocol = \"udp\"",
            "transport.protocol",
            "udp",
        ),
        (
            "[transport.logs]\ncompression = \"lz4\"",
            "transport.logs.compression",
            "lz4",
        ),
        (
            "[batch]\nscheduled_delay = \"soon\"",
            "batch.scheduled_delay",
            "soon",
        ),
        ("[batch]\nstrategy = \"random\"", "batch.strategy", "random"),
        (
            "[batch]\noverflow = \"explode\"",
            "batch.overflow",
            "explode",
        ),
        ("[batch]\nmax_batch_size = 0", "batch.max_batch_size", "0"),
        ("[retry]\nmax_attempts = 0", "retry.max_attempts", "0"),
        (
            "[monitoring]\nhealth_endpoint = \"localhost\"",
            "monitoring.health_endpoint",
            "localhost",
        ),
        ("[logging]\nformat = \"xml\"", "logging.format", "xml"),
        (
            "[batch]\nmax_batch_size = \"ten\"",
            "config file",
            "app.toml",
        ),
        ("[transport]\nunknown_key = 1", "config file", "unknown_key"),
        ("not toml at all", "config file", "app.toml"),
    ];
    for (text, key, value) in cases {
        let error = PipelineConfig::default()
            .apply_toml(text, "app.toml")
            .unwrap_err()
            .to_string();
        assert!(error.contains(key), "{text:?}: {error}");
        assert!(error.contains(value), "{text:?}: {error}");
    }
    let error = PipelineConfig::default()
        .apply_file("/nonexistent/otlp.toml")
        .unwrap_err()
        .to_string();
    assert!(error.contains("/nonexistent/otlp.toml"), "{error}");
}
