//! What travels through the tower stack: an encoded request and the collector's answer.

use bytes::Bytes;

use crate::{RequestHeaders, Signal};

/// How the body of an [`ExportRequest`] is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// Binary protobuf (`application/x-protobuf`, and the only encoding gRPC carries).
    #[default]
    Protobuf,
    /// OTLP/JSON (`application/json`), as the OTLP specification defines it.
    Json,
}

impl Encoding {
    /// The HTTP `Content-Type` of a body in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// One encoded OTLP export request, ready to send.
///
/// The body is encoded once, when the batch is built; retries, load balancing and the disk
/// spool pass the same [`Bytes`] around (cloning it is a reference-count increment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    /// Which collector service the request is for.
    pub signal: Signal,
    /// How `body` is encoded.
    pub encoding: Encoding,
    /// The encoded `Export{Trace,Metrics,Logs}ServiceRequest`, uncompressed.
    pub body: Bytes,
    /// How many items (spans, data points or log records) the request carries.
    pub items: usize,
    /// A key that keeps related requests on one collector (for example a hash of the trace id
    /// when a batch holds one trace), or `None` when any collector will do.
    pub routing_key: Option<u64>,
    /// Headers for this request only (credentials, signatures), set by layers around each
    /// attempt; never spooled.
    pub headers: RequestHeaders,
}

impl ExportRequest {
    /// A request for `signal` whose `body` carries `items` items.
    pub fn new(signal: Signal, encoding: Encoding, body: Bytes, items: usize) -> Self {
        ExportRequest {
            signal,
            encoding,
            body,
            items,
            routing_key: None,
            headers: RequestHeaders::new(),
        }
    }

    /// Sets the routing key used by affinity balancing.
    pub fn with_routing_key(mut self, key: u64) -> Self {
        self.routing_key = Some(key);
        self
    }
}

/// What the collector said about a request it did not refuse outright.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOutcome {
    /// Items the collector accepted.
    pub accepted: usize,
    /// Items the collector rejected in a partial success. Never retried; counted.
    pub rejected: usize,
    /// The collector's message about the partial success, when it gave one.
    pub message: Option<String>,
    /// Items whose delivery failed for now but that are kept (in a disk spool) for a later
    /// attempt: neither delivered nor lost.
    pub deferred: usize,
}

impl ExportOutcome {
    /// Every item of a request of `items` items was accepted.
    pub fn accepted(items: usize) -> Self {
        ExportOutcome {
            accepted: items,
            rejected: 0,
            message: None,
            deferred: 0,
        }
    }

    /// A partial success: of `items` items, `rejected` were refused for the reason in `message`.
    ///
    /// A collector that reports more rejections than the request held is taken at its word for
    /// the whole request: `rejected` is capped at `items`.
    pub fn partial(items: usize, rejected: usize, message: impl Into<String>) -> Self {
        let rejected = rejected.min(items);
        let message = message.into();
        ExportOutcome {
            accepted: items - rejected,
            rejected,
            message: (!message.is_empty()).then_some(message),
            deferred: 0,
        }
    }

    /// Whether the collector refused part of the request.
    pub fn is_partial(&self) -> bool {
        self.rejected > 0 || self.message.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_success_never_counts_more_rejections_than_items() {
        let outcome = ExportOutcome::partial(3, 10, "quota");
        assert_eq!((outcome.accepted, outcome.rejected), (0, 3));
        assert!(outcome.is_partial());
        assert!(!ExportOutcome::accepted(5).is_partial());
    }

    #[test]
    fn a_warning_without_rejections_is_still_reported() {
        let outcome = ExportOutcome::partial(4, 0, "attribute truncated");
        assert_eq!(outcome.accepted, 4);
        assert!(outcome.is_partial());
    }
}
