//! A demo pointed at a collector that refuses connections fails fast and says why: it exits
//! non-zero within seconds, names the cause, and counts as lost exactly what it delivers
//! against a working receiver.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::{Duration, Instant};

/// The sum of every "N of M spans" in `text`.
fn spans_lost(text: &str) -> u64 {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(4)
        .filter(|w| w[1] == "of" && w[3].starts_with("spans"))
        .filter_map(|w| w[0].parse::<u64>().ok())
        .sum()
}

#[test]
fn distributed_tracing_against_a_refusing_collector() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_distributed_tracing"))
        .arg("--quick")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        )
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(stderr.contains("Connection refused"), "{stderr}");
    // --quick against the embedded receiver delivers one trace of 10 spans.
    assert_eq!(spans_lost(&stderr), 10, "{stderr}");

    let working = Command::new(env!("CARGO_BIN_EXE_distributed_tracing"))
        .arg("--quick")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&working.stdout);
    assert!(working.status.success(), "{stdout}");
    assert!(stdout.contains("each of 10 spans"), "{stdout}");
}
