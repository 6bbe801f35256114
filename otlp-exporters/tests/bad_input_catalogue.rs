//! The bad-input catalogue: every entry is refused by `build()` or the file with an error
//! naming the setting and the value, or (an environment variable) warned about with the
//! variable and the value and ignored; nothing panics.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;

use otlp_batch::BatchConfig;
use otlp_exporters::{OtlpPipeline, PipelineBuilder, Protocol};
use otlp_reliability::circuit_breaker::BreakerConfig;
use otlp_reliability::retry::RetryConfig;

fn files() -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("otlp-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let a = rcgen::generate_simple_self_signed(vec!["a".into()]).unwrap();
    let b = rcgen::generate_simple_self_signed(vec!["b".into()]).unwrap();
    let cert = dir.join("client.crt");
    std::fs::write(&cert, a.cert.pem()).unwrap();
    let wrong_key = dir.join("wrong.key");
    std::fs::write(&wrong_key, b.signing_key.serialize_pem()).unwrap();
    let key_garbage = dir.join("garbage.key");
    std::fs::write(
        &key_garbage,
        "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    (garbage, cert, wrong_key, key_garbage)
}

/// The warnings the environment gave (an invalid variable is ignored, not an error).
fn env(vars: &[(&str, &str)]) -> Option<String> {
    let map: HashMap<&str, &str> = vars.iter().copied().collect();
    let mut builder = OtlpPipeline::builder().with_env_from(&map).unwrap();
    let warnings = builder.config_mut().provenance.warnings().join("\n");
    (!warnings.is_empty()).then_some(warnings)
}

fn build(builder: PipelineBuilder) -> String {
    match builder.build() {
        Ok(_) => "built".to_owned(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_bad_input_is_named_and_nothing_panics() {
    let (garbage, cert, wrong_key, key_garbage) = files();
    let mut cases = 0;
    let mut add = |what: &str, setting: &str, value: &str, error: String| {
        cases += 1;
        assert!(
            error.contains(setting),
            "{what}: {error:?} does not name {setting}"
        );
        assert!(
            error.contains(value),
            "{what}: {error:?} does not show {value}"
        );
    };
    let builder = OtlpPipeline::builder;

    add(
        "ftp endpoint",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "ftp://c",
        build(builder().with_endpoint("ftp://c")),
    );
    add(
        "no host",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "http://",
        build(builder().with_endpoint("http://")),
    );
    add(
        "not a url",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "::::",
        build(
            builder()
                .with_endpoint("::::")
                .with_protocol(Protocol::HttpJson),
        ),
    );
    add(
        "bad collector",
        "collectors",
        "tcp://x:1",
        build(builder().with_collectors(["tcp://x:1"])),
    );
    add(
        "protocol",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "udp",
        env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "udp")]).unwrap(),
    );
    add(
        "timeout text",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "10s",
        env(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")]).unwrap(),
    );
    add(
        "negative timeout",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "-1",
        env(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "-1")]).unwrap(),
    );
    add(
        "compression",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "snappy",
        env(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "snappy")]).unwrap(),
    );
    add(
        "insecure",
        "OTEL_EXPORTER_OTLP_INSECURE",
        "sometimes",
        env(&[("OTEL_EXPORTER_OTLP_INSECURE", "sometimes")]).unwrap(),
    );
    add(
        "missing CA",
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        "/no/ca.pem",
        env(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/no/ca.pem")]).unwrap(),
    );
    add(
        "garbage CA",
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
        // The path and size, never the content: a mis-set path may name a token file.
        "garbage.pem (17 bytes)",
        build(builder().with_ca_file(&garbage)),
    );
    add(
        "missing key",
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        "/no/key.pem",
        env(&[("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/no/key.pem")]).unwrap(),
    );
    let wrong = build(builder().with_client_identity_files(&cert, &wrong_key));
    add(
        "key of another certificate",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
        "<redacted>",
        wrong,
    );
    let bad_key = build(builder().with_client_identity_files(&cert, &key_garbage));
    add(
        "garbage key",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
        "<redacted>",
        bad_key,
    );
    add(
        "headers",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "<redacted>",
        env(&[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")]).unwrap(),
    );
    add(
        "queue size 0",
        "batch.max_queue_size",
        "0",
        build(builder().with_batch(BatchConfig::default().with_max_queue_size(0))),
    );
    add(
        "batch over queue",
        "batch.max_batch_size",
        "600",
        build(
            builder().with_batch(
                BatchConfig::default()
                    .with_max_queue_size(100)
                    .with_max_batch_size(600),
            ),
        ),
    );
    add(
        "bsp queue 0",
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "0",
        env(&[("OTEL_BSP_MAX_QUEUE_SIZE", "0")]).unwrap(),
    );
    add(
        "metric interval",
        "OTEL_METRIC_EXPORT_INTERVAL",
        "-5",
        env(&[("OTEL_METRIC_EXPORT_INTERVAL", "-5")]).unwrap(),
    );
    add(
        "retry attempts 0",
        "retry.max_attempts",
        "0",
        build(builder().with_retry(RetryConfig::default().with_max_attempts(0))),
    );
    add(
        "breaker rate",
        "circuit_breaker.failure_rate_threshold",
        "2",
        build(
            builder()
                .with_circuit_breaker(Some(BreakerConfig::default().with_failure_rate(2.0, 5))),
        ),
    );
    let file_error = |text: &str| {
        let mut config = otlp_exporters::PipelineConfig::default();
        let env = HashMap::<&str, &str>::new();
        config
            .apply_yaml(&format!("file_format: \"1.0\"\n{text}"), "bad.yaml", &env)
            .unwrap_err()
            .to_string()
    };
    add(
        "file: wrong type",
        "tracer_provider.processors[0].batch.max_queue_size",
        "big",
        file_error("tracer_provider:\n  processors:\n    - batch:\n        max_queue_size: big\n        exporter: {otlp_http: {}}"),
    );
    add(
        "file: negative size",
        "logger_provider.processors[0].batch.max_queue_size",
        "-1",
        file_error("logger_provider:\n  processors:\n    - batch:\n        max_queue_size: -1\n        exporter: {otlp_http: {}}"),
    );
    add(
        "file: balance",
        "distribution.otlp-rust.balance",
        "random",
        file_error("distribution:\n  otlp-rust:\n    balance: random"),
    );
    add(
        "spool dir",
        "spool.dir",
        "/proc/no-spool",
        build(builder().with_spool(otlp_batch::spool::SpoolConfig::new("/proc/no-spool"))),
    );
    assert!(cases >= 20, "{cases} cases");
}
