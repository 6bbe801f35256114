//! The error taxonomy shared by every layer, and the OTLP retry classification.
//!
//! Retryability is decided here and nowhere else: transports turn gRPC codes and HTTP statuses
//! into an [`Error`] with [`Error::from_grpc_code`] and [`Error::from_http_status`], and the
//! retry layer asks [`classify`], which walks an error's `source()` chain to find one.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// The longest delay a server may ask for before the next attempt (RetryInfo, `Retry-After`):
/// five minutes. A longer one is cut to this, so a collector (or anything on the path of a
/// plaintext export) cannot park an export task for days; the retry layer's total deadline
/// usually cuts it shorter still.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// The boxed error type that crosses tower layers.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong, in the terms the retry and accounting logic need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection could not be made (refused, DNS, TLS handshake to a live peer aside).
    Connect,
    /// The connection broke while the request was on the wire.
    Transport,
    /// One attempt ran past its timeout, or the server reported `DEADLINE_EXCEEDED` / 504.
    Timeout,
    /// The collector is temporarily unable to take the request (`UNAVAILABLE`, 502, 503, ...).
    Unavailable,
    /// The collector asked the client to slow down (429, or `RESOURCE_EXHAUSTED` with RetryInfo).
    Throttled,
    /// The collector refused the request for good (`INVALID_ARGUMENT`, 400, 401, ...).
    Rejected,
    /// The request is larger than the collector or the configured limit allows.
    PayloadTooLarge,
    /// The data could not be encoded or decoded.
    Encoding,
    /// TLS configuration or certificate verification failed; retrying will not help.
    Tls,
    /// The pipeline is shut down and takes no more work.
    Shutdown,
    /// Local: the circuit breaker for the endpoint is open.
    CircuitOpen,
    /// Local: the bulkhead had no free slot within its wait bound.
    BulkheadFull,
    /// Local: the batch queue was full and the item was dropped.
    QueueFull,
    /// Local: the total deadline of the export passed.
    DeadlineExceeded,
}

impl ErrorKind {
    /// Whether a request that failed this way may succeed if sent again, per the OTLP spec.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Connect
                | ErrorKind::Transport
                | ErrorKind::Timeout
                | ErrorKind::Unavailable
                | ErrorKind::Throttled
                | ErrorKind::CircuitOpen
        )
    }

    /// Whether the failure was decided on this side, without the collector's involvement.
    ///
    /// Local rejections never count as backend failures in a circuit breaker.
    pub fn is_local(self) -> bool {
        matches!(
            self,
            ErrorKind::CircuitOpen
                | ErrorKind::BulkheadFull
                | ErrorKind::QueueFull
                | ErrorKind::DeadlineExceeded
                | ErrorKind::Shutdown
        )
    }

    fn describe(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connection failed",
            ErrorKind::Transport => "transport error",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Unavailable => "collector unavailable",
            ErrorKind::Throttled => "throttled by the collector",
            ErrorKind::Rejected => "rejected by the collector",
            ErrorKind::PayloadTooLarge => "payload too large",
            ErrorKind::Encoding => "encoding error",
            ErrorKind::Tls => "TLS error",
            ErrorKind::Shutdown => "pipeline is shut down",
            ErrorKind::CircuitOpen => "circuit breaker open",
            ErrorKind::BulkheadFull => "bulkhead full",
            ErrorKind::QueueFull => "queue full",
            ErrorKind::DeadlineExceeded => "export deadline exceeded",
        }
    }
}

/// The status a collector answered with, when the failure came from an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A gRPC status code (`tonic::Code as i32`).
    Grpc(i32),
    /// An HTTP status code.
    Http(u16),
}

/// An export failure: a kind, a message, and the server's retry delay when it gave one.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    status: Option<Status>,
    retry_after: Option<Duration>,
    source: Option<BoxError>,
}

impl Error {
    /// An error of `kind` described by `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            status: None,
            retry_after: None,
            source: None,
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Attaches the delay the server (or a local component) asked for before the next try, cut
    /// to [`MAX_RETRY_AFTER`].
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay.min(MAX_RETRY_AFTER));
        self
    }

    /// Maps a gRPC status per the OTLP specification's table.
    ///
    /// `CANCELLED`, `DEADLINE_EXCEEDED`, `ABORTED`, `OUT_OF_RANGE`, `UNAVAILABLE` and
    /// `DATA_LOSS` are retryable; `RESOURCE_EXHAUSTED` is retryable only when the server sent
    /// RetryInfo (`retry_info`), whose delay is kept (cut to [`MAX_RETRY_AFTER`]); every other
    /// code is permanent.
    pub fn from_grpc_code(
        code: i32,
        message: impl Into<String>,
        retry_info: Option<Duration>,
    ) -> Self {
        let kind = match code {
            1 => ErrorKind::Transport,
            4 => ErrorKind::Timeout,
            10 | 11 | 14 | 15 => ErrorKind::Unavailable,
            8 if retry_info.is_some() => ErrorKind::Throttled,
            _ => ErrorKind::Rejected,
        };
        let mut error = Error::new(kind, message);
        error.status = Some(Status::Grpc(code));
        error.retry_after = retry_info
            .filter(|_| kind.is_retryable())
            .map(|delay| delay.min(MAX_RETRY_AFTER));
        error
    }

    /// Maps an HTTP status per the OTLP specification: 429, 502, 503 and 504 are retryable (with
    /// the `Retry-After` delay when there was one, cut to [`MAX_RETRY_AFTER`]), 413 is too large,
    /// every other is permanent.
    pub fn from_http_status(
        status: u16,
        message: impl Into<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        let kind = match status {
            429 => ErrorKind::Throttled,
            502 | 503 => ErrorKind::Unavailable,
            504 => ErrorKind::Timeout,
            413 => ErrorKind::PayloadTooLarge,
            _ => ErrorKind::Rejected,
        };
        let mut error = Error::new(kind, message);
        error.status = Some(Status::Http(status));
        error.retry_after = retry_after
            .filter(|_| kind.is_retryable())
            .map(|delay| delay.min(MAX_RETRY_AFTER));
        error
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The collector's status, when the failure came from its answer.
    pub fn status(&self) -> Option<Status> {
        self.status
    }

    /// The delay the server asked for before the next attempt (RetryInfo, Retry-After), or the
    /// time until a circuit breaker admits the next probe.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether sending the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The human-readable message, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.describe())?;
        match self.status {
            Some(Status::Grpc(code)) => write!(f, " (gRPC status {code})")?,
            Some(Status::Http(code)) => write!(f, " (HTTP {code})")?,
            None => {}
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(delay) = self.retry_after {
            write!(f, "; retry after {delay:?}")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// How the retry and breaker layers should treat a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    /// The kind found in the error chain, or `None` for an error from outside the family.
    pub kind: Option<ErrorKind>,
    /// Whether the request may be sent again.
    pub retryable: bool,
    /// Whether the failure was local (never a backend failure).
    pub local: bool,
    /// The server's (or breaker's) delay hint.
    pub retry_after: Option<Duration>,
}

/// Classifies any error by walking its `source()` chain for an [`Error`].
///
/// An `std::io::Error` found first counts as a retryable transport failure (a reset or refused
/// connection); an error with neither in its chain is permanent.
pub fn classify(error: &(dyn StdError + 'static)) -> Classification {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(err) = current {
        if let Some(ours) = err.downcast_ref::<Error>() {
            return Classification {
                kind: Some(ours.kind),
                retryable: ours.is_retryable(),
                local: ours.kind.is_local(),
                retry_after: ours.retry_after,
            };
        }
        if err.downcast_ref::<std::io::Error>().is_some() {
            return Classification {
                kind: Some(ErrorKind::Transport),
                retryable: true,
                local: false,
                retry_after: None,
            };
        }
        current = err.source();
    }
    Classification {
        kind: None,
        retryable: false,
        local: false,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_codes_follow_the_specification_table() {
        let retryable = [1, 4, 10, 11, 14, 15];
        for code in 0..=16 {
            let error = Error::from_grpc_code(code, "", None);
            assert_eq!(
                error.is_retryable(),
                retryable.contains(&code),
                "code {code}"
            );
        }
        let throttled = Error::from_grpc_code(8, "slow down", Some(Duration::from_secs(2)));
        assert_eq!(throttled.kind(), ErrorKind::Throttled);
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(2)));
        assert!(!Error::from_grpc_code(8, "quota", None).is_retryable());
    }

    #[test]
    fn http_statuses_follow_the_specification() {
        for status in [429, 502, 503, 504] {
            assert!(
                Error::from_http_status(status, "", None).is_retryable(),
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 405, 413, 415, 500, 501] {
            assert!(
                !Error::from_http_status(status, "", None).is_retryable(),
                "{status}"
            );
        }
        let error = Error::from_http_status(400, "", Some(Duration::from_secs(5)));
        assert_eq!(
            error.retry_after(),
            None,
            "a permanent error carries no retry delay"
        );
    }

    #[test]
    fn classify_walks_the_source_chain() {
        #[derive(Debug)]
        struct Wrapper(Error);
        impl fmt::Display for Wrapper {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("wrapped")
            }
        }
        impl StdError for Wrapper {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let wrapped = Wrapper(Error::from_http_status(
            429,
            "",
            Some(Duration::from_secs(3)),
        ));
        let class = classify(&wrapped);
        assert!(class.retryable);
        assert_eq!(class.retry_after, Some(Duration::from_secs(3)));

        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(classify(&io).retryable);

        let local = Error::new(ErrorKind::BulkheadFull, "");
        assert!(classify(&local).local);
        assert!(!classify(&std::fmt::Error).retryable);
    }

    #[test]
    fn display_names_kind_status_and_delay() {
        let error = Error::from_http_status(503, "maintenance", Some(Duration::from_secs(1)));
        assert_eq!(
            error.to_string(),
            "collector unavailable (HTTP 503): maintenance; retry after 1s"
        );
    }
}
