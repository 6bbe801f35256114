//! Sending a prepared batch through the signal's stack, settling each request's outcome in
//! the counters and the batch's progress; and, for the SDK exporter traits, doing so on the
//! pipeline runtime from any thread.

use std::sync::atomic::Ordering;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use otlp_batch::{Cause, Progress};
use otlp_core::{BoxError, ExportOutcome};
use tokio::runtime::Handle;
use tower::ServiceExt;

use super::prepare::Prepared;
use super::{cause_of, Route, SignalSender};

impl SignalSender {
    /// Sends a prepared batch and adds up the outcome. Each request's result is reported to
    /// `progress` as it arrives (so a cancelled batch keeps what was delivered); a failed
    /// request is logged and counted with its cause.
    pub(super) async fn send(&self, prepared: Prepared, progress: &Progress) -> ExportOutcome {
        let started = tokio::time::Instant::now();
        let mut total = ExportOutcome::default();
        match (prepared, &self.route) {
            (
                Prepared::Requests {
                    requests,
                    too_large,
                },
                Route::Otlp { service, .. },
            ) => {
                self.counters
                    .items_too_large
                    .fetch_add(too_large as u64, Ordering::Relaxed);
                self.counters
                    .failed_by_cause
                    .add(Cause::TooLarge, too_large);
                progress.failed(too_large, Cause::TooLarge);
                if too_large > 0 {
                    tracing::warn!(
                        items = too_large,
                        "items larger than the request size limit were dropped"
                    );
                }
                for request in requests {
                    let items = request.items;
                    let signal = request.signal;
                    let result = self.send_one(service.clone(), request, progress).await;
                    self.settle(&mut total, items, result, signal.as_str(), progress);
                }
            }
            (Prepared::Message(message), Route::Custom { service }) => {
                let items = message.items();
                let signal = message.signal();
                let result = service.clone().oneshot(message).await;
                self.settle(&mut total, items, result, signal.as_str(), progress);
            }
            _ => tracing::error!("a batch was prepared for another route; nothing sent"),
        }
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.counters
            .duration_micros
            .fetch_add(micros, Ordering::Relaxed);
        total
    }

    fn settle(
        &self,
        total: &mut ExportOutcome,
        items: usize,
        result: Result<ExportOutcome, BoxError>,
        signal: &str,
        progress: &Progress,
    ) {
        let counters = &self.counters;
        counters.requests.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(outcome) => {
                counters.count_answer(&outcome);
                counters
                    .items_spooled
                    .fetch_add(outcome.deferred as u64, Ordering::Relaxed);
                total.accepted += outcome.accepted;
                total.rejected += outcome.rejected;
                total.deferred += outcome.deferred;
                progress.accepted(outcome.accepted);
                progress.rejected(outcome.rejected, outcome.message.as_deref());
                progress.deferred(outcome.deferred);
                if outcome.message.is_some() {
                    total.message = outcome.message;
                }
            }
            Err(error) => {
                counters.failed_requests.fetch_add(1, Ordering::Relaxed);
                counters
                    .items_failed
                    .fetch_add(items as u64, Ordering::Relaxed);
                let cause = cause_of(&error);
                counters.failed_by_cause.add(cause, items);
                progress.failed(items, cause);
                tracing::warn!(%signal, items, %error, "export failed");
            }
        }
    }

    /// For the SDK exporter traits: sends a batch prepared on the caller's thread on the
    /// pipeline runtime, waits, and fails unless every item was accepted, rejected by the
    /// collector, or kept in the spool.
    pub(super) async fn export_on(
        &self,
        runtime: &Handle,
        prepared: Result<Prepared, BoxError>,
        what: &str,
        timeout: Option<Duration>,
    ) -> OTelSdkResult {
        let prepared = prepared.map_err(|e| OTelSdkError::InternalFailure(e.to_string()))?;
        let items = prepared.items();
        let sender = self.clone();
        let before = self.counters.settled_items();
        let started = std::time::Instant::now();
        let outcome = runtime
            .spawn(async move {
                let progress = Progress::detached();
                let send = sender.send(prepared, &progress);
                match timeout {
                    Some(timeout) => tokio::time::timeout(timeout, send).await.ok(),
                    None => Some(send.await),
                }
            })
            .await
            .map_err(|e| {
                // A panic in the stack (a user's layer, a credential hook): what its requests
                // did not settle is counted as failed, as the batch worker counts it.
                let rest = self.fail_rest(before, items, Cause::Panicked);
                tracing::error!(items = rest, "{what} export task panicked; items dropped");
                OTelSdkError::InternalFailure(format!("{what} export task failed: {e}"))
            })?;
        let Some(outcome) = outcome else {
            // Cut off: what the requests already settled is counted; the rest is counted
            // under the cause of the last failed attempt (the retries were still going), or as
            // timed out when no attempt failed.
            let (errors, prefix) = &self.endpoint_errors;
            let cause = errors
                .last_cause_since(prefix, started)
                .unwrap_or(Cause::Timeout);
            let rest = self.fail_rest(before, items, cause);
            let timeout = timeout.unwrap_or_default();
            tracing::warn!(
                items = rest,
                ?timeout,
                "{what} export cut off at its timeout"
            );
            return Err(OTelSdkError::Timeout(timeout));
        };
        let settled = outcome.accepted + outcome.rejected + outcome.deferred;
        if settled < items {
            return Err(OTelSdkError::InternalFailure(format!(
                "{} of {items} {what} were not delivered",
                items - settled
            )));
        }
        Ok(())
    }

    /// Counts as failed, under `cause`, the items of an export of `items` that its requests
    /// did not settle (the counters had settled `before` when it began); returns how many.
    fn fail_rest(&self, before: u64, items: usize, cause: Cause) -> u64 {
        let counted = self.counters.settled_items().saturating_sub(before);
        let rest = (items as u64).saturating_sub(counted);
        self.counters
            .items_failed
            .fetch_add(rest, Ordering::Relaxed);
        self.counters
            .failed_by_cause
            .add(cause, usize::try_from(rest).unwrap_or(usize::MAX));
        rest
    }
}
