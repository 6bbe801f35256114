//! The example files of the configuration file (`OTEL_CONFIG_FILE`) parse setting by setting:
//! the workspace's own `otel-sdk-config.yaml` and `production.yaml`, and the schema
//! repository's examples, 1.0 and 1.1, copied unchanged.

#![allow(clippy::unwrap_used)]

mod config_support;

use std::time::Duration;

use otlp_batch::{BatchStrategy, Overflow};
use otlp_core::Signal;
use otlp_exporters::config::{
    ExporterKind, HistogramAggregation, LogFormat, Propagator, SamplerConfig, Source,
    TemporalityPreference,
};
use otlp_exporters::Protocol;
use otlp_transport::Compression;

use config_support::apply;

const SDK_CONFIG: &str = include_str!("../../otlp-examples/config/otel-sdk-config.yaml");
const PRODUCTION: &str = include_str!("../../otlp-examples/config/production.yaml");

#[test]
fn the_example_file_is_read_setting_by_setting() {
    let config = apply(SDK_CONFIG, &[]).unwrap();
    assert!(
        config.provenance.warnings().is_empty(),
        "{:?}",
        config.provenance.warnings()
    );
    assert!(!config.disabled);
    assert_eq!(config.log_level, "info");
    assert_eq!(config.service_name, "checkout");
    assert_eq!(config.service_version.as_deref(), Some("2.4.1"));
    assert_eq!(config.environment.as_deref(), Some("staging"));
    let attribute = |key: &str| {
        config
            .resource_attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(attribute("service.instance.count"), Some(3i64.into()));
    assert_eq!(
        attribute("service.regions").unwrap().to_string(),
        "[\"eu-west-1\",\"eu-central-1\"]"
    );
    assert_eq!(config.limits.attribute_value_length, Some(4096));
    assert_eq!(config.limits.attribute_count, Some(128));
    assert_eq!(
        config.propagators,
        vec![Propagator::TraceContext, Propagator::Baggage]
    );

    let traces = config.resolve(Signal::Traces).unwrap();
    assert_eq!(traces.protocol, Protocol::HttpProtobuf);
    assert_eq!(traces.endpoint, "http://localhost:4318/v1/traces");
    assert_eq!(traces.headers.get("x-tenant").unwrap(), "acme");
    assert_eq!(
        (traces.compression, traces.timeout),
        (Compression::Gzip, Duration::from_secs(10))
    );
    let batch = &config.span_batch;
    assert_eq!(batch.scheduled_delay, Duration::from_millis(200));
    assert_eq!(batch.export_timeout, Duration::from_secs(30));
    assert_eq!((batch.max_queue_size, batch.max_batch_size), (4096, 256));
    let span = config.limits.span_limits();
    assert_eq!(
        (
            span.max_attributes_per_span,
            span.max_events_per_span,
            span.max_links_per_span,
            span.max_attributes_per_event,
            span.max_attributes_per_link
        ),
        (64, 32, 16, 8, 8)
    );
    assert_eq!(
        config.sampler,
        SamplerConfig::ParentBased {
            root: Box::new(SamplerConfig::TraceIdRatio(0.25)),
            remote_parent_sampled: Some(Box::new(SamplerConfig::AlwaysOn)),
            remote_parent_not_sampled: Some(Box::new(SamplerConfig::AlwaysOff)),
            local_parent_sampled: None,
            local_parent_not_sampled: None,
        }
    );

    let metrics = config.resolve(Signal::Metrics).unwrap();
    assert_eq!(
        (metrics.protocol, metrics.endpoint.as_str()),
        (Protocol::Grpc, "http://localhost:4317")
    );
    assert_eq!(
        (metrics.compression, metrics.timeout),
        (Compression::Zstd, Duration::from_secs(5))
    );
    assert_eq!(config.metric_export_interval, Duration::from_secs(30));
    assert_eq!(config.metric_export_timeout, Duration::from_secs(10));
    assert_eq!(config.temporality, TemporalityPreference::Delta);
    assert_eq!(
        config.histogram_aggregation,
        HistogramAggregation::Base2Exponential
    );
    assert_eq!(config.views.len(), 1);
    assert_eq!(
        config.views[0].instrument_name.as_deref(),
        Some("http.server.*")
    );

    assert_eq!(
        config.exporters,
        [
            ExporterKind::Otlp,
            ExporterKind::Otlp,
            ExporterKind::Console
        ]
    );
    assert_eq!(config.log_batch.max_batch_size, 512);
    assert_eq!(config.limits.log_record_attribute_count, Some(32));

    assert_eq!(config.connect_timeout, Duration::from_secs(5));
    assert_eq!(config.retry.max_attempts, 4);
    assert_eq!(config.retry.total_timeout, Some(Duration::from_secs(30)));
    assert!(config.circuit_breaker.is_some());
    assert_eq!(config.bulkhead.unwrap().max_concurrent, 8);
    for batch in [&config.span_batch, &config.log_batch] {
        assert_eq!(batch.max_batch_bytes, Some(4194304));
        assert_eq!(batch.max_concurrent_exports, 4);
        assert_eq!(batch.strategy, BatchStrategy::Hybrid);
        assert_eq!(batch.overflow, Overflow::DropOldest);
    }
    assert_eq!(config.log_format, LogFormat::Text);
    assert_eq!(
        config.connection.tcp_keepalive,
        Some(Duration::from_secs(60))
    );
    assert_eq!(config.connection.pool_max_idle_per_host, 16);
    assert_eq!(
        config.connection.http2_initial_connection_window_size,
        Some(4_194_304)
    );
    assert_eq!(config.max_request_bytes, Some(4_194_304));
    assert!(config.proxy.is_set());

    let report = config.report();
    assert_eq!(report.get("traces.endpoint").unwrap().source, Source::File);
    assert_eq!(
        report.get("metrics.temporality_preference").unwrap().value,
        "delta"
    );
    assert_eq!(report.get("logs.exporter").unwrap().value, "console");
    assert_eq!(report.get("connect_timeout").unwrap().source, Source::File);
}

#[test]
fn the_production_file_takes_its_collector_from_the_environment() {
    let config = apply(
        PRODUCTION,
        &[
            ("COLLECTOR_ENDPOINT", "https://collector.internal:4317"),
            ("COLLECTOR_TOKEN", "t0ken"),
        ],
    )
    .unwrap();
    for signal in Signal::ALL {
        let resolved = config.resolve(signal).unwrap();
        assert_eq!(resolved.protocol, Protocol::Grpc);
        assert_eq!(resolved.endpoint, "https://collector.internal:4317");
        assert_eq!(resolved.compression, Compression::Gzip);
        assert_eq!(
            resolved.headers.get("authorization").unwrap(),
            "Bearer t0ken"
        );
        assert_eq!(resolved.certificate, None, "an unset ${{VAR}} is null");
    }
    assert_eq!(config.service_name, "production-app");
    assert_eq!(config.log_format, LogFormat::Json);
    assert!(config.self_metrics, "the file turns the self-metrics on");
    assert!(!config.report().to_string().contains("t0ken"));
}

/// The schema repository's own example files, 1.0 and 1.1, copied unchanged.
fn schema_example(name: &str, version: &str) -> String {
    let path = format!(
        "{}/tests/schema_examples/{name}-{version}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_schema_repositorys_examples_parse() {
    for version in ["1.0.0", "1.1.0"] {
        let config = apply(&schema_example("otel-sdk-config", version), &[]).unwrap();
        assert!(config.provenance.warnings().is_empty(), "{version}");
        for signal in Signal::ALL {
            let resolved = config.resolve(signal).unwrap();
            assert_eq!(
                resolved.endpoint,
                format!("http://localhost:4318/v1/{signal}"),
                "{version}"
            );
            assert_eq!(
                (resolved.compression, resolved.timeout),
                (Compression::Gzip, Duration::from_secs(10))
            );
        }
        assert_eq!(config.span_batch.scheduled_delay, Duration::from_secs(5));
        assert_eq!(config.log_batch.scheduled_delay, Duration::from_secs(1));
        assert_eq!(config.temporality, TemporalityPreference::Cumulative);
        assert_eq!(config.limits.span_limits().max_links_per_span, 128);

        let migration = apply(
            &schema_example("otel-sdk-migration-config", version),
            &[
                ("OTEL_SERVICE_NAME", "from-env"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
                ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key=k"),
                ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "99"),
                ("OTEL_PROPAGATORS", "baggage"),
                ("OTEL_SDK_DISABLED", "false"),
            ],
        )
        .unwrap();
        assert_eq!(migration.service_name, "from-env", "{version}");
        let traces = migration.resolve(Signal::Traces).unwrap();
        assert_eq!(traces.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(traces.headers.get("api-key").unwrap(), "k");
        assert_eq!(migration.temporality, TemporalityPreference::Delta);
        assert_eq!(migration.span_batch.max_queue_size, 99);
        assert_eq!(
            migration.span_batch.max_batch_size, 99,
            "the batch is capped at the queue"
        );
        assert!(migration
            .provenance
            .warnings()
            .iter()
            .any(|w| w.contains("max_export_batch_size 512")));
        assert_eq!(migration.propagators, vec![Propagator::Baggage]);

        let started = apply(&schema_example("otel-getting-started", version), &[]).unwrap();
        assert_eq!(
            started.provenance.warnings().len(),
            1,
            "resource.detection/development: {:?}",
            started.provenance.warnings()
        );
        assert_eq!(started.exporters, [ExporterKind::Otlp; 3]);
    }
}
