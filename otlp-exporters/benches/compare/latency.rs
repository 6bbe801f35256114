//! Row 7: the share of spans delivered at a fixed offered rate into a collector that answers
//! after 0, 5, 20 or 50 ms, and into one that decodes every request (tonic's default server
//! settings): our defaults (adaptive concurrency), the upstream exporter's defaults (one
//! export at a time), and our best fixed concurrency found by trying 1 to 32.
//!
//! Knobs for looking into one cell: `OTLP_BENCH_LATENCY_SECONDS` (length of each run),
//! `OTLP_BENCH_LATENCY_COLLECTORS` (a comma-separated list of the collectors to run: `0`, `5`,
//! `20`, `50`, `decoding`), `OTLP_BENCH_LATENCY_INITIAL_LIMIT` (our adaptive side's initial
//! limit) and `OTLP_BENCH_LATENCY_TRACE=1`, which prints our adaptive side's timeline: per
//! 100 ms, the spans dropped on a full queue, the limit, the exports in flight and the
//! smoothed round trip, then how many spans were dropped in the first second, while the
//! limit was lowered below the highest it had reached (probes and decreases), and otherwise.

use std::time::Duration;

use otlp_reliability::adaptive_concurrency::{AdaptiveConfig, ConcurrencyConfig};

use super::common::counting::{Behaviour, CountingCollector};
use super::side::{lost_by, Side};

/// One collector's results.
pub struct Delivered {
    pub collector: String,
    /// Shares delivered, 0 to 1.
    pub ours: f64,
    pub reference: f64,
    pub best_fixed: f64,
    pub best_fixed_limit: usize,
    /// Our adaptive limit at the end of the run.
    pub adaptive_limit: usize,
}

/// One look at our side while it runs: when, its queue-full drops so far, and its traces
/// limit, in-flight count and smoothed round trip.
struct Sample {
    at: Duration,
    dropped: u64,
    limit: usize,
    in_flight: usize,
    rtt: Option<Duration>,
}

fn sample(pipeline: &otlp_exporters::OtlpPipeline, at: Duration) -> Sample {
    let stats = pipeline.stats();
    let limit = stats
        .concurrency
        .iter()
        .find(|e| e.name.starts_with("traces:"))
        .map(|e| e.stats);
    Sample {
        at,
        dropped: stats.spans.dropped_queue_full,
        limit: limit.map_or(0, |l| l.limit),
        in_flight: limit.map_or(0, |l| l.in_flight),
        rtt: limit.and_then(|l| l.rtt),
    }
}

/// Prints the timeline of `samples` (taken every few milliseconds) per 100 ms, and where the
/// drops fell: the first second, while the limit was below the highest it had reached, or
/// otherwise.
fn print_timeline(name: &str, samples: &[Sample]) {
    let mut printed_until = Duration::ZERO;
    let mut last_dropped = 0;
    let (mut first_second, mut lowered, mut otherwise) = (0, 0, 0);
    let mut peak = 0;
    let mut lowest = usize::MAX;
    let mut previous = 0;
    for s in samples {
        let fresh = s.dropped - previous;
        previous = s.dropped;
        if s.at < Duration::from_secs(1) {
            first_second += fresh;
        } else if s.limit < peak {
            lowered += fresh;
        } else {
            otherwise += fresh;
        }
        peak = peak.max(s.limit);
        lowest = lowest.min(s.limit);
        if s.at >= printed_until + Duration::from_millis(100) {
            eprintln!(
                "  {name} t={:>6.2}s dropped {:>6} limit {:>3} (lowest {:>3}) in flight {:>3} rtt {}",
                s.at.as_secs_f64(),
                s.dropped - last_dropped,
                s.limit,
                lowest,
                s.in_flight,
                s.rtt.map_or("-".to_owned(), |r| format!("{:.1} ms", r.as_secs_f64() * 1e3)),
            );
            printed_until = s.at;
            last_dropped = s.dropped;
            lowest = usize::MAX;
        }
    }
    eprintln!(
        "  {name}: dropped {first_second} in the first second, {lowered} while the limit was below its peak, {otherwise} otherwise"
    );
}

/// The share `side` delivered at `rate` for `duration`, and its traces limit at the end.
async fn share(
    behaviour: Behaviour,
    reference: bool,
    concurrency: Option<ConcurrencyConfig>,
    rate: u64,
    duration: Duration,
) -> (f64, usize) {
    let collector = CountingCollector::start_with(behaviour).await;
    let side = Side::start_with(reference, &collector.endpoint(), concurrency);
    let limit = || match &side {
        Side::Ours(pipeline) => pipeline
            .stats()
            .concurrency
            .iter()
            .find(|e| e.name.starts_with("traces:"))
            .map_or(0, |e| e.stats.limit),
        Side::Reference(_) => 1,
    };
    let trace = std::env::var_os("OTLP_BENCH_LATENCY_TRACE").is_some()
        && !matches!(concurrency, Some(ConcurrencyConfig::Fixed(_)));
    let done = std::sync::atomic::AtomicBool::new(false);
    let (made, lost) = std::thread::scope(|scope| {
        let sampler = match (&side, trace) {
            (Side::Ours(pipeline), true) => Some(scope.spawn(|| {
                let started = std::time::Instant::now();
                let mut samples = Vec::new();
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    samples.push(sample(pipeline, started.elapsed()));
                    std::thread::sleep(Duration::from_millis(2));
                }
                samples
            })),
            _ => None,
        };
        let result = lost_by(&side, &collector, rate, duration);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(samples) = sampler.and_then(|s| s.join().ok()) {
            print_timeline(&format!("{:?}", behaviour.latency), &samples);
        }
        (result.0.max(1), result.1)
    });
    let limit = limit();
    ((made - lost.min(made)) as f64 / made as f64, limit)
}

/// Every collector of the row, at `rate` spans/s for `duration` each run.
pub async fn delivered(rate: u64, duration: Duration, fixed: &[usize]) -> Vec<Delivered> {
    let duration = std::env::var("OTLP_BENCH_LATENCY_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(duration, Duration::from_secs_f64);
    let only = std::env::var("OTLP_BENCH_LATENCY_COLLECTORS").ok();
    let ours_config = std::env::var("OTLP_BENCH_LATENCY_INITIAL_LIMIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(|n| ConcurrencyConfig::Adaptive(AdaptiveConfig::default().with_initial_limit(n)));
    let mut collectors: Vec<(String, Behaviour)> = [0, 5, 20, 50]
        .into_iter()
        .map(|ms| {
            (
                format!("{ms} ms"),
                Behaviour {
                    latency: Duration::from_millis(ms),
                    decode: false,
                },
            )
        })
        .collect();
    collectors.push((
        "decoding, 0 ms".to_owned(),
        Behaviour {
            latency: Duration::ZERO,
            decode: true,
        },
    ));
    if let Some(only) = &only {
        let wanted: Vec<&str> = only.split(',').map(str::trim).collect();
        collectors.retain(|(name, _)| {
            let key = name.split([' ', ',']).next().unwrap_or_default();
            let key = if name.starts_with("decoding") {
                "decoding"
            } else {
                key
            };
            wanted.contains(&key)
        });
    }
    let mut rows = Vec::new();
    for (name, behaviour) in collectors {
        let (ours, adaptive_limit) = share(behaviour, false, ours_config, rate, duration).await;
        let (reference, _) = share(behaviour, true, None, rate, duration).await;
        let (mut best_fixed, mut best_fixed_limit) = (0.0, 0);
        for &n in fixed {
            let (got, _) = share(
                behaviour,
                false,
                Some(ConcurrencyConfig::Fixed(n)),
                rate,
                duration,
            )
            .await;
            if got > best_fixed {
                (best_fixed, best_fixed_limit) = (got, n);
            }
        }
        eprintln!(
            "{name}: ours {ours:.3} (limit {adaptive_limit}), reference {reference:.3}, best fixed {best_fixed:.3} (fixed {best_fixed_limit})"
        );
        rows.push(Delivered {
            collector: name,
            ours,
            reference,
            best_fixed,
            best_fixed_limit,
            adaptive_limit,
        });
    }
    rows
}
