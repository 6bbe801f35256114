//! `cargo xtask bench`: otlp-rust side by side with the upstream `opentelemetry-otlp` exporter
//! (and the SDK's `BatchSpanProcessor`), in one run on one machine, printed as one table with
//! ratios. `--quick` shortens every run.
//!
//! Rows: (1) encode cost per span; (2) sustained end-to-end throughput into an in-process
//! collector that only counts spans (`common/counting.rs`), with drops and CPU per million
//! spans; (3) the cost of ending a span at 1 and 2 producer threads; (4) peak RSS during two
//! kinds of collector outage against the queue budget, each in a child process; (5) bytes and
//! CPU per span with none, gzip and zstd; (6) the disk spool's cost per request; (7) the share
//! delivered at a fixed offered rate into a collector answering after 0-50 ms or decoding each
//! request (`compare/latency.rs`; `--latency` runs only that row, `OTLP_BENCH_LATENCY_RATE`
//! sets the rate, default 200,000 spans/s). The sides live in `compare/side.rs`.
//!
//! For profiling one part under `perf`, `OTLP_BENCH_PROFILE` runs only that part: `encode`
//! (row 1), `end` (row 3), `ours` or `reference` (row 2's as-fast-as-it-can run for one side).
//! `OTLP_BENCH_RATE=N` prints the spans each side loses at N spans/s (two runs each), and
//! `OTLP_BENCH_EXPORTS=N` gives our side `fixed N` concurrency instead of adaptive.
//! `OTLP_BENCH_OUTAGE` is how the harness starts its outage children.

mod common;

use common::cpu::{cpu_seconds, thread_cpu_seconds};
#[path = "compare/latency.rs"]
mod latency;
#[path = "compare/side.rs"]
mod side;

use side::{lost_at, sustained, Side};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchConfigBuilder, SdkTracerProvider, SpanData, SpanExporter};
use otlp_batch::{Batch, BatchConfig, BatchProcessor, BatchSpanProcessor, PipelineRuntime};
use otlp_core::encode::SpanEncoder;
use otlp_core::{BoxError, ExportOutcome};
use otlp_exporters::OtlpPipeline;
use otlp_transport::Compression;
use prost::Message;

struct Row {
    name: String,
    ours: f64,
    reference: Option<f64>,
    unit: &'static str,
    /// Whether a larger number is better (throughput) or worse (cost).
    higher_is_better: bool,
}

fn row(
    name: impl Into<String>,
    ours: f64,
    reference: Option<f64>,
    unit: &'static str,
    higher_is_better: bool,
) -> Row {
    Row {
        name: name.into(),
        ours,
        reference,
        unit,
        higher_is_better,
    }
}

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

fn encode_cost(rounds: usize) -> (f64, f64) {
    let spans = common::spans(512);
    let resource = common::resource();
    let mut encoder = SpanEncoder::new();
    let mut bytes = 0;
    let started = Instant::now();
    for _ in 0..rounds {
        bytes += encoder.encode(&spans, &resource).len();
    }
    let ours = started.elapsed().as_nanos() as f64 / (rounds * 512) as f64;
    // The reference consumes the batch: time the clone alone and take it off.
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(spans.clone());
    }
    let clone = started.elapsed().as_nanos() as f64;
    let started = Instant::now();
    for _ in 0..rounds {
        let attributes = ResourceAttributesWithSchema::from(&resource);
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(spans.clone(), &attributes),
        };
        bytes += request.encode_to_vec().len();
    }
    let reference = (started.elapsed().as_nanos() as f64 - clone) / (rounds * 512) as f64;
    std::hint::black_box(bytes);
    (ours, reference)
}

/// Makes spans on one thread at `rate` per second for `duration`; returns how many.
///
/// Makes spans on one thread as fast as it can for `duration`; returns how many.
fn produce(tracer: &impl opentelemetry::trace::Tracer, duration: Duration) -> u64 {
    let attributes = common::attributes();
    let started = Instant::now();
    let mut made = 0;
    while started.elapsed() < duration {
        for _ in 0..100 {
            let mut span = tracer.start("POST /api/v1/orders");
            span.set_attributes(attributes.iter().cloned());
            span.add_event("cache.miss", vec![]);
            span.add_event("db.query", vec![]);
            span.end();
        }
        made += 100;
    }
    made
}

struct Throughput {
    delivered_per_second: f64,
    dropped: u64,
    cpu_per_million: f64,
    /// The same without the producer thread: what the pipeline (and the counting collector)
    /// cost.
    pipeline_cpu_per_million: f64,
}

/// Spans made as fast as `producers` threads can for `duration`, and what arrived.
async fn throughput(reference: bool, duration: Duration, producers: usize) -> Throughput {
    let collector = common::counting::CountingCollector::start().await;
    let side = Side::start(reference, &collector.endpoint());
    let cpu = cpu_seconds();
    let started = Instant::now();
    let (made, producer_cpu) = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let threads: Vec<_> = (0..producers)
                .map(|_| {
                    let tracer = side.tracer();
                    scope.spawn(move || {
                        let before = thread_cpu_seconds();
                        let made = produce(&tracer, duration);
                        (made, thread_cpu_seconds() - before)
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap_or((0, 0.0)))
                .fold((0, 0.0), |(m, c), (made, cpu)| (m + made, c + cpu))
        })
    });
    side.shutdown();
    let elapsed = started.elapsed().as_secs_f64();
    let delivered = collector.spans().max(1) as f64;
    let cpu = cpu_seconds() - cpu;
    Throughput {
        delivered_per_second: delivered / elapsed,
        dropped: made.saturating_sub(delivered as u64),
        cpu_per_million: cpu / delivered * 1e6,
        pipeline_cpu_per_million: (cpu - producer_cpu) / delivered * 1e6,
    }
}

/// An exporter that drops everything at once, for measuring the processors alone.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

/// Nanoseconds per span made and ended on each of `threads` threads.
fn end_cost(provider: &SdkTracerProvider, threads: usize, spans_per_thread: u64) -> f64 {
    let go = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let tracer = provider.tracer("bench");
            let (go, total) = (Arc::clone(&go), Arc::clone(&total));
            std::thread::spawn(move || {
                while !go.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
                let started = Instant::now();
                for _ in 0..spans_per_thread {
                    let mut span = tracer.start("op");
                    span.set_attribute(opentelemetry::KeyValue::new("k", 1));
                    span.end();
                }
                total.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            })
        })
        .collect();
    go.store(true, Ordering::Release);
    for handle in handles {
        let _ = handle.join();
    }
    total.load(Ordering::Relaxed) as f64 / (threads as u64 * spans_per_thread) as f64
}

/// The median of `rounds` alternating runs of each side, so that both see the same noise.
fn end_costs(
    spans_per_thread: u64,
    rounds: usize,
    thread_counts: &[usize],
) -> Vec<(usize, f64, f64)> {
    let runtime = PipelineRuntime::new("bench").expect("runtime");
    let mut out = Vec::new();
    for &threads in thread_counts {
        let (mut ours, mut sdk) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            ours.push(end_cost_ours(&runtime, threads, spans_per_thread));
            sdk.push(end_cost_sdk(threads, spans_per_thread));
        }
        out.push((threads, median(&mut ours), median(&mut sdk)));
    }
    out
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn end_cost_ours(runtime: &PipelineRuntime, threads: usize, spans_per_thread: u64) -> f64 {
    let sink = tower::service_fn(|batch: Batch<SpanData>| async move {
        Ok::<_, BoxError>(ExportOutcome::accepted(batch.items.len()))
    });
    let config = BatchConfig::default().with_max_queue_size(1 << 16);
    let processor = BatchProcessor::new(config, sink, runtime.handle()).expect("processor");
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::new(processor, Duration::from_secs(5)))
        .build();
    let cost = end_cost(&provider, threads, spans_per_thread);
    let _ = provider.shutdown();
    cost
}

fn end_cost_sdk(threads: usize, spans_per_thread: u64) -> f64 {
    let processor = opentelemetry_sdk::trace::BatchSpanProcessor::builder(Discard)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(1 << 16)
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let cost = end_cost(&provider, threads, spans_per_thread);
    let _ = provider.shutdown();
    cost
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

/// Rows 2 and 3 with 1, 4 and 16 producer threads, for a machine with the cores to run them
/// (`cargo xtask bench --scaling`). Prints its own table.
fn scaling(runtime: &tokio::runtime::Runtime, quick: bool) {
    let seconds = Duration::from_secs(if quick { 2 } else { 10 });
    let counts = [1, 4, 16];
    println!(
        "\n{:<9} {:>14} {:>14} {:>7} {:>10} {:>10} {:>11} {:>11} {:>7}",
        "producers",
        "ours spans/s",
        "ref spans/s",
        "ratio",
        "ours CPU/M",
        "ref CPU/M",
        "ours end ns",
        "SDK end ns",
        "ratio"
    );
    let ends = end_costs(
        if quick { 50_000 } else { 200_000 },
        if quick { 3 } else { 5 },
        &counts,
    );
    for (&producers, (_, ours_end, sdk_end)) in counts.iter().zip(ends) {
        let (ours, reference) = runtime.block_on(async {
            (
                throughput(false, seconds, producers).await,
                throughput(true, seconds, producers).await,
            )
        });
        println!(
            "{:<9} {:>14.0} {:>14.0} {:>6.2}x {:>10.2} {:>10.2} {:>11.1} {:>11.1} {:>6.2}x",
            producers,
            ours.delivered_per_second,
            reference.delivered_per_second,
            ours.delivered_per_second / reference.delivered_per_second,
            ours.cpu_per_million,
            reference.cpu_per_million,
            ours_end,
            sdk_end,
            sdk_end / ours_end
        );
    }
    println!("\nspans/s: delivered into the counting collector, producers making spans as fast as they can; CPU/M: process CPU seconds per million delivered spans; end ns: making and ending a span, per thread");
}

/// Runs one part alone, for `perf`: `encode`, `end`, `ours` or `reference`.
fn profile_one(runtime: &tokio::runtime::Runtime, part: &str, duration: Duration) {
    match part {
        "encode" => {
            let (ours, reference) = encode_cost(400);
            println!("encode ns per span: ours {ours:.1}, reference {reference:.1}");
        }
        "end" => {
            for (threads, ours, sdk) in end_costs(500_000, 5, &[1, 2]) {
                println!("{threads} {ours} {sdk}");
            }
        }
        "ours" | "reference" => {
            let t = runtime.block_on(throughput(part == "reference", duration, 1));
            println!(
                "delivered/s {:.0}, dropped {}, CPU s per million {:.2}, without the producer {:.2}",
                t.delivered_per_second, t.dropped, t.cpu_per_million, t.pipeline_cpu_per_million
            );
        }
        other => eprintln!("OTLP_BENCH_PROFILE={other}: expected encode, end, ours or reference"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let seconds = if quick { 2 } else { 10 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();

    // Each outage runs in a fresh process of its own: in this one, memory that earlier rows
    // freed would hide the growth, and the outage's own allocations would slow later rows.
    if let Ok(kind) = std::env::var("OTLP_BENCH_OUTAGE") {
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
            outage_memory(&runtime, kind, Duration::from_secs(seconds), 20_000);
        println!("{grown} {budget} {dropped}");
        return;
    }
    if let Ok(part) = std::env::var("OTLP_BENCH_PROFILE") {
        profile_one(&runtime, &part, Duration::from_secs(seconds));
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

    if args.iter().any(|a| a == "--scaling") {
        scaling(&runtime, quick);
        return;
    }
    let latency_rows = |rows: &mut Vec<Row>| {
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
    };
    if args.iter().any(|a| a == "--latency") {
        latency_rows(&mut rows);
        print_rows(rows);
        return;
    }

    let outages: Vec<_> = [
        ("refused", "refused"),
        ("hanging", "accepts, never answers"),
    ]
    .into_iter()
    .map(|(kind, name)| (name, outage_in_child(kind, if quick { 3 } else { 30 })))
    .collect();

    let (ours, reference) = encode_cost(if quick { 40 } else { 400 });
    rows.push(row(
        "1. encode, ns per span (8 attributes, 2 events)",
        ours,
        Some(reference),
        "ns",
        false,
    ));

    let (ours, reference) = runtime.block_on(async {
        (
            throughput(false, Duration::from_secs(seconds), 1).await,
            throughput(true, Duration::from_secs(seconds), 1).await,
        )
    });
    rows.push(row(
        format!("2. end-to-end spans/s delivered ({seconds} s, 1 producer)"),
        ours.delivered_per_second,
        Some(reference.delivered_per_second),
        "/s",
        true,
    ));
    rows.push(row(
        "2. spans dropped",
        ours.dropped as f64,
        Some(reference.dropped as f64),
        "",
        false,
    ));
    if !quick {
        let (ours, reference) = runtime.block_on(async {
            (
                sustained(Duration::from_secs(2), false).await,
                sustained(Duration::from_secs(2), true).await,
            )
        });
        rows.push(row(
            "2. highest drop-free offered rate, spans/s",
            ours,
            Some(reference),
            "/s",
            true,
        ));
    }
    rows.push(row(
        "2. CPU s per million spans (process)",
        ours.cpu_per_million,
        Some(reference.cpu_per_million),
        "s",
        false,
    ));
    rows.push(row(
        "2. CPU s per million spans (all but the producer)",
        ours.pipeline_cpu_per_million,
        Some(reference.pipeline_cpu_per_million),
        "s",
        false,
    ));

    for (threads, ours, sdk) in end_costs(
        if quick { 100_000 } else { 500_000 },
        if quick { 3 } else { 7 },
        &[1, 2],
    ) {
        rows.push(row(
            format!("3. span end, ns per span, {threads} thread(s)"),
            ours,
            Some(sdk),
            "ns",
            false,
        ));
    }

    let mut budget = 0.0;
    for (name, (grown, queue_budget, dropped)) in outages {
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

    rows.push(row(
        "6. spool append (fsync) + ack, µs per 512-span request",
        spool_cost(if quick { 50 } else { 500 }),
        None,
        "µs",
        false,
    ));
    latency_rows(&mut rows);
    print_rows(rows);
}

/// Prints the table.
fn print_rows(rows: Vec<Row>) {
    println!(
        "\n{:<52} {:>14} {:>14} {:>8}",
        "benchmark", "otlp-rust", "reference", "ratio"
    );
    for row in rows {
        let reference = row
            .reference
            .map_or_else(|| "-".to_owned(), |r| format!("{r:.1}{}", row.unit));
        let ratio = match row.reference {
            Some(r) if row.higher_is_better && r > 0.0 => format!("{:.2}x", row.ours / r),
            Some(r) if !row.higher_is_better && row.ours > 0.0 => format!("{:.2}x", r / row.ours),
            Some(_) => "∞".to_owned(),
            None => String::new(),
        };
        println!(
            "{:<52} {:>14} {:>14} {:>8}",
            row.name,
            format!("{:.1}{}", row.ours, row.unit),
            reference,
            ratio
        );
    }
    println!("\nratio: how many times better otlp-rust is (reference / ours for costs, ours / reference for rates)");
}
