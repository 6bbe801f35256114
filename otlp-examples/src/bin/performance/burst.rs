//! The guide's three short tests, one progress bar over all of them: 1,000 concurrent tasks
//! making a span each, spans as fast as one thread can make them, and the cost of ending a
//! span measured one at a time.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use otlp_exporters::OtlpPipeline;

use super::progress;
use super::report::histogram;

/// What the burst measured.
pub struct Burst {
    /// Spans made.
    pub spans: u64,
    /// Rows for the table.
    pub rows: Vec<(String, String)>,
    /// The cost of `span.end()`, nanoseconds.
    pub end_cost: Histogram<u64>,
}

/// Runs the three tests.
pub async fn run(
    pipeline: &OtlpPipeline,
    concurrent: usize,
    throughput: usize,
    samples: usize,
) -> Result<Burst, Box<dyn std::error::Error>> {
    let total = (concurrent + throughput + samples) as u64;
    let bar = progress::bar(total, "spans");

    bar.set_message("concurrent tasks");
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
        bar.inc(1);
    }
    let concurrent_time = started.elapsed();

    bar.set_message("throughput (1 thread)");
    let tracer = pipeline.tracer("throughput-test");
    let started = Instant::now();
    for i in 0..throughput {
        let mut span = tracer.start("throughput-operation");
        span.set_attribute(KeyValue::new("iteration", i as i64));
        span.set_attribute(KeyValue::new("http.route", "/api/v1/items"));
        span.end();
        if i % 256 == 255 {
            bar.inc(256);
        }
    }
    bar.set_position((concurrent + throughput) as u64);
    let recording_time = started.elapsed();

    bar.set_message("span end cost");
    let mut end_cost = histogram();
    let tracer = pipeline.tracer("latency-test");
    for _ in 0..samples {
        let span = tracer.start("latency-operation");
        let begun = Instant::now();
        drop(span);
        let _ = end_cost.record(nanos(begun.elapsed()));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let per_second = |n: usize, t: Duration| progress::human(n as f64 / t.as_secs_f64().max(1e-9));
    Ok(Burst {
        spans: total,
        rows: vec![
            (
                format!("concurrent: {concurrent} tasks, spans/s"),
                per_second(concurrent, concurrent_time),
            ),
            (
                "throughput: spans/s recorded (one thread)".to_owned(),
                per_second(throughput, recording_time),
            ),
        ],
        end_cost,
    })
}

/// Nanoseconds, at least 1 (the histogram's lowest value).
pub fn nanos(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX).max(1)
}
