//! The receiver refuses bad input with the right status and keeps serving: oversized bodies,
//! gzip bombs, unknown content types and encodings, malformed protobuf and JSON.

#![allow(clippy::unwrap_used)]

use std::io::Write;

use otlp_core::Signal;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

async fn post(
    receiver: &Receiver,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/v1/traces", receiver.http_endpoint()))
        .header("content-type", content_type)
        .body(body);
    if let Some(encoding) = encoding {
        request = request.header("content-encoding", encoding);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        String::from_utf8_lossy(&response.bytes().await.unwrap()).into_owned(),
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_at_the_limit() {
    let receiver = Receiver::start(ReceiverConfig::default().with_limits(1 << 20, 4 << 20))
        .await
        .unwrap();
    // 256 MiB of zeros compresses to about 250 KiB: small on the wire, huge inflated.
    let bomb = {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..256 {
            encoder.write_all(&chunk).unwrap();
        }
        encoder.finish().unwrap()
    };
    assert!(bomb.len() < 1 << 20);
    let (status, body) = post(&receiver, "application/x-protobuf", Some("gzip"), bomb).await;
    assert_eq!(status, 413);
    assert!(body.contains("once decompressed"), "{body}");
    assert_eq!(receiver.counts().refused_requests, 1);
}

#[tokio::test]
async fn a_body_over_the_wire_limit_is_refused() {
    let receiver = Receiver::start(ReceiverConfig::default().with_limits(1024, 1 << 20))
        .await
        .unwrap();
    let (status, _) = post(&receiver, "application/x-protobuf", None, vec![0u8; 4096]).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn unknown_media_types_and_encodings_are_refused() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    assert_eq!(
        post(&receiver, "text/plain", None, b"hi".to_vec()).await.0,
        415
    );
    assert_eq!(
        post(
            &receiver,
            "application/x-protobuf",
            Some("br"),
            b"hi".to_vec()
        )
        .await
        .0,
        415
    );
}

#[tokio::test]
async fn malformed_bodies_are_bad_requests_and_the_receiver_keeps_serving() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let (status, body) = post(&receiver, "application/x-protobuf", None, vec![0xff; 64]).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(
        &receiver,
        "application/json",
        None,
        b"{\"resourceSpans\": [".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("invalid OTLP/JSON traces request"), "{body}");
    let (status, _) = post(
        &receiver,
        "application/x-protobuf",
        Some("gzip"),
        b"not gzip".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    // An empty request is valid OTLP and is accepted.
    let (status, _) = post(&receiver, "application/json", Some("gzip"), gzip(b"{}")).await;
    assert_eq!(status, 200);
    assert_eq!(receiver.counts().requests, 1);
    assert_eq!(receiver.counts().items(Signal::Traces), 0);
}

#[tokio::test]
async fn every_refusal_reaches_the_on_refuse_callback_with_its_status_and_reason() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&seen);
    let receiver = Receiver::start(
        ReceiverConfig::default()
            .with_limits(1024, 4096)
            .with_on_refuse(move |refused| {
                sink.lock().unwrap().push((
                    refused.http_status,
                    refused.signal,
                    refused.reason.clone(),
                ))
            }),
    )
    .await
    .unwrap();
    post(&receiver, "text/plain", None, b"x".to_vec()).await;
    post(&receiver, "application/x-protobuf", None, vec![0xff; 10]).await;
    post(&receiver, "application/x-protobuf", None, vec![0; 2048]).await;
    let missing = reqwest::Client::new()
        .post(format!("{}/v1/trace", receiver.http_endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let seen = seen.lock().unwrap().clone();
    let statuses: Vec<u16> = seen.iter().map(|(status, _, _)| *status).collect();
    assert_eq!(statuses, [415, 400, 413, 404], "{seen:?}");
    assert_eq!(seen[0].1, Some(Signal::Traces));
    assert!(seen[0].2.contains("text/plain"), "{seen:?}");
    assert!(seen[2].2.contains("limit"), "{seen:?}");
    assert_eq!(seen[3].1, None);
    assert!(seen[3].2.contains("/v1/trace"), "{seen:?}");
    assert_eq!(receiver.counts().refused_requests, 4);
}
