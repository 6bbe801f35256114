//! The production demo against a collector of the user's (`OTEL_EXPORTER_OTLP_ENDPOINT`, here
//! a receiver on 127.0.0.1 over plain HTTP): it says it sends without TLS, checks delivery from
//! the pipeline's own counts, and the collector got every span.

use otlp_transport::receiver::{Receiver, ReceiverConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_truthful_about_an_external_collector() {
    let collector = Receiver::start(ReceiverConfig::default().with_keep_requests(false))
        .await
        .expect("a collector");
    let endpoint = collector.http_endpoint();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_production"))
            .args(["--quick", "--requests", "40"])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            .env_remove("OTEL_CONFIG_FILE")
            .output()
    })
    .await
    .expect("the demo thread ran")
    .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("to your collector"), "{stdout}");
    assert!(stdout.contains("plain text (no TLS)"), "{stdout}");
    assert!(!stdout.contains("mTLS"), "no claim of TLS: {stdout}");
    assert!(stdout.contains("80 spans"), "{stdout}");
    assert_eq!(collector.counts().spans, 80, "two spans per request");
    assert!(collector.counts().log_records >= 80);
}
