//! Performance (the guide's fifth example): the concurrent test (1,000 tasks), the throughput
//! test and the latency test, with a progress bar and a table: spans per second recorded and
//! delivered, p50/p95/p99 of the cost of ending a span and of end-to-end delivery (span end to
//! arrival at the receiver, from an HDR histogram), and bytes per span on the wire without and
//! with compression. Figures, not assertions: `cargo xtask bench` is where they are compared.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use otlp_batch::BatchConfig;
use otlp_core::encode::{encode_message, EncodeOptions};
use otlp_core::{Signal, Telemetry};
use otlp_examples::cli::Args;
use otlp_exporters::OtlpPipeline;
use otlp_transport::receiver::{Receiver, ReceiverConfig};
use otlp_transport::Compression;
use parking_lot::Mutex;

const USAGE: &str = "performance: concurrency, throughput and latency of the pipeline

usage: cargo run --release -p otlp-examples --bin performance -- [--quick] [--spans N]

  --quick     200 tasks, 2,000 spans, 200 latency samples
  --spans N   spans of the throughput test (default 10,000)

Always uses the embedded receiver (the end-to-end latency is measured where spans arrive).";

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn histogram() -> Histogram<u64> {
    // tidy: allow-unwrap constant bounds that new_with_bounds accepts (1 <= low, high >= 2 * low, 3 figures)
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("constant, valid bounds")
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["spans"]);
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("performance: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let concurrent = if args.quick { 200 } else { 1000 };
    let throughput_spans = args.number("spans", if args.quick { 2_000 } else { 10_000 });
    let samples = if args.quick { 200 } else { 1000 };
    let total = concurrent + throughput_spans + samples;

    let delivery = Arc::new(Mutex::new(histogram()));
    let sample: Arc<Mutex<Option<Telemetry>>> = Arc::new(Mutex::new(None));
    let (delivery_sink, sample_sink) = (Arc::clone(&delivery), Arc::clone(&sample));
    let receiver = Receiver::start(
        ReceiverConfig::default()
            .with_keep_requests(false)
            .with_on_receive(move |received| {
                let now = now_nanos();
                if let Telemetry::Traces(request) = &received.payload {
                    let mut histogram = delivery_sink.lock();
                    for span in request
                        .resource_spans
                        .iter()
                        .flat_map(|r| &r.scope_spans)
                        .flat_map(|s| &s.spans)
                    {
                        let _ =
                            histogram.record(now.saturating_sub(span.end_time_unix_nano).max(1));
                    }
                    let mut sample = sample_sink.lock();
                    if sample.is_none() && received.payload.items() >= 500 {
                        *sample = Some(received.payload.clone());
                    }
                }
            }),
    )
    .await?;
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_service_name("performance-demo")
        .with_batch(
            BatchConfig::default()
                .with_max_batch_size(2000)
                .with_max_queue_size(100_000)
                .with_scheduled_delay(Duration::from_millis(100))
                .with_max_concurrent_exports(2),
        )
        .build()?;
    if args.print_config(&pipeline) {
        return Ok(());
    }
    println!("⚡ performance: {concurrent} concurrent tasks, {throughput_spans} spans, {samples} latency samples\n");

    // Concurrent test: every task makes one span.
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrent)
        .map(|i| {
            let tracer = pipeline.tracer("concurrent-test");
            tokio::spawn(async move {
                let mut span = tracer.start("concurrent-operation");
                span.set_attribute(KeyValue::new("task", i as i64));
                tokio::task::yield_now().await;
                span.end();
            })
        })
        .collect();
    for task in tasks {
        task.await?;
    }
    let concurrent_time = started.elapsed();

    // Throughput test: spans as fast as one thread can make them.
    let bar = ProgressBar::new(throughput_spans as u64);
    bar.set_style(
        ProgressStyle::with_template("  throughput [{bar:40}] {pos}/{len} spans {per_sec}")
            .map_err(|e| e.to_string())?,
    );
    let tracer = pipeline.tracer("throughput-test");
    let started = Instant::now();
    for i in 0..throughput_spans {
        let mut span = tracer.start("throughput-operation");
        span.set_attribute(KeyValue::new("iteration", i as i64));
        span.set_attribute(KeyValue::new("http.route", "/api/v1/items"));
        span.end();
        if i % 500 == 0 {
            bar.set_position(i as u64);
        }
    }
    bar.finish_and_clear();
    let recording_time = started.elapsed();

    // Latency test: the cost of ending a span, one at a time.
    let mut end_cost = histogram();
    let tracer = pipeline.tracer("latency-test");
    for _ in 0..samples {
        let span = tracer.start("latency-operation");
        let begun = Instant::now();
        drop(span);
        let _ = end_cost.record(
            u64::try_from(begun.elapsed().as_nanos())
                .unwrap_or(u64::MAX)
                .max(1),
        );
    }

    let delivered_by = Instant::now();
    if !receiver
        .wait_for_items(Signal::Traces, total, Duration::from_secs(30))
        .await
    {
        return Err(format!(
            "the receiver got {} of {total} spans",
            receiver.counts().spans
        )
        .into());
    }
    let drain_time = delivered_by.elapsed();
    let report = otlp_examples::target::shutdown(&pipeline);
    let stats = pipeline.stats();

    let micros = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let delivery = delivery.lock().clone();
    println!("{:<44} {:>14}", "test", "result");
    println!(
        "{:<44} {:>14.0}",
        format!("concurrent: {concurrent} tasks, spans/s"),
        concurrent as f64 / concurrent_time.as_secs_f64()
    );
    println!(
        "{:<44} {:>14.0}",
        "throughput: spans/s recorded (one thread)",
        throughput_spans as f64 / recording_time.as_secs_f64()
    );
    println!(
        "{:<44} {:>14.0}",
        "throughput: spans/s delivered",
        total as f64 / (recording_time + drain_time).as_secs_f64()
    );
    for q in [0.5, 0.95, 0.99] {
        println!(
            "{:<44} {:>12.2}µs",
            format!("span end cost p{}", (q * 100.0) as u32),
            micros(&end_cost, q)
        );
    }
    for q in [0.5, 0.95, 0.99] {
        println!(
            "{:<44} {:>12.2}ms",
            format!("end-to-end delivery p{}", (q * 100.0) as u32),
            micros(&delivery, q) / 1000.0
        );
    }
    if let Some(sample) = sample.lock().clone() {
        let items = sample.items();
        let Telemetry::Traces(message) = sample else {
            return Err("not traces".into());
        };
        let request = encode_message(message, &EncodeOptions::default())?
            .requests
            .remove(0);
        for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let bytes = compression.compress(&request.body)?.len();
            println!(
                "{:<44} {:>14.1}",
                format!("bytes per span on the wire, {compression}"),
                bytes as f64 / items as f64
            );
        }
    }
    println!(
        "\nspans offered {}, exported {}, dropped {}, batches {}",
        stats.spans.offered,
        stats.spans.exported,
        stats.spans.dropped(),
        stats.spans.batches
    );
    if !report.completed || stats.spans.dropped() > 0 {
        return Err(report.to_string().into());
    }
    println!("✅ all {total} spans delivered, none dropped");
    Ok(())
}
