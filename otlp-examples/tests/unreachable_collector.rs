//! Each demo pointed at a collector that refuses connections fails fast and says why: it exits
//! non-zero within seconds, names the cause, and counts as lost exactly what the same demo
//! delivers against a working (embedded) receiver.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::{Duration, Instant};

/// The sum of every "N of M <what>" in `text`.
fn lost(text: &str, what: &str) -> u64 {
    let words: Vec<&str> = text.split_whitespace().collect();
    let what: Vec<&str> = what.split(' ').collect();
    words
        .windows(3 + what.len())
        .filter(|w| w[1] == "of" && w[3..].iter().zip(&what).all(|(a, b)| a.starts_with(b)))
        .filter_map(|w| w[0].parse::<u64>().ok())
        .sum()
}

/// A demo, and what its working run prints given the spans and log records it lost.
struct Demo {
    binary: &'static str,
    delivered: fn(u64, u64) -> Option<String>,
}

fn demos() -> Vec<Demo> {
    vec![
        Demo {
            binary: env!("CARGO_BIN_EXE_distributed_tracing"),
            // --quick: traces of 10 spans each.
            delivered: |spans, _| Some(format!("{} traces, each of 10 spans", spans / 10)),
        },
        Demo {
            binary: env!("CARGO_BIN_EXE_microservices"),
            delivered: |spans, logs| Some(format!("{spans} spans, {logs} log records received")),
        },
        Demo {
            binary: env!("CARGO_BIN_EXE_reliability"),
            // Its load runs for a fixed time, so two runs make different numbers of calls: the
            // working run is only checked for saying what it delivered.
            delivered: |_, _| Some("call spans delivered".to_owned()),
        },
        Demo {
            binary: env!("CARGO_BIN_EXE_advanced_metrics"),
            delivered: |_, _| None,
        },
        Demo {
            binary: env!("CARGO_BIN_EXE_production"),
            // --quick: 100 requests, one span each.
            delivered: |spans, _| (spans == 100).then(|| "every span delivered".to_owned()),
        },
    ]
}

fn run(binary: &str, endpoint: Option<&str>) -> (bool, String, Duration) {
    let mut command = Command::new(binary);
    command.arg("--quick").env_remove("RUST_LOG");
    match endpoint {
        Some(endpoint) => command.env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        None => command.env_remove("OTEL_EXPORTER_OTLP_ENDPOINT"),
    };
    let started = Instant::now();
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text, started.elapsed())
}

#[test]
fn every_demo_against_a_refusing_collector_fails_fast_and_says_why() {
    // A port that was bound and released: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = demos()
            .into_iter()
            .map(|demo| {
                let endpoint = endpoint.as_str();
                scope.spawn(move || {
                    let refused = run(demo.binary, Some(endpoint));
                    let working = run(demo.binary, None);
                    (demo, refused, working)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (demo, (ok, text, took), (working_ok, working, _)) in results {
        let name = demo.binary.rsplit('/').next().unwrap_or(demo.binary);
        assert!(
            !ok,
            "{name} succeeded against a refusing collector:\n{text}"
        );
        assert!(took < Duration::from_secs(30), "{name} took {took:?}");
        assert!(
            text.contains("Connection refused"),
            "{name} does not say why:\n{text}"
        );
        let (spans, logs) = (lost(&text, "spans"), lost(&text, "log records"));
        let points = lost(&text, "data points");
        assert!(spans + logs + points > 0, "{name} names no count:\n{text}");
        assert!(
            working_ok,
            "{name} against the embedded receiver:\n{working}"
        );
        if let Some(line) = (demo.delivered)(spans, logs) {
            assert!(
                working.contains(&line),
                "{name}: lost {spans} spans and {logs} log records, but its working run does not say \"{line}\":\n{working}"
            );
        }
    }
}
