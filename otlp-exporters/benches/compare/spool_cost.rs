//! Row 6: the disk spool's cost per request: append one request of 512 encoded spans (with
//! fsync) and acknowledge it.

use std::time::Instant;

use otlp_core::encode::SpanEncoder;

use super::common;
use super::table::{row, Row};

/// Microseconds to append one request of 512 encoded spans to the disk spool (with fsync) and
/// acknowledge it.
fn spool_cost(rounds: usize) -> f64 {
    use otlp_batch::spool::{Spool, SpoolConfig};
    let dir = std::env::temp_dir().join(format!("otlp-bench-spool-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spool = Spool::open(SpoolConfig::new(&dir)).expect("spool");
    let body = SpanEncoder::new().encode(&common::spans(512), &common::resource());
    let request = otlp_core::ExportRequest::new(
        otlp_core::Signal::Traces,
        otlp_core::Encoding::Protobuf,
        body,
        512,
    );
    let started = Instant::now();
    for _ in 0..rounds {
        let id = spool.append(&request).expect("append");
        spool.ack(id).expect("ack");
    }
    let micros = started.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    let _ = std::fs::remove_dir_all(&dir);
    micros
}

/// Row 6 of the table.
pub fn rows(quick: bool) -> Vec<Row> {
    vec![row(
        "6. spool append (fsync) + ack, µs per 512-span request",
        spool_cost(if quick { 50 } else { 500 }),
        None,
        "µs",
        false,
    )]
}
