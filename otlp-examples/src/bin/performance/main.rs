//! Performance (the guide's fifth example): the concurrent test (1,000 tasks), the throughput
//! test and the latency test under one progress bar, or with `--duration` a sustained load at
//! a steady rate; then a table that is always printed: spans per second, p50/p95/p99 of the
//! cost of ending a span and of delivery (span end to arrival at the embedded receiver, from
//! an HDR histogram), bytes per span on the wire, and what was delivered, dropped (with the
//! queue's size and policy) or rejected. Figures, not assertions: `cargo xtask bench` is where
//! they are compared; the demo checks only that every span is accounted for.

mod burst;
mod progress;
mod report;
mod sustained;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use otlp_batch::BatchConfig;
use otlp_core::Telemetry;
use otlp_examples::cli::Args;
use otlp_exporters::OtlpPipeline;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

use report::Arrivals;

const USAGE: &str = "performance: concurrency, throughput and latency of the pipeline
(guide section 5, \"Performance Testing\")

usage: cargo run --release -p otlp-examples --bin performance -- [--quick] [--spans N]
           [--duration SECONDS [--rate N]] [--queue N] [--ui ADDR] [--print-config]

  --quick            200 tasks, 2,000 spans, 200 latency samples
  --spans N          spans of the throughput test (default 10,000)
  --duration SECONDS a sustained load test instead: --rate spans a second (default 20,000) for
                     SECONDS, with p50/p95/p99 of the span-end cost and of delivery latency
  --queue N          the span queue's size (default 100,000; a full queue drops the newest
                     span, and the table counts it as dropped)
  --ui ADDR          also show what the embedded receiver got in the viewer on ADDR; the
                     viewer stays up at the end until Ctrl-C

Spans go to an embedded receiver, which measures delivery latency; with
OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_CONFIG_FILE) they go to your collector instead, and
delivery is counted from the pipeline's own report.";

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["spans", "duration", "rate", "queue"]);
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("performance: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The embedded receiver, recording delivery latency and keeping one large request.
async fn embedded(arrivals: &Arc<Arrivals>) -> std::io::Result<Receiver> {
    let sink = Arc::clone(arrivals);
    let config = ReceiverConfig::default()
        .with_keep_requests(false)
        .with_on_receive(move |received| {
            let now = now_nanos();
            if let Telemetry::Traces(request) = &received.payload {
                let mut delivery = sink.delivery.lock();
                let histogram = delivery.get_or_insert_with(report::histogram);
                for span in request
                    .resource_spans
                    .iter()
                    .flat_map(|r| &r.scope_spans)
                    .flat_map(|s| &s.spans)
                {
                    let _ = histogram.record(now.saturating_sub(span.end_time_unix_nano).max(1));
                }
                let mut sample = sink.sample.lock();
                if sample.is_none() && received.payload.items() >= 500 {
                    *sample = Some(received.payload.clone());
                }
            }
        });
    Receiver::start(otlp_examples::target::with_viewer(config).await?).await
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let duration = args
        .option("duration")
        .map(|text| {
            text.parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("--duration expects seconds such as 30, not {text:?}"))
        })
        .transpose()?;
    let queue = args.number("queue", 100_000).max(1);
    let batch = BatchConfig::default()
        .with_max_batch_size(queue.min(2000))
        .with_max_queue_size(queue)
        .with_scheduled_delay(Duration::from_millis(100))
        .with_max_concurrent_exports(2);
    let arrivals = Arc::new(Arrivals::default());
    let external = otlp_examples::target::external_from_env();
    let receiver = match external {
        Some(_) => None,
        None => Some(embedded(&arrivals).await?),
    };
    let mut builder = OtlpPipeline::builder()
        .with_env()?
        .with_service_name("performance-demo")
        .with_batch(batch.clone());
    if let Some(receiver) = &receiver {
        builder = builder.with_endpoint(receiver.http_endpoint());
    }
    let pipeline = Arc::new(builder.build()?);
    if args.print_config(&pipeline) {
        return Ok(());
    }
    let to = match (&receiver, &external) {
        (Some(receiver), _) => format!("the embedded receiver at {}", receiver.http_endpoint()),
        (None, Some(from)) => format!("the collector of {from}"),
        (None, None) => "nowhere".to_owned(),
    };
    let measured = match duration {
        Some(duration) => {
            let rate = args.number("rate", 20_000).max(1) as u64;
            println!(
                "⚡ performance: sustained {} spans/s for {duration:.1?} to {to}",
                progress::human(rate as f64)
            );
            let pipeline = Arc::clone(&pipeline);
            let run =
                tokio::task::spawn_blocking(move || sustained::run(&pipeline, duration, rate))
                    .await?;
            report::Measured {
                made: run.spans,
                rows: run.rows,
                end_cost: run.end_cost,
            }
        }
        None => {
            let concurrent = if args.quick { 200 } else { 1000 };
            let throughput = args.number("spans", if args.quick { 2_000 } else { 10_000 });
            let samples = if args.quick { 200 } else { 1000 };
            println!("⚡ performance: {concurrent} concurrent tasks, {throughput} spans, {samples} latency samples to {to}");
            let run = burst::run(&pipeline, concurrent, throughput, samples).await?;
            report::Measured {
                made: run.spans,
                rows: run.rows,
                end_cost: run.end_cost,
            }
        }
    };
    let shutdown = report::deliver(&pipeline);
    let outcome = report::finish(
        &pipeline,
        receiver.as_ref(),
        &arrivals,
        &batch,
        measured,
        &shutdown,
    );
    let result = match outcome {
        Ok(line) => {
            println!("\n✅ {line}");
            Ok(())
        }
        Err(error) => Err(error.into()),
    };
    if receiver.is_some() {
        otlp_examples::target::linger();
    }
    result
}
