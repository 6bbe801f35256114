//! What the balancing tests share: receivers on loopback behind a balancer of per-endpoint
//! gRPC transports and breakers, requests of known traces, a lookup whose answer the test
//! changes, and a Consul-compatible server (`consul.rs`).

#![allow(dead_code, clippy::unwrap_used)]

pub mod consul;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_core::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_core::{Encoding, ExportRequest, Signal};
use otlp_reliability::circuit_breaker::{BreakerConfig, CircuitBreakerLayer, CircuitState};
use otlp_reliability::OtlpClassify;
use otlp_transport::balance::{
    trace_key, BalanceStrategy, Balancer, BalancerConfig, EndpointFactory, EndpointParts, Lookup,
    StaticResolver,
};
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::receiver::{Receiver, ReceiverConfig};
use parking_lot::Mutex;
use tower::util::BoxCloneSyncService;
use tower::Layer;

use crate::support;

/// Each endpoint: a gRPC transport behind a breaker that opens after 2 failures for 300 ms.
pub fn factory() -> EndpointFactory {
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

pub fn config(strategy: BalanceStrategy) -> BalancerConfig {
    BalancerConfig {
        strategy,
        probe_interval: Duration::from_millis(200),
        probe_timeout: Duration::from_millis(500),
        ..BalancerConfig::default()
    }
}

pub async fn receivers(n: usize) -> Vec<Receiver> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(Receiver::start(ReceiverConfig::default()).await.unwrap());
    }
    out
}

/// One request carrying `spans` spans of the trace `trace`.
pub fn trace_request(trace: u8, spans: usize) -> ExportRequest {
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
pub async fn balanced(n: usize, strategy: BalanceStrategy) -> (Vec<Receiver>, Balancer) {
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
pub fn one_span() -> ExportRequest {
    support::request(&support::payload(Signal::Traces, 1), Encoding::Protobuf)
}

/// Polls `condition` until it holds, for at most 10 s (a "does not hang" bound): the tests
/// wait for what they observe, never for a fixed time.
pub async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub fn spans_of(receiver: &Receiver) -> usize {
    receiver.counts().spans
}

/// A lookup whose answer the test changes.
#[derive(Clone, Default)]
pub struct ScriptedLookup(pub Arc<Mutex<Vec<SocketAddr>>>);

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
