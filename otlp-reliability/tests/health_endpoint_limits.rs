//! The health endpoint inside an application: it closes connections that hold it (half-open
//! headers, idle keep-alive), refuses connections past its limit, keeps answering, and can
//! require a bearer token.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use otlp_reliability::health::http::{serve_with, ServeConfig};
use otlp_reliability::health::{CheckConfig, HealthRegistry, HealthStatus};

fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            }
        }
    }
}

async fn start(config: ServeConfig) -> std::net::SocketAddr {
    let registry = HealthRegistry::new();
    registry.register("queue", CheckConfig::default(), || async {
        HealthStatus::Healthy.into()
    });
    registry.check_now().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_with(registry, listener, config));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_and_idle_connections_are_closed_and_the_endpoint_keeps_answering() {
    let config = ServeConfig::default()
        .with_timeouts(Duration::from_millis(300), Duration::from_secs(1))
        .with_max_connections(8);
    let addr = start(config).await;
    let held = tokio::task::spawn_blocking(move || {
        let mut held: Vec<TcpStream> = (0..20)
            .map(|i| {
                let mut stream = TcpStream::connect(addr).unwrap();
                if i % 2 == 0 {
                    let _ = stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n");
                }
                stream
            })
            .collect();
        held.iter_mut()
            .all(|s| closed_by_server(s, Duration::from_secs(3)))
    })
    .await
    .unwrap();
    assert!(held, "every held connection was closed by the endpoint");
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/health");
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn a_bearer_token_can_be_required() {
    let addr = start(ServeConfig::default().with_bearer_token("s3cret")).await;
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/health");
    for (value, expected) in [
        (None, 401),
        (Some("Bearer wrong"), 401),
        (Some("bearer s3cret"), 200),
        (Some("Bearer s3cret"), 200),
    ] {
        let mut request = client.get(&url);
        if let Some(value) = value {
            request = request.header("authorization", value);
        }
        let status = request.send().await.unwrap().status().as_u16();
        assert_eq!(status, expected, "{value:?}");
    }
}
