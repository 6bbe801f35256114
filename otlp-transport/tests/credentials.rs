//! The credential hook: a token that changes between attempts reaches the receiver over both
//! protocols, replacing the configured header; a failing hook is retried or not as it says,
//! and its error carries no token.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use otlp_core::{Encoding, ErrorKind, RequestHeaders, Signal};
use otlp_reliability::retry::{RetryConfig, RetryLayer};
use otlp_reliability::OtlpClassify;
use otlp_transport::credentials::{CredentialError, CredentialsLayer};
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::receiver::{Receiver, ReceiverConfig};
use otlp_transport::Headers;
use tower::{Layer, ServiceExt};

/// A hook whose `n`-th call fails as `fail(n)` says, or gives `Bearer token-<n>`.
fn hook(
    calls: &Arc<AtomicUsize>,
    fail: impl Fn(usize) -> Option<CredentialError> + Send + Sync + 'static,
) -> CredentialsLayer {
    let calls = Arc::clone(calls);
    CredentialsLayer::new(move || {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        let result = match fail(n) {
            Some(error) => Err(error),
            None => {
                let mut headers = RequestHeaders::new();
                headers.insert("Authorization", format!("Bearer token-{n}"));
                Ok(headers)
            }
        };
        async move { result }
    })
}

fn retry() -> RetryLayer<OtlpClassify> {
    RetryLayer::new(
        RetryConfig::default()
            .with_max_attempts(5)
            .with_backoff(Duration::from_millis(1), Duration::from_millis(5), 2.0)
            .with_budget(None),
        OtlpClassify,
    )
    .unwrap()
}

#[tokio::test]
async fn a_token_that_changes_reaches_the_receiver_over_both_protocols() {
    let receiver = Receiver::start(ReceiverConfig::default().with_keep_requests(true))
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let layer = hook(&calls, |_| None);
    let mut configured = Headers::new();
    configured
        .insert("headers", "authorization", "Bearer static")
        .unwrap();
    let http = layer.layer(
        HttpTransport::new(
            HttpConfig::from_base_endpoint(&receiver.http_endpoint())
                .unwrap()
                .with_headers(configured.clone()),
        )
        .unwrap(),
    );
    let grpc = layer.layer(
        GrpcTransport::new(GrpcConfig::new(receiver.grpc_endpoint()).with_headers(configured))
            .unwrap(),
    );
    let payload = support::payload(Signal::Traces, 2);
    for _ in 0..2 {
        let request = support::request(&payload, Encoding::Protobuf);
        http.clone().oneshot(request.clone()).await.unwrap();
        grpc.clone().oneshot(request).await.unwrap();
    }
    let tokens: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        tokens,
        [
            "Bearer token-1",
            "Bearer token-2",
            "Bearer token-3",
            "Bearer token-4"
        ]
    );
    assert_eq!(receiver.counts().spans, 8);
    receiver.shutdown().await;
}

#[tokio::test]
async fn a_retryable_failure_is_retried_and_a_permanent_one_is_not() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let transport =
        HttpTransport::new(HttpConfig::from_base_endpoint(&receiver.http_endpoint()).unwrap())
            .unwrap();
    let payload = support::payload(Signal::Traces, 3);

    let calls = Arc::new(AtomicUsize::new(0));
    let flaky = hook(&calls, |n| {
        (n <= 2).then(|| CredentialError::retryable("token service timed out"))
    });
    retry()
        .layer(flaky.layer(transport.clone()))
        .oneshot(support::request(&payload, Encoding::Protobuf))
        .await
        .unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "two failures, then a token"
    );
    assert_eq!(receiver.counts().spans, 3);

    let calls = Arc::new(AtomicUsize::new(0));
    let refused = hook(&calls, |_| {
        Some(CredentialError::permanent(
            "client secret refused by https://idp.example/token?client_secret=hunter2",
        ))
    });
    let error = retry()
        .layer(refused.layer(transport))
        .oneshot(support::request(&payload, Encoding::Protobuf))
        .await
        .unwrap_err();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a permanent failure is not retried"
    );
    let text = format!("{error:#}");
    let kind = otlp_core::classify(error.as_ref()).kind;
    assert_eq!(kind, Some(ErrorKind::Rejected), "{text}");
    assert!(
        text.contains("credential hook failed (permanent)"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "the secret leaked: {text}");
    assert_eq!(receiver.counts().spans, 3, "nothing more was sent");
    receiver.shutdown().await;
}
