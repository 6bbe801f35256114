//! Connection settings reach the connection: the HTTP/2 windows and keep-alive pings a gRPC
//! client sends, seen by a bare HTTP/2 peer on 127.0.0.1; and the response limit, met by a
//! collector whose answer is too big.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use otlp_core::{Encoding, ErrorKind, Signal};
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::ConnectionSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tower::ServiceExt;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const WINDOW_UPDATE: u8 = 0x8;
const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;

/// One HTTP/2 frame: type, flags, stream and payload.
async fn read_frame(stream: &mut tokio::net::TcpStream) -> (u8, u8, u32, Vec<u8>) {
    let mut header = [0u8; 9];
    stream.read_exact(&mut header).await.unwrap();
    let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
    let stream_id = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).await.unwrap();
    (header[3], header[4], stream_id, payload)
}

#[tokio::test]
async fn grpc_sends_the_configured_windows_and_keep_alive_pings() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let connection = ConnectionSettings::default()
        .with_http2_windows(1_048_576, 4_194_304)
        .with_http2_keep_alive(Duration::from_millis(100), Duration::from_secs(5));
    let transport =
        GrpcTransport::new(GrpcConfig::new(endpoint).with_connection(connection)).unwrap();
    let payload = support::payload(Signal::Traces, 1);
    // The peer never answers the request: it only watches what the client sends.
    let export = tokio::spawn(transport.oneshot(support::request(&payload, Encoding::Protobuf)));

    let seen = tokio::time::timeout(Duration::from_secs(20), async {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut preface = [0u8; 24];
        stream.read_exact(&mut preface).await.unwrap();
        assert_eq!(preface, PREFACE);
        let (mut stream_window, mut connection_increment, mut pinged) = (None, None, false);
        let mut answered = false;
        while !(pinged && stream_window.is_some() && connection_increment.is_some()) {
            let (kind, flags, stream_id, payload) = read_frame(&mut stream).await;
            match kind {
                SETTINGS if flags & 0x1 == 0 => {
                    for entry in payload.chunks_exact(6) {
                        let id = u16::from_be_bytes([entry[0], entry[1]]);
                        if id == SETTINGS_INITIAL_WINDOW_SIZE {
                            let value =
                                u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]);
                            stream_window = Some(value);
                        }
                    }
                    if !answered {
                        // Our (empty) SETTINGS, and the acknowledgement of the client's.
                        stream
                            .write_all(&[0, 0, 0, SETTINGS, 0, 0, 0, 0, 0])
                            .await
                            .unwrap();
                        stream
                            .write_all(&[0, 0, 0, SETTINGS, 1, 0, 0, 0, 0])
                            .await
                            .unwrap();
                        answered = true;
                    }
                }
                WINDOW_UPDATE if stream_id == 0 => {
                    let increment =
                        u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                    connection_increment = Some(increment & 0x7fff_ffff);
                }
                PING if flags & 0x1 == 0 => pinged = true,
                _ => {}
            }
        }
        (stream_window, connection_increment)
    })
    .await
    .expect("the client sent its settings and a keep-alive ping within 20 s");
    export.abort();

    assert_eq!(
        seen.0,
        Some(1_048_576),
        "the stream window reached the wire"
    );
    // The connection window starts at 65 535; the client raises it by a WINDOW_UPDATE.
    assert_eq!(
        seen.1,
        Some(4_194_304 - 65_535),
        "the connection window reached the wire"
    );
}

#[tokio::test]
async fn a_too_big_answer_is_an_error_naming_the_limit() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut request = vec![0u8; 64 * 1024];
                let _ = stream.read(&mut request).await;
                let body = vec![0u8; 10_000];
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\n\
                     content-length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            });
        }
    });
    let transport = HttpTransport::new(
        HttpConfig::from_base_endpoint(&base)
            .unwrap()
            .with_max_response_bytes(1024),
    )
    .unwrap();
    let payload = support::payload(Signal::Traces, 1);
    let error = transport
        .oneshot(support::request(&payload, Encoding::Protobuf))
        .await
        .unwrap_err();
    let error = error.downcast::<otlp_core::Error>().unwrap();
    assert_eq!(error.kind(), ErrorKind::Encoding, "{error}");
    assert!(!error.kind().is_retryable());
    let text = error.to_string();
    assert!(
        text.contains("max_response_bytes") && text.contains("1024"),
        "{text}"
    );
}
