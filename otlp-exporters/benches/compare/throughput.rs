//! Row 2: sustained end-to-end throughput into the counting collector, one or more producer
//! threads making spans as fast as they can, with drops and CPU per million delivered spans,
//! and the same into the collector that decodes every request (tonic's default server
//! settings); and (full runs only) the highest offered rate either side keeps up with without
//! a drop.

use std::time::{Duration, Instant};

use opentelemetry::trace::Span as _;

use super::common;
use super::common::counting::Behaviour;
use super::common::cpu::{cpu_seconds, thread_cpu_seconds};
use super::side::{sustained, Side};
use super::table::{row, Row};

/// Makes spans on one thread as fast as it can for `duration`; returns how many.
pub fn produce(tracer: &impl opentelemetry::trace::Tracer, duration: Duration) -> u64 {
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

pub struct Throughput {
    /// Spans the collector counted.
    pub delivered: u64,
    pub delivered_per_second: f64,
    pub dropped: u64,
    pub cpu_per_million: f64,
    /// The same without the producer thread: what the pipeline (and the counting collector)
    /// cost.
    pub pipeline_cpu_per_million: f64,
}

/// Spans made as fast as `producers` threads can for `duration`, and what arrived.
pub async fn throughput(reference: bool, duration: Duration, producers: usize) -> Throughput {
    throughput_into(Behaviour::default(), reference, duration, producers).await
}

/// [`throughput`] into a collector that answers as `behaviour` says.
pub async fn throughput_into(
    behaviour: Behaviour,
    reference: bool,
    duration: Duration,
    producers: usize,
) -> Throughput {
    let collector = common::counting::CountingCollector::start_with(behaviour).await;
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
    let counted = collector.spans();
    let delivered = counted.max(1) as f64;
    let cpu = cpu_seconds() - cpu;
    Throughput {
        delivered: counted,
        delivered_per_second: delivered / elapsed,
        dropped: made.saturating_sub(delivered as u64),
        cpu_per_million: cpu / delivered * 1e6,
        pipeline_cpu_per_million: (cpu - producer_cpu) / delivered * 1e6,
    }
}

/// "ours: ..." / "reference: ..." for each side that delivered no span, or `None`.
pub fn nothing_delivered(ours: u64, reference: u64, what: &str) -> Option<String> {
    let mut empty = Vec::new();
    if ours == 0 {
        empty.push("ours");
    }
    if reference == 0 {
        empty.push("reference");
    }
    if empty.is_empty() {
        return None;
    }
    Some(format!(
        "{}: the collector counted 0 spans ({what})",
        empty.join(" and ")
    ))
}

/// Row 2 of the table, `seconds` per side.
pub fn rows(runtime: &tokio::runtime::Runtime, quick: bool, seconds: u64) -> Vec<Row> {
    let mut rows = Vec::new();
    let (ours, reference) = runtime.block_on(async {
        (
            throughput(false, Duration::from_secs(seconds), 1).await,
            throughput(true, Duration::from_secs(seconds), 1).await,
        )
    });
    let empty = || {
        nothing_delivered(
            ours.delivered,
            reference.delivered,
            "gRPC to the counting collector",
        )
    };
    rows.push(
        row(
            format!("2. end-to-end spans/s delivered ({seconds} s, 1 producer)"),
            ours.delivered_per_second,
            Some(reference.delivered_per_second),
            "/s",
            true,
        )
        .unless_nothing_delivered(empty()),
    );
    rows.push(
        row(
            "2. spans dropped",
            ours.dropped as f64,
            Some(reference.dropped as f64),
            "",
            false,
        )
        .unless_nothing_delivered(empty()),
    );
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
    rows.push(
        row(
            "2. CPU s per million spans (process)",
            ours.cpu_per_million,
            Some(reference.cpu_per_million),
            "s",
            false,
        )
        .unless_nothing_delivered(empty()),
    );
    rows.push(
        row(
            "2. CPU s per million spans (all but the producer)",
            ours.pipeline_cpu_per_million,
            Some(reference.pipeline_cpu_per_million),
            "s",
            false,
        )
        .unless_nothing_delivered(empty()),
    );
    let decoding = Behaviour {
        decode: true,
        ..Behaviour::default()
    };
    let (ours, reference) = runtime.block_on(async {
        let duration = Duration::from_secs(seconds);
        (
            throughput_into(decoding, false, duration, 1).await,
            throughput_into(decoding, true, duration, 1).await,
        )
    });
    let empty = || {
        nothing_delivered(
            ours.delivered,
            reference.delivered,
            "gRPC to the decoding collector",
        )
    };
    rows.push(
        row(
            format!("2. decoding collector: spans/s delivered ({seconds} s, 1 producer)"),
            ours.delivered_per_second,
            Some(reference.delivered_per_second),
            "/s",
            true,
        )
        .unless_nothing_delivered(empty()),
    );
    rows.push(
        row(
            "2. decoding collector: CPU s per million spans (all but the producer)",
            ours.pipeline_cpu_per_million,
            Some(reference.pipeline_cpu_per_million),
            "s",
            false,
        )
        .unless_nothing_delivered(empty()),
    );
    rows
}
