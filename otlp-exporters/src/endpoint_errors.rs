//! The last error of every collector endpoint, with its time and how many attempts failed,
//! recorded right above each endpoint's breaker and timeout, for delivery reports.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::future::BoxFuture;
use otlp_batch::Cause;
use otlp_core::{BoxError, ExportOutcome};
use parking_lot::Mutex;
use tower::util::BoxCloneSyncService;
use tower::Service;

/// What one endpoint last did wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError {
    /// The signal and the endpoint, `<signal>:<url>`.
    pub endpoint: String,
    /// The last error, as it reads.
    pub error: String,
    /// Attempts to this endpoint that failed, since start.
    pub failed_attempts: u64,
    /// Attempts to this endpoint that succeeded, since start.
    pub succeeded_attempts: u64,
    /// When the last error happened.
    pub at: Instant,
}

#[derive(Debug, Default)]
struct Record {
    failed: u64,
    succeeded: u64,
    last: Option<(String, Instant)>,
    last_cause: Option<Cause>,
    /// The last error that was not the endpoint's own breaker refusing: what opened it.
    last_from_collector: Option<String>,
}

/// Every endpoint's record, shared by the stacks of all signals.
#[derive(Debug, Clone, Default)]
pub(crate) struct EndpointErrors(Arc<Mutex<BTreeMap<String, Record>>>);

impl EndpointErrors {
    fn record(&self, endpoint: &str, result: Result<(), (String, Cause)>) {
        let mut records = self.0.lock();
        let record = records.entry(endpoint.to_owned()).or_default();
        match result {
            Ok(()) => record.succeeded += 1,
            Err((error, cause)) => {
                record.failed += 1;
                if cause != Cause::CircuitOpen {
                    record.last_from_collector = Some(error.clone());
                }
                record.last = Some((error, Instant::now()));
                record.last_cause = Some(cause);
            }
        }
    }

    /// The cause of the latest attempt failure since `since` among the endpoints whose name
    /// starts with `prefix` (`<signal>:`), for an export cut off before its retries ended.
    pub(crate) fn last_cause_since(&self, prefix: &str, since: Instant) -> Option<Cause> {
        self.0
            .lock()
            .iter()
            .filter(|(endpoint, _)| endpoint.starts_with(prefix))
            .filter_map(|(_, record)| Some((record.last.as_ref()?.1, record.last_cause?)))
            .filter(|(at, _)| *at >= since)
            .max_by_key(|(at, _)| *at)
            .map(|(_, cause)| cause)
    }

    /// The endpoints that have failed at least once, most recent error first. When the last
    /// error is the endpoint's breaker refusing, the error that came before it (what opened
    /// the breaker: a refused connection, a 503) is named with it.
    pub(crate) fn snapshot(&self) -> Vec<EndpointError> {
        let mut errors: Vec<_> = self
            .0
            .lock()
            .iter()
            .filter_map(|(endpoint, record)| {
                let (mut error, at) = record.last.clone()?;
                if let (Some(Cause::CircuitOpen), Some(cause)) =
                    (record.last_cause, &record.last_from_collector)
                {
                    error = format!("{error}; before it opened: {cause}");
                }
                Some(EndpointError {
                    endpoint: endpoint.clone(),
                    error,
                    failed_attempts: record.failed,
                    succeeded_attempts: record.succeeded,
                    at,
                })
            })
            .collect();
        errors.sort_by_key(|e| std::cmp::Reverse(e.at));
        errors
    }

    /// Wraps one endpoint's service so that each attempt's result is recorded.
    pub(crate) fn wrap<R: Send + 'static>(
        &self,
        endpoint: String,
        inner: BoxCloneSyncService<R, ExportOutcome, BoxError>,
    ) -> BoxCloneSyncService<R, ExportOutcome, BoxError> {
        BoxCloneSyncService::new(Recorded {
            inner,
            endpoint: endpoint.into(),
            errors: self.clone(),
        })
    }
}

struct Recorded<R> {
    inner: BoxCloneSyncService<R, ExportOutcome, BoxError>,
    endpoint: Arc<str>,
    errors: EndpointErrors,
}

impl<R> Clone for Recorded<R> {
    fn clone(&self) -> Self {
        Recorded {
            inner: self.inner.clone(),
            endpoint: Arc::clone(&self.endpoint),
            errors: self.errors.clone(),
        }
    }
}

impl<R: Send + 'static> Service<R> for Recorded<R> {
    type Response = ExportOutcome;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<ExportOutcome, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let future = self.inner.call(request);
        let (endpoint, errors) = (Arc::clone(&self.endpoint), self.errors.clone());
        Box::pin(async move {
            let result = future.await;
            let outcome = match &result {
                Ok(_) => Ok(()),
                Err(error) => Err((error_chain(error.as_ref()), crate::sinks::cause_of(error))),
            };
            errors.record(&endpoint, outcome);
            result
        })
    }
}

/// An error in a few words: its first phrase and its root cause ("connection failed:
/// Connection refused (os error 111)"), or, without sources, its whole text cut to 200
/// characters.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let top = error.to_string();
    let mut root = None;
    let mut current = error.source();
    while let Some(source) = current {
        root = Some(source);
        current = source.source();
    }
    let text = match root {
        Some(root) => {
            let head = top.split(':').next().unwrap_or(&top);
            format!("{head}: {root}")
        }
        None => top,
    };
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_breaker_names_the_error_that_opened_it() {
        let errors = EndpointErrors::default();
        let refused = "connection failed: Connection refused (os error 111)".to_owned();
        errors.record("traces:a", Err((refused, Cause::Connection)));
        errors.record(
            "traces:a",
            Err(("circuit breaker open".into(), Cause::CircuitOpen)),
        );
        let error = &errors.snapshot()[0].error;
        assert!(error.starts_with("circuit breaker open"), "{error}");
        assert!(error.contains("Connection refused"), "{error}");
    }
}
