//! `noting_append`: the caller of a stack with the spool layer in it learns, right after
//! `call`, whether its request was appended (it waits for a replay should the send be dropped)
//! or the spool could not take it (here: larger than `max_bytes`), or no spool layer took part.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use otlp_batch::spool::in_flight::noting_append;
use otlp_batch::spool::{Spool, SpoolConfig, SpoolLayer, RECORD_OVERHEAD};
use otlp_core::{BoxError, Encoding, ExportOutcome, ExportRequest, Signal};
use tower::{Layer, Service};

fn request(body_bytes: usize) -> ExportRequest {
    ExportRequest::new(
        Signal::Logs,
        Encoding::Protobuf,
        vec![7; body_bytes].into(),
        2,
    )
}

#[tokio::test]
async fn the_caller_learns_whether_its_request_was_appended() {
    let dir = std::env::temp_dir().join(format!("otlp-spool-noting-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let max_bytes = 16 * 1024;
    let spool = Arc::new(Spool::open(SpoolConfig::new(&dir).with_max_bytes(max_bytes)).unwrap());
    let transport = tower::service_fn(|request: ExportRequest| async move {
        Ok::<_, BoxError>(ExportOutcome::accepted(request.items))
    });
    let mut spooled = SpoolLayer::new(Arc::clone(&spool)).layer(transport);

    let (future, appended) = noting_append(|| spooled.call(request(100)));
    assert_eq!(appended, Some(true));
    drop(future); // cut off unanswered: it waits for a replay
    assert_eq!(spool.stats().pending, 1);

    let too_large = max_bytes as usize + RECORD_OVERHEAD;
    let (future, appended) = noting_append(|| spooled.call(request(too_large)));
    assert_eq!(appended, Some(false), "the spool could not take it");
    assert_eq!(future.await.unwrap().accepted, 2, "sent without the spool");
    assert_eq!(spool.stats().pending, 1, "nothing more waits");

    let mut plain = transport;
    let (_future, appended) = noting_append(|| plain.call(request(100)));
    assert_eq!(appended, None, "no spool layer took part");
    drop(spooled);
    drop(spool);
    std::fs::remove_dir_all(dir).unwrap();
}
