//! Where the spool's replay task sends a request: the signal's stack below the spool layer,
//! re-encoded first when the transport now speaks another encoding than the one the request
//! was stored in (a spool written over http/json, replayed after a restart with gRPC), and
//! counted in the signal's export counters.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use otlp_batch::spool::in_flight::keep_for_replay;
use otlp_batch::spool::replay::ReplayTarget;
use otlp_core::encode::{reencode, EncodeOptions};
use otlp_core::{BoxError, ExportOutcome, ExportRequest};
use tower::util::BoxCloneSyncService;
use tower::ServiceExt;

use crate::pipeline::PerSignal;
use crate::sinks::{cause_of, ExportCounters};

/// One signal's way out, without the spool layer.
#[derive(Clone)]
pub(crate) struct ReplayRoute {
    pub(crate) service: BoxCloneSyncService<ExportRequest, ExportOutcome, BoxError>,
    pub(crate) options: EncodeOptions,
    pub(crate) counters: Arc<ExportCounters>,
}

/// The pipeline's replay target: a route per signal (traces, metrics, logs).
pub(crate) struct SpoolReplay {
    pub(crate) routes: PerSignal<Option<ReplayRoute>>,
}

impl ReplayTarget for SpoolReplay {
    fn send(&self, request: ExportRequest) -> BoxFuture<'static, Result<ExportOutcome, BoxError>> {
        let route = self.routes.get(request.signal).clone();
        Box::pin(async move {
            let Some(route) = route else {
                return Err(format!("no route for spooled {} requests", request.signal).into());
            };
            let items = request.items as u64;
            let result = send(&route, &request).await;
            let counters = &route.counters;
            match &result {
                Ok(outcome) => {
                    counters.count_answer(outcome);
                    counters.items_replayed.fetch_add(items, Ordering::Relaxed);
                }
                Err(error) if !keep_for_replay(error) => {
                    counters.items_failed.fetch_add(items, Ordering::Relaxed);
                    counters
                        .failed_by_cause
                        .add(cause_of(error), items as usize);
                }
                Err(_) => {}
            }
            result
        })
    }
}

/// Sends `request`, re-encoded if need be: all its parts, or the first error.
async fn send(route: &ReplayRoute, request: &ExportRequest) -> Result<ExportOutcome, BoxError> {
    let encoded = reencode(request, &route.options)?;
    if encoded.requests.len() != 1 || request.encoding != route.options.encoding {
        tracing::info!(
            from = ?request.encoding,
            to = ?route.options.encoding,
            "a spooled request is re-encoded for the transport"
        );
    }
    let mut total = ExportOutcome::default();
    for part in encoded.requests {
        let outcome = route.service.clone().oneshot(part).await?;
        total.accepted += outcome.accepted;
        total.rejected += outcome.rejected;
        total.message = outcome.message.or(total.message);
    }
    total.rejected += encoded.too_large;
    Ok(total)
}
