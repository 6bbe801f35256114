//! The pipeline over several collectors: spread, trace-id affinity, and failover.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use otlp_batch::BatchConfig;
use otlp_core::Telemetry;
use otlp_exporters::{OtlpPipeline, Protocol};
use otlp_transport::balance::BalanceStrategy;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

async fn receivers() -> Vec<Receiver> {
    let mut out = Vec::new();
    for _ in 0..3 {
        out.push(Receiver::start(ReceiverConfig::default()).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_id_affinity_keeps_each_trace_on_one_collector() {
    let receivers = receivers().await;
    let pipeline = OtlpPipeline::builder()
        .with_collectors(receivers.iter().map(Receiver::http_endpoint))
        .with_balance(BalanceStrategy::TraceId)
        .with_batch(BatchConfig::default().with_max_batch_size(64))
        .build()
        .unwrap();
    let tracer = pipeline.tracer("affinity");
    for trace in 0..60 {
        tracer.in_span(format!("root-{trace}"), |_| {
            for child in 0..4 {
                tracer.in_span(format!("child-{child}"), |_| {});
            }
        });
    }
    assert!(pipeline.shutdown(Duration::from_secs(10)).completed);
    let mut owner: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut total = 0;
    for (index, receiver) in receivers.iter().enumerate() {
        for received in receiver.received() {
            let Telemetry::Traces(request) = received.payload else {
                continue;
            };
            for span in request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans)
            {
                total += 1;
                assert_eq!(
                    *owner.entry(span.trace_id.clone()).or_insert(index),
                    index,
                    "a trace was split"
                );
            }
        }
    }
    assert_eq!(total, 300);
    assert!(
        (0..3).all(|i| owner.values().any(|o| *o == i)),
        "every collector owns some traces"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_collector_loses_nothing_over_http() {
    let mut receivers = receivers().await;
    let pipeline = OtlpPipeline::builder()
        .with_collectors(receivers.iter().map(Receiver::http_endpoint))
        .with_protocol(Protocol::HttpProtobuf)
        .with_balance(BalanceStrategy::RoundRobin)
        .with_batch(BatchConfig::default().with_max_batch_size(5))
        .build()
        .unwrap();
    let tracer = pipeline.tracer("failover");
    for i in 0..50 {
        tracer.in_span(format!("before-{i}"), |_| {});
    }
    pipeline.force_flush(Duration::from_secs(5));
    receivers.remove(0).shutdown().await;
    for i in 0..50 {
        tracer.in_span(format!("after-{i}"), |_| {});
    }
    let report = pipeline.shutdown(Duration::from_secs(10));
    assert!(report.completed, "{report:?}");
    let stats = pipeline.stats();
    assert_eq!(stats.spans.exported, 100);
    assert_eq!(stats.spans.dropped(), 0);
    let after: usize = receivers
        .iter()
        .flat_map(Receiver::received)
        .filter_map(|r| match r.payload {
            Telemetry::Traces(t) => Some(t),
            _ => None,
        })
        .flat_map(|t| t.resource_spans)
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .filter(|s| s.name.starts_with("after-"))
        .count();
    assert_eq!(
        after, 50,
        "everything sent after the stop reached the other two"
    );
}
