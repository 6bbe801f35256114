//! The adaptive concurrency limit against simulated collectors, in paused time: a latency knee,
//! throttling past a concurrency, a collector that slows down and recovers, a round trip that
//! rises for every request alike, jitter, requests that never come back. Deterministic:
//! paused time on one thread and fixed seeds.

use std::sync::Arc;
use std::time::Duration;

use otlp_core::{BoxError, Error};
use otlp_reliability::adaptive_concurrency::{
    AdaptiveConcurrencyLayer, AdaptiveConfig, ConcurrencyConfig,
};
use otlp_reliability::timeout::AttemptTimeoutLayer;
use otlp_reliability::OtlpClassify;
use parking_lot::Mutex;
use tokio::time::Instant;
use tower::{Service, ServiceBuilder, ServiceExt};

/// What the simulated collector does with a request that finds `in_flight` requests (itself
/// included) at `elapsed` into the run.
#[derive(Clone, Copy)]
enum Answer {
    After(Duration),
    Throttle,
    Never,
}

struct Collector {
    in_flight: usize,
    max_in_flight: usize,
    accepted: u64,
    throttled: u64,
}

struct InFlight(Arc<Mutex<Collector>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.lock().in_flight -= 1;
    }
}

type Behaviour = Arc<dyn Fn(Duration, usize, &mut fastrand::Rng) -> Answer + Send + Sync>;

/// One second of a run: the mean limit sampled every 10 ms, and what the collector did.
#[derive(Debug, Default, Clone, Copy)]
struct Second {
    mean_limit: f64,
    max_limit: usize,
    accepted: u64,
    throttled: u64,
}

struct Run {
    seconds: Vec<Second>,
    max_in_flight: usize,
}

impl Run {
    fn mean_limit(&self, from: usize, to: usize) -> f64 {
        let slice = &self.seconds[from..to];
        slice.iter().map(|s| s.mean_limit).sum::<f64>() / slice.len() as f64
    }

    fn accepted(&self, from: usize, to: usize) -> u64 {
        self.seconds[from..to].iter().map(|s| s.accepted).sum()
    }

    fn throttled(&self, from: usize, to: usize) -> u64 {
        self.seconds[from..to].iter().map(|s| s.throttled).sum()
    }

    fn max_limit(&self) -> usize {
        self.seconds.iter().map(|s| s.max_limit).max().unwrap_or(0)
    }
}

/// Drives `demand` callers that send one request after the other for `seconds`, through the
/// limit (and a per-attempt timeout under it), against a collector that answers per
/// `behaviour`.
async fn run(config: AdaptiveConfig, demand: usize, seconds: usize, behaviour: Behaviour) -> Run {
    let start = Instant::now();
    let collector = Arc::new(Mutex::new(Collector {
        in_flight: 0,
        max_in_flight: 0,
        accepted: 0,
        throttled: 0,
    }));
    let rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(7)));
    let limit = AdaptiveConcurrencyLayer::new(ConcurrencyConfig::Adaptive(config), OtlpClassify)
        .expect("valid config");
    let service = {
        let collector = Arc::clone(&collector);
        ServiceBuilder::new()
            .layer(limit.clone())
            .layer(AttemptTimeoutLayer::new(Duration::from_millis(500)))
            .service_fn(move |_request: ()| {
                let collector = Arc::clone(&collector);
                let behaviour = Arc::clone(&behaviour);
                let rng = Arc::clone(&rng);
                async move {
                    let answer = {
                        let mut c = collector.lock();
                        c.in_flight += 1;
                        c.max_in_flight = c.max_in_flight.max(c.in_flight);
                        behaviour(start.elapsed(), c.in_flight, &mut rng.lock())
                    };
                    // A request cut by the timeout leaves the collector too.
                    let _leaves = InFlight(Arc::clone(&collector));
                    let result: Result<(), BoxError> = match answer {
                        Answer::After(delay) => {
                            tokio::time::sleep(delay).await;
                            collector.lock().accepted += 1;
                            Ok(())
                        }
                        Answer::Throttle => {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            collector.lock().throttled += 1;
                            Err(Box::new(Error::from_http_status(429, "slow down", None)))
                        }
                        Answer::Never => std::future::pending().await,
                    };
                    result
                }
            })
    };
    let end = start + Duration::from_secs(seconds as u64);
    let mut callers = Vec::new();
    for _ in 0..demand {
        let mut service = service.clone();
        callers.push(tokio::spawn(async move {
            while Instant::now() < end {
                let ready = service.ready().await.expect("always ready");
                let _ = ready.call(()).await;
            }
        }));
    }

    let mut report = Vec::new();
    let mut last = (0, 0);
    for _ in 0..seconds {
        let mut sum = 0usize;
        let mut max = 0usize;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let limit = limit.stats().limit;
            sum += limit;
            max = max.max(limit);
        }
        let c = collector.lock();
        report.push(Second {
            mean_limit: sum as f64 / 100.0,
            max_limit: max,
            accepted: c.accepted - last.0,
            throttled: c.throttled - last.1,
        });
        last = (c.accepted, c.throttled);
    }
    for caller in callers {
        caller.abort();
    }
    let max_in_flight = collector.lock().max_in_flight;
    Run {
        seconds: report,
        max_in_flight,
    }
}

/// A collector with `workers` workers, each taking `base` per request: past `workers` requests
/// at once, every request waits its turn, so the latency grows with the concurrency.
fn knee(workers: usize, base: Duration, in_flight: usize) -> Duration {
    if in_flight <= workers {
        base
    } else {
        base.mul_f64(in_flight as f64 / workers as f64)
    }
}

#[tokio::test(start_paused = true)]
async fn converges_near_the_latency_knee() {
    let behaviour: Behaviour =
        Arc::new(|_, in_flight, _| Answer::After(knee(8, Duration::from_millis(20), in_flight)));
    let run = run(AdaptiveConfig::default(), 48, 30, behaviour).await;
    let settled = run.mean_limit(15, 30);
    assert!(
        (5.0..=13.0).contains(&settled),
        "mean limit {settled:.1} is not near the knee at 8: {:?}",
        run.seconds
    );
    // The knee's throughput is 8 / 20 ms = 400 requests a second.
    let per_second = run.accepted(15, 30) / 15;
    assert!(per_second >= 340, "{per_second} requests a second");
}

#[tokio::test(start_paused = true)]
async fn backs_off_when_throttled_past_a_concurrency() {
    let behaviour: Behaviour = Arc::new(|_, in_flight, _| {
        if in_flight > 6 {
            Answer::Throttle
        } else {
            Answer::After(Duration::from_millis(20))
        }
    });
    let run = run(AdaptiveConfig::default(), 48, 30, behaviour).await;
    let settled = run.mean_limit(15, 30);
    assert!(
        (3.0..=8.0).contains(&settled),
        "mean limit {settled:.1} while the collector throttles above 6: {:?}",
        run.seconds
    );
    // Six at a time, 20 ms each: at most 300 accepted a second. The callers here send again
    // at once after a refusal, so the refusals are many; the retry layer above would wait.
    let per_second = run.accepted(15, 30) / 15;
    assert!(
        per_second >= 240,
        "{per_second} accepted a second ({} refused)",
        run.throttled(15, 30)
    );
}

#[tokio::test(start_paused = true)]
async fn never_exceeds_its_maximum() {
    let behaviour: Behaviour = Arc::new(|_, _, _| Answer::After(Duration::from_millis(10)));
    let config = AdaptiveConfig::default().with_max_limit(16);
    let run = run(config, 48, 10, behaviour).await;
    assert_eq!(run.max_limit(), 16, "{:?}", run.seconds);
    assert!(run.max_in_flight <= 16, "{} in flight", run.max_in_flight);
}

#[tokio::test(start_paused = true)]
async fn follows_a_collector_that_slows_down_and_recovers() {
    let behaviour: Behaviour = Arc::new(|elapsed, in_flight, _| {
        let workers = if (15..30).contains(&elapsed.as_secs()) {
            2
        } else {
            16
        };
        Answer::After(knee(workers, Duration::from_millis(20), in_flight))
    });
    let run = run(AdaptiveConfig::default(), 48, 50, behaviour).await;
    let before = run.mean_limit(10, 15);
    let slow = run.mean_limit(22, 30);
    let after = run.mean_limit(42, 50);
    assert!(
        before >= 10.0,
        "limit {before:.1} before the slowdown: {:?}",
        run.seconds
    );
    assert!(
        slow <= 5.0,
        "limit {slow:.1} while two workers serve: {:?}",
        run.seconds
    );
    assert!(
        after >= 10.0,
        "limit {after:.1} after recovery: {:?}",
        run.seconds
    );
}

#[tokio::test(start_paused = true)]
async fn a_round_trip_that_rises_for_every_request_does_not_walk_the_limit_down() {
    // No knee: the collector takes any number at once. From 13 s to 28 s every request takes
    // 35 ms instead of 20 ms, whatever the concurrency (a slower path, a busy machine), so
    // lowering the limit cannot bring the round trip down, it only loses throughput. (The
    // baseline is measured again every 10 s, which would also learn the rise at 20 s: the
    // seconds before that are the ones that show the rule.)
    let behaviour: Behaviour = Arc::new(|elapsed, _, _| {
        let slower = (13..28).contains(&elapsed.as_secs());
        Answer::After(Duration::from_millis(if slower { 35 } else { 20 }))
    });
    let run = run(
        AdaptiveConfig::default().with_max_limit(24),
        48,
        30,
        behaviour,
    )
    .await;
    let before = run.mean_limit(5, 10);
    let slower = run.mean_limit(14, 19);
    assert!(
        before >= 20.0,
        "limit {before:.1} before: {:?}",
        run.seconds
    );
    assert!(
        slower >= 0.6 * before,
        "limit {slower:.1} while every request is slower, {before:.1} before: {:?}",
        run.seconds
    );
}

#[tokio::test(start_paused = true)]
async fn jitter_does_not_collapse_the_limit() {
    let behaviour: Behaviour = Arc::new(|_, in_flight, rng: &mut fastrand::Rng| {
        let jitter = 0.8 + 0.4 * rng.f64();
        Answer::After(knee(8, Duration::from_millis(20), in_flight).mul_f64(jitter))
    });
    let run = run(AdaptiveConfig::default(), 48, 30, behaviour).await;
    let settled = run.mean_limit(15, 30);
    assert!(
        (4.0..=14.0).contains(&settled),
        "mean limit {settled:.1} with 20 % jitter around a knee at 8: {:?}",
        run.seconds
    );
}

#[tokio::test(start_paused = true)]
async fn requests_that_never_return_count_as_back_pressure() {
    let behaviour: Behaviour = Arc::new(|elapsed, _, rng: &mut fastrand::Rng| {
        let losing = (10..20).contains(&elapsed.as_secs());
        if losing && rng.f64() < 0.2 {
            Answer::Never
        } else {
            Answer::After(Duration::from_millis(20))
        }
    });
    let config = AdaptiveConfig::default().with_max_limit(32);
    let run = run(config, 48, 30, behaviour).await;
    let before = run.mean_limit(5, 10);
    let losing = run.mean_limit(15, 20);
    let after = run.mean_limit(27, 30);
    assert!(
        losing < before / 2.0,
        "limit {losing:.1} while 20 % of requests vanish, {before:.1} before: {:?}",
        run.seconds
    );
    assert!(after > losing, "no recovery: {:?}", run.seconds);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_attempt_gives_its_slot_back() {
    let config = ConcurrencyConfig::Fixed(2);
    let limit = AdaptiveConcurrencyLayer::new(config, OtlpClassify).expect("valid");
    let service = ServiceBuilder::new()
        .layer(limit.clone())
        .service_fn(|_: ()| async {
            std::future::pending::<()>().await;
            Ok::<(), BoxError>(())
        });
    for _ in 0..5 {
        let call = service.clone().oneshot(());
        assert!(tokio::time::timeout(Duration::from_millis(10), call)
            .await
            .is_err());
    }
    assert_eq!(limit.stats().in_flight, 0);
    assert_eq!(limit.stats().limit, 2);
}
