//! The bulkhead under 1,000 concurrent callers, in paused tokio time.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, Error, ErrorKind};
use otlp_reliability::bulkhead::BulkheadLayer;
use tokio::time::Instant;
use tower::{Layer, ServiceExt};

/// A backend that takes 100 ms per call and records the most calls it ever had at once.
#[derive(Clone)]
struct Backend {
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl tower::Service<u32> for Backend {
    type Response = ();
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<(), BoxError>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: u32) -> Self::Future {
        let (in_flight, peak) = (Arc::clone(&self.in_flight), Arc::clone(&self.peak));
        Box::pin(async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

#[tokio::test(start_paused = true)]
async fn the_limit_holds_and_the_wait_is_bounded() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let backend = Backend {
        in_flight: Arc::clone(&in_flight),
        peak: Arc::clone(&peak),
    };
    // 10 slots, 250 ms wait, 100 ms calls: about 30 callers get through, the rest are refused.
    let layer = BulkheadLayer::new(10, Duration::from_millis(250)).unwrap();
    let service = layer.layer(backend);
    let started = Instant::now();
    let calls: Vec<_> = (0..1000)
        .map(|i| {
            let service = service.clone();
            tokio::spawn(async move {
                let result = service.oneshot(i).await;
                (result, started.elapsed())
            })
        })
        .collect();
    let mut ok = 0;
    for call in calls {
        let (result, elapsed) = call.await.unwrap();
        match result {
            Ok(()) => ok += 1,
            Err(error) => {
                assert_eq!(
                    error.downcast_ref::<Error>().unwrap().kind(),
                    ErrorKind::BulkheadFull
                );
                assert!(
                    elapsed <= Duration::from_millis(250) + Duration::from_millis(1),
                    "waited {elapsed:?}"
                );
            }
        }
    }
    assert_eq!(
        peak.load(Ordering::SeqCst),
        10,
        "never more than 10 in flight"
    );
    assert_eq!(ok, 30);
    assert_eq!(layer.rejected(), 970);
    assert_eq!(layer.in_flight(), 0);
}

#[test]
fn zero_slots_is_refused_by_name() {
    let error = BulkheadLayer::new(0, Duration::ZERO).unwrap_err();
    assert!(error.to_string().contains("bulkhead.max_concurrent"));
}
