//! Several collectors: discovery, load balancing and failover.
// tidy: long-file the balancer service, its endpoint set and the set's update are one idea; a few lines over
//!
//! A [`Balancer`] is a `tower::Service<ExportRequest>` over a changing set of endpoints. A
//! [`Resolver`] supplies the set ([`StaticResolver`], [`DnsResolver`], [`ConsulResolver`], or
//! your own); a factory builds each endpoint's service (its transport behind its own circuit
//! breaker). Requests go to an available endpoint ([`Strategy`]: round robin, least loaded by
//! power of two choices over in-flight requests, or trace-id affinity on a consistent-hash
//! ring); a request that fails on one endpoint with a retryable error is sent to the next one.
//! An endpoint leaves the rotation while its breaker is open or its active health probe (an
//! empty OTLP export) fails, and returns when it recovers.

mod consul;
mod dns;
mod resolver;
mod ring;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use otlp_core::{BoxError, Encoding, Error, ErrorKind, ExportOutcome, ExportRequest, Signal};
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

pub use consul::ConsulResolver;
pub use dns::{DnsResolver, Lookup, SystemLookup};
pub use resolver::{Resolution, Resolver, StaticResolver};
pub use ring::trace_key;
use ring::Ring;

/// How a request chooses its collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Each endpoint in turn.
    #[default]
    RoundRobin,
    /// The less busy of two endpoints picked at random (in-flight requests).
    LeastLoaded,
    /// The owner of the request's routing key on a consistent-hash ring, so all spans of a
    /// trace reach the same collector; requests without a key go round robin.
    TraceId,
}

impl Strategy {
    /// Parses `round-robin`, `least-loaded` or `trace-id`.
    pub fn parse(setting: &str, value: &str) -> Result<Self, otlp_core::InvalidSetting> {
        match value.trim() {
            "round-robin" => Ok(Strategy::RoundRobin),
            "least-loaded" => Ok(Strategy::LeastLoaded),
            "trace-id" => Ok(Strategy::TraceId),
            _ => Err(otlp_core::InvalidSetting::new(
                setting,
                value,
                "expected round-robin, least-loaded or trace-id",
            )),
        }
    }
}

/// The service of one endpoint.
pub type EndpointService = BoxCloneSyncService<ExportRequest, ExportOutcome, BoxError>;

/// What the factory builds for an endpoint URL.
pub struct EndpointParts {
    /// The service requests go through (transport behind the endpoint's breaker).
    pub service: EndpointService,
    /// The plain transport, used by the health probe.
    pub probe: EndpointService,
    /// Says whether the endpoint's circuit is open now (`None`: no breaker). A closure, so
    /// this crate need not know the breaker's type.
    pub circuit_open: Option<CircuitCheck>,
}

/// Whether an endpoint's circuit is open.
pub type CircuitCheck = Arc<dyn Fn() -> bool + Send + Sync>;

/// Builds an endpoint's parts from its URL.
pub type EndpointFactory =
    Arc<dyn Fn(&str) -> Result<EndpointParts, otlp_core::InvalidSetting> + Send + Sync>;

/// Settings of a balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalancerConfig {
    /// The strategy.
    pub strategy: Strategy,
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
            strategy: Strategy::RoundRobin,
            max_failover: 3,
            probe_interval: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(2),
        }
    }
}

struct Endpoint {
    url: String,
    service: EndpointService,
    probe: EndpointService,
    circuit_open: Option<CircuitCheck>,
    healthy: AtomicBool,
    in_flight: AtomicUsize,
    requests: AtomicU64,
}

impl Endpoint {
    fn available(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
            && !self.circuit_open.as_ref().is_some_and(|open| open())
    }
}

struct Set {
    endpoints: Vec<Arc<Endpoint>>,
    ring: Ring,
}

struct Shared {
    config: BalancerConfig,
    factory: EndpointFactory,
    set: RwLock<Arc<Set>>,
    next: AtomicUsize,
    rng: parking_lot::Mutex<fastrand::Rng>,
}

/// Requests spread over a resolved set of collectors; see the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Balancer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Balancer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Balancer")
            .field("config", &self.shared.config)
            .field("endpoints", &self.endpoints())
            .finish()
    }
}

/// Per-endpoint numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointStats {
    /// The URL.
    pub url: String,
    /// Requests sent to it.
    pub requests: u64,
    /// Whether it is in the rotation now.
    pub available: bool,
    /// Requests to it that have not finished (a cancelled request counts as finished).
    pub in_flight: usize,
}

impl Balancer {
    /// Starts a balancer on the current tokio runtime: resolves once now, then follows
    /// `resolver` and probes endpoints in the background until every clone is dropped.
    pub async fn start(
        config: BalancerConfig,
        resolver: Arc<dyn Resolver>,
        factory: EndpointFactory,
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
                update(&shared, &resolution.endpoints);
            }
            Ok(Err(error)) => tracing::warn!(%error, "collector discovery failed; will retry"),
            Err(_) => tracing::warn!("collector discovery gave no answer in 10 s; will retry"),
        }
        let weak = Arc::downgrade(&shared);
        tokio::spawn(follow(weak.clone(), resolver, token));
        tokio::spawn(probe(weak));
        Balancer { shared }
    }

    /// The current endpoints and their numbers.
    pub fn endpoints(&self) -> Vec<EndpointStats> {
        self.snapshot()
            .endpoints
            .iter()
            .map(|e| EndpointStats {
                url: e.url.clone(),
                requests: e.requests.load(Ordering::Relaxed),
                available: e.available(),
                in_flight: e.in_flight.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// The endpoint that owns `key` on the ring now (for grouping a batch by owner).
    pub fn owner(&self, key: u64) -> Option<usize> {
        self.snapshot().ring.order(key).first().copied()
    }

    fn snapshot(&self) -> Arc<Set> {
        Arc::clone(&self.shared.set.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The endpoints to try for `request`, in order: available ones by the strategy, then
    /// the others (a last resort when all look down).
    fn candidates(&self, set: &Set, request: &ExportRequest) -> Vec<Arc<Endpoint>> {
        let n = set.endpoints.len();
        if n == 0 {
            return Vec::new();
        }
        let order: Vec<usize> = match (self.shared.config.strategy, request.routing_key) {
            (Strategy::TraceId, Some(key)) => set.ring.order(key),
            (Strategy::LeastLoaded, _) => {
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

impl Service<ExportRequest> for Balancer {
    type Response = ExportOutcome;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<ExportOutcome, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ExportRequest) -> Self::Future {
        let set = self.snapshot();
        let candidates = self.candidates(&set, &request);
        let max = self.shared.config.max_failover.max(1);
        Box::pin(async move {
            let mut last = None;
            for endpoint in candidates.into_iter().take(max) {
                endpoint.requests.fetch_add(1, Ordering::Relaxed);
                let result = {
                    // Decremented on drop too: a caller's timeout cancels this future.
                    let _counted = InFlightGuard::new(&endpoint);
                    endpoint.service.clone().oneshot(request.clone()).await
                };
                match result {
                    Ok(outcome) => return Ok(outcome),
                    Err(error) => {
                        let class = otlp_core::classify(error.as_ref());
                        if !(class.retryable || class.local) {
                            return Err(error);
                        }
                        tracing::debug!(endpoint = %endpoint.url, %error, "trying the next collector");
                        last = Some(error);
                    }
                }
            }
            Err(last.unwrap_or_else(|| {
                Error::new(ErrorKind::Unavailable, "no collector endpoint is known").into()
            }))
        })
    }
}

/// Counts a request in its endpoint's `in_flight` for as long as it lives.
struct InFlightGuard<'a>(&'a Endpoint);

impl<'a> InFlightGuard<'a> {
    fn new(endpoint: &'a Endpoint) -> Self {
        endpoint.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlightGuard(endpoint)
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Replaces the endpoint set, keeping the state of endpoints that stay.
fn update(shared: &Shared, urls: &[String]) {
    let current = Arc::clone(&shared.set.read().unwrap_or_else(|e| e.into_inner()));
    let mut endpoints = Vec::with_capacity(urls.len());
    for url in urls {
        if let Some(existing) = current.endpoints.iter().find(|e| &e.url == url) {
            endpoints.push(Arc::clone(existing));
            continue;
        }
        match (shared.factory)(url) {
            Ok(parts) => endpoints.push(Arc::new(Endpoint {
                url: url.clone(),
                service: parts.service,
                probe: parts.probe,
                circuit_open: parts.circuit_open,
                healthy: AtomicBool::new(true),
                in_flight: AtomicUsize::new(0),
                requests: AtomicU64::new(0),
            })),
            Err(error) => {
                let url = otlp_core::redact::url(url);
                tracing::warn!(%url, %error, "skipping a collector endpoint");
            }
        }
    }
    if endpoints
        .iter()
        .map(|e| &e.url)
        .eq(current.endpoints.iter().map(|e| &e.url))
    {
        return;
    }
    let names: Vec<&str> = endpoints.iter().map(|e| e.url.as_str()).collect();
    let shown: Vec<String> = names
        .iter()
        .map(|url| otlp_core::redact::url(url))
        .collect();
    tracing::info!(endpoints = ?shown, "collector set changed");
    let ring = Ring::new(&names);
    *shared.set.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Set { endpoints, ring });
}

/// Follows the resolver while the balancer lives.
async fn follow(
    shared: std::sync::Weak<Shared>,
    resolver: Arc<dyn Resolver>,
    mut token: Option<u64>,
) {
    loop {
        let pause = resolver.interval();
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let result = resolver.resolve(token).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        match result {
            Ok(resolution) => {
                token = resolution.token;
                update(&shared, &resolution.endpoints);
            }
            Err(error) => {
                tracing::warn!(%error, "collector discovery failed; keeping the last set");
                token = None;
                drop(shared);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Probes every endpoint with an empty export request while the balancer lives.
async fn probe(shared: std::sync::Weak<Shared>) {
    loop {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let interval = strong.config.probe_interval;
        let timeout = strong.config.probe_timeout;
        let set = Arc::clone(&strong.set.read().unwrap_or_else(|e| e.into_inner()));
        drop(strong);
        let probes = set.endpoints.iter().map(|endpoint| async move {
            let empty = ExportRequest::new(Signal::Traces, Encoding::Protobuf, Bytes::new(), 0);
            let ok = matches!(
                tokio::time::timeout(timeout, endpoint.probe.clone().oneshot(empty)).await,
                Ok(Ok(_))
            );
            let was = endpoint.healthy.swap(ok, Ordering::Relaxed);
            if was != ok {
                let url = otlp_core::redact::url(&endpoint.url);
                tracing::info!(endpoint = %url, healthy = ok, "collector health changed");
            }
        });
        futures_util::future::join_all(probes).await;
        tokio::time::sleep(interval).await;
    }
}
