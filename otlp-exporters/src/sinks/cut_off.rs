//! A spooled request cut off by its batch's export timeout: the spool replays it, so its items
//! count as spooled, once, and never also as failed. A request the spool could not take (its
//! append failed: a full disk, an I/O error) is not replayed: cut off, its items count as
//! failed (timed out), like those of a pipeline without a spool.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use otlp_batch::spool::in_flight::noting_append;
use otlp_batch::Progress;
use otlp_core::{BoxError, ExportOutcome, ExportRequest};
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

use super::{ExportCounters, SignalSender};

impl SignalSender {
    /// Sends one request. With a spool, its layer is part of `service` and appends the
    /// request when called (see otlp_batch::spool); should the export be dropped after the
    /// append succeeded (its batch timed out), the request waits in the spool for a replay,
    /// and its items are counted as spooled here. Dropped after a failed append, nothing is
    /// counted here: the batch worker counts the items as failed.
    pub(super) async fn send_one(
        &self,
        mut service: BoxCloneSyncService<ExportRequest, ExportOutcome, BoxError>,
        request: ExportRequest,
        progress: &Progress,
    ) -> Result<ExportOutcome, BoxError> {
        let items = request.items;
        let ready = service.ready().await?;
        let (future, appended) = noting_append(|| ready.call(request));
        let cut_off = (appended == Some(true)).then(|| SpooledIfCutOff {
            progress: progress.clone(),
            counters: Arc::clone(&self.counters),
            items,
            finished: false,
        });
        let result = future.await;
        if let Some(mut guard) = cut_off {
            guard.finished = true;
        }
        result
    }
}

/// Counts a spooled request's items as spooled when its send is dropped unanswered.
struct SpooledIfCutOff {
    progress: Progress,
    counters: Arc<ExportCounters>,
    items: usize,
    finished: bool,
}

impl Drop for SpooledIfCutOff {
    fn drop(&mut self) {
        if !self.finished {
            self.counters
                .items_spooled
                .fetch_add(self.items as u64, Ordering::Relaxed);
            self.progress.deferred(self.items);
        }
    }
}
