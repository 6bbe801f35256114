//! A soak run: a fixed offered load with a collector outage in the middle. The report must
//! add up exactly, and delivery must resume after the collector returns.
//!
//! Long, so not part of the default test run:
//! `OTLP_SOAK_SECONDS=60 cargo test -p otlp-exporters --test soak -- --ignored` (60 s when
//! the variable is unset). It asserts no time bound: how soon delivery resumed is printed.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::trace::Tracer as _;
use otlp_core::Signal;
use otlp_exporters::{OtlpPipeline, Protocol};
use otlp_reliability::retry::RetryConfig;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long soak: OTLP_SOAK_SECONDS=60 cargo test -p otlp-exporters --test soak -- --ignored"]
async fn an_outage_in_the_middle_adds_up_and_delivery_resumes() {
    let seconds: u64 = std::env::var("OTLP_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let third = Duration::from_secs(seconds) / 3;
    let max_backoff = Duration::from_millis(500);
    // Both receivers (before and after the outage) count into one total.
    let arrived = Arc::new(AtomicU64::new(0));
    let counting = |arrived: &Arc<AtomicU64>| {
        let arrived = Arc::clone(arrived);
        ReceiverConfig::default()
            .with_keep_requests(false)
            .with_on_receive(move |received| {
                if received.payload.signal() == Signal::Traces {
                    arrived.fetch_add(received.payload.items() as u64, Ordering::SeqCst);
                }
            })
    };
    let receiver = Receiver::start(counting(&arrived)).await.unwrap();
    let addr = receiver.grpc_addr();
    let pipeline = Arc::new(
        OtlpPipeline::builder()
            .with_endpoint(receiver.grpc_endpoint())
            .with_protocol(Protocol::Grpc)
            .with_retry(
                RetryConfig::default()
                    .with_max_attempts(1000)
                    .with_backoff(Duration::from_millis(50), max_backoff, 2.0)
                    .with_total_timeout(Duration::from_secs(seconds * 2))
                    .with_budget(None),
            )
            .with_circuit_breaker(None)
            .build()
            .unwrap(),
    );

    // 1,000 spans per second from one thread, for the whole run.
    let stop = Arc::new(AtomicBool::new(false));
    let offered = Arc::new(AtomicU64::new(0));
    let producer = {
        let (pipeline, stop, offered) = (
            Arc::clone(&pipeline),
            Arc::clone(&stop),
            Arc::clone(&offered),
        );
        std::thread::spawn(move || {
            let tracer = pipeline.tracer("soak");
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let due = (started.elapsed().as_secs_f64() * 1000.0) as u64;
                while offered.load(Ordering::Relaxed) < due {
                    tracer.in_span("soak-op", |_| {});
                    offered.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };

    tokio::time::sleep(third).await;
    let before_outage = receiver.counts().spans;
    assert!(before_outage > 0, "spans flow before the outage");
    receiver.shutdown().await;
    tokio::time::sleep(third).await;
    let restarted = Receiver::start(ReceiverConfig {
        grpc_addr: addr,
        ..counting(&arrived)
    })
    .await
    .unwrap();
    let back = Instant::now();
    // A "does not hang" bound, 20 times the longest backoff: not a measurement.
    assert!(
        restarted
            .wait_for_items(Signal::Traces, 1, max_backoff * 20)
            .await,
        "delivery resumed after the collector returned"
    );
    let resumed_after = back.elapsed();
    tokio::time::sleep(third).await;
    stop.store(true, Ordering::Relaxed);
    producer.join().unwrap();

    let report = pipeline.shutdown(Duration::from_secs(10));
    let stats = pipeline.stats().spans;
    let delivered = arrived.load(Ordering::SeqCst);
    assert_eq!(stats.offered, offered.load(Ordering::Relaxed));
    assert!(stats.balanced(), "{stats:?}");
    assert_eq!(stats.queued + stats.in_flight, 0);
    // At least once: a request the receiver took while it was being stopped may come again
    // (its answer was lost), so duplicates are possible, bounded by the batches in flight.
    let exported = stats.exported + stats.rejected;
    assert!(
        delivered >= exported,
        "{delivered} arrived, {exported} counted as exported"
    );
    assert!(
        delivered - exported <= 512,
        "{} duplicates",
        delivered - exported
    );
    assert_eq!(
        stats.offered,
        exported + stats.dropped(),
        "{stats:?} {report:?}"
    );
    println!("soak: {stats:?}, resumed {resumed_after:?} after the collector returned");
}
