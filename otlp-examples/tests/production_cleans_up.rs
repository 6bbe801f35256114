//! The production demo writes certificates, a client key and a config file to a temporary
//! directory; after a run, successful or not, nothing of it is left behind.

#![allow(clippy::unwrap_used)]

use std::process::Command;

/// Runs the demo with `TMPDIR` pointing at a fresh directory; returns whether it succeeded and
/// what it left there.
fn run(case: &str, env: &[(&str, &str)]) -> (bool, Vec<std::path::PathBuf>) {
    let tmp = std::env::temp_dir().join(format!("otlp-production-{case}-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_production"));
    command.arg("--quick").env("TMPDIR", &tmp);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let left = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    std::fs::remove_dir_all(&tmp).unwrap();
    (output.status.success(), left)
}

#[test]
fn the_production_demo_leaves_no_files_behind() {
    let (ok, left) = run("ok", &[]);
    assert!(ok, "the demo succeeds");
    assert!(left.is_empty(), "left behind: {left:?}");

    // A collector that is not there: the demo fails, and still cleans up.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let endpoint = format!("https://{closed}");
    let (ok, left) = run(
        "failed",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "200"),
        ],
    );
    assert!(!ok, "the demo reports the failed delivery");
    assert!(left.is_empty(), "left behind: {left:?}");
}
