//! `cargo xtask bench`: otlp-rust side by side with the upstream `opentelemetry-otlp` exporter
//! (and the SDK's `BatchSpanProcessor`), in one run on one machine, printed as one table with
//! ratios. `--quick` shortens every run.
//!
//! Rows, one file each under `compare/`: (1) encode cost per span (`encode_cost.rs`); (2)
//! sustained end-to-end throughput into an in-process collector that only counts spans
//! (`common/counting.rs`) and into one that decodes them, with drops and CPU per million spans
//! (`throughput.rs`; `--throughput` runs only that row); (3) the cost
//! of ending a span at 1 and 2 producer threads (`end_cost.rs`); (4) peak RSS during two kinds
//! of collector outage against the queue budget, each in a child process (`outage.rs`); (5)
//! bytes and CPU per span with none, gzip and zstd (`compression.rs`); (6) the disk spool's
//! cost per request (`spool_cost.rs`); (7) the share delivered at a fixed offered rate into a
//! collector answering after 0-50 ms or decoding each request (`latency.rs`; `--latency` runs
//! only that row, `OTLP_BENCH_LATENCY_RATE` sets the rate, default 200,000 spans/s); (8) the
//! share delivered and CPU per span over HTTP/protobuf and over gRPC with gzip, into the
//! counting and the decoding collector (`transports.rs`; `--transports` runs only that row,
//! `OTLP_BENCH_TRANSPORT_RATE` sets the rate); (9) row 7's share into the real OpenTelemetry
//! Collector (`collector.rs`, `--collector` alone). The sides live in `side.rs`, the table in
//! `table.rs`; `--scaling` is `scaling.rs`.
//!
//! For profiling one part under `perf`, `OTLP_BENCH_PROFILE` runs only that part: `encode`
//! (row 1), `end` (row 3), `ours` or `reference` (row 2's as-fast-as-it-can run for one side;
//! `profile.rs`). `OTLP_BENCH_RATE=N` prints the spans each side loses at N spans/s (two runs
//! each), and `OTLP_BENCH_EXPORTS=N` gives our side `fixed N` concurrency instead of adaptive.
//! `OTLP_BENCH_OUTAGE` is how the harness starts its outage children.

mod common;

#[path = "compare/collector.rs"]
mod collector;
#[path = "compare/collector_process.rs"]
mod collector_process;
#[path = "compare/compression.rs"]
mod compression;
#[path = "compare/encode_cost.rs"]
mod encode_cost;
#[path = "compare/end_cost.rs"]
mod end_cost;
#[path = "compare/latency.rs"]
mod latency;
#[path = "compare/outage.rs"]
mod outage;
#[path = "compare/profile.rs"]
mod profile;
#[path = "compare/scaling.rs"]
mod scaling;
#[path = "compare/side.rs"]
mod side;
#[path = "compare/spool_cost.rs"]
mod spool_cost;
#[path = "compare/table.rs"]
mod table;
#[path = "compare/throughput.rs"]
mod throughput;
#[path = "compare/transports.rs"]
mod transports;

use std::time::Duration;

use side::lost_at;
use table::{print_rows, row, Row};

/// Row 7 of the table (`latency.rs`): ours against upstream, and against our best fixed
/// concurrency, per collector.
fn latency_rows(runtime: &tokio::runtime::Runtime, quick: bool) -> Vec<Row> {
    let rate = std::env::var("OTLP_BENCH_LATENCY_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200_000);
    let duration = Duration::from_secs(if quick { 2 } else { 3 });
    let fixed: &[usize] = if quick {
        &[4, 16]
    } else {
        &[1, 2, 4, 8, 16, 32]
    };
    let mut rows = Vec::new();
    for d in runtime.block_on(latency::delivered(rate, duration, fixed)) {
        let name = format!(
            "7. % delivered at {}k/s, collector {}",
            rate / 1000,
            d.collector
        );
        rows.push(row(
            format!("{name} (adaptive, ended at {})", d.adaptive_limit),
            d.ours * 100.0,
            Some(d.reference * 100.0),
            "%",
            true,
        ));
        rows.push(row(
            format!("{name}: best fixed ({}) vs adaptive", d.best_fixed_limit),
            d.ours * 100.0,
            Some(d.best_fixed * 100.0),
            "%",
            true,
        ));
    }
    rows
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let quick = flag("--quick");
    let seconds = if quick { 2 } else { 10 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    // Each outage runs in a fresh process of its own (`outage.rs` says why).
    if let Ok(kind) = std::env::var("OTLP_BENCH_OUTAGE") {
        outage::child(&runtime, &kind);
        return;
    }
    if let Ok(part) = std::env::var("OTLP_BENCH_PROFILE") {
        profile::profile_one(&runtime, &part, Duration::from_secs(seconds));
        return;
    }
    if let Ok(rate) = std::env::var("OTLP_BENCH_RATE") {
        let rate: u64 = rate.parse().expect("OTLP_BENCH_RATE: spans per second");
        for reference in [false, true, false, true] {
            let (made, lost) = runtime.block_on(lost_at(rate, Duration::from_secs(2), reference));
            println!("reference {reference}: made {made}, lost {lost} at {rate}/s");
        }
        return;
    }
    if flag("--collector") {
        return collector::main(&runtime, quick);
    }
    if flag("--scaling") {
        scaling::scaling(&runtime, quick);
        return;
    }
    if flag("--latency") {
        print_rows(latency_rows(&runtime, quick));
        return;
    }
    if flag("--throughput") {
        print_rows(throughput::rows(&runtime, quick, seconds));
        return;
    }
    if flag("--transports") {
        print_rows(transports::rows(&runtime, quick));
        return;
    }

    let outages = outage::measure(quick);
    let mut rows = Vec::new();
    rows.extend(encode_cost::rows(quick));
    rows.extend(throughput::rows(&runtime, quick, seconds));
    rows.extend(end_cost::rows(quick));
    rows.extend(outage::rows(outages));
    rows.extend(compression::rows(quick));
    rows.extend(spool_cost::rows(quick));
    rows.extend(latency_rows(&runtime, quick));
    rows.extend(transports::rows(&runtime, quick));
    print_rows(rows);
}
