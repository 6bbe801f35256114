//! Health checks: aggregation, hanging checks, retries, a breaker as a check, and the HTTP
//! endpoint's status codes and body.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use otlp_reliability::circuit_breaker::{BreakerConfig, CircuitBreakerLayer};
use otlp_reliability::health::{http, CheckConfig, CheckResult, HealthRegistry, HealthStatus};
use otlp_reliability::OtlpClassify;

fn quick() -> CheckConfig {
    CheckConfig {
        interval: Duration::from_secs(1),
        timeout: Duration::from_millis(100),
        retries: 0,
    }
}

#[tokio::test(start_paused = true)]
async fn the_aggregate_is_the_worst_status() {
    let registry = HealthRegistry::new();
    assert_eq!(
        registry.check_now().await.status,
        HealthStatus::Healthy,
        "no checks: healthy"
    );
    registry.register("a", quick(), || async { HealthStatus::Healthy.into() });
    registry.register("b", quick(), || async {
        CheckResult::new(HealthStatus::Degraded, "queue 80 % full")
    });
    let report = registry.check_now().await;
    assert_eq!(report.status, HealthStatus::Degraded);
    assert_eq!(report.checks.len(), 2);
    registry.register("c", quick(), || async { HealthStatus::Unhealthy.into() });
    assert_eq!(registry.check_now().await.status, HealthStatus::Unhealthy);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_check_times_out_as_unhealthy() {
    let registry = HealthRegistry::new();
    registry.register("stuck", quick(), std::future::pending);
    let report = registry.check_now().await;
    assert_eq!(report.status, HealthStatus::Unhealthy);
    assert!(report.checks[0]
        .message
        .as_deref()
        .unwrap()
        .contains("no answer within 100ms"));
}

#[tokio::test(start_paused = true)]
async fn retries_give_a_flapping_check_another_chance() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let registry = HealthRegistry::new();
    registry.register(
        "flaky",
        CheckConfig {
            retries: 2,
            ..quick()
        },
        move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    HealthStatus::Unhealthy.into()
                } else {
                    HealthStatus::Healthy.into()
                }
            }
        },
    );
    assert_eq!(registry.check_now().await.status, HealthStatus::Healthy);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn background_checks_run_at_their_interval() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let registry = HealthRegistry::new();
    registry.register("tick", quick(), move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { HealthStatus::Healthy.into() }
    });
    let task = registry.spawn();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    task.abort();
    assert_eq!(runs.load(Ordering::SeqCst), 4, "at 0, 1, 2 and 3 s");
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_is_degraded() {
    let breaker =
        CircuitBreakerLayer::new("collector-a", BreakerConfig::default(), OtlpClassify).unwrap();
    let registry = HealthRegistry::new();
    registry.register_breaker(breaker.handle(), quick());
    assert_eq!(registry.check_now().await.status, HealthStatus::Healthy);
    breaker.handle().force_open();
    let report = registry.check_now().await;
    assert_eq!(report.status, HealthStatus::Degraded);
    assert_eq!(report.checks[0].name, "circuit_breaker:collector-a");
}

#[tokio::test]
async fn the_endpoint_answers_200_or_503_with_a_json_body() {
    let registry = HealthRegistry::new();
    let state = Arc::new(parking_lot::Mutex::new(HealthStatus::Healthy));
    let current = Arc::clone(&state);
    registry.register("exporter", quick(), move || {
        let status = *current.lock();
        async move { CheckResult::new(status, "as set by the test") }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    let server = tokio::spawn(http::serve(registry.clone(), listener));
    let client = reqwest::Client::new();
    for (status, code) in [
        (HealthStatus::Healthy, 200),
        (HealthStatus::Degraded, 200),
        (HealthStatus::Unhealthy, 503),
    ] {
        *state.lock() = status;
        registry.check_now().await;
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), code, "{status:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], serde_json::to_value(status).unwrap());
        assert_eq!(body["checks"][0]["name"], "exporter");
        assert_eq!(body["checks"][0]["message"], "as set by the test");
    }
    server.abort();
}
