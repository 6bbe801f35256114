//! The spool layer: a request is appended before it is sent and settled by the answer;
//! accepted or refused for good, it is acknowledged; failed for now, or cut short (cancelled,
//! timed out, panicked), it waits for a replay, and the replay task delivers it.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use otlp_batch::spool::replay::{self, ReplayTarget};
use otlp_batch::spool::{Spool, SpoolConfig, SpoolLayer};
use otlp_core::{BoxError, Encoding, Error, ErrorKind, ExportOutcome, ExportRequest, Signal};
use tower::{Layer, ServiceExt};

fn spool(name: &str) -> (Arc<Spool>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("otlp-spool-layer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    (Arc::new(Spool::open(SpoolConfig::new(&dir)).unwrap()), dir)
}

fn request() -> ExportRequest {
    ExportRequest::new(Signal::Logs, Encoding::Protobuf, "body".into(), 3)
}

fn answering(
    answer: fn() -> Result<ExportOutcome, BoxError>,
) -> impl tower::Service<
    ExportRequest,
    Response = ExportOutcome,
    Error = BoxError,
    Future = BoxFuture<'static, Result<ExportOutcome, BoxError>>,
> + Clone {
    tower::service_fn(move |_: ExportRequest| async move { answer() }.boxed())
}

#[tokio::test]
async fn accepted_and_refused_requests_are_acknowledged_failed_ones_wait() {
    let (spool, dir) = spool("settle");
    let layer = SpoolLayer::new(Arc::clone(&spool));

    let accepted = layer.layer(answering(|| Ok(ExportOutcome::accepted(3))));
    assert_eq!(accepted.oneshot(request()).await.unwrap().accepted, 3);
    assert_eq!(spool.stats().pending, 0);

    let refused = layer.layer(answering(|| {
        Err(Error::new(ErrorKind::Rejected, "bad").into())
    }));
    assert!(
        refused.oneshot(request()).await.is_err(),
        "a permanent refusal passes through"
    );
    assert_eq!(
        spool.stats().pending,
        0,
        "and is not kept: it would be refused again"
    );

    let unavailable = layer.layer(answering(|| {
        Err(Error::new(ErrorKind::Unavailable, "down").into())
    }));
    let outcome = unavailable.oneshot(request()).await.unwrap();
    assert_eq!((outcome.accepted, outcome.deferred), (0, 3));
    assert_eq!(
        spool.take_waiting(10).unwrap().len(),
        1,
        "waiting for a replay"
    );
    drop(spool);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_send_cut_short_by_a_timeout_or_a_panic_waits_for_a_replay() {
    let (spool, dir) = spool("cut-short");
    let layer = SpoolLayer::new(Arc::clone(&spool));
    let hanging = layer.layer(tower::service_fn(|_: ExportRequest| {
        std::future::pending::<Result<ExportOutcome, BoxError>>().boxed()
    }));
    let timed_out =
        tokio::time::timeout(Duration::from_millis(10), hanging.oneshot(request())).await;
    assert!(timed_out.is_err());
    assert_eq!(
        spool.take_waiting(10).unwrap().len(),
        1,
        "released when the send was dropped"
    );

    let panicking = layer.layer(tower::service_fn(|_: ExportRequest| {
        async { panic!("the transport panicked") }.boxed()
    }));
    let task = tokio::spawn(panicking.oneshot(request()));
    assert!(task.await.is_err());
    assert_eq!(
        spool.take_waiting(10).unwrap().len(),
        1,
        "released when the send unwound"
    );
    drop(spool);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Fails its first `fail` sends, then accepts.
struct Flaky {
    fail: usize,
    sent: AtomicUsize,
}

impl ReplayTarget for Flaky {
    fn send(&self, request: ExportRequest) -> BoxFuture<'static, Result<ExportOutcome, BoxError>> {
        let n = self.sent.fetch_add(1, Ordering::Relaxed);
        let fail = n < self.fail;
        async move {
            if fail {
                Err(Error::new(ErrorKind::Unavailable, "down").into())
            } else {
                Ok(ExportOutcome::accepted(request.items))
            }
        }
        .boxed()
    }
}

#[tokio::test(start_paused = true)]
async fn the_replay_task_delivers_what_waits_once_the_collector_is_back() {
    let (spool, dir) = spool("replay");
    for _ in 0..3 {
        let id = spool.append(&request()).unwrap();
        spool.release(id);
    }
    let target = Arc::new(Flaky {
        fail: 4,
        sent: AtomicUsize::new(0),
    });
    let task = tokio::spawn(replay::run(
        Arc::clone(&spool),
        target.clone(),
        Duration::from_secs(1),
    ));
    for _ in 0..100 {
        if spool.stats().pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    task.abort();
    assert_eq!(spool.stats().pending, 0, "{:?}", spool.stats());
    assert_eq!(
        target.sent.load(Ordering::Relaxed),
        7,
        "4 failures, then each of the 3 once"
    );
    drop(spool);
    std::fs::remove_dir_all(dir).unwrap();
}
