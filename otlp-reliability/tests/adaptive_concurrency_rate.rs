//! The adaptive limit in front of a batch worker fed at a fixed rate, in paused time: batches
//! arrive every 2.5 ms into a queue that holds four (10 ms of them) and leave while the limit
//! allows, to a collector that answers after 20 ms, so the rate needs eight attempts in flight.
//! What a user notices is the batches dropped on a full queue while the limit is below that.

use std::time::Duration;

use otlp_core::BoxError;
use otlp_reliability::adaptive_concurrency::{AdaptiveConcurrencyLayer, ConcurrencyConfig};
use otlp_reliability::OtlpClassify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::{ServiceBuilder, ServiceExt};

const QUEUE: usize = 4;
const EVERY: Duration = Duration::from_micros(2_500);
const LATENCY: Duration = Duration::from_millis(20);

/// Batches offered and dropped on a full queue during each second of `seconds`, with the
/// default adaptive limit.
async fn dropped_per_second(seconds: usize) -> Vec<(u64, u64)> {
    let limit =
        AdaptiveConcurrencyLayer::new(ConcurrencyConfig::default(), OtlpClassify).expect("valid");
    let service = ServiceBuilder::new()
        .layer(limit.clone())
        .service_fn(|_: ()| async {
            tokio::time::sleep(LATENCY).await;
            Ok::<(), BoxError>(())
        });
    let start = Instant::now();
    let mut tick = tokio::time::interval(EVERY);
    let mut exports = JoinSet::new();
    let mut queued = 0;
    let mut seconds_seen = vec![(0u64, 0u64); seconds];
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let second = start.elapsed().as_secs() as usize;
                let Some(counts) = seconds_seen.get_mut(second) else { break };
                counts.0 += 1;
                if queued < QUEUE {
                    queued += 1;
                } else {
                    counts.1 += 1;
                }
            }
            Some(_) = exports.join_next() => {}
        }
        while queued > 0 && exports.len() < limit.stats().limit {
            queued -= 1;
            exports.spawn(service.clone().oneshot(()));
        }
    }
    seconds_seen
}

#[tokio::test(start_paused = true)]
async fn a_serial_start_fills_a_long_round_trip_within_a_few_round_trips() {
    let seconds = dropped_per_second(5).await;
    // Growing by one per round trip from one, the first second dropped 25 of 400 batches;
    // doubling per round trip until the first decrease, 14 (the first round trips at one and
    // two in flight drop what the queue cannot hold whatever the ramp).
    let (offered, dropped) = seconds[0];
    assert!(
        dropped <= 18,
        "first second: {dropped} of {offered} batches dropped; per second: {seconds:?}"
    );
    // Once there, nothing more is dropped.
    let later: u64 = seconds[1..].iter().map(|s| s.1).sum();
    assert_eq!(later, 0, "per second: {seconds:?}");
}
