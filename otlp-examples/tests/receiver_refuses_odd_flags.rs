//! The receiver binary refuses odd flag values before it listens, with a message naming the
//! flag and the value, and never panics: a retry delay too large for a `Duration`, TLS files
//! that are not PEM, an empty bearer token.

use std::io::Read as _;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Runs the receiver with `args`; one that is still running after 30 s (it accepted the
/// value and listens) is killed, and its status is `None`.
fn receiver(args: &[&str]) -> (Option<ExitStatus>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_receiver"))
        .args(["--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run the receiver: {e}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status, stderr)
}

/// The run failed with a one-line message containing every `part`, and no panic.
fn refused(args: &[&str], parts: &[&str]) {
    let (status, stderr) = receiver(args);
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    for part in parts {
        assert!(stderr.contains(part), "{args:?}: {stderr:?} lacks {part:?}");
    }
}

#[test]
fn a_retry_delay_too_large_is_refused_not_a_panic() {
    refused(
        &["--fault", "503", "--retry-after", "1e300"],
        &["--retry-after", "1e300"],
    );
}

#[test]
fn tls_files_that_are_not_pem_are_named() {
    let dir = std::env::temp_dir().join(format!("otlp-receiver-not-pem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap_or_else(|e| panic!("{e}"));
    let path = not_pem.to_string_lossy().into_owned();
    refused(
        &["--tls-cert", &path, "--tls-key", &path],
        &["--tls-cert", "not.pem", "PEM"],
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_empty_bearer_token_is_refused() {
    refused(&["--bearer-token", ""], &["--bearer-token"]);
    refused(&["--bearer-token", "  "], &["--bearer-token"]);
}
