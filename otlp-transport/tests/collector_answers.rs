//! How collector answers become outcomes and errors: the OTLP spec's retryable statuses,
//! server delay hints, partial success, authentication, and unreachable collectors.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use otlp_core::{BoxError, Encoding, Error, ErrorKind, ExportOutcome, Signal, Status};
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};
use otlp_transport::Headers;
use tower::util::BoxCloneService;
use tower::ServiceExt;

type Transport = BoxCloneService<otlp_core::ExportRequest, ExportOutcome, BoxError>;

fn transports(receiver: &Receiver, headers: Headers) -> Vec<(&'static str, Transport)> {
    let grpc =
        GrpcTransport::new(GrpcConfig::new(receiver.grpc_endpoint()).with_headers(headers.clone()))
            .unwrap();
    let http = HttpTransport::new(
        HttpConfig::from_base_endpoint(&receiver.http_endpoint())
            .unwrap()
            .with_headers(headers),
    )
    .unwrap();
    vec![
        ("grpc", BoxCloneService::new(grpc)),
        ("http", BoxCloneService::new(http)),
    ]
}

async fn send(transport: &Transport, items: usize) -> Result<ExportOutcome, BoxError> {
    let request = support::request(&support::payload(Signal::Logs, items), Encoding::Protobuf);
    transport.clone().oneshot(request).await
}

fn error(result: Result<ExportOutcome, BoxError>) -> Error {
    *result.unwrap_err().downcast::<Error>().unwrap()
}

#[tokio::test]
async fn unavailable_is_retryable_and_nothing_is_recorded() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    for (name, transport) in transports(&receiver, Headers::new()) {
        receiver.faults().push(Fault::unavailable());
        let error = error(send(&transport, 2).await);
        assert_eq!(error.kind(), ErrorKind::Unavailable, "{name}");
        assert!(error.is_retryable(), "{name}");
        assert!(
            matches!(
                error.status(),
                Some(Status::Grpc(14)) | Some(Status::Http(503))
            ),
            "{name}"
        );
    }
    assert_eq!(receiver.counts().requests, 0);
    assert_eq!(receiver.counts().refused_requests, 2);
}

#[tokio::test]
async fn server_delays_are_kept() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let throttle = Fault::status(tonic::Code::ResourceExhausted, 429, "slow down")
        .with_retry_after(Duration::from_secs(7));
    for (name, transport) in transports(&receiver, Headers::new()) {
        receiver.faults().push(throttle.clone());
        let error = error(send(&transport, 1).await);
        assert_eq!(error.kind(), ErrorKind::Throttled, "{name}");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)), "{name}");
    }
    // Retry-After as an HTTP date: the receiver rounds up, so the delay is 7 or 8 seconds.
    let (_, http) = transports(&receiver, Headers::new()).remove(1);
    receiver.faults().push(
        Fault::unavailable()
            .with_retry_after(Duration::from_secs(7))
            .with_retry_after_as_date(),
    );
    let delay = error(send(&http, 1).await).retry_after().unwrap();
    assert!(
        (Duration::from_secs(6)..=Duration::from_secs(9)).contains(&delay),
        "{delay:?}"
    );
}

#[tokio::test]
async fn resource_exhausted_without_retry_info_is_permanent() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let (_, grpc) = transports(&receiver, Headers::new()).remove(0);
    receiver
        .faults()
        .push(Fault::status(tonic::Code::ResourceExhausted, 429, "quota"));
    let error = error(send(&grpc, 1).await);
    assert!(!error.is_retryable());
    assert_eq!(error.message(), "quota");
}

#[tokio::test]
async fn bad_requests_are_permanent_with_the_collectors_message() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    for (name, transport) in transports(&receiver, Headers::new()) {
        receiver.faults().push(Fault::status(
            tonic::Code::InvalidArgument,
            400,
            "span name too long",
        ));
        let error = error(send(&transport, 1).await);
        assert_eq!(error.kind(), ErrorKind::Rejected, "{name}");
        assert!(!error.is_retryable());
        assert_eq!(error.message(), "span name too long", "{name}");
    }
}

#[tokio::test]
async fn partial_success_is_reported_not_failed() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    for (name, transport) in transports(&receiver, Headers::new()) {
        receiver
            .faults()
            .push(Fault::partial_success(3, "3 records too old"));
        let outcome = send(&transport, 10).await.unwrap();
        assert_eq!((outcome.accepted, outcome.rejected), (7, 3), "{name}");
        assert_eq!(outcome.message.as_deref(), Some("3 records too old"));
    }
}

#[tokio::test]
async fn a_bearer_token_is_required_when_configured() {
    let receiver = Receiver::start(ReceiverConfig::default().with_bearer_token("s3cret"))
        .await
        .unwrap();
    for (name, transport) in transports(&receiver, Headers::new()) {
        let error = error(send(&transport, 1).await);
        assert!(
            !error.is_retryable(),
            "{name}: authentication failures are permanent"
        );
        assert!(
            matches!(
                error.status(),
                Some(Status::Grpc(16)) | Some(Status::Http(401))
            ),
            "{name}"
        );
    }
    let mut headers = Headers::new();
    headers.insert_bearer_token("token", "s3cret").unwrap();
    for (name, transport) in transports(&receiver, headers) {
        assert_eq!(send(&transport, 1).await.unwrap().accepted, 1, "{name}");
    }
}

#[tokio::test]
async fn a_stopped_collector_is_a_retryable_connection_failure() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let transports = transports(&receiver, Headers::new());
    receiver.shutdown().await;
    for (name, transport) in transports {
        let error = error(send(&transport, 1).await);
        assert_eq!(error.kind(), ErrorKind::Connect, "{name}: {error}");
        assert!(error.is_retryable());
    }
}

#[tokio::test]
async fn a_slow_collector_runs_into_the_transport_timeout() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    receiver.faults().set_default(Some(Fault::hang()));
    let timeout = Duration::from_millis(200);
    let grpc = GrpcTransport::new(GrpcConfig::new(receiver.grpc_endpoint()).with_timeout(timeout))
        .unwrap();
    let http = HttpTransport::new(
        HttpConfig::from_base_endpoint(&receiver.http_endpoint())
            .unwrap()
            .with_timeout(timeout),
    )
    .unwrap();
    let transports: Vec<(&str, Transport)> = vec![
        ("grpc", BoxCloneService::new(grpc)),
        ("http", BoxCloneService::new(http)),
    ];
    for (name, transport) in transports {
        let error = error(send(&transport, 1).await);
        assert_eq!(error.kind(), ErrorKind::Timeout, "{name}: {error}");
        assert!(error.is_retryable(), "{name}");
    }
}
