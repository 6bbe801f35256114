//! A standalone exporter with TLS from PEM files: it trusts the CA it is given and presents
//! its client certificate to a receiver that requires one; without the CA it does not deliver.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_exporters::{SpanExporter, WithExportConfig, WithTonicConfig};
use otlp_transport::receiver::{Receiver, ReceiverConfig, ServerTls};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// Certificate settings with `common_name` as the subject (a leaf whose subject equals its
/// issuer's would look self-signed).
fn params(names: Vec<String>, common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(names).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
}

/// A CA's PEM, and (certificate, key) PEMs it issued for the server and a client.
fn pki() -> (String, (String, String), (String, String)) {
    let mut ca_params = params(Vec::new(), "drop-in test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let issue = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let common_name = names[0].clone();
        let cert = params(names, &common_name).signed_by(&key, &ca).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let server = issue(vec!["127.0.0.1".into(), "localhost".into()]);
    let client = issue(vec!["client.test".into()]);
    (ca.pem(), server, client)
}

fn write(dir: &std::path::Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn send_one(exporter: SpanExporter) {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    provider.tracer("tls").in_span("over-tls", |_| {});
    let _ = provider.shutdown();
}

#[test]
fn mutual_tls_from_pem_files() {
    let (ca, server, client) = pki();
    let dir = std::env::temp_dir().join(format!("otlp-drop-in-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = write(&dir, "ca.pem", &ca);
    let cert_file = write(&dir, "client.pem", &client.0);
    let key_file = write(&dir, "client.key", &client.1);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = ReceiverConfig::default().with_tls(ServerTls {
        certificate_pem: server.0.into_bytes(),
        key_pem: server.1.into_bytes(),
        client_ca_pem: Some(ca.into_bytes()),
    });
    let receiver = runtime.block_on(Receiver::start(config)).unwrap();
    let endpoint = receiver.grpc_endpoint();
    assert!(endpoint.starts_with("https://"), "{endpoint}");

    // Without the CA (system roots only), nothing is delivered.
    let untrusted = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(&endpoint)
        .with_client_identity_files(&cert_file, &key_file)
        .build()
        .unwrap();
    let view = untrusted.clone();
    send_one(untrusted);
    assert_eq!(receiver.counts().spans, 0);
    assert_eq!(view.stats().failed, 1);

    let trusted = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(&endpoint)
        .with_ca_file(&ca_file)
        .with_client_identity_files(&cert_file, &key_file)
        .build()
        .unwrap();
    send_one(trusted);
    assert_eq!(receiver.counts().spans, 1);
    drop(receiver);
    let _ = std::fs::remove_dir_all(&dir);
}
