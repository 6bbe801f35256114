//! Our side of the Collector tests: transports and pipelines pointed at the Collector, and
//! what our receiver got back from it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use otlp_core::{BoxError, ExportOutcome};
use otlp_exporters::Protocol as PipelineProtocol;
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::receiver::{Received, Receiver};
use otlp_transport::{Compression, Headers, TlsConfig};
use tower::util::BoxCloneService;

use super::{Collector, Forward};
use otlp_core::Telemetry;

/// One of our transports, behind one type.
pub type Transport = BoxCloneService<otlp_core::ExportRequest, ExportOutcome, BoxError>;

/// Our transport for one protocol, with the given compression, headers and TLS.
pub fn transport(
    collector: &Collector,
    protocol: &str,
    compression: Compression,
    headers: Headers,
    tls: Option<TlsConfig>,
) -> Transport {
    if protocol == "grpc" {
        let mut config = GrpcConfig::new(collector.grpc_endpoint())
            .with_compression(compression)
            .with_headers(headers);
        if let Some(tls) = tls {
            config = config.with_tls(tls);
        }
        BoxCloneService::new(GrpcTransport::new(config).unwrap())
    } else {
        let mut config = HttpConfig::from_base_endpoint(&collector.http_endpoint())
            .unwrap()
            .with_compression(compression)
            .with_headers(headers);
        if let Some(tls) = tls {
            config = config.with_tls(tls);
        }
        BoxCloneService::new(HttpTransport::new(config).unwrap())
    }
}

/// Waits (bounded) until the receiver holds `count` requests, and takes them.
pub async fn take(receiver: &Receiver, count: usize) -> Vec<Received> {
    let started = Instant::now();
    while receiver.received().len() < count && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    receiver.take_received()
}

pub fn forward_to(receiver: &Receiver, grpc: bool, http: bool) -> Forward {
    Forward {
        grpc: grpc.then(|| receiver.grpc_addr()),
        http: http.then(|| receiver.http_addr()),
        ..Forward::default()
    }
}

pub fn pipeline_protocol(protocol: &str) -> PipelineProtocol {
    match protocol {
        "grpc" => PipelineProtocol::Grpc,
        "http/protobuf" => PipelineProtocol::HttpProtobuf,
        _ => PipelineProtocol::HttpJson,
    }
}

pub fn endpoint(collector: &Collector, protocol: &str) -> String {
    if protocol == "grpc" {
        collector.grpc_endpoint()
    } else {
        collector.http_endpoint()
    }
}

pub fn span_names(received: &[Received]) -> HashMap<String, usize> {
    let mut names = HashMap::new();
    for r in received {
        if let Telemetry::Traces(t) = &r.payload {
            for span in t
                .resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .flat_map(|ss| &ss.spans)
            {
                *names.entry(span.name.clone()).or_insert(0) += 1;
            }
        }
    }
    names
}
