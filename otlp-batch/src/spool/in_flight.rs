//! A spooled request being sent, and the rule for what its answer does to it: acknowledged
//! when the collector accepted it (or refused it for good), released for a replay when the
//! failure may pass, and released too when the send is dropped unanswered (cancelled, timed
//! out by a caller, or unwound by a panic), so that no record stays "in flight" for the life of
//! the process.

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
