//! The drop-in exporter against upstream's, both under the SDK's own `BatchSpanProcessor`
//! (same batch size 512, queue 2048) and both over gRPC to an in-process collector that only
//! counts spans (`common/counting.rs`): what a user gains by changing the crate name and
//! keeping their provider. The two sides alternate, and each row is the median of their runs,
//! printed as one table with ratios.
//!
//! Rows: (1) one `export` call of a 512-span batch, awaited, µs; (2) spans delivered per
//! second when one thread makes spans as fast as it can, with the spans the SDK's processor
//! dropped, and the CPU the whole process spent per million delivered.
//!
//! `cargo bench -p otlp-exporters --bench drop_in`; `OTLP_BENCH_SECONDS` sets row 2's length
//! (default 3) and `OTLP_BENCH_ROUNDS` the alternations (default 3).

mod common;

use common::cpu::cpu_seconds;

use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{BatchConfigBuilder, SdkTracerProvider, SpanExporter as _};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[derive(Debug)]
enum Exporter {
    Ours(otlp_exporters::SpanExporter),
    Upstream(Box<opentelemetry_otlp::SpanExporter>),
}

fn exporter(upstream: bool, endpoint: &str) -> Exporter {
    if upstream {
        use opentelemetry_otlp::WithExportConfig;
        Exporter::Upstream(Box::new(
            opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()
                .expect("upstream exporter"),
        ))
    } else {
        use otlp_exporters::WithExportConfig;
        Exporter::Ours(
            otlp_exporters::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()
                .expect("drop-in exporter"),
        )
    }
}

/// Row 1: the median time of one awaited `export` of 512 spans, µs.
async fn export_cost(upstream: bool, endpoint: &str, rounds: usize) -> f64 {
    let mut exporter = exporter(upstream, endpoint);
    let resource = common::resource();
    match &mut exporter {
        Exporter::Ours(e) => e.set_resource(&resource),
        Exporter::Upstream(e) => e.set_resource(&resource),
    }
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds + 5 {
        let batch = common::spans(512);
        let started = Instant::now();
        let result = match &exporter {
            Exporter::Ours(e) => e.export(batch).await,
            Exporter::Upstream(e) => e.export(batch).await,
        };
        let elapsed = started.elapsed();
        result.expect("export");
        // The first exports open the connection.
        if round >= 5 {
            times.push(elapsed.as_secs_f64() * 1e6);
        }
    }
    median(&mut times)
}

struct Throughput {
    delivered_per_second: f64,
    dropped: u64,
    cpu_per_million: f64,
}

/// Row 2: one thread makes spans as fast as it can for `duration` under the SDK's batch
/// processor over the side's exporter.
async fn throughput(upstream: bool, duration: Duration) -> Throughput {
    let collector = common::counting::CountingCollector::start().await;
    let exporter = exporter(upstream, &collector.endpoint());
    let batch = BatchConfigBuilder::default()
        .with_max_queue_size(2048)
        .with_max_export_batch_size(512)
        .build();
    let builder = SdkTracerProvider::builder().with_resource(common::resource());
    let provider = match exporter {
        Exporter::Ours(e) => builder.with_span_processor(
            opentelemetry_sdk::trace::BatchSpanProcessor::builder(e)
                .with_batch_config(batch)
                .build(),
        ),
        Exporter::Upstream(e) => builder.with_span_processor(
            opentelemetry_sdk::trace::BatchSpanProcessor::builder(*e)
                .with_batch_config(batch)
                .build(),
        ),
    }
    .build();
    let tracer = provider.tracer("bench");
    // Connect first: both exporters connect on first use.
    tracer.start("warm-up").end();
    tokio::task::block_in_place(|| provider.force_flush()).expect("warm-up flush");
    let before = collector.spans();
    let cpu = cpu_seconds();
    let started = Instant::now();
    let attributes = common::attributes();
    let made = tokio::task::block_in_place(|| {
        let mut made = 0u64;
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
        let _ = provider.shutdown();
        made
    });
    let elapsed = started.elapsed().as_secs_f64();
    let delivered = (collector.spans() - before).max(1);
    let cpu = cpu_seconds() - cpu;
    Throughput {
        delivered_per_second: delivered as f64 / elapsed,
        dropped: made.saturating_sub(delivered),
        cpu_per_million: cpu / delivered as f64 * 1e6,
    }
}

fn print_row(name: &str, ours: f64, upstream: f64, higher_is_better: bool) {
    let ratio = if higher_is_better {
        ours / upstream
    } else {
        upstream / ours
    };
    println!("| {name} | {ours:.1} | {upstream:.1} | {ratio:.2}x |");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("drop_in: bench");
        return;
    }
    let seconds = env_number("OTLP_BENCH_SECONDS", 3);
    let rounds = env_number("OTLP_BENCH_ROUNDS", 3).max(1) as usize;
    let collector = common::counting::CountingCollector::start().await;
    let endpoint = collector.endpoint();
    let (mut export_ours, mut export_upstream) = (Vec::new(), Vec::new());
    let (mut rate_ours, mut rate_upstream) = (Vec::new(), Vec::new());
    let (mut dropped_ours, mut dropped_upstream) = (Vec::new(), Vec::new());
    let (mut cpu_ours, mut cpu_upstream) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        export_ours.push(export_cost(false, &endpoint, 200).await);
        export_upstream.push(export_cost(true, &endpoint, 200).await);
        for upstream in [false, true] {
            let t = throughput(upstream, Duration::from_secs(seconds)).await;
            let (rate, dropped, cpu) = if upstream {
                (&mut rate_upstream, &mut dropped_upstream, &mut cpu_upstream)
            } else {
                (&mut rate_ours, &mut dropped_ours, &mut cpu_ours)
            };
            rate.push(t.delivered_per_second);
            dropped.push(t.dropped as f64);
            cpu.push(t.cpu_per_million);
        }
    }
    println!("| benchmark | drop-in (otlp-rust) | opentelemetry-otlp | ratio (higher: otlp-rust better) |");
    println!("|---|---:|---:|---:|");
    print_row(
        "1. one awaited export of 512 spans, µs (median of 200)",
        median(&mut export_ours),
        median(&mut export_upstream),
        false,
    );
    print_row(
        &format!("2. spans/s delivered under the SDK's BatchSpanProcessor ({seconds} s, 1 producer thread)"),
        median(&mut rate_ours),
        median(&mut rate_upstream),
        true,
    );
    print_row(
        &format!("2. spans the SDK's processor dropped in those {seconds} s"),
        median(&mut dropped_ours),
        median(&mut dropped_upstream),
        false,
    );
    print_row(
        "2. CPU seconds per million delivered spans, whole process",
        median(&mut cpu_ours),
        median(&mut cpu_upstream),
        false,
    );
    println!("({rounds} alternating rounds; medians)");
}
