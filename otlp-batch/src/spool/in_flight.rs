//! A spooled request being sent, and the rule for what its answer does to it: acknowledged
//! when the collector accepted it (or refused it for good), released for a replay when the
//! failure may pass, and released too when the send is dropped unanswered (cancelled, timed
//! out by a caller, or unwound by a panic), so that no record stays "in flight" for the life of
//! the process. [`noting_append`] tells the caller of a stack with the spool layer in it
//! whether its request was appended, for counting a send that is dropped unanswered.

use std::cell::Cell;
use std::sync::Arc;

use otlp_core::{BoxError, ExportOutcome};

use super::Spool;

/// What became of a spooled request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Accepted (in whole or in part): acknowledged.
    Delivered,
    /// Failed for now: released, waiting for a replay.
    Deferred,
    /// Refused for good (it would be refused again): acknowledged, and lost.
    Refused,
}

/// Whether a failure may pass, so the request is kept for a replay: connection failures,
/// timeouts, unavailable, throttled, local rejections (circuit open, bulkhead full). A
/// permanent refusal would be refused again.
pub fn keep_for_replay(error: &BoxError) -> bool {
    let class = otlp_core::classify(error.as_ref());
    class.retryable || class.local || error.is::<tower::timeout::error::Elapsed>()
}

/// Holds a spooled request in flight; releases it when dropped unsettled.
#[derive(Debug)]
pub struct InFlight {
    spool: Arc<Spool>,
    id: Option<u64>,
}

impl InFlight {
    /// Takes charge of the in-flight record `id`.
    pub fn new(spool: Arc<Spool>, id: u64) -> Self {
        InFlight {
            spool,
            id: Some(id),
        }
    }

    /// Settles the record by the answer to its send.
    pub fn settle(mut self, result: &Result<ExportOutcome, BoxError>) -> Settled {
        let Some(id) = self.id.take() else {
            return Settled::Delivered;
        };
        let settled = match result {
            Ok(_) => Settled::Delivered,
            Err(error) if keep_for_replay(error) => Settled::Deferred,
            Err(_) => Settled::Refused,
        };
        if settled == Settled::Deferred {
            self.spool.release(id);
        } else if let Err(error) = self.spool.ack(id) {
            tracing::warn!(%error, "spool: cannot acknowledge a request; it may be sent again after a restart");
        }
        settled
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            tracing::debug!(
                id,
                "spool: a send ended unanswered; its request waits for a replay"
            );
            self.spool.release(id);
        }
    }
}

thread_local! {
    /// Whether the spool layer last called on this thread appended its request.
    static APPENDED: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Runs `call` (a `Service::call` on a stack with a [`SpoolLayer`](super::SpoolLayer) in it)
/// and says whether the layer appended the request: `Some(true)` it did, `Some(false)` the
/// spool could not take it (a full disk, an I/O error: it is sent without the spool), `None`
/// no spool layer was called. The layer appends inside `call`, before the future exists, so a
/// caller whose future is later dropped unanswered knows whether the request waits in the
/// spool for a replay or is lost.
pub fn noting_append<R>(call: impl FnOnce() -> R) -> (R, Option<bool>) {
    let outer = APPENDED.with(|appended| appended.replace(None));
    let result = call();
    (result, APPENDED.with(|appended| appended.replace(outer)))
}

/// Records, for [`noting_append`], whether the layer appended the request it was called with.
pub(super) fn note_append(appended: bool) {
    APPENDED.with(|cell| cell.set(Some(appended)));
}
