//! The receiver under abuse, for a few seconds: slow headers, held bodies, many idle
//! connections (HTTP and gRPC), too many requests at once, and file descriptors run out. It
//! keeps serving a well-behaved exporter throughout, its memory stays bounded, and it logs each
//! kind of refusal once per interval rather than per event. Also: gRPC refuses what HTTP
//! refuses, and the bearer scheme is matched without regard to case.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use otlp_core::{Encoding, Signal};
use otlp_reliability::retry::{RetryConfig, RetryLayer};
use otlp_reliability::OtlpClassify;
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::receiver::{ConnectionLimits, Receiver, ReceiverConfig};
use tower::{Layer, ServiceExt};

fn limits() -> ConnectionLimits {
    ConnectionLimits::default()
        .with_timeouts(Duration::from_millis(500), Duration::from_secs(1))
        .with_request_timeout(Duration::from_secs(1))
        .with_max_connections(400, 8)
        .with_refusal_log_interval(Duration::from_secs(1))
}

/// Resident memory of this process, in bytes (Linux).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// CPU time this process used so far (Linux, in clock ticks of 10 ms), read from an already
/// open `/proc/self/stat` so that it needs no new descriptor.
fn cpu_ticks(stat: &mut std::fs::File) -> u64 {
    use std::io::Seek;
    stat.seek(std::io::SeekFrom::Start(0)).unwrap();
    let mut text = String::new();
    stat.read_to_string(&mut text).unwrap();
    let after_name = &text[text.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Whether the server closed `stream` (read gives end of file or an error) within `within`.
fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abusive_clients_do_not_stop_a_well_behaved_one() {
    let receiver = Receiver::start(
        ReceiverConfig::default()
            .with_limits(1024 * 1024, 4 * 1024 * 1024)
            .with_keep_requests(false)
            .with_connection_limits(limits()),
    )
    .await
    .unwrap();
    let (http_addr, grpc_addr) = (receiver.http_addr(), receiver.grpc_addr());
    let memory_before = resident_bytes();

    // The abusers, on threads of their own with blocking sockets.
    let abuse = std::thread::spawn(move || {
        let mut idle = Vec::new();
        for _ in 0..100 {
            idle.push(TcpStream::connect(http_addr).unwrap());
            idle.push(TcpStream::connect(grpc_addr).unwrap());
        }
        let mut slow = Vec::new();
        for _ in 0..50 {
            let mut stream = TcpStream::connect(http_addr).unwrap();
            stream
                .write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            slow.push(stream);
        }
        let mut held = Vec::new();
        for _ in 0..20 {
            let mut stream = TcpStream::connect(http_addr).unwrap();
            stream
                .write_all(
                    b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000000\r\n\r\n",
                )
                .unwrap();
            stream.write_all(&[0u8; 100_000]).unwrap();
            held.push(stream);
        }
        // Trickle header bytes: the idle timeout alone would not catch these.
        for _ in 0..10 {
            for stream in &mut slow {
                let _ = stream.write_all(b"X");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let within = Duration::from_secs(3);
        let idle_closed = idle.iter_mut().all(|s| closed_by_server(s, within));
        let slow_closed = slow.iter_mut().all(|s| closed_by_server(s, within));
        let held_closed = held.iter_mut().all(|s| closed_by_server(s, within));
        (idle_closed, slow_closed, held_closed)
    });

    // The well-behaved exporter, over both protocols, with retries as exporters have.
    let retry = RetryLayer::new(
        RetryConfig::default()
            .with_max_attempts(10)
            .with_backoff(Duration::from_millis(50), Duration::from_millis(200), 2.0)
            .with_total_timeout(Duration::from_secs(10))
            .with_budget(None),
        OtlpClassify,
    )
    .unwrap();
    let http = retry.layer(
        HttpTransport::new(HttpConfig::from_base_endpoint(&receiver.http_endpoint()).unwrap())
            .unwrap(),
    );
    let grpc = retry.layer(GrpcTransport::new(GrpcConfig::new(receiver.grpc_endpoint())).unwrap());
    let payload = support::payload(Signal::Traces, 5);
    let mut sent = 0;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        let request = support::request(&payload, Encoding::Protobuf);
        http.clone().oneshot(request.clone()).await.unwrap();
        grpc.clone().oneshot(request).await.unwrap();
        sent += 10;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        receiver
            .wait_for_items(Signal::Traces, sent, Duration::from_secs(5))
            .await
    );

    let (idle_closed, slow_closed, held_closed) = abuse.join().unwrap();
    assert!(idle_closed, "idle connections were closed");
    assert!(slow_closed, "slow-header connections were closed");
    assert!(held_closed, "held bodies were cut off");
    let refusals = receiver.refusals();
    assert!(refusals.idle_timeout >= 100, "{refusals:?}");
    assert!(refusals.header_timeout >= 1, "{refusals:?}");
    assert!(
        refusals.request_timeout + refusals.request_limit >= 20,
        "{refusals:?}"
    );
    // Seven kinds, a warning each per 1 s interval at most, over about 8 s.
    assert!(refusals.warnings_logged <= 7 * 10, "{refusals:?}");
    let grown = resident_bytes().saturating_sub(memory_before);
    assert!(grown < 256 * 1024 * 1024, "memory grew by {grown} bytes");
}

#[tokio::test]
async fn too_many_requests_at_once_are_answered_retryable() {
    let receiver = Receiver::start(
        ReceiverConfig::default().with_connection_limits(limits().with_max_connections(400, 1)),
    )
    .await
    .unwrap();
    // Hold the only request slot with a body that never completes.
    let mut held = TcpStream::connect(receiver.http_addr()).unwrap();
    held.write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100\r\n\r\n")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let http =
        HttpTransport::new(HttpConfig::from_base_endpoint(&receiver.http_endpoint()).unwrap())
            .unwrap();
    let grpc = GrpcTransport::new(GrpcConfig::new(receiver.grpc_endpoint())).unwrap();
    let request = support::request(&support::payload(Signal::Logs, 1), Encoding::Protobuf);
    let error = http.oneshot(request.clone()).await.unwrap_err();
    let error = error.downcast_ref::<otlp_core::Error>().unwrap();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)), "{error}");
    // The gRPC server has its own slots.
    grpc.oneshot(request).await.unwrap();
    assert_eq!(receiver.refusals().request_limit, 1);
}

#[tokio::test]
async fn grpc_refuses_a_body_that_http_refuses() {
    let receiver =
        Receiver::start(ReceiverConfig::default().with_limits(64 * 1024, 16 * 1024 * 1024))
            .await
            .unwrap();
    let big = support::request(&support::payload(Signal::Logs, 2000), Encoding::Protobuf);
    assert!(big.body.len() > 64 * 1024, "{}", big.body.len());
    let http =
        HttpTransport::new(HttpConfig::from_base_endpoint(&receiver.http_endpoint()).unwrap())
            .unwrap();
    let grpc = GrpcTransport::new(GrpcConfig::new(receiver.grpc_endpoint())).unwrap();
    let http_error = http.oneshot(big.clone()).await.unwrap_err();
    let grpc_error = grpc.oneshot(big).await.unwrap_err();
    for error in [http_error, grpc_error] {
        let error = error.downcast_ref::<otlp_core::Error>().unwrap();
        assert!(!error.is_retryable(), "{error}");
    }
    assert_eq!(receiver.counts().requests, 0);
}

#[tokio::test]
async fn the_bearer_scheme_is_matched_without_regard_to_case() {
    let receiver = Receiver::start(ReceiverConfig::default().with_bearer_token("s3cret"))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/v1/traces", receiver.http_endpoint());
    for (value, expected) in [
        ("bearer s3cret", 200),
        ("BEARER s3cret", 200),
        ("Bearer s3cret", 200),
        ("Bearer s3crex", 401),
        ("Bearer s3cret2", 401),
        ("Basic s3cret", 401),
    ] {
        let status = client
            .post(&url)
            .header("content-type", "application/x-protobuf")
            .header("authorization", value)
            .body(Vec::new())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), expected, "{value}");
    }
}

/// Runs in a child process under `ulimit -n 64`: this process's descriptors are used up, a
/// client connects, and the accept loop must pause between failures instead of spinning.
#[test]
fn accept_errors_back_off_when_descriptors_run_out() {
    if std::env::var_os("OTLP_FD_EXHAUSTION_CHILD").is_none() {
        let exe = std::env::current_exe().unwrap();
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -n 64 && exec \"$0\" \"$@\"")
            .arg(exe)
            .args([
                "--exact",
                "accept_errors_back_off_when_descriptors_run_out",
                "--test-threads=1",
                "--nocapture",
            ])
            .env("OTLP_FD_EXHAUSTION_CHILD", "1")
            .status()
            .unwrap();
        assert!(status.success(), "the child failed: {status}");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let limits = limits();
    let receiver = runtime
        .block_on(Receiver::start(
            ReceiverConfig::default().with_connection_limits(ConnectionLimits {
                accept_error_backoff: Duration::from_millis(200),
                ..limits
            }),
        ))
        .unwrap();
    let addr = receiver.http_addr();
    // Use up every descriptor, then free one for the client's socket: the server's accept
    // finds the connection but has no descriptor for it.
    let mut stat = std::fs::File::open("/proc/self/stat").unwrap();
    let mut hogs = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        hogs.push(file);
    }
    hogs.pop();
    let client = TcpStream::connect(addr).unwrap();
    let ticks_before = cpu_ticks(&mut stat);
    std::thread::sleep(Duration::from_secs(2));
    let ticks = cpu_ticks(&mut stat) - ticks_before;
    let refusals = receiver.refusals();
    assert!(refusals.accept_errors >= 1, "{refusals:?}");
    assert!(refusals.accept_errors <= 50, "spinning: {refusals:?}");
    assert!(refusals.warnings_logged <= 3, "{refusals:?}");
    assert!(ticks < 50, "{ticks} ticks of CPU in 2 s");
    // With descriptors back, the waiting connection and new ones are served.
    drop(hogs);
    drop(client);
    let request = support::request(&support::payload(Signal::Traces, 1), Encoding::Protobuf);
    runtime.block_on(async {
        let http =
            HttpTransport::new(HttpConfig::from_base_endpoint(&receiver.http_endpoint()).unwrap())
                .unwrap();
        let sent = tokio::time::timeout(Duration::from_secs(5), http.oneshot(request)).await;
        assert!(sent.unwrap().is_ok());
    });
}
