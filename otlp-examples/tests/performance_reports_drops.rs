//! The performance demo with a queue too small for its burst: the spans the full queue
//! dropped are reported as drops (with the queue's size and policy), the table is printed,
//! and every span is accounted for, so the demo succeeds.

use std::process::Command;

#[test]
fn a_full_queue_shows_as_drops_in_the_table() {
    let output = Command::new(env!("CARGO_BIN_EXE_performance"))
        .args(["--quick", "--spans", "20000", "--queue", "500"])
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_CONFIG_FILE")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dropped: u64 = stdout
        .lines()
        .find(|l| l.starts_with("spans dropped: queue full (queue 500 spans, drop-newest)"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no queue-full row:\n{stdout}"));
    assert!(
        dropped > 0,
        "a 500-span queue cannot take a 20,000-span burst:\n{stdout}"
    );
    assert!(
        stdout.contains("spans were dropped because the queue was full"),
        "{stdout}"
    );
    assert!(stdout.contains("every one accounted for"), "{stdout}");
    assert!(stdout.contains("span end cost p50 / p95 / p99"), "{stdout}");
}
