//! Row 7: the share of spans delivered at a fixed offered rate into a collector that answers
//! after 0, 5, 20 or 50 ms, and into one that decodes every request (tonic's default server
//! settings): our defaults (adaptive concurrency), the upstream exporter's defaults (one
//! export at a time), and our best fixed concurrency found by trying 1 to 32.

use std::time::Duration;

use otlp_reliability::adaptive_concurrency::ConcurrencyConfig;

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
    let (made, lost) = {
        let result = lost_by(&side, &collector, rate, duration);
        (result.0.max(1), result.1)
    };
    let limit = limit();
    ((made - lost.min(made)) as f64 / made as f64, limit)
}

/// Every collector of the row, at `rate` spans/s for `duration` each run.
pub async fn delivered(rate: u64, duration: Duration, fixed: &[usize]) -> Vec<Delivered> {
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
    let mut rows = Vec::new();
    for (name, behaviour) in collectors {
        let (ours, adaptive_limit) = share(behaviour, false, None, rate, duration).await;
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
