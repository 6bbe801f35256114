//! Server delays at the limits of `Duration`: the retry layer neither overflows the clock nor
//! sleeps past [`MAX_RETRY_AFTER`], whatever a `Classify` hands it.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use otlp_core::{BoxError, MAX_RETRY_AFTER};
use otlp_reliability::retry::{RetryConfig, RetryLayer};
use otlp_reliability::{Classify, Failure};
use tokio::time::Instant;
use tower::{Layer, ServiceExt};

/// A classification that passes any delay through uncapped, as a custom one may.
#[derive(Clone)]
struct AskFor(Duration);

impl Classify for AskFor {
    fn classify(&self, _error: &BoxError) -> Failure {
        Failure {
            retryable: true,
            local: false,
            retry_after: Some(self.0),
        }
    }
}

fn failing_then_ok(
    calls: Arc<AtomicU32>,
) -> impl tower::Service<u32, Response = u32, Error = BoxError, Future = impl Send>
       + Clone
       + Send
       + 'static {
    tower::service_fn(move |request: u32| {
        let calls = Arc::clone(&calls);
        async move {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(BoxError::from("busy"))
            } else {
                Ok(request)
            }
        }
    })
}

#[tokio::test(start_paused = true)]
async fn a_delay_past_the_end_of_time_ends_the_session_at_its_deadline() {
    let calls = Arc::new(AtomicU32::new(0));
    let layer = RetryLayer::new(
        RetryConfig::default()
            .with_budget(None)
            .with_total_timeout(Duration::from_secs(30)),
        AskFor(Duration::MAX),
    )
    .unwrap();
    let result = layer
        .layer(failing_then_ok(Arc::clone(&calls)))
        .oneshot(1)
        .await;
    assert!(result.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn without_a_deadline_the_longest_wait_is_the_documented_maximum() {
    let calls = Arc::new(AtomicU32::new(0));
    let mut config = RetryConfig::default().with_budget(None);
    config.total_timeout = None;
    let layer = RetryLayer::new(config, AskFor(Duration::MAX)).unwrap();
    let started = Instant::now();
    let result = layer
        .layer(failing_then_ok(Arc::clone(&calls)))
        .oneshot(1)
        .await;
    assert_eq!(result.unwrap(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(started.elapsed(), MAX_RETRY_AFTER);
}
