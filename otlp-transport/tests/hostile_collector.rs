//! Collectors that answer with extreme or hostile values: every header and status field the
//! exporters read, at its limits, must give an error or an outcome, never a panic or a stuck
//! export; a redirect must not carry the configured credentials anywhere.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use otlp_core::{BoxError, Encoding, Error, ErrorKind, ExportOutcome, Signal, MAX_RETRY_AFTER};
use otlp_reliability::retry::{RetryConfig, RetryLayer};
use otlp_reliability::OtlpClassify;
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::Headers;
use prost::Message;
use tower::{Layer, ServiceExt};

/// A collector on 127.0.0.1 that answers every request with `answer`; returns its base URL.
async fn collector(answer: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, answer).await });
    format!("http://{addr}")
}

/// Response headers given as raw bytes, so that any value can be sent.
type RawHeaders = Vec<(&'static str, Vec<u8>)>;

fn answering(status: u16, headers: RawHeaders, body: Vec<u8>) -> Router {
    let handler = move || {
        let headers = headers.clone();
        let body = body.clone();
        async move {
            let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
            for (name, value) in headers {
                response.headers_mut().insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_bytes(&value).unwrap(),
                );
            }
            response
        }
    };
    Router::new().fallback(post(handler))
}

fn request() -> otlp_core::ExportRequest {
    support::request(&support::payload(Signal::Traces, 3), Encoding::Protobuf)
}

fn http(base: &str, headers: Headers) -> HttpTransport {
    HttpTransport::new(
        HttpConfig::from_base_endpoint(base)
            .unwrap()
            .with_headers(headers)
            .with_timeout(Duration::from_secs(5)),
    )
    .unwrap()
}

/// Sends through a retry layer with a short deadline: whatever the answer, the call returns
/// (no panic in the export task, no sleep past the deadline).
async fn export_with_retries<S>(transport: S) -> Result<ExportOutcome, BoxError>
where
    S: tower::Service<otlp_core::ExportRequest, Response = ExportOutcome, Error = BoxError>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    let retry = RetryLayer::new(
        RetryConfig::default()
            .with_max_attempts(3)
            .with_backoff(Duration::from_millis(10), Duration::from_millis(20), 2.0)
            .with_total_timeout(Duration::from_secs(3)),
        OtlpClassify,
    )
    .unwrap();
    let call = retry.layer(transport).oneshot(request());
    tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("the export returns instead of hanging")
}

#[tokio::test]
async fn extreme_retry_after_values_are_capped_and_never_panic() {
    let values: Vec<Vec<u8>> = vec![
        b"18446744073709551615".to_vec(),
        b"18446744073709551616".to_vec(),
        b"99999999999999999999999999999999999999".to_vec(),
        b"Fri, 31 Dec 9999 23:59:59 GMT".to_vec(),
        b"Thu, 01 Jan 1970 00:00:00 GMT".to_vec(),
        b"-1".to_vec(),
        b"1e400".to_vec(),
        vec![0xff, 0xfe, b'1'],
        vec![b'9'; 4000],
    ];
    for value in values {
        let shown = String::from_utf8_lossy(&value)
            .chars()
            .take(40)
            .collect::<String>();
        for status in [429, 503] {
            let base = collector(answering(
                status,
                vec![("retry-after", value.clone())],
                Vec::new(),
            ))
            .await;
            let error = http(&base, Headers::new())
                .oneshot(request())
                .await
                .unwrap_err();
            let error = error.downcast_ref::<Error>().unwrap();
            assert!(error.is_retryable(), "{status} {shown}: {error}");
            assert!(
                error.retry_after().is_none_or(|d| d <= MAX_RETRY_AFTER),
                "{status} {shown}: {error}"
            );
            let result = export_with_retries(http(&base, Headers::new())).await;
            assert!(result.is_err(), "{status} {shown}");
        }
    }
}

#[tokio::test]
async fn extreme_statuses_and_bodies_give_errors_or_outcomes() {
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };
    let partial = |rejected| {
        ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: "x".repeat(10_000),
            }),
        }
        .encode_to_vec()
    };
    let json = |body: &str| {
        (
            vec![("content-type", b"application/json".to_vec())],
            body.as_bytes().to_vec(),
        )
    };
    let cases: Vec<(u16, RawHeaders, Vec<u8>)> = vec![
        (200, vec![], partial(i64::MAX)),
        (200, vec![], partial(i64::MIN)),
        (200, vec![], vec![0xff; 64]),
        (200, vec![], vec![0; 3 * 1024 * 1024]),
        {
            let (h, b) = json(r#"{"partialSuccess":{"rejectedSpans":"-9223372036854775808"}}"#);
            (200, h, b)
        },
        {
            let (h, b) = json(r#"{"partialSuccess":{"rejectedSpans":1e999}}"#);
            (200, h, b)
        },
        {
            let (h, b) = json(&format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)));
            (200, h, b)
        },
        (299, vec![("content-type", b"\xff\xfe".to_vec())], vec![]),
        (400, vec![], vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        (
            400,
            vec![],
            tonic_types::Status {
                code: 3,
                message: "m".repeat(100_000),
                details: vec![],
            }
            .encode_to_vec(),
        ),
        (418, vec![], "é".repeat(100_000).into_bytes()),
        (599, vec![("retry-after", b"5".to_vec())], vec![]),
        (
            503,
            vec![("content-length", b"18446744073709551615".to_vec())],
            vec![],
        ),
    ];
    for (status, headers, body) in cases {
        let base = collector(answering(status, headers, body)).await;
        let result = export_with_retries(http(&base, Headers::new())).await;
        match result {
            Ok(outcome) => {
                assert!(status < 300, "{status}: {outcome:?}");
                assert_eq!(outcome.accepted + outcome.rejected, 3, "{status}");
            }
            Err(error) => {
                assert!(error.to_string().len() < 1024, "{status}: message too long");
            }
        }
    }
}

#[tokio::test]
async fn extreme_grpc_retry_info_and_status_codes_never_panic() {
    // A trailers-only gRPC answer with a RetryInfo detail, written by hand so that any value
    // on the wire can be sent (tonic's own types would refuse some of them).
    fn retry_info(seconds: i64, nanos: i32) -> Vec<u8> {
        let mut duration = Vec::new();
        prost::encoding::int64::encode(1, &seconds, &mut duration);
        prost::encoding::int32::encode(2, &nanos, &mut duration);
        let mut info = Vec::new();
        prost::encoding::bytes::encode(1, &duration, &mut info);
        info
    }
    // A `google.rpc.Status` with one `google.protobuf.Any` detail holding `info`.
    let details = |code: i32, info: Vec<u8>| {
        let mut any = Vec::new();
        prost::encoding::string::encode(
            1,
            &"type.googleapis.com/google.rpc.RetryInfo".to_owned(),
            &mut any,
        );
        prost::encoding::bytes::encode(2, &info, &mut any);
        let mut status = Vec::new();
        prost::encoding::int32::encode(1, &code, &mut status);
        prost::encoding::string::encode(2, &"slow down".to_owned(), &mut status);
        prost::encoding::bytes::encode(3, &any, &mut status);
        status
    };
    let cases = [
        (8, details(8, retry_info(i64::MAX, 999_999_999))),
        (14, details(14, retry_info(i64::MAX, i32::MAX))),
        (8, details(8, retry_info(i64::MIN, i32::MIN))),
        (14, details(14, retry_info(-1, -1))),
        (99_999, details(99_999, retry_info(5, 0))),
        (-1, details(-1, vec![0xff, 0xff])),
    ];
    for (code, details) in cases {
        let handler = move || {
            let details = details.clone();
            async move {
                let status = tonic::Status::with_details(
                    tonic::Code::from(code),
                    "slow down",
                    details.into(),
                );
                let mut response: Response = status.into_http();
                let headers: &mut HeaderMap = response.headers_mut();
                headers.insert("grpc-status", HeaderValue::from(code));
                response
            }
        };
        let base = collector(Router::new().fallback(post(handler))).await;
        let transport = GrpcTransport::new(GrpcConfig::new(base)).unwrap();
        let error = transport.clone().oneshot(request()).await.unwrap_err();
        let error = error.downcast_ref::<Error>().unwrap();
        assert!(
            error.retry_after().is_none_or(|d| d <= MAX_RETRY_AFTER),
            "{code}: {error}"
        );
        assert!(export_with_retries(transport).await.is_err(), "{code}");
    }
}

#[tokio::test]
async fn redirects_are_not_followed_and_credentials_stay_home() {
    let reached = Arc::new(AtomicUsize::new(0));
    let thief = {
        let reached = Arc::clone(&reached);
        Router::new().fallback(post(move |headers: HeaderMap| {
            let reached = Arc::clone(&reached);
            async move {
                if headers.contains_key("x-api-key") || headers.contains_key("authorization") {
                    reached.fetch_add(1, Ordering::SeqCst);
                }
                StatusCode::OK
            }
        }))
    };
    let thief = collector(thief).await;
    for status in [301, 302, 303, 307, 308] {
        let location = format!("{thief}/steal?token=LEAKED");
        let base = collector(answering(
            status,
            vec![("location", location.into_bytes())],
            Vec::new(),
        ))
        .await;
        let mut headers = Headers::new();
        headers.insert("test", "x-api-key", "SECRET-KEY").unwrap();
        headers.insert_bearer_token("test", "SECRET-TOKEN").unwrap();
        let error = export_with_retries(http(&base, headers)).await.unwrap_err();
        let error = error.downcast_ref::<Error>().unwrap();
        assert_eq!(error.kind(), ErrorKind::Rejected, "{status}: {error}");
        assert!(!error.is_retryable(), "{status}");
        let text = error.to_string();
        assert!(text.contains(&format!("{thief}/steal")), "{text}");
        assert!(!text.contains("LEAKED"), "{text}");
    }
    assert_eq!(reached.load(Ordering::SeqCst), 0, "credentials left home");
}
