//! Endpoints that are not a plain TCP connection away: a collector on a Unix domain socket
//! (gRPC and HTTP), and one behind an HTTP proxy on 127.0.0.1 (gRPC through `CONNECT`, HTTP
//! through reqwest's proxy support), which loopback collectors bypass unless told otherwise.

#![allow(clippy::unwrap_used)]

mod support;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use otlp_core::{Encoding, Signal};
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::receiver::{Receiver, ReceiverConfig};
use otlp_transport::ProxyConfig;
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener};
use tower::ServiceExt;

/// A fresh directory for sockets, removed by the caller.
fn socket_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otlp-rust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[derive(Default, Clone)]
struct Spans(Arc<AtomicUsize>);

#[tonic::async_trait]
impl TraceService for Spans {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let spans: usize = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        self.0.fetch_add(spans, Ordering::SeqCst);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::test]
async fn grpc_and_http_reach_a_collector_on_a_unix_socket() {
    let dir = socket_dir("unix");
    let payload = support::payload(Signal::Traces, 3);

    // gRPC: a tonic server on a socket.
    let grpc_path = dir.join("grpc.sock");
    let listener = UnixListener::bind(&grpc_path).unwrap();
    let spans = Spans::default();
    let incoming = futures_util::stream::unfold(listener, |listener| async move {
        Some((listener.accept().await.map(|(s, _)| s), listener))
    });
    let server = tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(spans.clone()))
        .serve_with_incoming(incoming);
    tokio::spawn(server);
    let grpc =
        GrpcTransport::new(GrpcConfig::new(format!("unix://{}", grpc_path.display()))).unwrap();
    let outcome = grpc
        .oneshot(support::request(&payload, Encoding::Protobuf))
        .await
        .unwrap();
    assert_eq!(outcome.accepted, 3);
    assert_eq!(spans.0.load(Ordering::SeqCst), 3);

    // HTTP: a hyper server on another socket, recording what was asked.
    let http_path = dir.join("http.sock");
    let listener = UnixListener::bind(&http_path).unwrap();
    let paths = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&paths);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let seen = Arc::clone(&seen);
            let service = hyper::service::service_fn(move |request: http::Request<_>| {
                seen.lock().push(request.uri().path().to_owned());
                async { Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new()))) }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    let http = HttpTransport::new(
        HttpConfig::from_base_endpoint(&format!("unix://{}", http_path.display())).unwrap(),
    )
    .unwrap();
    let outcome = http
        .oneshot(support::request(&payload, Encoding::Protobuf))
        .await
        .unwrap();
    assert_eq!(outcome.accepted, 3);
    assert_eq!(*paths.lock(), ["/v1/traces"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A proxy on 127.0.0.1: `CONNECT host:port` opens a tunnel; a request in absolute form is
/// passed to its host as it is. Counts the connections it carried.
async fn start_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let carried = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&carried);
    tokio::spawn(async move {
        loop {
            let (mut client, _) = listener.accept().await.unwrap();
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let mut words = text.split_whitespace();
                let (method, target) = (words.next().unwrap(), words.next().unwrap());
                count.fetch_add(1, Ordering::SeqCst);
                if method == "CONNECT" {
                    let mut upstream = TcpStream::connect(target).await.unwrap();
                    client
                        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                        .await
                        .unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                } else {
                    let url = reqwest::Url::parse(target).unwrap();
                    let address = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
                    let mut upstream = TcpStream::connect(address).await.unwrap();
                    upstream.write_all(&head).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (url, carried)
}

#[tokio::test]
async fn exports_go_through_the_proxy_and_loopback_bypasses_it_unless_asked() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let (proxy_url, carried) = start_proxy().await;
    let payload = support::payload(Signal::Traces, 2);
    let send = |proxy: ProxyConfig| {
        let grpc =
            GrpcTransport::new(GrpcConfig::new(receiver.grpc_endpoint()).with_proxy(proxy.clone()))
                .unwrap();
        let http = HttpTransport::new(
            HttpConfig::from_base_endpoint(&receiver.http_endpoint())
                .unwrap()
                .with_proxy(proxy),
        )
        .unwrap();
        let request = support::request(&payload, Encoding::Protobuf);
        async move {
            grpc.oneshot(request.clone()).await.unwrap();
            http.oneshot(request).await.unwrap();
        }
    };

    // The proxy is set but the collector is on loopback: straight there.
    send(ProxyConfig::all("proxy", &proxy_url).unwrap()).await;
    assert_eq!(
        carried.load(Ordering::SeqCst),
        0,
        "loopback bypassed the proxy"
    );
    assert_eq!(receiver.counts().spans, 4);

    // Told to proxy loopback too: both protocols go through it.
    send(
        ProxyConfig::all("proxy", &proxy_url)
            .unwrap()
            .with_loopback(true),
    )
    .await;
    assert_eq!(
        carried.load(Ordering::SeqCst),
        2,
        "one gRPC tunnel, one HTTP request"
    );
    assert_eq!(receiver.counts().spans, 8);

    // NO_PROXY wins over the loopback override.
    let excepted = ProxyConfig::all("proxy", &proxy_url)
        .unwrap()
        .with_loopback(true)
        .with_no_proxy(["127.0.0.1"]);
    send(excepted).await;
    assert_eq!(carried.load(Ordering::SeqCst), 2);
    assert_eq!(receiver.counts().spans, 12);
    receiver.shutdown().await;
}
