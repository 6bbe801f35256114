//! The replay task: sends again what waits in the spool (what a previous run left, and what
//! failed for now or was cut short), settling each request by the same rule as the layer.
//!
//! Where a request goes is the caller's [`ReplayTarget`]: the stack below the spool layer
//! for the request's signal, re-encoding it when the transport now speaks another encoding
//! than the one it was stored in.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, ExportOutcome, ExportRequest};

use super::in_flight::{InFlight, Settled};
use super::Spool;

/// Sends one spooled request on its way.
pub trait ReplayTarget: Send + Sync + 'static {
    /// Sends `request` (as it was stored; its `encoding` says how its body is encoded).
    fn send(&self, request: ExportRequest) -> BoxFuture<'static, Result<ExportOutcome, BoxError>>;
}

/// How many requests are taken from the spool at a time.
const TAKE: usize = 64;

/// Replays `spool` into `target` for as long as the future is polled: what waits is sent
/// right away; when nothing waits, or nothing was delivered, it looks again after `interval`.
pub async fn run(spool: Arc<Spool>, target: Arc<dyn ReplayTarget>, interval: Duration) {
    loop {
        let waiting = match spool.take_waiting(TAKE) {
            Ok(waiting) => waiting,
            Err(error) => {
                tracing::warn!(%error, "spool: cannot read waiting requests");
                Vec::new()
            }
        };
        let mut delivered = 0;
        for spooled in &waiting {
            let in_flight = InFlight::new(Arc::clone(&spool), spooled.id);
            let result = target.send(spooled.request.clone()).await;
            match in_flight.settle(&result) {
                Settled::Delivered => delivered += 1,
                Settled::Deferred => {}
                Settled::Refused => tracing::warn!(
                    items = spooled.request.items,
                    "a spooled request was refused for good; dropped"
                ),
            }
        }
        if delivered == 0 {
            tokio::time::sleep(interval).await;
        }
    }
}
