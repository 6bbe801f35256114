//! The declarative configuration file (`OTEL_CONFIG_FILE`): `${VAR}` substitution follows the
//! specification, the environment is ignored while a file is in use, every bad file names the
//! path in it and the value, and a file alone configures delivery. The example files, read
//! setting by setting, are in `config_file_examples.rs`.

#![allow(clippy::unwrap_used)]

mod config_support;

use std::collections::HashMap;
use std::time::Duration;

use otlp_core::Signal;
use otlp_core::Telemetry;
use otlp_exporters::config::{ExporterKind, PipelineConfig, NO_LIMIT};

use config_support::apply;

#[test]
fn substitution_follows_the_specification() {
    let file = r#"
file_format: "1.1"
resource:
  attributes:
    - name: service.name
      value: ${SERVICE}
    - name: literal
      value: "$${NOT_SUBSTITUTED}"
    - name: defaulted
      value: ${UNSET:-fallback}
    - name: empty.uses.default
      value: ${EMPTY:-fallback}
    - name: env.prefix
      value: ${env:SERVICE}-x
tracer_provider:
  processors:
    - batch:
        max_queue_size: ${QUEUE:-100}
        max_export_batch_size: ${BATCH}
        exporter:
          otlp_http:
            endpoint: ${BASE:-http://localhost:4318}/v1/traces
            timeout: ${TIMEOUT}
"#;
    let config = apply(
        file,
        &[
            ("SERVICE", "billing"),
            ("EMPTY", ""),
            ("BATCH", "50"),
            ("BASE", "http://gateway:4318"),
        ],
    )
    .unwrap();
    assert_eq!(config.service_name, "billing");
    let attribute = |key: &str| {
        config
            .resource_attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
            .unwrap()
    };
    assert_eq!(attribute("literal"), "${NOT_SUBSTITUTED}");
    assert_eq!(attribute("defaulted"), "fallback");
    assert_eq!(attribute("empty.uses.default"), "fallback");
    assert_eq!(attribute("env.prefix"), "billing-x");
    assert_eq!(
        (
            config.span_batch.max_queue_size,
            config.span_batch.max_batch_size
        ),
        (100, 50),
        "a substituted number is a number"
    );
    let traces = config.resolve(Signal::Traces).unwrap();
    assert_eq!(traces.endpoint, "http://gateway:4318/v1/traces");
    assert_eq!(
        traces.timeout,
        Duration::from_secs(10),
        "an unset ${{TIMEOUT}} is null: the default"
    );

    let error = apply("file_format: \"1.0\"\nlog_level: ${1BAD}\n", &[]).unwrap_err();
    assert!(
        error.contains("log_level") && error.contains("${1BAD}"),
        "{error}"
    );
}

#[test]
fn with_a_file_the_other_variables_are_ignored() {
    let dir = std::env::temp_dir().join(format!("otlp-config-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("otel.yaml");
    std::fs::write(
        &path,
        "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - simple:\n        exporter:\n          otlp_http:\n            endpoint: ${COLLECTOR}/v1/traces\n",
    )
    .unwrap();
    let env: HashMap<&str, &str> = [
        ("OTEL_CONFIG_FILE", path.to_str().unwrap()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
        ("OTEL_SERVICE_NAME", "ignored"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "7"),
        ("COLLECTOR", "http://from-substitution:4318"),
    ]
    .into_iter()
    .collect();
    let mut config = PipelineConfig::default();
    config.apply_env(&env).unwrap();
    assert_eq!(
        config.resolve(Signal::Traces).unwrap().endpoint,
        "http://from-substitution:4318/v1/traces"
    );
    assert_eq!(config.service_name, "unknown_service");
    assert_eq!(config.span_batch.max_queue_size, 2048);
    assert_eq!(config.span_batch.max_batch_size, 1, "a simple processor");
    assert_eq!(
        config.exporters,
        [ExporterKind::Otlp, ExporterKind::None, ExporterKind::None],
        "providers absent from the file export nothing"
    );
    assert_eq!(config.report().file.as_deref(), path.to_str());

    let missing: HashMap<&str, &str> = [("OTEL_CONFIG_FILE", "/nonexistent/otel.yaml")]
        .into_iter()
        .collect();
    let error = PipelineConfig::default()
        .apply_env(&missing)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("OTEL_CONFIG_FILE") && error.contains("/nonexistent/otel.yaml"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn development_keys_are_warned_about_not_fatal() {
    let file = r#"
file_format: "1.0"
resource:
  detection/development:
    detectors: [{host: }]
tracer_provider:
  tracer_configurator/development:
    default_config: {enabled: true}
  processors:
    - batch:
        exporter:
          otlp_file/development:
            output_stream: stdout
instrumentation/development:
  general: {}
distribution:
  another-vendor:
    setting: 1
"#;
    let config = apply(file, &[]).unwrap();
    let warnings = config.provenance.warnings();
    assert_eq!(warnings.len(), 5, "{warnings:?}");
    for key in [
        "resource.detection/development",
        "tracer_provider.tracer_configurator/development",
        "otlp_file/development",
        "instrumentation/development",
        "distribution.another-vendor",
    ] {
        assert!(
            warnings.iter().any(|w| w.contains(key)),
            "{key}: {warnings:?}"
        );
    }
    assert_eq!(config.exporter_kind(Signal::Traces), ExporterKind::None);
}

#[test]
fn zero_timeouts_in_the_file_mean_no_limit() {
    let file = "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch:\n        export_timeout: 0\n        exporter:\n          otlp_grpc:\n            timeout: 0\n";
    let config = apply(file, &[]).unwrap();
    assert_eq!(config.span_batch.export_timeout, NO_LIMIT);
    assert_eq!(config.resolve(Signal::Traces).unwrap().timeout, NO_LIMIT);
}

#[test]
fn bad_files_name_the_path_and_the_value() {
    let exporter = |body: &str| {
        format!(
            "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp_http:\n{body}"
        )
    };
    let cases = [
        (exporter("            compression: lz4\n"), "tracer_provider.processors[0].batch.exporter.otlp_http.compression", "lz4"),
        (exporter("            timeout: soon\n"), "tracer_provider.processors[0].batch.exporter.otlp_http.timeout", "soon"),
        (exporter("            encoding: xml\n"), "tracer_provider.processors[0].batch.exporter.otlp_http.encoding", "xml"),
        (exporter("            endpoint: ftp://collector\n"), "tracer_provider.processors[0].batch.exporter.otlp_http.endpoint", "ftp://collector"),
        (exporter("            tls:\n              ca_file: /nonexistent/ca.pem\n"), "tracer_provider.processors[0].batch.exporter.otlp_http.tls.ca_file", "/nonexistent/ca.pem"),
        (exporter("            unknown_key: 1\n"), "tracer_provider.processors[0].batch.exporter.otlp_http.unknown_key", "unknown_key"),
        ("file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch:\n        max_queue_size: 0\n        exporter: {console: }\n".to_owned(), "tracer_provider.processors[0].batch.max_queue_size", "0"),
        ("file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - simple: {exporter: {console: }}\n    - simple: {exporter: {console: }}\n".to_owned(), "tracer_provider.processors[1]", "a mapping"),
        ("file_format: \"1.0\"\ntracer_provider:\n  sampler:\n    trace_id_ratio_based: {ratio: 1.5}\n  processors: []\n".to_owned(), "tracer_provider.sampler.trace_id_ratio_based.ratio", "1.5"),
        ("file_format: \"1.0\"\nmeter_provider:\n  readers:\n    - periodic:\n        exporter:\n          otlp_http:\n            temporality_preference: weekly\n".to_owned(), "meter_provider.readers[0].periodic.exporter.otlp_http.temporality_preference", "weekly"),
        ("file_format: \"1.0\"\nmeter_provider:\n  readers:\n    - pull:\n        exporter: {}\n".to_owned(), "meter_provider.readers[0].pull", "a mapping"),
        ("file_format: \"1.0\"\npropagator:\n  composite: [{b3: }]\n".to_owned(), "propagator.composite[0]", "a mapping"),
        ("file_format: \"1.0\"\npropagator:\n  composite_list: tracecontext,jaeger\n".to_owned(), "propagator.composite_list", "tracecontext,jaeger"),
        ("file_format: \"1.0\"\nresource:\n  attributes:\n    - name: n\n      value: x\n      type: float\n".to_owned(), "resource.attributes[0].type", "float"),
        ("file_format: \"1.0\"\nattribute_limits:\n  attribute_count_limit: -3\n".to_owned(), "attribute_limits.attribute_count_limit", "-3"),
        ("file_format: \"1.0\"\nlog_level: loud\n".to_owned(), "log_level", "loud"),
        ("file_format: \"1.0\"\ndisabled: maybe\n".to_owned(), "disabled", "maybe"),
        ("file_format: \"2.0\"\n".to_owned(), "file_format", "2.0"),
        ("disabled: false\n".to_owned(), "(top level)", "a mapping"),
        ("file_format: \"1.0\"\ntracer_providers: {}\n".to_owned(), "tracer_providers", "tracer_providers"),
        ("file_format: \"1.0\"\ndistribution:\n  otlp-rust:\n    health_endpoint: localhost\n".to_owned(), "distribution.otlp-rust.health_endpoint", "localhost"),
        ("file_format: \"1.0\"\ndistribution:\n  otlp-rust:\n    retry: {max_attempts: 0}\n".to_owned(), "distribution.otlp-rust.retry.max_attempts", "0"),
        ("file_format: \"1.0\"\ndistribution:\n  otlp-rust:\n    spool: {max_bytes: 10}\n".to_owned(), "distribution.otlp-rust.spool", "a mapping"),
        ("file_format: [unclosed\n".to_owned(), "otel.yaml", "not valid YAML"),
    ];
    for (text, path, value) in cases {
        let error = apply(&text, &[]).unwrap_err();
        assert!(error.contains("otel.yaml"), "{text:?}: {error}");
        assert!(
            error.contains(path),
            "{text:?}: {error} does not name {path}"
        );
        assert!(
            error.contains(value),
            "{text:?}: {error} does not show {value}"
        );
    }
    let secret = exporter("            headers_list: \"authorization=Bearer s3cret,broken\"\n");
    let error = apply(&secret, &[]).unwrap_err();
    assert!(
        error.contains("headers_list") && !error.contains("s3cret"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_alone_configures_delivery() {
    use opentelemetry::trace::Tracer as _;
    use otlp_transport::receiver::{Receiver, ReceiverConfig};
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("otlp-file-delivery-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("otel.yaml");
    let endpoint = receiver.http_endpoint();
    std::fs::write(
        &path,
        format!(
            r#"file_format: "1.1"
resource:
  attributes:
    - name: service.name
      value: from-the-file
tracer_provider:
  processors:
    - batch:
        schedule_delay: 50
        max_export_batch_size: 3
        exporter:
          otlp_http:
            endpoint: {endpoint}/v1/traces
            compression: gzip
            headers:
              - name: x-tenant
                value: acme
meter_provider:
  readers:
    - periodic:
        interval: 3600000
        exporter:
          otlp_http:
            endpoint: {endpoint}/v1/metrics
            temporality_preference: delta
"#
        ),
    )
    .unwrap();
    let env: HashMap<&str, &str> = [("OTEL_CONFIG_FILE", path.to_str().unwrap())]
        .into_iter()
        .collect();
    let pipeline = otlp_exporters::OtlpPipeline::builder()
        .with_env_from(&env)
        .unwrap()
        .build()
        .unwrap();
    let tracer = pipeline.tracer("file");
    for i in 0..7 {
        tracer.in_span(format!("span-{i}"), |_| {});
    }
    pipeline
        .meter("file")
        .u64_counter("hits")
        .build()
        .add(2, &[]);
    assert!(pipeline.shutdown(Duration::from_secs(10)).completed);
    let received = receiver.received();
    let traces: Vec<_> = received
        .iter()
        .filter_map(|r| match &r.payload {
            Telemetry::Traces(request) => Some((r, request)),
            _ => None,
        })
        .collect();
    let spans: usize = traces
        .iter()
        .map(|(_, t)| t.resource_spans[0].scope_spans[0].spans.len())
        .sum();
    assert_eq!(spans, 7);
    for (r, request) in &traces {
        assert!(
            request.resource_spans[0].scope_spans[0].spans.len() <= 3,
            "batch size"
        );
        assert_eq!(r.compression.as_deref(), Some("gzip"));
        assert_eq!(r.headers.get("x-tenant").unwrap(), "acme");
        let resource = request.resource_spans[0].resource.as_ref().unwrap();
        assert!(format!("{resource:?}").contains("from-the-file"));
    }
    let temporality: Vec<i32> = received
        .iter()
        .filter_map(|r| match &r.payload {
            Telemetry::Metrics(request) => Some(request.clone()),
            _ => None,
        })
        .flat_map(|m| m.resource_metrics)
        .flat_map(|r| r.scope_metrics)
        .flat_map(|s| s.metrics)
        .filter_map(|m| match m.data {
            Some(otlp_core::proto::metrics::v1::metric::Data::Sum(sum)) => {
                Some(sum.aggregation_temporality)
            }
            _ => None,
        })
        .collect();
    assert_eq!(temporality, vec![1], "delta, as the file says");
    assert_eq!(
        receiver.counts().log_records,
        0,
        "no logger_provider in the file: logs are not exported"
    );
    std::fs::remove_dir_all(&dir).ok();
}
