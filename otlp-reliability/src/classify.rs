//! How the generic layers learn what a failure means.
//!
//! The layers never look at OTLP status codes themselves: they ask a [`Classify`]
//! implementation, and [`OtlpClassify`] answers with otlp-core's classification (the OTLP
//! specification's retry tables, server delay hints, and which failures were local).

use std::time::Duration;

use otlp_core::{BoxError, ErrorKind};

/// What a layer needs to know about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Sending the request again may succeed.
    pub retryable: bool,
    /// The failure was decided on this side (circuit open, bulkhead full, deadline passed): it
    /// says nothing about the backend's health.
    pub local: bool,
    /// The delay the server asked for, which replaces the computed backoff.
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// Whether a circuit breaker should count this failure against the backend: it was not
    /// local, and it is the kind of failure that goes away (a refused or bad request says the
    /// backend is up and answering).
    pub fn is_backend_failure(&self) -> bool {
        self.retryable && !self.local
    }
}

/// What a failed attempt says about the backend's load, for the adaptive concurrency limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// The backend pushed back: it is busy (throttled, unavailable, timed out, asked for a
    /// delay). The limit goes down.
    Overloaded,
    /// The backend answered; its round trip is a fair measure of its load.
    Answered,
    /// Nothing can be learnt (the failure was local, or the connection never got to the
    /// backend).
    Unknown,
}

/// Decides how a failure is treated. Implement it to use the layers with other error types.
pub trait Classify: Clone + Send + Sync + 'static {
    /// Classifies `error`.
    fn classify(&self, error: &BoxError) -> Failure;

    /// What `error` says about the backend's load. By default: a server delay hint is back
    /// pressure, a local failure says nothing, any other failure is an answer.
    fn load(&self, error: &BoxError) -> Load {
        let failure = self.classify(error);
        if failure.retry_after.is_some() {
            Load::Overloaded
        } else if failure.local {
            Load::Unknown
        } else {
            Load::Answered
        }
    }
}

/// The OTLP classification: otlp-core's [`classify`](otlp_core::classify), plus tower's
/// per-attempt timeout (`tower::timeout::error::Elapsed`), which is a retryable timeout.
#[derive(Debug, Clone, Copy, Default)]
pub struct OtlpClassify;

impl Classify for OtlpClassify {
    fn classify(&self, error: &BoxError) -> Failure {
        if error.is::<tower::timeout::error::Elapsed>() {
            return Failure {
                retryable: ErrorKind::Timeout.is_retryable(),
                local: false,
                retry_after: None,
            };
        }
        let class = otlp_core::classify(error.as_ref());
        Failure {
            retryable: class.retryable,
            local: class.local,
            retry_after: class.retry_after,
        }
    }

    fn load(&self, error: &BoxError) -> Load {
        if error.is::<tower::timeout::error::Elapsed>() {
            return Load::Overloaded;
        }
        let class = otlp_core::classify(error.as_ref());
        if class.retry_after.is_some() && !class.local {
            return Load::Overloaded;
        }
        match class.kind {
            Some(ErrorKind::Throttled | ErrorKind::Unavailable | ErrorKind::Timeout) => {
                Load::Overloaded
            }
            Some(
                ErrorKind::Rejected
                | ErrorKind::PayloadTooLarge
                | ErrorKind::Encoding
                | ErrorKind::Tls,
            ) => Load::Answered,
            _ => Load::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp_core::Error;

    #[test]
    fn otlp_errors_and_tower_timeouts_are_classified() {
        let unavailable: BoxError = Box::new(Error::from_http_status(
            503,
            "",
            Some(Duration::from_secs(2)),
        ));
        let failure = OtlpClassify.classify(&unavailable);
        assert!(failure.retryable && failure.is_backend_failure());
        assert_eq!(failure.retry_after, Some(Duration::from_secs(2)));

        let elapsed: BoxError = Box::new(tower::timeout::error::Elapsed::new());
        assert!(OtlpClassify.classify(&elapsed).is_backend_failure());

        let local: BoxError = Box::new(Error::new(ErrorKind::BulkheadFull, ""));
        assert!(!OtlpClassify.classify(&local).is_backend_failure());

        let rejected: BoxError = Box::new(Error::from_http_status(400, "", None));
        assert!(!OtlpClassify.classify(&rejected).is_backend_failure());
    }

    #[test]
    fn back_pressure_is_throttling_unavailability_timeouts_and_delay_hints() {
        let load = |error: Error| OtlpClassify.load(&(Box::new(error) as BoxError));
        assert_eq!(
            load(Error::from_http_status(429, "", None)),
            Load::Overloaded
        );
        assert_eq!(
            load(Error::from_http_status(503, "", None)),
            Load::Overloaded
        );
        assert_eq!(load(Error::from_grpc_code(14, "", None)), Load::Overloaded);
        assert_eq!(load(Error::from_grpc_code(4, "", None)), Load::Overloaded);
        assert_eq!(
            load(Error::from_grpc_code(8, "", Some(Duration::from_secs(1)))),
            Load::Overloaded
        );
        assert_eq!(load(Error::from_http_status(400, "", None)), Load::Answered);
        assert_eq!(
            load(Error::new(ErrorKind::Connect, "refused")),
            Load::Unknown
        );
        assert_eq!(
            load(
                Error::new(ErrorKind::CircuitOpen, "open").with_retry_after(Duration::from_secs(1))
            ),
            Load::Unknown
        );
        let elapsed: BoxError = Box::new(tower::timeout::error::Elapsed::new());
        assert_eq!(OtlpClassify.load(&elapsed), Load::Overloaded);
    }
}
