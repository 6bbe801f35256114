//! Row 5: bytes per span on the wire and compression CPU per span with none, gzip and zstd,
//! for one request of 512 encoded spans.

use std::time::Instant;

use otlp_core::encode::SpanEncoder;
use otlp_transport::Compression;

use super::common;
use super::table::{row, Row};

/// (compression, bytes per span, ns per span) for each, over `rounds` compressions.
fn compression(rounds: usize) -> Vec<(Compression, f64, f64)> {
    let body = SpanEncoder::new().encode(&common::spans(512), &common::resource());
    [Compression::None, Compression::Gzip, Compression::Zstd]
        .into_iter()
        .map(|compression| {
            let started = Instant::now();
            let mut size = 0;
            for _ in 0..rounds {
                size = compression.compress(&body).expect("compress").len();
            }
            let ns_per_span = started.elapsed().as_nanos() as f64 / (rounds * 512) as f64;
            (compression, size as f64 / 512.0, ns_per_span)
        })
        .collect()
}

/// Row 5 of the table.
pub fn rows(quick: bool) -> Vec<Row> {
    let mut rows = Vec::new();
    for (compression, bytes, ns) in compression(if quick { 20 } else { 200 }) {
        rows.push(row(
            format!("5. bytes per span on the wire, {compression}"),
            bytes,
            None,
            "B",
            false,
        ));
        rows.push(row(
            format!("5. compression CPU, ns per span, {compression}"),
            ns,
            None,
            "ns",
            false,
        ));
    }
    rows
}
