//! No credential appears in `Debug` output, log lines, error messages or health check names:
//! endpoint userinfo, query keys, custom header values, bearer tokens, and the content of a
//! file given where a PEM file was expected.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use otlp_core::Signal;
use otlp_exporters::{OtlpPipeline, Protocol};
use otlp_reliability::retry::RetryConfig;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

const SECRETS: [&str; 5] = [
    "PASSWORD-1",
    "QUERYKEY-2",
    "HEADERKEY-3",
    "TOKEN-4",
    "FILESECRET-5",
];

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_debug_logs_errors_or_health_names() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    // A collector that is down, reached with credentials in the URL, a header and a token,
    // over both protocols: failures are logged, the breaker and health checks are named.
    for protocol in [Protocol::HttpProtobuf, Protocol::Grpc] {
        let endpoint = format!(
            "http://user:PASSWORD-1@127.0.0.1:{}/?api_key=QUERYKEY-2",
            closed_port()
        );
        let builder = OtlpPipeline::builder()
            .with_endpoint(endpoint)
            .with_protocol(protocol)
            .with_header("x-api-key", "HEADERKEY-3")
            .unwrap()
            .with_bearer_token("TOKEN-4")
            .with_retry(RetryConfig::default().with_max_attempts(2))
            .with_timeout(Duration::from_secs(2))
            .with_metric_export_interval(Duration::from_secs(3600));
        assert_clean("builder Debug", &format!("{builder:?}"));
        let pipeline = builder.build().unwrap();
        assert_clean("pipeline Debug", &format!("{pipeline:?}"));
        assert_clean("config Debug", &format!("{:?}", pipeline.config()));
        for signal in Signal::ALL {
            let resolved = pipeline.config().resolve(signal).unwrap();
            assert_clean("resolved Debug", &format!("{resolved:?}"));
        }
        pipeline.tracer("t").in_span("work", |_| {});
        let report = pipeline.force_flush(Duration::from_secs(10));
        assert_clean("flush report", &format!("{report:?}"));
        let health = pipeline.health_registry().check_now().await;
        assert!(
            health.checks.iter().any(|c| c.name.contains("127.0.0.1")),
            "{health:?}"
        );
        assert_clean("health report", &format!("{health:?}"));
        let report = pipeline.shutdown(Duration::from_secs(5));
        assert_clean("shutdown report", &format!("{report:?}"));
    }

    // Bad settings: the error names the setting, and the value only redacted.
    let error = OtlpPipeline::builder()
        .with_endpoint("ftp://user:PASSWORD-1@collector/?api_key=QUERYKEY-2")
        .build()
        .unwrap_err();
    assert_clean("endpoint error", &error.to_string());
    assert!(error.to_string().contains("collector"), "{error}");

    // A token file given as the CA: described by path and size, never by its content.
    let dir = std::env::temp_dir().join(format!("otlp-no-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token.txt");
    std::fs::write(&token_file, "FILESECRET-5 and more").unwrap();
    let error = OtlpPipeline::builder()
        .with_endpoint("https://127.0.0.1:4317")
        .with_ca_file(&token_file)
        .build()
        .unwrap_err();
    let text = error.to_string();
    assert_clean("CA file error", &text);
    assert!(
        text.contains("token.txt") && text.contains("21 bytes"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // The receiver's view of what arrived: headers by name, credentials redacted.
    let receiver = Receiver::start(ReceiverConfig::default().with_bearer_token("TOKEN-4"))
        .await
        .unwrap();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_header("x-api-key", "HEADERKEY-3")
        .unwrap()
        .with_bearer_token("TOKEN-4")
        .with_metric_export_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    pipeline.tracer("t").in_span("work", |_| {});
    assert!(pipeline.shutdown(Duration::from_secs(10)).completed);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let shown = format!("{received:?}");
    assert!(
        shown.contains("x-api-key") && shown.contains("authorization"),
        "{shown}"
    );
    assert_clean("Received Debug", &shown);

    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("export failed"),
        "the failures were logged: {logs}"
    );
    assert_clean("logs", &logs);
}
