//! Several collectors: three receivers on loopback behind a balancer, resolvers that change
//! their answer, and a Consul-compatible server with blocking queries (what the tests share is
//! in `balancing_support/`).

#![allow(clippy::unwrap_used)]

mod balancing_support;
mod support;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use otlp_core::Telemetry;
use otlp_transport::balance::{
    BalanceStrategy, Balancer, ConsulResolver, DnsResolver, EndpointFactory, EndpointParts,
    Resolver, StaticResolver,
};
use otlp_transport::receiver::{Receiver, ReceiverConfig};
use tower::util::BoxCloneSyncService;
use tower::ServiceExt;

use balancing_support::{
    balanced, config, consul, factory, one_span, receivers, spans_of, trace_request, wait_until,
    ScriptedLookup,
};

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
