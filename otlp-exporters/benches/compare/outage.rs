//! Row 4: peak RSS growth during two kinds of collector outage against the queue budget, and
//! the spans dropped (and counted) meanwhile. Each outage runs in a child process of the
//! harness (`OTLP_BENCH_OUTAGE=refused|hanging`, `OTLP_BENCH_OUTAGE_SECONDS`): in the parent,
//! memory that earlier rows freed would hide the growth, and the outage's own allocations
//! would slow later rows.

use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry_sdk::trace::SpanData;
use otlp_batch::BatchConfig;
use otlp_exporters::OtlpPipeline;

use super::common;
use super::table::{row, Row};

/// Resident memory in bytes, from /proc/self/statm.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}

/// Runs [`outage_memory`] in a child process of this harness: (growth, budget, dropped).
fn outage_in_child(kind: &str, seconds: u64) -> (f64, f64, u64) {
    let output = std::process::Command::new(std::env::current_exe().expect("harness path"))
        .env("OTLP_BENCH_OUTAGE", kind)
        .env("OTLP_BENCH_OUTAGE_SECONDS", seconds.to_string())
        .output()
        .expect("outage run");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .map(|f| f.parse::<f64>().unwrap_or(f64::NAN));
    let mut next = || fields.next().unwrap_or(f64::NAN);
    (next(), next(), next() as u64)
}

/// How the collector is unavailable in the outage row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outage {
    /// Nothing listens: every connection is refused at once.
    Refused,
    /// A collector accepts every request and never answers: exports run to their timeout,
    /// the queue fills and stays full.
    Hanging,
}

/// Peak RSS growth while the collector is unavailable, at a fixed offered load, and how many
/// spans were dropped (counted) meanwhile.
fn outage_memory(
    runtime: &tokio::runtime::Runtime,
    outage: Outage,
    duration: Duration,
    rate_per_second: u64,
) -> (f64, f64, u64) {
    use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};
    let (endpoint, _receiver) = match outage {
        Outage::Refused => {
            let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
            let endpoint = format!("http://{}", dead.local_addr().expect("addr"));
            (endpoint, None)
        }
        Outage::Hanging => {
            let receiver = runtime
                .block_on(Receiver::start(ReceiverConfig::default()))
                .expect("receiver");
            receiver.faults().set_default(Some(Fault::hang()));
            (receiver.grpc_endpoint(), Some(receiver))
        }
    };
    let queue = 2048;
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(endpoint)
        .with_protocol(otlp_exporters::Protocol::Grpc)
        .with_batch(BatchConfig::default().with_max_queue_size(queue))
        .build()
        .expect("pipeline");
    let tracer = pipeline.tracer("outage");
    let baseline = rss_bytes();
    let mut peak = baseline;
    let started = Instant::now();
    let mut made = 0u64;
    let attributes = common::attributes();
    while started.elapsed() < duration {
        let due = (started.elapsed().as_secs_f64() * rate_per_second as f64) as u64;
        while made < due {
            let mut span = tracer.start("POST /api/v1/orders");
            span.set_attributes(attributes.iter().cloned());
            span.end();
            made += 1;
        }
        peak = peak.max(rss_bytes());
        std::thread::sleep(Duration::from_millis(10));
    }
    let report = pipeline.shutdown(Duration::from_millis(100));
    let dropped = report.spans.map_or(0, |r| r.stats.dropped());
    // The queue budget: the queue full of spans like these.
    let budget = queue as f64 * (std::mem::size_of::<SpanData>() + 600) as f64;
    (
        peak.saturating_sub(baseline) as f64 / 1_048_576.0,
        budget / 1_048_576.0,
        dropped,
    )
}

/// The child's side: one outage of the `kind` named, its three figures on one line.
pub fn child(runtime: &tokio::runtime::Runtime, kind: &str) {
    let kind = if kind == "hanging" {
        Outage::Hanging
    } else {
        Outage::Refused
    };
    let seconds = std::env::var("OTLP_BENCH_OUTAGE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let (grown, budget, dropped) =
        outage_memory(runtime, kind, Duration::from_secs(seconds), 20_000);
    println!("{grown} {budget} {dropped}");
}

/// The two outages' figures, each from a child process: run before any other row, so that
/// the children start from a parent that has not grown yet.
pub struct Outages(Vec<(&'static str, (f64, f64, u64))>);

pub fn measure(quick: bool) -> Outages {
    Outages(
        [
            ("refused", "refused"),
            ("hanging", "accepts, never answers"),
        ]
        .into_iter()
        .map(|(kind, name)| (name, outage_in_child(kind, if quick { 3 } else { 30 })))
        .collect(),
    )
}

/// Row 4 of the table, from what [`measure`] found.
pub fn rows(outages: Outages) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut budget = 0.0;
    for (name, (grown, queue_budget, dropped)) in outages.0 {
        budget = queue_budget;
        rows.push(row(
            format!("4. RSS growth, outage ({name}), MiB"),
            grown,
            None,
            "MiB",
            false,
        ));
        rows.push(row(
            format!("4. spans dropped and counted, outage ({name})"),
            dropped as f64,
            None,
            "",
            false,
        ));
    }
    rows.push(row(
        "4. queue budget + 20 MiB, MiB",
        budget + 20.0,
        None,
        "MiB",
        false,
    ));
    rows
}
