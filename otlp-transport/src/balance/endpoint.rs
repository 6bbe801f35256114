//! One balanced endpoint: what a factory builds for its URL, and the numbers the balancer
//! keeps about it.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use otlp_core::{BoxError, Encoding, ExportOutcome, ExportRequest, Signal};
use tower::util::BoxCloneSyncService;

/// What a balancer needs of the requests it spreads: a clone for failover, the routing key of
/// [`BalanceStrategy::TraceId`](super::BalanceStrategy::TraceId), and the request a health probe sends.
///
/// Implemented for [`ExportRequest`] (key: the trace id's hash; probe: an empty traces
/// export). Implement it for a service's own calls to balance them the same way.
pub trait Balanced: Clone + Send + 'static {
    /// The key that picks an owner on the hash ring (`None`: round robin).
    fn routing_key(&self) -> Option<u64> {
        None
    }

    /// The request a health probe sends; an endpoint that fails it leaves the rotation.
    fn probe() -> Self;
}

impl Balanced for ExportRequest {
    fn routing_key(&self) -> Option<u64> {
        self.routing_key
    }

    fn probe() -> Self {
        ExportRequest::new(Signal::Traces, Encoding::Protobuf, Bytes::new(), 0)
    }
}

/// The service of one endpoint.
pub type EndpointService<Req = ExportRequest, Resp = ExportOutcome> =
    BoxCloneSyncService<Req, Resp, BoxError>;

/// What the factory builds for an endpoint URL.
pub struct EndpointParts<Req = ExportRequest, Resp = ExportOutcome> {
    /// The service requests go through (transport behind the endpoint's breaker).
    pub service: EndpointService<Req, Resp>,
    /// The plain transport, used by the health probe.
    pub probe: EndpointService<Req, Resp>,
    /// Says whether the endpoint's circuit is open now (`None`: no breaker). A closure, so
    /// this crate need not know the breaker's type.
    pub circuit_open: Option<CircuitCheck>,
}

/// Whether an endpoint's circuit is open.
pub type CircuitCheck = Arc<dyn Fn() -> bool + Send + Sync>;

/// Builds an endpoint's parts from its URL.
pub type EndpointFactory<Req = ExportRequest, Resp = ExportOutcome> =
    Arc<dyn Fn(&str) -> Result<EndpointParts<Req, Resp>, otlp_core::InvalidSetting> + Send + Sync>;

/// Per-endpoint numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointStats {
    /// The URL.
    pub url: String,
    /// Requests sent to it.
    pub requests: u64,
    /// Requests that failed on it with a retryable error and were sent on to the next
    /// endpoint (failover).
    pub failed_over: u64,
    /// Whether it is in the rotation now.
    pub available: bool,
    /// Requests to it that have not finished (a cancelled request counts as finished).
    pub in_flight: usize,
}

pub(crate) struct Endpoint<Req, Resp> {
    pub(crate) url: String,
    pub(crate) service: EndpointService<Req, Resp>,
    pub(crate) probe: EndpointService<Req, Resp>,
    pub(crate) circuit_open: Option<CircuitCheck>,
    pub(crate) healthy: AtomicBool,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) requests: AtomicU64,
    pub(crate) failed_over: AtomicU64,
}

impl<Req, Resp> Endpoint<Req, Resp> {
    pub(crate) fn new(url: &str, parts: EndpointParts<Req, Resp>) -> Self {
        Endpoint {
            url: url.to_owned(),
            service: parts.service,
            probe: parts.probe,
            circuit_open: parts.circuit_open,
            healthy: AtomicBool::new(true),
            in_flight: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            failed_over: AtomicU64::new(0),
        }
    }

    pub(crate) fn available(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
            && !self.circuit_open.as_ref().is_some_and(|open| open())
    }

    pub(crate) fn stats(&self) -> EndpointStats {
        EndpointStats {
            url: self.url.clone(),
            requests: self.requests.load(Ordering::Relaxed),
            failed_over: self.failed_over.load(Ordering::Relaxed),
            available: self.available(),
            in_flight: self.in_flight.load(Ordering::Relaxed),
        }
    }
}

/// Counts a request in its endpoint's `in_flight` for as long as it lives.
pub(crate) struct InFlightGuard<'a>(&'a AtomicUsize);

impl<'a> InFlightGuard<'a> {
    pub(crate) fn new(in_flight: &'a AtomicUsize) -> Self {
        in_flight.fetch_add(1, Ordering::Relaxed);
        InFlightGuard(in_flight)
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
