//! Row 9 (`--collector`): row 7's end-to-end measurement with the real OpenTelemetry Collector
//! as the collector. Spans are offered at a fixed rate by our defaults and by the upstream
//! exporter's (under the SDK's `BatchSpanProcessor`), over gRPC, into a Collector started for
//! the row; what was delivered is counted by the Collector's receiver (its own
//! `otelcol_receiver_accepted_spans`, as a delta per run) and by each side itself.
//!
//! Rates: `OTLP_BENCH_COLLECTOR_RATES` (spans/s, comma-separated; default 100000,200000).
//! Without a Collector binary the row fails, saying what is missing and how to build it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchConfigBuilder, SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::collector_process::{binary, Collector, Counts};
use super::common;
use super::side::{produce_at, Side};

/// One side's run: what it made, what the Collector counted, and what it counted itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Run {
    pub made: u64,
    /// The Collector receiver's counters over the run.
    pub collector: Counts,
    /// Spans the side counts as exported (ours: `stats().spans.exported`; upstream: spans in
    /// exports its exporter returned `Ok` for).
    pub own_exported: u64,
}

impl Run {
    fn add(&mut self, other: Run) {
        self.made += other.made;
        self.collector.accepted += other.collector.accepted;
        self.collector.refused += other.collector.refused;
        self.collector.failed += other.collector.failed;
        self.own_exported += other.own_exported;
    }

    /// The share the Collector accepted, 0 to 1.
    pub fn share(&self) -> f64 {
        self.collector.accepted as f64 / self.made.max(1) as f64
    }
}

/// One line of the row: a Collector variant at one rate, both sides.
pub struct Line {
    pub collector: String,
    pub rate: u64,
    /// Seconds each side offered spans, over all its runs.
    pub seconds: f64,
    pub ours: Run,
    pub reference: Run,
}

/// The upstream exporter with a count of the spans in exports that returned `Ok`: its own
/// view of what it delivered (the SDK's processor exposes no counters).
#[derive(Debug)]
struct Counted<E> {
    inner: E,
    exported: Arc<AtomicU64>,
}

impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        let result = self.inner.export(batch).await;
        if result.is_ok() {
            self.exported.fetch_add(spans, Ordering::Relaxed);
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The upstream side of row 7 (`Side::start_with`), its exporter counted.
fn reference_side(endpoint: &str) -> (Side, Arc<AtomicU64>) {
    use opentelemetry_otlp::WithExportConfig;
    let exported = Arc::new(AtomicU64::new(0));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .expect("upstream exporter");
    let exporter = Counted {
        inner: exporter,
        exported: Arc::clone(&exported),
    };
    let batch = BatchConfigBuilder::default()
        .with_max_queue_size(2048)
        .with_max_export_batch_size(512)
        .build();
    let processor = opentelemetry_sdk::trace::BatchSpanProcessor::builder(exporter)
        .with_batch_config(batch)
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(common::resource())
        .build();
    (Side::Reference(provider), exported)
}

/// One side's run at `rate` for `duration` into `collector`.
fn run(
    collector: &Collector,
    reference: bool,
    rate: u64,
    duration: Duration,
) -> Result<Run, String> {
    let endpoint = collector.grpc_endpoint();
    let (side, upstream_exported) = if reference {
        let (side, exported) = reference_side(&endpoint);
        (side, Some(exported))
    } else {
        (Side::start_with(false, &endpoint, None), None)
    };
    side.warm_up();
    let before = tokio::task::block_in_place(|| collector.settled_counts())?;
    let tracer = side.tracer();
    let made = tokio::task::block_in_place(|| produce_at(&tracer, rate, duration));
    side.shutdown();
    let after = tokio::task::block_in_place(|| collector.settled_counts())?;
    let own_exported = match (&side, upstream_exported) {
        (Side::Ours(pipeline), _) => {
            let stats = pipeline.stats();
            let opened: u64 = stats.circuits.iter().map(|c| c.stats.opened).sum();
            let limit = stats.concurrency.iter().map(|c| c.stats.limit).max();
            eprintln!(
                "  ours: queue full {}, failed {}, retries {}, circuit opened {opened} times, \
                 concurrency limit at the end {limit:?}",
                stats.spans.dropped_queue_full, stats.spans.failed, stats.retry.retries
            );
            stats.spans.exported
        }
        (_, Some(exported)) => exported.load(Ordering::Relaxed),
        (Side::Reference(_), None) => 0,
    };
    Ok(Run {
        made,
        collector: after.since(before),
        // The warm-up span was exported before `before` was read.
        own_exported: own_exported.saturating_sub(1),
    })
}

/// Every line of the row: for each Collector variant and rate, `rounds` alternating runs of
/// each side (summed), `duration` each.
pub async fn delivered(
    rates: &[u64],
    duration: Duration,
    rounds: usize,
    memory_limit_mib: Option<u32>,
) -> Result<Vec<Line>, String> {
    let binary = binary()?;
    let mut variants = vec![("debug exporter".to_owned(), None)];
    if let Some(limit) = memory_limit_mib {
        variants.push((format!("memory_limiter {limit} MiB"), Some(limit)));
    }
    let mut lines = Vec::new();
    for (name, limit) in variants {
        let collector = Collector::start(&binary, limit)?;
        for &rate in rates {
            let (mut ours, mut reference) = (Run::default(), Run::default());
            for _ in 0..rounds {
                ours.add(run(&collector, false, rate, duration)?);
                reference.add(run(&collector, true, rate, duration)?);
            }
            eprintln!(
                "Collector ({name}) at {rate}/s: ours {:.3}, upstream {:.3}",
                ours.share(),
                reference.share()
            );
            lines.push(Line {
                collector: name.clone(),
                rate,
                seconds: duration.as_secs_f64() * rounds as f64,
                ours,
                reference,
            });
        }
        drop(collector);
    }
    Ok(lines)
}

/// The rates of the row: `OTLP_BENCH_COLLECTOR_RATES`, or 100k and 200k spans/s.
pub fn rates() -> Result<Vec<u64>, String> {
    match std::env::var("OTLP_BENCH_COLLECTOR_RATES") {
        Err(_) => Ok(vec![100_000, 200_000]),
        Ok(list) => list
            .split(',')
            .map(|r| {
                r.trim().parse().map_err(|e| {
                    format!("OTLP_BENCH_COLLECTOR_RATES={list:?}: {r:?} is not spans/s ({e})")
                })
            })
            .collect(),
    }
}

/// The second Collector's `memory_limiter`: `OTLP_BENCH_COLLECTOR_MEMORY_MIB` (0: no second
/// Collector), default 16 MiB: low enough that it refuses now and then at these rates.
fn memory_limit_mib() -> Result<Option<u32>, String> {
    match std::env::var("OTLP_BENCH_COLLECTOR_MEMORY_MIB") {
        Err(_) => Ok(Some(16)),
        Ok(value) => match value.trim().parse::<u32>() {
            Ok(0) => Ok(None),
            Ok(mib) if mib >= 2 => Ok(Some(mib)),
            _ => Err(format!(
                "OTLP_BENCH_COLLECTOR_MEMORY_MIB={value:?}: expected 0 (none) or a limit of 2 MiB or more"
            )),
        },
    }
}

/// Runs the row and prints its table; an error (no Collector, one that does not start) ends
/// the harness with a non-zero status.
pub fn main(runtime: &tokio::runtime::Runtime, quick: bool) {
    let result = rates().and_then(|rates| {
        let duration = Duration::from_secs(if quick { 2 } else { 3 });
        let rounds = if quick { 1 } else { 3 };
        runtime.block_on(delivered(&rates, duration, rounds, memory_limit_mib()?))
    });
    match result {
        Ok(lines) => print(&lines),
        Err(message) => {
            eprintln!("compare --collector: {message}");
            std::process::exit(1);
        }
    }
}

fn print(lines: &[Line]) {
    println!(
        "\n{:<26} {:>7} {:>13} {:>8} {:>8} {:>7} {:>8} {:>8} {:>15}",
        "9. Collector, gRPC",
        "target",
        "offered",
        "ours",
        "upstream",
        "ratio",
        "ours own",
        "up own",
        "refused"
    );
    for line in lines {
        let (ours, reference) = (&line.ours, &line.reference);
        let ratio = if reference.share() > 0.0 {
            format!("{:.2}x", ours.share() / reference.share())
        } else {
            "∞".to_owned()
        };
        let offered = |run: &Run| run.made as f64 / line.seconds / 1000.0;
        let own = |run: &Run| run.own_exported as f64 / run.made.max(1) as f64 * 100.0;
        println!(
            "{:<26} {:>6}k {:>13} {:>7.1}% {:>7.1}% {:>7} {:>7.1}% {:>7.1}% {:>15}",
            line.collector,
            line.rate / 1000,
            format!("{:.0}k/{:.0}k", offered(ours), offered(reference)),
            ours.share() * 100.0,
            reference.share() * 100.0,
            ratio,
            own(ours),
            own(reference),
            format!("{}/{}", ours.collector.refused, reference.collector.refused),
        );
    }
    println!(
        "\ntarget: spans/s asked of the producer; offered: spans/s it made (ours/upstream); ours, \
         upstream: share of those the Collector's receiver accepted (otelcol_receiver_accepted_spans, \
         a delta per run); ratio: ours / upstream; own: the share each side counts as exported; \
         refused: spans the Collector's receiver refused (ours/upstream, each attempt counted)"
    );
}
