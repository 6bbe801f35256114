//! Several collectors: three receivers on loopback behind a balancer, resolvers that change
// tidy: long-file the balancing behaviours share one set of receivers, factory and resolvers
//! their answer, and a Consul-compatible server with blocking queries.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_core::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_core::Telemetry;
use otlp_core::{Encoding, ExportRequest, Signal};
use otlp_reliability::circuit_breaker::{BreakerConfig, CircuitBreakerLayer, CircuitState};
use otlp_reliability::OtlpClassify;
use otlp_transport::balance::{
    trace_key, BalanceStrategy, Balancer, BalancerConfig, ConsulResolver, DnsResolver,
    EndpointFactory, EndpointParts, Lookup, Resolver, StaticResolver,
};
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::receiver::{Receiver, ReceiverConfig};
use parking_lot::Mutex;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceExt};

/// Each endpoint: a gRPC transport behind a breaker that opens after 2 failures for 300 ms.
fn factory() -> EndpointFactory {
    Arc::new(|url: &str| {
        let transport =
            GrpcTransport::new(GrpcConfig::new(url).with_timeout(Duration::from_secs(2)))?;
        let breaker = CircuitBreakerLayer::new(
            url,
            BreakerConfig::default()
                .with_consecutive_failures(2)
                .with_open_duration(
                    Duration::from_millis(300),
                    1.0,
                    Duration::from_millis(300),
                    0.0,
                ),
            OtlpClassify,
        )?;
        let handle = breaker.handle();
        Ok(EndpointParts {
            service: BoxCloneSyncService::new(breaker.layer(transport.clone())),
            probe: BoxCloneSyncService::new(transport),
            circuit_open: Some(Arc::new(move || handle.state() == CircuitState::Open)),
        })
    })
}

fn config(strategy: BalanceStrategy) -> BalancerConfig {
    BalancerConfig {
        strategy,
        probe_interval: Duration::from_millis(200),
        probe_timeout: Duration::from_millis(500),
        ..BalancerConfig::default()
    }
}

async fn receivers(n: usize) -> Vec<Receiver> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(Receiver::start(ReceiverConfig::default()).await.unwrap());
    }
    out
}

/// One request carrying `spans` spans of the trace `trace`.
fn trace_request(trace: u8, spans: usize) -> ExportRequest {
    let message = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (0..spans)
                    .map(|i| Span {
                        trace_id: vec![trace; 16],
                        span_id: (i as u64 + 1).to_be_bytes().to_vec(),
                        name: format!("span {i}"),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let options = otlp_core::encode::EncodeOptions::default();
    let request = otlp_core::encode::encode_message(message, &options)
        .unwrap()
        .requests
        .remove(0);
    request.with_routing_key(trace_key(&[trace; 16]))
}

/// `n` receivers behind a balancer over a static list of their gRPC endpoints.
async fn balanced(n: usize, strategy: BalanceStrategy) -> (Vec<Receiver>, Balancer) {
    let receivers = receivers(n).await;
    let urls: Vec<String> = receivers.iter().map(Receiver::grpc_endpoint).collect();
    let balancer = Balancer::start(
        config(strategy),
        Arc::new(StaticResolver::new(urls)),
        factory(),
    )
    .await;
    (receivers, balancer)
}

/// A request of one span, without a routing key.
fn one_span() -> ExportRequest {
    support::request(&support::payload(Signal::Traces, 1), Encoding::Protobuf)
}

/// Polls `condition` until it holds, for at most 10 s (a "does not hang" bound): the tests
/// wait for what they observe, never for a fixed time.
async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn spans_of(receiver: &Receiver) -> usize {
    receiver.counts().spans
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_spreads_within_ten_percent() {
    let (receivers, balancer) = balanced(3, BalanceStrategy::RoundRobin).await;
    for _ in 0..300 {
        let request = one_span();
        balancer.clone().oneshot(request).await.unwrap();
    }
    for receiver in &receivers {
        let got = spans_of(receiver);
        assert!((90..=110).contains(&got), "{got} of 300");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_loaded_uses_every_collector() {
    let (receivers, balancer) = balanced(3, BalanceStrategy::LeastLoaded).await;
    let sends = (0..150).map(|_| {
        let balancer = balancer.clone();
        tokio::spawn(async move {
            let request = one_span();
            balancer.oneshot(request).await.unwrap();
        })
    });
    for send in sends.collect::<Vec<_>>() {
        send.await.unwrap();
    }
    let counts: Vec<usize> = receivers.iter().map(spans_of).collect();
    assert_eq!(counts.iter().sum::<usize>(), 150);
    assert!(counts.iter().all(|c| *c >= 20), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_id_affinity_never_splits_a_trace() {
    let (receivers, balancer) = balanced(3, BalanceStrategy::TraceId).await;
    for round in 0..3 {
        for trace in 0..200u8 {
            balancer
                .clone()
                .oneshot(trace_request(trace, 1 + round))
                .await
                .unwrap();
        }
    }
    let mut owners = std::collections::HashMap::new();
    for (index, receiver) in receivers.iter().enumerate() {
        for received in receiver.received() {
            let Telemetry::Traces(request) = received.payload else {
                continue;
            };
            for span in request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans)
            {
                let owner = owners.entry(span.trace_id.clone()).or_insert(index);
                assert_eq!(*owner, index, "a trace reached two collectors");
            }
        }
    }
    assert_eq!(owners.len(), 200);
    let per_receiver: Vec<usize> = (0..3)
        .map(|i| owners.values().filter(|o| **o == i).count())
        .collect();
    assert!(per_receiver.iter().all(|n| *n >= 30), "{per_receiver:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_a_collector_loses_nothing_and_it_returns_after_a_restart() {
    let (mut receivers, balancer) = balanced(3, BalanceStrategy::RoundRobin).await;
    let send = |n: usize| {
        let balancer = balancer.clone();
        async move {
            for _ in 0..n {
                let request = one_span();
                balancer.clone().oneshot(request).await.unwrap();
            }
        }
    };
    send(30).await;
    let stopped = receivers.remove(1);
    let addr: SocketAddr = stopped.grpc_addr();
    let before = spans_of(&stopped);
    stopped.shutdown().await;
    send(60).await;
    let survivors: usize = receivers.iter().map(spans_of).sum();
    assert_eq!(before + survivors, 90, "every request arrived somewhere");

    // Restart on the same port: the probe and the breaker's half-open let traffic back in.
    let restarted = Receiver::start(ReceiverConfig {
        grpc_addr: addr,
        ..ReceiverConfig::default()
    })
    .await
    .unwrap();
    // Wait for the balancer to see it again (its probe, then the breaker's half-open), not
    // for a fixed time.
    wait_until(|| balancer.endpoints().iter().all(|e| e.available)).await;
    send(60).await;
    assert!(
        spans_of(&restarted) >= 10,
        "traffic returned: {}",
        spans_of(&restarted)
    );
    let available = balancer.endpoints().iter().filter(|e| e.available).count();
    assert_eq!(available, 3);
}

/// A lookup whose answer the test changes.
#[derive(Clone, Default)]
struct ScriptedLookup(Arc<Mutex<Vec<SocketAddr>>>);

impl Lookup for ScriptedLookup {
    fn lookup(
        &self,
        _host: &str,
        _port: u16,
    ) -> futures_util::future::BoxFuture<'static, std::io::Result<Vec<SocketAddr>>> {
        let answer = self.0.lock().clone();
        Box::pin(async move { Ok(answer) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_re_resolution_follows_a_changed_answer() {
    let receivers = receivers(2).await;
    let lookup = ScriptedLookup::default();
    *lookup.0.lock() = vec![receivers[0].grpc_addr()];
    let resolver = DnsResolver::new("http", "collectors.test", 0, Duration::from_millis(100))
        .with_lookup(lookup.clone());
    let balancer = Balancer::start(
        config(BalanceStrategy::RoundRobin),
        Arc::new(resolver),
        factory(),
    )
    .await;
    assert_eq!(balancer.endpoints().len(), 1);
    *lookup.0.lock() = vec![receivers[0].grpc_addr(), receivers[1].grpc_addr()];
    wait_until(|| balancer.endpoints().len() == 2).await;
    assert_eq!(balancer.endpoints().len(), 2);
    for _ in 0..10 {
        let request = one_span();
        balancer.clone().oneshot(request).await.unwrap();
    }
    assert_eq!(
        spans_of(&receivers[1]),
        5,
        "the new address takes its share"
    );
}

#[tokio::test]
async fn the_system_resolver_finds_localhost() {
    let resolver = DnsResolver::new("http", "localhost", 4317, Duration::from_secs(30));
    let resolution = resolver.resolve(None).await.unwrap();
    assert!(
        resolution
            .endpoints
            .contains(&"http://127.0.0.1:4317".to_owned()),
        "{:?}",
        resolution.endpoints
    );
}

/// A server that answers like Consul's health API, blocking queries included.
mod consul {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use axum::extract::{Path, Query, State};
    use axum::response::IntoResponse;
    use axum::routing::get;
    use axum::Router;
    use parking_lot::Mutex;
    use tokio::sync::Notify;

    /// The index and the registered instances (address, port).
    type Registry = (u64, Vec<(String, u16)>);

    #[derive(Clone, Default)]
    pub struct Consul {
        pub state: Arc<Mutex<Registry>>,
        pub changed: Arc<Notify>,
        /// Blocking queries the server is holding now.
        pub held: Arc<AtomicUsize>,
    }

    impl Consul {
        pub fn set(&self, instances: Vec<(String, u16)>) {
            let mut state = self.state.lock();
            state.0 += 1;
            state.1 = instances;
            self.changed.notify_waiters();
        }
    }

    async fn health(
        State(consul): State<Consul>,
        Path(service): Path<String>,
        Query(query): Query<HashMap<String, String>>,
    ) -> impl IntoResponse {
        assert_eq!(service, "otel-collector");
        assert!(
            query.contains_key("passing"),
            "only passing instances are asked for"
        );
        let index: Option<u64> = query.get("index").and_then(|i| i.parse().ok());
        let wait = query
            .get("wait")
            .and_then(|w| w.trim_end_matches('s').parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_secs(300));
        if index.is_some_and(|i| i == consul.state.lock().0) {
            // Registered before the count is raised, so a change right after is not missed.
            let changed = consul.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            consul.held.fetch_add(1, Ordering::SeqCst);
            let _ = tokio::time::timeout(wait, changed).await;
            consul.held.fetch_sub(1, Ordering::SeqCst);
        }
        let (index, instances) = consul.state.lock().clone();
        let body: Vec<serde_json::Value> = instances
            .iter()
            .map(|(address, port)| {
                serde_json::json!({
                    "Node": {"Node": "node-1", "Address": "127.0.0.1"},
                    "Service": {"ID": format!("otel-{port}"), "Service": "otel-collector", "Address": address, "Port": port},
                    "Checks": [{"Status": "passing"}]
                })
            })
            .collect();
        ([("X-Consul-Index", index.to_string())], axum::Json(body))
    }

    pub async fn start(consul: Consul) -> String {
        let router = Router::new()
            .route("/v1/health/service/{service}", get(health))
            .with_state(consul);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        url
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consul_blocking_queries_follow_index_changes() {
    let fake = consul::Consul::default();
    fake.set(vec![("127.0.0.1".into(), 4317), ("".into(), 4318)]);
    let agent = consul::start(fake.clone()).await;
    let resolver =
        ConsulResolver::new(&agent, "otel-collector", "http", Duration::from_secs(1)).unwrap();
    let first = resolver.resolve(None).await.unwrap();
    assert_eq!(
        first.endpoints,
        vec!["http://127.0.0.1:4317", "http://127.0.0.1:4318"]
    );
    assert_eq!(first.token, Some(1));

    // A blocking query returns when the index moves, with the new answer.
    let pending = tokio::spawn({
        let resolver = resolver.clone();
        async move { resolver.resolve(Some(1)).await.unwrap() }
    });
    // The server holds the query: it got the index and found nothing new.
    wait_until(|| fake.held.load(Ordering::SeqCst) == 1).await;
    assert!(
        !pending.is_finished(),
        "the query blocks while nothing changes"
    );
    fake.set(vec![("10.1.0.7".into(), 4317)]);
    let second = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.endpoints, vec!["http://10.1.0.7:4317"]);
    assert_eq!(second.token, Some(2));

    // With no change, the query comes back after its wait with the same answer.
    let third = resolver.resolve(Some(2)).await.unwrap();
    assert_eq!((third.endpoints, third.token), (second.endpoints, Some(2)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_leaves_the_in_flight_count() {
    // A collector that never answers: every request is cancelled by the caller's timeout.
    let (receivers, balancer) = balanced(2, BalanceStrategy::LeastLoaded).await;
    for receiver in &receivers {
        receiver
            .faults()
            .set_default(Some(otlp_transport::receiver::Fault::hang()));
    }
    for _ in 0..6 {
        let call = balancer.clone().oneshot(one_span());
        assert!(tokio::time::timeout(Duration::from_millis(100), call)
            .await
            .is_err());
    }
    let in_flight: usize = balancer.endpoints().iter().map(|e| e.in_flight).sum();
    assert_eq!(in_flight, 0, "{:?}", balancer.endpoints());
}

/// A service's own calls, not exports: the request type only has to implement `Balanced`.
#[derive(Debug, Clone, PartialEq)]
struct UserLookup {
    user: u32,
}

impl otlp_transport::balance::Balanced for UserLookup {
    fn probe() -> Self {
        UserLookup { user: 0 }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_request_type_is_balanced_and_fails_over() {
    // Replica `down` refuses every call but answers its probes (so it stays in the rotation
    // and round robin keeps picking it); `up` answers with its name.
    let factory: EndpointFactory<UserLookup, String> = Arc::new(|url: &str| {
        let url = url.to_owned();
        let service = BoxCloneSyncService::new(tower::service_fn(move |call: UserLookup| {
            let url = url.clone();
            async move {
                if url.contains("down") {
                    Err(otlp_core::Error::new(otlp_core::ErrorKind::Connect, "refused").into())
                } else {
                    Ok::<_, otlp_core::BoxError>(format!("{url} served user {}", call.user))
                }
            }
        }));
        let probe = BoxCloneSyncService::new(tower::service_fn(|_: UserLookup| async {
            Ok::<_, otlp_core::BoxError>("alive".to_owned())
        }));
        Ok(EndpointParts {
            probe,
            service,
            circuit_open: None,
        })
    });
    let config = config(BalanceStrategy::RoundRobin);
    let resolver = StaticResolver::new(["http://down:1", "http://up:1"]);
    let balancer = Balancer::start(config, Arc::new(resolver), factory).await;
    for user in 1..=4 {
        let answer = balancer.clone().oneshot(UserLookup { user }).await.unwrap();
        assert_eq!(answer, format!("http://up:1 served user {user}"));
    }
    let stats = balancer.endpoints();
    let down = stats.iter().find(|e| e.url.contains("down")).unwrap();
    let up = stats.iter().find(|e| e.url.contains("up")).unwrap();
    // Round robin over two endpoints starts on `down` every other call.
    assert_eq!(down.requests, 2, "{stats:?}");
    assert_eq!(
        down.failed_over, 2,
        "every call to it went on to the next: {stats:?}"
    );
    assert_eq!((up.requests, up.failed_over), (4, 0), "{stats:?}");
}
