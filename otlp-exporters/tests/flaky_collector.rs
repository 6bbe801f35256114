//! A flaky but working collector still gets everything: when it refuses 30 % of requests at
//! random, retries the shared budget denies wait for budget instead of dropping the batch,
//! and the report's numbers are what the receiver counted.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use otlp_batch::BatchConfig;
use otlp_core::Signal;
use otlp_exporters::config::Protocol;
use otlp_exporters::OtlpPipeline;
use otlp_reliability::adaptive_concurrency::ConcurrencyConfig;
use otlp_reliability::retry::{BudgetConfig, RetryConfig};
use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_refusing_30_percent_gets_every_span() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    // A fixed pseudo-random script: about 30 % UNAVAILABLE.
    let mut state = 0x2545_f491_u64;
    for _ in 0..1000 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let fault = if (state >> 33) % 10 < 3 {
            Fault::unavailable()
        } else {
            Fault::accept()
        };
        receiver.faults().push(fault);
    }
    // A small budget, so that retries are denied and have to wait for it.
    let budget = BudgetConfig {
        window: Duration::from_secs(1),
        min_retries_per_second: 20,
        retry_ratio: 0.1,
    };
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.grpc_endpoint())
        .with_protocol(Protocol::Grpc)
        .with_metric_export_interval(Duration::from_secs(3600))
        .with_circuit_breaker(None)
        // Eight exports in flight whatever the refusals, so that retries outrun the budget.
        .with_concurrency(ConcurrencyConfig::Fixed(8))
        .with_retry(
            RetryConfig::default()
                .with_backoff(Duration::from_millis(20), Duration::from_millis(200), 2.0)
                .with_max_attempts(10)
                .with_total_timeout(Duration::from_secs(20))
                .with_budget(Some(budget)),
        )
        .with_batch(
            BatchConfig::default()
                .with_max_batch_size(1)
                .with_max_concurrent_exports(8)
                .with_scheduled_delay(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let tracer = pipeline.tracer("flaky");
    for i in 0..300 {
        tracer.in_span(format!("span-{i}"), |_| {});
    }
    let report = tokio::task::block_in_place(|| pipeline.shutdown(Duration::from_secs(30)));
    let stats = pipeline.stats();
    assert_eq!(report.undelivered, 0, "{report}\n{stats:?}");
    assert_eq!(stats.spans.exported, 300, "{stats:?}");
    assert!(
        stats.retry.budget_denied > 0,
        "the budget was never short: {:?}",
        stats.retry
    );
    assert!(
        receiver
            .wait_for_items(Signal::Traces, 300, Duration::from_secs(5))
            .await
    );
    assert_eq!(receiver.counts().spans, 300);
}
