//! The spool's replay while the process lives: a request cut short by a collector that hangs is
//! delivered once the collector answers again (it does not stay "in flight" until a restart);
//! a request spooled over http/json is delivered after a restart with gRPC (re-encoded, not
//! refused); the age of the oldest waiting request shows in `stats()` and the health report.
//! A request cut short and replayed counts once: spooled, not also failed.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use otlp_batch::spool::{Spool, SpoolConfig};
use otlp_batch::BatchConfig;
use otlp_core::encode::{encode_message, EncodeOptions};
use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_core::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_core::Telemetry;
use otlp_core::{Encoding, Signal};
use otlp_exporters::config::Protocol;
use otlp_exporters::OtlpPipeline;
use otlp_reliability::retry::RetryConfig;
use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otlp-spool-replay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Waits (at most 10 s) for `done`; the receiver sees a request before its answer is back.
async fn eventually(done: impl Fn() -> bool) -> bool {
    for _ in 0..200 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

fn span_names(receiver: &Receiver) -> Vec<String> {
    receiver
        .received()
        .into_iter()
        .filter_map(|r| match r.payload {
            Telemetry::Traces(request) => Some(request),
            _ => None,
        })
        .flat_map(|r| r.resource_spans)
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .map(|s| s.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_cut_short_by_a_hanging_collector_is_delivered_while_the_process_lives() {
    let receiver = Receiver::start(ReceiverConfig::default().with_keep_requests(true))
        .await
        .unwrap();
    receiver.faults().push(Fault::hang());
    let dir = dir("hang");
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_spool(SpoolConfig::new(&dir))
        .with_retry(RetryConfig::default().with_max_attempts(1))
        .with_circuit_breaker(None)
        .with_batch(BatchConfig::default().with_export_timeout(Duration::from_millis(300)))
        .build()
        .unwrap();
    assert_eq!(
        pipeline.config().retry.total_timeout,
        Some(Duration::from_millis(300)),
        "the retry session is capped at the export timeout it runs under"
    );
    pipeline.tracer("hang").in_span("cut-short", |_| {});
    pipeline.force_flush(Duration::from_secs(5));
    assert!(
        receiver
            .wait_for_items(Signal::Traces, 1, Duration::from_secs(20))
            .await,
        "replayed once the collector answers: {:?}",
        pipeline.stats().spool
    );
    assert_eq!(span_names(&receiver), vec!["cut-short"]);
    assert!(eventually(|| pipeline.stats().spool.unwrap().pending == 0).await);
    let stats = pipeline.stats();
    let spool = stats.spool.unwrap();
    assert_eq!(
        (spool.pending, spool.oldest_pending_age),
        (0, None),
        "{spool:?}"
    );
    // Counted once: spooled by the batch processor (the spool's numbers say it was
    // delivered), never also failed.
    assert_eq!(
        (stats.spans.spooled, stats.spans.failed),
        (1, 0),
        "{:?}",
        stats.spans
    );
    assert_eq!(stats.span_exports.failed, 0, "{:?}", stats.span_exports);
    assert!(stats.spans.balanced(), "{:?}", stats.spans);
    pipeline.shutdown(Duration::from_secs(5));
    drop(pipeline);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_spooled_as_json_is_delivered_over_grpc_after_a_restart() {
    let dir = dir("protocol");
    {
        // What an earlier run over http/json left: a JSON request, appended, never answered.
        let spool = Spool::open(SpoolConfig::new(&dir)).unwrap();
        let message = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![3; 16],
                        span_id: vec![4; 8],
                        name: "spooled-as-json".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let json = EncodeOptions::default().with_encoding(Encoding::Json);
        let request = encode_message(message, &json).unwrap().requests.remove(0);
        spool.append(&request).unwrap();
    }
    let receiver = Receiver::start(ReceiverConfig::default().with_keep_requests(true))
        .await
        .unwrap();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.grpc_endpoint())
        .with_protocol(Protocol::Grpc)
        .with_spool(SpoolConfig::new(&dir))
        .build()
        .unwrap();
    assert!(
        receiver
            .wait_for_items(Signal::Traces, 1, Duration::from_secs(20))
            .await,
        "{:?}",
        pipeline.stats()
    );
    assert_eq!(span_names(&receiver), vec!["spooled-as-json"]);
    assert!(eventually(|| pipeline.stats().span_exports.replayed == 1).await);
    let stats = pipeline.stats();
    assert_eq!(stats.span_exports.replayed, 1);
    assert_eq!(
        stats.span_exports.failed, 0,
        "not refused as an encoding error"
    );
    pipeline.shutdown(Duration::from_secs(5));
    drop(pipeline);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_waiting_request_shows_in_stats_and_health() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let dir = dir("age");
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(endpoint)
        .with_spool(SpoolConfig::new(&dir))
        .with_retry(RetryConfig::default().with_max_attempts(1))
        .with_circuit_breaker(None)
        .build()
        .unwrap();
    pipeline.tracer("age").in_span("waiting", |_| {});
    pipeline.force_flush(Duration::from_secs(5));
    let spool = pipeline.stats().spool.unwrap();
    assert_eq!(spool.pending, 1, "{spool:?}");
    assert!(spool.oldest_pending_age.is_some());
    assert!(
        pipeline.health().checks.iter().any(|c| c.name == "spool"),
        "{:?}",
        pipeline.health()
    );
    pipeline.shutdown(Duration::from_secs(1));
    drop(pipeline);
    std::fs::remove_dir_all(dir).unwrap();
}
