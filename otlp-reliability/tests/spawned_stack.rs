//! A call through the whole stack of layers, over a `service_fn` closure, runs in a spawned
//! task: the layers' named futures are `Send` by their fields (each holds the inner service's
//! future as a type, not as `S::Future`), which rustc can prove inside `tokio::spawn`.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use otlp_core::BoxError;
use otlp_reliability::adaptive_concurrency::ConcurrencyConfig;
use otlp_reliability::circuit_breaker::BreakerConfig;
use otlp_reliability::retry::RetryConfig;
use otlp_reliability::{OtlpClassify, ReliabilityBuilderExt};
use tower::{Service, ServiceBuilder, ServiceExt};

#[tokio::test(start_paused = true)]
async fn a_call_through_every_layer_runs_in_a_spawned_task() {
    let mut service = ServiceBuilder::new()
        .bulkhead(4, Duration::from_millis(50))
        .unwrap()
        .retry_with(RetryConfig::default(), OtlpClassify)
        .unwrap()
        .circuit_breaker("collector", BreakerConfig::default(), OtlpClassify)
        .unwrap()
        .adaptive_concurrency(ConcurrencyConfig::default(), OtlpClassify)
        .unwrap()
        .attempt_timeout(Duration::from_secs(10))
        .service_fn(|request: u32| async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok::<_, BoxError>(request * 2)
        });
    let calls: Vec<_> = (0..8)
        .map(|request| {
            let mut service = service.clone();
            tokio::spawn(async move { service.ready().await?.call(request).await })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap().unwrap());
    }
    assert_eq!(answers, (0..8).map(|r| r * 2).collect::<Vec<_>>());
    // The future alone, made here and awaited in a task.
    let call = service.ready().await.unwrap().call(21);
    assert_eq!(tokio::spawn(call).await.unwrap().unwrap(), 42);
}
