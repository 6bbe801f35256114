//! A collector that discovery stops naming leaves the concurrency limits: its limit is no longer
//! in `stats().concurrency`, and the batch worker keeps only as many exports in flight as the
//! collectors still in use allow (not one endpoint's worth more, queued behind a full limit).

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use opentelemetry::trace::Tracer as _;
use otlp_batch::{BatchConfig, BatchStrategy};
use otlp_core::BoxError;
use otlp_exporters::{OtlpPipeline, PipelineStats, Protocol};
use otlp_reliability::adaptive_concurrency::ConcurrencyConfig;
use otlp_transport::balance::{Resolution, Resolver};
use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};

/// Each collector's limit (`fixed 4`).
const LIMIT: usize = 4;

/// Discovery whose answer the test changes, asked again every 50 ms.
#[derive(Clone, Default)]
struct Changing(Arc<Mutex<Vec<String>>>);

impl Changing {
    fn set(&self, endpoints: &[&Receiver]) {
        *self.0.lock().unwrap() = endpoints.iter().map(|r| r.http_endpoint()).collect();
    }
}

impl Resolver for Changing {
    fn resolve(&self, _previous: Option<u64>) -> BoxFuture<'static, Result<Resolution, BoxError>> {
        let endpoints = self.0.lock().unwrap().clone();
        Box::pin(async move {
            Ok(Resolution {
                endpoints,
                token: None,
            })
        })
    }

    fn interval(&self) -> Duration {
        Duration::from_millis(50)
    }
}

/// The traces endpoints in `stats().concurrency`, by port.
fn trace_ports(stats: &PipelineStats) -> Vec<u16> {
    let mut ports: Vec<u16> = stats
        .concurrency
        .iter()
        .filter_map(|e| e.name.strip_prefix("traces:"))
        .map(|host| host.rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    ports.sort_unstable();
    ports
}

/// Waits (at most 10 s) for `done`.
async fn eventually(done: impl Fn() -> bool) -> bool {
    for _ in 0..200 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_discovery_drops_leaves_the_export_limit() {
    let kept = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let dropped = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let resolver = Changing::default();
    resolver.set(&[&kept, &dropped]);
    let pipeline = OtlpPipeline::builder()
        .with_resolver(resolver.clone())
        .with_protocol(Protocol::HttpProtobuf)
        .with_concurrency(ConcurrencyConfig::Fixed(LIMIT))
        .with_batch(
            BatchConfig::default()
                .with_max_queue_size(1000)
                .with_max_batch_size(1)
                .with_strategy(BatchStrategy::Size),
        )
        .build()
        .unwrap();
    let mut both = vec![kept.http_addr().port(), dropped.http_addr().port()];
    both.sort_unstable();
    assert_eq!(trace_ports(&pipeline.stats()), both);

    resolver.set(&[&kept]);
    assert!(
        eventually(|| trace_ports(&pipeline.stats()) == [kept.http_addr().port()]).await,
        "the dropped collector's limit is still counted: {:?}",
        pipeline.stats().concurrency
    );

    // The collector left holds every request: the worker fills exactly its limit, one span
    // per export, and the rest stays queued.
    kept.faults().set_default(Some(Fault::hang()));
    let tracer = pipeline.tracer("drop");
    for i in 0..20 {
        tracer.in_span(format!("span-{i}"), |_| {});
    }
    // Returns at its deadline (the exports hang), after the worker filled every slot.
    let flush = pipeline.force_flush(Duration::from_millis(300));
    assert!(!flush.completed);
    let spans = pipeline.stats().spans;
    assert_eq!(
        (spans.in_flight, spans.queued),
        (LIMIT as u64, 20 - LIMIT as u64),
        "exports in flight: only the remaining collector's limit; {spans:?}"
    );
    pipeline.shutdown(Duration::from_secs(1));
}
