//! Credentials set for a plaintext endpoint that is not loopback are warned about once (in
//! `tracing` and in the startup report), or refused; the health endpoint binds 127.0.0.1 and can
//! require a bearer token.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otlp_exporters::{OtlpPipeline, PlaintextCredentials, Protocol};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn remote_with_token(endpoint: &str) -> otlp_exporters::PipelineBuilder {
    OtlpPipeline::builder()
        .with_endpoint(endpoint)
        .with_protocol(Protocol::HttpProtobuf)
        .with_bearer_token("TOKEN-1")
        .with_metric_export_interval(Duration::from_secs(3600))
}

#[test]
fn a_token_for_a_remote_plaintext_endpoint_is_warned_about_once() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let pipeline = tracing::subscriber::with_default(subscriber, || {
        remote_with_token("http://collector.example:4318")
            .build()
            .unwrap()
    });
    let warnings = pipeline.security_warnings().to_vec();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("http://collector.example:4318")
            && warnings[0].contains("authorization"),
        "{warnings:?}"
    );
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert_eq!(logs.matches("travel in clear").count(), 1, "{logs}");
    assert!(!logs.contains("TOKEN-1") && !warnings[0].contains("TOKEN-1"));
    pipeline.shutdown(Duration::from_secs(1));

    for quiet in [
        "https://collector.example:4318",
        "http://127.0.0.1:4318",
        "http://localhost:4318",
    ] {
        let pipeline = remote_with_token(quiet).build().unwrap();
        assert!(pipeline.security_warnings().is_empty(), "{quiet}");
        pipeline.shutdown(Duration::from_secs(1));
    }
}

#[test]
fn tls_files_for_a_remote_plaintext_endpoint_are_named() {
    let dir = std::env::temp_dir().join(format!("otlp-plaintext-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    let cert = rcgen::generate_simple_self_signed(vec!["ca".into()]).unwrap();
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint("http://10.1.2.3:4317")
        .with_ca_file(&ca)
        .with_metric_export_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let warnings = pipeline.security_warnings().to_vec();
    assert!(
        warnings.len() == 1 && warnings[0].contains("TLS files"),
        "{warnings:?}"
    );
    pipeline.shutdown(Duration::from_secs(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refuse_makes_it_a_build_error() {
    let error = remote_with_token("http://user:PW@collector.example:4318/?k=v")
        .with_plaintext_credentials(PlaintextCredentials::Refuse)
        .build()
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("collector.example:4318"), "{text}");
    assert!(text.contains("in clear"), "{text}");
    assert!(!text.contains("PW") && !text.contains("TOKEN-1"), "{text}");
}

#[tokio::test]
async fn the_health_endpoint_binds_loopback_and_can_require_a_token() {
    let pipeline = OtlpPipeline::builder()
        .with_health_port(0)
        .with_health_bearer_token("HEALTH-2")
        .with_metric_export_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let addr = pipeline.health_endpoint().unwrap();
    assert!(addr.ip().is_loopback(), "{addr}");
    let url = format!("http://{addr}/health");
    let client = reqwest::Client::new();
    let refused = client.get(&url).send().await.unwrap().status();
    assert_eq!(refused.as_u16(), 401);
    let allowed = client
        .get(&url)
        .bearer_auth("HEALTH-2")
        .send()
        .await
        .unwrap()
        .status();
    assert!(allowed.is_success() || allowed.as_u16() == 503, "{allowed}");
    let debug = format!(
        "{:?}",
        OtlpPipeline::builder().with_health_bearer_token("HEALTH-2")
    );
    assert!(!debug.contains("HEALTH-2"), "{debug}");
    pipeline.shutdown(Duration::from_secs(1));
}
