//! At-least-once across a crash: a child process exporting to a stopped collector is killed
//! with SIGKILL; restarted against a live receiver, every item it had spooled arrives.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use otlp_batch::spool::SpoolConfig;
use otlp_batch::BatchConfig;
use otlp_core::Signal;
use otlp_core::Telemetry;
use otlp_exporters::{OtlpPipeline, Protocol};
use otlp_reliability::retry::RetryConfig;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

fn pipeline(endpoint: &str, dir: &std::path::Path) -> OtlpPipeline {
    OtlpPipeline::builder()
        .with_endpoint(endpoint)
        .with_protocol(Protocol::Grpc)
        .with_spool(SpoolConfig::new(dir))
        .with_retry(RetryConfig::default().with_max_attempts(1))
        .with_circuit_breaker(None)
        .with_batch(
            BatchConfig::default()
                .with_max_batch_size(10)
                .with_scheduled_delay(Duration::from_millis(50)),
        )
        .build()
        .unwrap()
}

/// The child: spans into a pipeline whose collector is down, printing how many items the
/// spool holds after each flush, until it is killed.
#[test]
#[ignore = "a helper: spool_survives_sigkill runs it as a child process"]
fn spool_child() {
    let dir = std::env::var("OTLP_SPOOL_CHILD_DIR").unwrap();
    let endpoint = std::env::var("OTLP_SPOOL_CHILD_ENDPOINT").unwrap();
    let pipeline = pipeline(&endpoint, std::path::Path::new(&dir));
    let tracer = pipeline.tracer("crash");
    for round in 0.. {
        for i in 0..10 {
            tracer.in_span(format!("item-{round}-{i}"), |_| {});
        }
        pipeline.force_flush(Duration::from_millis(500));
        let spool = pipeline.stats().spool.unwrap();
        println!("spooled_items {}", spool.pending_items);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spool_survives_sigkill() {
    let dir = std::env::temp_dir().join(format!("otlp-spool-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_endpoint = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "spool_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OTLP_SPOOL_CHILD_DIR", &dir)
        .env("OTLP_SPOOL_CHILD_ENDPOINT", &dead_endpoint)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let spooled = tokio::task::spawn_blocking(move || {
        let mut last = 0;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("spooled_items ") {
                last = n.parse::<usize>().unwrap();
                if last >= 100 {
                    break;
                }
            }
        }
        last
    })
    .await
    .unwrap();
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    child.wait().unwrap();
    assert!(spooled >= 100, "the child spooled only {spooled} items");

    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let restarted = pipeline(&receiver.grpc_endpoint(), &dir);
    assert!(
        receiver
            .wait_for_items(Signal::Traces, spooled, Duration::from_secs(20))
            .await,
        "{} of {spooled} spooled spans arrived after the restart",
        receiver.counts().spans
    );
    let mut names = std::collections::HashSet::new();
    for received in receiver.received() {
        if let Telemetry::Traces(request) = received.payload {
            for span in request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans)
            {
                names.insert(span.name.clone());
            }
        }
    }
    assert!(
        names.len() >= spooled,
        "{} distinct spans for {spooled} spooled",
        names.len()
    );
    // The receiver records a request before it answers; the pipeline counts it on the answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while restarted.stats().span_exports.replayed < spooled as u64
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        restarted.stats().span_exports.replayed >= spooled as u64,
        "{:?}",
        restarted.stats().span_exports
    );
    restarted.shutdown(Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(dir);
}
