//! Several endpoints: discovery, load balancing and failover, for collectors or for any
//! service's own calls.
//!
//! A [`Balancer`] is a `tower::Service<Req>` over a changing set of endpoints, by default
//! `Req = ExportRequest` (several collectors). A [`Resolver`] supplies the set
//! ([`StaticResolver`], [`DnsResolver`], [`ConsulResolver`], or your own; [`resolver_for`]
//! builds one from `dns:///host:port`, `consul://service` or a list of URLs); a factory builds
//! each endpoint's service (its transport behind its own circuit breaker). Requests go to an
//! available endpoint ([`BalanceStrategy`]: round robin, least loaded by power of two choices over
//! in-flight requests, or trace-id affinity on a consistent-hash ring); a request that fails
//! on one endpoint with a retryable error is sent to the next one (failover). An endpoint
//! leaves the rotation while its breaker is open or its active health probe
//! ([`Balanced::probe`]: for collectors an empty OTLP export) fails, and returns when it
//! recovers.
//!
//! Any request type that implements [`Balanced`] can be balanced: a service's outbound calls
//! to the replicas of another service get the same discovery, balancing and failover.

mod background;
mod consul;
mod discovery;
mod dns;
mod endpoint;
mod resolver;
mod ring;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, Error, ErrorKind, ExportOutcome, ExportRequest};
use tower::{Service, ServiceExt};

pub use consul::ConsulResolver;
pub use discovery::{check_target, resolver_for, DiscoveryConfig};
pub use dns::{DnsResolver, Lookup, SystemLookup};
pub use endpoint::{
    Balanced, CircuitCheck, EndpointFactory, EndpointParts, EndpointService, EndpointStats,
};
use endpoint::{Endpoint, InFlightGuard};
pub use resolver::{Resolution, Resolver, StaticResolver};
pub use ring::trace_key;
use ring::Ring;

/// How a request chooses its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BalanceStrategy {
    /// Each endpoint in turn.
    #[default]
    RoundRobin,
    /// The less busy of two endpoints picked at random (in-flight requests).
    LeastLoaded,
    /// The owner of the request's routing key on a consistent-hash ring, so all spans of a
    /// trace reach the same endpoint; requests without a key go round robin.
    TraceId,
}

impl BalanceStrategy {
    /// Parses `round-robin`, `least-loaded` or `trace-id`.
    pub fn parse(setting: &str, value: &str) -> Result<Self, otlp_core::InvalidSetting> {
        match value.trim() {
            "round-robin" => Ok(BalanceStrategy::RoundRobin),
            "least-loaded" => Ok(BalanceStrategy::LeastLoaded),
            "trace-id" => Ok(BalanceStrategy::TraceId),
            _ => Err(otlp_core::InvalidSetting::new(
                setting,
                value,
                "expected round-robin, least-loaded or trace-id",
            )),
        }
    }
}

/// Settings of a balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalancerConfig {
    /// The strategy.
    pub strategy: BalanceStrategy,
    /// Endpoints a request tries before it fails (the retry layer above may try again).
    pub max_failover: usize,
    /// How often each endpoint is probed.
    pub probe_interval: Duration,
    /// How long a probe may take.
    pub probe_timeout: Duration,
}

impl Default for BalancerConfig {
    fn default() -> Self {
        BalancerConfig {
            strategy: BalanceStrategy::RoundRobin,
            max_failover: 3,
            probe_interval: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(2),
        }
    }
}

pub(crate) struct Set<Req, Resp> {
    pub(crate) endpoints: Vec<Arc<Endpoint<Req, Resp>>>,
    ring: Ring,
}

pub(crate) struct Shared<Req, Resp> {
    config: BalancerConfig,
    factory: EndpointFactory<Req, Resp>,
    set: RwLock<Arc<Set<Req, Resp>>>,
    next: AtomicUsize,
    rng: parking_lot::Mutex<fastrand::Rng>,
}

impl<Req, Resp> Shared<Req, Resp> {
    fn snapshot(&self) -> Arc<Set<Req, Resp>> {
        Arc::clone(&self.set.read().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Requests spread over a resolved set of endpoints; see the module docs. Cheap to clone.
pub struct Balancer<Req = ExportRequest, Resp = ExportOutcome> {
    shared: Arc<Shared<Req, Resp>>,
}

impl<Req, Resp> Clone for Balancer<Req, Resp> {
    fn clone(&self) -> Self {
        Balancer {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<Req, Resp> std::fmt::Debug for Balancer<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Balancer")
            .field("config", &self.shared.config)
            .field("endpoints", &self.endpoints())
            .finish()
    }
}

impl<Req: Balanced, Resp: Send + 'static> Balancer<Req, Resp> {
    /// Starts a balancer on the current tokio runtime: resolves once now, then follows
    /// `resolver` and probes endpoints in the background until every clone is dropped.
    pub async fn start(
        config: BalancerConfig,
        resolver: Arc<dyn Resolver>,
        factory: EndpointFactory<Req, Resp>,
    ) -> Self {
        let shared = Arc::new(Shared {
            config,
            factory,
            set: RwLock::new(Arc::new(Set {
                endpoints: Vec::new(),
                ring: Ring::default(),
            })),
            next: AtomicUsize::new(0),
            rng: parking_lot::Mutex::new(fastrand::Rng::new()),
        });
        let mut token = None;
        match tokio::time::timeout(Duration::from_secs(10), resolver.resolve(None)).await {
            Ok(Ok(resolution)) => {
                token = resolution.token;
                background::update(&shared, &resolution.endpoints);
            }
            Ok(Err(error)) => tracing::warn!(%error, "discovery failed; will retry"),
            Err(_) => tracing::warn!("discovery gave no answer in 10 s; will retry"),
        }
        let weak = Arc::downgrade(&shared);
        tokio::spawn(background::follow(weak.clone(), resolver, token));
        tokio::spawn(background::probe(weak));
        Balancer { shared }
    }
}

impl<Req, Resp> Balancer<Req, Resp> {
    /// The current endpoints and their numbers.
    pub fn endpoints(&self) -> Vec<EndpointStats> {
        self.snapshot()
            .endpoints
            .iter()
            .map(|e| e.stats())
            .collect()
    }

    /// The endpoint that owns `key` on the ring now (for grouping a batch by owner).
    pub fn owner(&self, key: u64) -> Option<usize> {
        self.snapshot().ring.order(key).first().copied()
    }

    fn snapshot(&self) -> Arc<Set<Req, Resp>> {
        self.shared.snapshot()
    }

    /// The endpoints to try for `request`, in order: available ones by the strategy, then
    /// the others (a last resort when all look down).
    fn candidates(&self, set: &Set<Req, Resp>, key: Option<u64>) -> Vec<Arc<Endpoint<Req, Resp>>> {
        let n = set.endpoints.len();
        if n == 0 {
            return Vec::new();
        }
        let order: Vec<usize> = match (self.shared.config.strategy, key) {
            (BalanceStrategy::TraceId, Some(key)) => set.ring.order(key),
            (BalanceStrategy::LeastLoaded, _) => {
                let mut rng = self.shared.rng.lock();
                let (a, b) = (rng.usize(0..n), rng.usize(0..n));
                drop(rng);
                let load = |i: usize| set.endpoints[i].in_flight.load(Ordering::Relaxed);
                let first = if load(b) < load(a) { b } else { a };
                std::iter::once(first)
                    .chain((0..n).filter(|i| *i != first))
                    .collect()
            }
            _ => {
                let start = self.shared.next.fetch_add(1, Ordering::Relaxed);
                (0..n).map(|i| (start + i) % n).collect()
            }
        };
        let (available, down): (Vec<_>, Vec<_>) = order
            .into_iter()
            .map(|i| Arc::clone(&set.endpoints[i]))
            .partition(|e| e.available());
        available.into_iter().chain(down).collect()
    }
}

impl<Req: Balanced, Resp: Send + 'static> Service<Req> for Balancer<Req, Resp> {
    type Response = Resp;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Resp, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let set = self.snapshot();
        let candidates = self.candidates(&set, request.routing_key());
        let max = self.shared.config.max_failover.max(1);
        Box::pin(async move {
            let mut last = None;
            for endpoint in candidates.into_iter().take(max) {
                endpoint.requests.fetch_add(1, Ordering::Relaxed);
                let result = {
                    // Decremented on drop too: a caller's timeout cancels this future.
                    let _counted = InFlightGuard::new(&endpoint.in_flight);
                    endpoint.service.clone().oneshot(request.clone()).await
                };
                match result {
                    Ok(outcome) => return Ok(outcome),
                    Err(error) => {
                        let class = otlp_core::classify(error.as_ref());
                        if !(class.retryable || class.local) {
                            return Err(error);
                        }
                        endpoint.failed_over.fetch_add(1, Ordering::Relaxed);
                        let url = otlp_core::redact::url(&endpoint.url);
                        tracing::debug!(endpoint = %url, %error, "trying the next endpoint");
                        last = Some(error);
                    }
                }
            }
            Err(last.unwrap_or_else(|| {
                Error::new(
                    ErrorKind::Unavailable,
                    "no endpoint is known (discovery found none)",
                )
                .into()
            }))
        })
    }
}
