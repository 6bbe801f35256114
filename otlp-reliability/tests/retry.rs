//! The retry layer in paused tokio time.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use otlp_core::{BoxError, Error, ErrorKind};
use otlp_reliability::retry::{BudgetConfig, RetryConfig, RetryLayer};
use otlp_reliability::OtlpClassify;
use parking_lot::Mutex;
use tokio::time::Instant;
use tower::{Layer, ServiceExt};

/// A backend that fails with the scripted errors, then succeeds; it records when it was called.
#[derive(Clone, Default)]
struct Script {
    failures: Arc<Mutex<Vec<Error>>>,
    calls: Arc<Mutex<Vec<Instant>>>,
}

impl Script {
    fn failing(errors: Vec<Error>) -> Self {
        let script = Script::default();
        *script.failures.lock() = errors.into_iter().rev().collect();
        script
    }

    fn service(
        &self,
    ) -> impl tower::Service<u32, Response = u32, Error = BoxError, Future = impl Send>
           + Clone
           + Send
           + 'static {
        let script = self.clone();
        tower::service_fn(move |request: u32| {
            let script = script.clone();
            async move {
                script.calls.lock().push(Instant::now());
                match script.failures.lock().pop() {
                    Some(error) => Err(BoxError::from(error)),
                    None => Ok(request),
                }
            }
        })
    }

    fn calls(&self) -> Vec<Instant> {
        self.calls.lock().clone()
    }
}

fn unavailable() -> Error {
    Error::from_grpc_code(14, "down", None)
}

fn no_jitter_config() -> RetryConfig {
    RetryConfig::default()
        .with_backoff(Duration::from_secs(1), Duration::from_secs(8), 2.0)
        .with_budget(None)
}

#[tokio::test(start_paused = true)]
async fn attempts_are_counted_exactly_and_the_last_error_returned() {
    let script = Script::failing(vec![
        unavailable(),
        unavailable(),
        unavailable(),
        unavailable(),
    ]);
    let layer = RetryLayer::new(no_jitter_config().with_max_attempts(3), OtlpClassify).unwrap();
    let stats = layer.stats();
    let error = layer.layer(script.service()).oneshot(1).await.unwrap_err();
    assert_eq!(
        error.downcast_ref::<Error>().unwrap().kind(),
        ErrorKind::Unavailable
    );
    assert_eq!(script.calls().len(), 3);
    let stats = stats.snapshot();
    assert_eq!(
        (
            stats.sessions,
            stats.attempts,
            stats.retries,
            stats.attempts_exhausted
        ),
        (1, 3, 2, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_that_succeeds_returns_the_response() {
    let script = Script::failing(vec![unavailable(), unavailable()]);
    let layer = RetryLayer::new(no_jitter_config(), OtlpClassify).unwrap();
    assert_eq!(layer.layer(script.service()).oneshot(9).await.unwrap(), 9);
    let calls = script.calls();
    assert_eq!(calls.len(), 3);
    // Full jitter: each delay is within [0, ceiling].
    assert!(calls[1] - calls[0] <= Duration::from_secs(1));
    assert!(calls[2] - calls[1] <= Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_are_never_retried() {
    for error in [
        Error::from_http_status(400, "bad", None),
        Error::from_grpc_code(3, "invalid", None),
        Error::from_grpc_code(8, "quota without RetryInfo", None),
    ] {
        let script = Script::failing(vec![error]);
        let layer = RetryLayer::new(no_jitter_config(), OtlpClassify).unwrap();
        layer.layer(script.service()).oneshot(1).await.unwrap_err();
        assert_eq!(script.calls().len(), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn the_servers_delay_replaces_the_backoff() {
    let throttled = Error::from_http_status(429, "slow down", Some(Duration::from_secs(7)));
    let script = Script::failing(vec![throttled]);
    let layer = RetryLayer::new(no_jitter_config(), OtlpClassify).unwrap();
    layer.layer(script.service()).oneshot(1).await.unwrap();
    let calls = script.calls();
    assert_eq!(calls[1] - calls[0], Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn the_deadline_is_never_exceeded() {
    // A delay that would end past the deadline: give up at once with the server's error.
    let throttled = Error::from_http_status(503, "later", Some(Duration::from_secs(30)));
    let script = Script::failing(vec![throttled]);
    let layer = RetryLayer::new(
        no_jitter_config().with_total_timeout(Duration::from_secs(10)),
        OtlpClassify,
    )
    .unwrap();
    let stats = layer.stats();
    let started = Instant::now();
    let error = layer.layer(script.service()).oneshot(1).await.unwrap_err();
    assert_eq!(
        error.downcast_ref::<Error>().unwrap().kind(),
        ErrorKind::Unavailable
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(stats.snapshot().deadline_exceeded, 1);

    // An attempt still running at the deadline is cut off with DeadlineExceeded.
    let hanging = tower::service_fn(|_: u32| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok::<u32, BoxError>(0)
    });
    let layer = RetryLayer::new(
        no_jitter_config().with_total_timeout(Duration::from_secs(10)),
        OtlpClassify,
    )
    .unwrap();
    let started = Instant::now();
    let error = layer.layer(hanging).oneshot(1).await.unwrap_err();
    assert_eq!(
        error.downcast_ref::<Error>().unwrap().kind(),
        ErrorKind::DeadlineExceeded
    );
    assert_eq!(started.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_budget_stops_retries() {
    let budget = BudgetConfig {
        window: Duration::from_secs(10),
        min_retries_per_second: 0,
        retry_ratio: 0.0,
    };
    let script = Script::failing((0..10).map(|_| unavailable()).collect());
    let layer =
        RetryLayer::new(no_jitter_config().with_budget(Some(budget)), OtlpClassify).unwrap();
    let stats = layer.stats();
    layer.layer(script.service()).oneshot(1).await.unwrap_err();
    assert_eq!(script.calls().len(), 1);
    assert_eq!(stats.snapshot().budget_exhausted, 1);
}

#[tokio::test(start_paused = true)]
async fn two_sessions_draw_different_jitter() {
    let layer = RetryLayer::new(
        no_jitter_config()
            .with_backoff(Duration::from_secs(100), Duration::from_secs(100), 1.0)
            .with_total_timeout(Duration::from_secs(1000)),
        OtlpClassify,
    )
    .unwrap();
    let a = Script::failing(vec![unavailable()]);
    let b = Script::failing(vec![unavailable()]);
    let (first, second) = tokio::join!(
        layer.layer(a.service()).oneshot(1),
        layer.layer(b.service()).oneshot(2)
    );
    first.unwrap();
    second.unwrap();
    let delay = |s: &Script| {
        let calls = s.calls();
        calls[1] - calls[0]
    };
    assert_ne!(delay(&a), delay(&b), "sessions retried in lockstep");
}

#[test]
fn invalid_settings_name_the_setting() {
    let error =
        RetryLayer::new(RetryConfig::default().with_max_attempts(0), OtlpClassify).unwrap_err();
    assert!(error.to_string().contains("retry.max_attempts"));
    let error = RetryLayer::new(
        RetryConfig::default().with_backoff(Duration::from_secs(5), Duration::from_secs(1), 2.0),
        OtlpClassify,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("retry.initial_backoff"),
        "{error}"
    );
}

/// An encoded request crosses bulkhead, retry, breaker and timeout by reference: every attempt
/// sends the very bytes that were encoded, not a copy made per layer or per attempt.
#[tokio::test(start_paused = true)]
async fn every_attempt_sends_the_encoded_bytes_without_copying_them() {
    use otlp_core::{Encoding, ExportOutcome, ExportRequest, Signal};
    use otlp_reliability::circuit_breaker::BreakerConfig;
    use otlp_reliability::ReliabilityBuilderExt;

    let body = bytes::Bytes::from(vec![7u8; 64 * 1024]);
    let encoded_at = body.as_ptr() as usize;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let backend = {
        let seen = Arc::clone(&seen);
        tower::service_fn(move |request: ExportRequest| {
            let seen = Arc::clone(&seen);
            async move {
                let mut seen = seen.lock();
                seen.push(request.body.as_ptr() as usize);
                if seen.len() < 3 {
                    Err(BoxError::from(unavailable()))
                } else {
                    Ok(ExportOutcome::accepted(request.items))
                }
            }
        })
    };
    let service = tower::ServiceBuilder::new()
        .bulkhead(4, Duration::from_secs(1))
        .unwrap()
        .retry_with(no_jitter_config(), OtlpClassify)
        .unwrap()
        .circuit_breaker("collector", BreakerConfig::default(), OtlpClassify)
        .unwrap()
        .attempt_timeout(Duration::from_secs(5))
        .service(backend);
    let request = ExportRequest::new(Signal::Traces, Encoding::Protobuf, body, 512);
    let outcome = service.oneshot(request).await.unwrap();
    assert_eq!(outcome.accepted, 512);
    assert_eq!(
        *seen.lock(),
        vec![encoded_at; 3],
        "three attempts, one buffer"
    );
}

#[tokio::test(start_paused = true)]
async fn no_attempt_starts_that_could_not_finish_and_the_real_error_is_returned() {
    // Each attempt takes 4 s and fails with a 1 s Retry-After; attempts may take 5 s and the
    // session 9 s: a second attempt (4 + 1 + 5 = 10 s) could not finish, so none starts.
    let slow_failure = tower::service_fn(|_: u32| async {
        tokio::time::sleep(Duration::from_secs(4)).await;
        Err::<u32, BoxError>(
            Error::from_http_status(503, "maintenance", Some(Duration::from_secs(1))).into(),
        )
    });
    let layer = RetryLayer::new(
        no_jitter_config()
            .with_total_timeout(Duration::from_secs(9))
            .with_attempt_timeout(Duration::from_secs(5)),
        OtlpClassify,
    )
    .unwrap();
    let stats = layer.stats();
    let started = Instant::now();
    let error = layer.layer(slow_failure).oneshot(1).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_secs(4));
    let error = error.downcast_ref::<Error>().unwrap();
    assert_eq!(
        error.status(),
        Some(otlp_core::Status::Http(503)),
        "{error}"
    );
    assert_eq!(stats.snapshot().attempts, 1);
}

#[tokio::test(start_paused = true)]
async fn a_denied_retry_waits_for_budget_while_the_deadline_allows() {
    // One retry per second at most, nothing per request: ten sessions that each fail once all
    // get through, some after waiting for the budget.
    let budget = BudgetConfig {
        window: Duration::from_secs(1),
        min_retries_per_second: 1,
        retry_ratio: 0.0,
    };
    let layer = RetryLayer::new(
        no_jitter_config()
            .with_budget(Some(budget))
            .with_total_timeout(Duration::from_secs(120)),
        OtlpClassify,
    )
    .unwrap();
    let stats = layer.stats();
    let sessions = (0..10).map(|i| {
        let script = Script::failing(vec![unavailable()]);
        let service = layer.layer(script.service());
        async move { service.oneshot(i).await }
    });
    let results = futures_util::future::join_all(sessions).await;
    assert!(results.iter().all(Result::is_ok));
    let stats = stats.snapshot();
    assert!(stats.budget_denied > 0, "{stats:?}");
    assert_eq!(stats.budget_exhausted, 0, "{stats:?}");

    // A budget that never refills: the session fails once time is up, saying so, with the
    // collector's answer as the source.
    let empty = BudgetConfig {
        window: Duration::from_secs(10),
        min_retries_per_second: 0,
        retry_ratio: 0.0,
    };
    let layer = RetryLayer::new(
        no_jitter_config()
            .with_budget(Some(empty))
            .with_total_timeout(Duration::from_secs(10)),
        OtlpClassify,
    )
    .unwrap();
    let error = layer
        .layer(Script::failing(vec![unavailable()]).service())
        .oneshot(1)
        .await
        .unwrap_err();
    assert!(
        error.is::<otlp_reliability::retry::BudgetExhausted>(),
        "{error}"
    );
    assert_eq!(
        otlp_core::classify(error.as_ref()).kind,
        Some(ErrorKind::Unavailable)
    );
}
