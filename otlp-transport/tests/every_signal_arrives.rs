//! Each transport delivers all three signals to the receiver, with content, headers and
//! compression intact.

#![allow(clippy::unwrap_used)]

mod support;

use otlp_core::{Encoding, Signal};
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::receiver::{ReceivedOver, Receiver, ReceiverConfig};
use otlp_transport::{Compression, Headers};
use tower::ServiceExt;

fn headers() -> Headers {
    let mut headers = Headers::new();
    headers.insert("test", "X-Tenant", "acme").unwrap();
    headers
}

#[tokio::test]
async fn grpc_delivers_every_signal_with_each_compression() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let transport = GrpcTransport::new(
            GrpcConfig::new(receiver.grpc_endpoint())
                .with_compression(compression)
                .with_headers(headers()),
        )
        .unwrap();
        for signal in Signal::ALL {
            let payload = support::payload(signal, 5);
            let outcome = transport
                .clone()
                .oneshot(support::request(&payload, Encoding::Protobuf))
                .await
                .unwrap();
            assert_eq!(
                (outcome.accepted, outcome.rejected),
                (5, 0),
                "{signal} {compression}"
            );
            let received = receiver.take_received();
            assert_eq!(received.len(), 1);
            let got = &received[0];
            assert_eq!(got.protocol, ReceivedOver::Grpc);
            assert_eq!(got.payload, payload, "{signal} content");
            assert_eq!(got.headers.get("x-tenant").unwrap(), "acme");
            let agent = got.headers.get("user-agent").unwrap().to_str().unwrap();
            assert!(
                agent.starts_with("OTel-OTLP-Exporter-Rust/0.1.0"),
                "the specification's form first: {agent}"
            );
            let expected =
                (compression != Compression::None).then(|| compression.as_str().to_owned());
            assert_eq!(got.compression, expected);
        }
    }
    receiver.shutdown().await;
}

#[tokio::test]
async fn http_delivers_every_signal_as_protobuf_and_json() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let config = HttpConfig::from_base_endpoint(&receiver.http_endpoint())
                .unwrap()
                .with_compression(compression)
                .with_headers(headers());
            let transport = HttpTransport::new(config).unwrap();
            for signal in Signal::ALL {
                let payload = support::payload(signal, 3);
                let outcome = transport
                    .clone()
                    .oneshot(support::request(&payload, encoding))
                    .await
                    .unwrap();
                assert_eq!(outcome.accepted, 3, "{signal} {encoding:?} {compression}");
                let received = receiver.take_received();
                assert_eq!(received.len(), 1);
                let got = &received[0];
                assert_eq!((got.protocol, got.encoding), (ReceivedOver::Http, encoding));
                assert_eq!(got.payload, payload);
                assert_eq!(got.headers.get("x-tenant").unwrap(), "acme");
                assert_eq!(
                    got.headers.get("user-agent").unwrap(),
                    "OTel-OTLP-Exporter-Rust/0.1.0"
                );
                let expected =
                    (compression != Compression::None).then(|| compression.as_str().to_owned());
                assert_eq!(got.compression, expected);
            }
        }
    }
    assert_eq!(receiver.counts().requests, 18);
    receiver.shutdown().await;
}

#[tokio::test]
async fn grpc_refuses_json_bodies_permanently() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let transport = GrpcTransport::new(GrpcConfig::new(receiver.grpc_endpoint())).unwrap();
    let request = support::request(&support::payload(Signal::Traces, 1), Encoding::Json);
    let error = transport.oneshot(request).await.unwrap_err();
    let error = error.downcast_ref::<otlp_core::Error>().unwrap();
    assert_eq!(error.kind(), otlp_core::ErrorKind::Encoding);
    assert_eq!(receiver.counts().requests, 0);
}
