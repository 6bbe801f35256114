//! TLS and mutual TLS with certificates generated here: a trusted CA delivers, anything that
//! does not verify is a permanent error that says it is about TLS.

#![allow(clippy::unwrap_used)]

mod support;

use otlp_core::{BoxError, Encoding, Error, ErrorKind, ExportOutcome, Signal};
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::receiver::{Receiver, ReceiverConfig, ServerTls};
use otlp_transport::TlsConfig;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tower::util::BoxCloneService;
use tower::ServiceExt;

/// A CA and what it issued: a server certificate for 127.0.0.1 and a client certificate.
struct Pki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
}

/// Certificate settings for `names`, with `common_name` as the subject: rcgen gives every
/// certificate the same default subject, and a leaf whose subject is its issuer's looks
/// self-signed to OpenSSL and Node, which then refuse the chain.
fn params(names: Vec<String>, common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(names).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
}

fn test_ca() -> CertifiedIssuer<'static, KeyPair> {
    let mut ca_params = params(Vec::new(), "otlp-rust test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap()
}

fn pki() -> Pki {
    let ca = test_ca();
    let issue = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let common_name = names[0].clone();
        let cert = params(names, &common_name).signed_by(&key, &ca).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        ca_pem: ca.pem(),
        server: issue(vec!["127.0.0.1".into(), "localhost".into()]),
        client: issue(vec!["client.test".into()]),
    }
}

fn server_tls(pki: &Pki, require_client: bool) -> ServerTls {
    ServerTls {
        certificate_pem: pki.server.0.clone().into_bytes(),
        key_pem: pki.server.1.clone().into_bytes(),
        client_ca_pem: require_client.then(|| pki.ca_pem.clone().into_bytes()),
    }
}

type Transport = BoxCloneService<otlp_core::ExportRequest, ExportOutcome, BoxError>;

fn transports(receiver: &Receiver, tls: TlsConfig) -> Vec<(&'static str, Transport)> {
    let grpc = GrpcTransport::new(GrpcConfig::new(receiver.grpc_endpoint()).with_tls(tls.clone()))
        .unwrap();
    let http = HttpTransport::new(
        HttpConfig::from_base_endpoint(&receiver.http_endpoint())
            .unwrap()
            .with_tls(tls),
    )
    .unwrap();
    vec![
        ("grpc", BoxCloneService::new(grpc)),
        ("http", BoxCloneService::new(http)),
    ]
}

async fn send(transport: &Transport) -> Result<ExportOutcome, BoxError> {
    let request = support::request(&support::payload(Signal::Traces, 2), Encoding::Protobuf);
    transport.clone().oneshot(request).await
}

fn tls_error(result: Result<ExportOutcome, BoxError>, name: &str) -> Error {
    let error = *result.unwrap_err().downcast::<Error>().unwrap();
    assert_eq!(error.kind(), ErrorKind::Tls, "{name}: {error}");
    assert!(
        !error.is_retryable(),
        "{name}: a certificate problem does not go away by retrying"
    );
    assert!(error.to_string().contains("TLS"), "{name}: {error}");
    error
}

#[tokio::test]
async fn a_trusted_ca_delivers_over_both_transports() {
    let pki = pki();
    let receiver = Receiver::start(ReceiverConfig::default().with_tls(server_tls(&pki, false)))
        .await
        .unwrap();
    assert!(receiver.grpc_endpoint().starts_with("https://"));
    let tls = TlsConfig::new()
        .with_ca_pem("test CA", pki.ca_pem.clone())
        .unwrap();
    for (name, transport) in transports(&receiver, tls) {
        assert_eq!(send(&transport).await.unwrap().accepted, 2, "{name}");
    }
    assert_eq!(receiver.counts().spans, 4);
}

#[tokio::test]
async fn an_unrelated_ca_is_refused_as_a_tls_error() {
    let pki = pki();
    let other = self::pki();
    let receiver = Receiver::start(ReceiverConfig::default().with_tls(server_tls(&pki, false)))
        .await
        .unwrap();
    let tls = TlsConfig::new()
        .with_ca_pem("test CA", other.ca_pem)
        .unwrap();
    for (name, transport) in transports(&receiver, tls) {
        let error = tls_error(send(&transport).await, name);
        assert!(error.to_string().contains("certificate"), "{name}: {error}");
    }
    assert_eq!(receiver.counts().requests, 0);
}

#[tokio::test]
async fn an_expired_server_certificate_is_refused_as_a_tls_error() {
    let ca = test_ca();
    let key = KeyPair::generate().unwrap();
    let mut params = params(vec!["127.0.0.1".to_owned()], "expired.test");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let expired = params.signed_by(&key, &ca).unwrap();
    let tls = ServerTls {
        certificate_pem: expired.pem().into_bytes(),
        key_pem: key.serialize_pem().into_bytes(),
        client_ca_pem: None,
    };
    let receiver = Receiver::start(ReceiverConfig::default().with_tls(tls))
        .await
        .unwrap();
    let client = TlsConfig::new().with_ca_pem("test CA", ca.pem()).unwrap();
    for (name, transport) in transports(&receiver, client) {
        let error = tls_error(send(&transport).await, name);
        assert!(error.to_string().contains("expired"), "{name}: {error}");
    }
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate() {
    let pki = pki();
    let receiver = Receiver::start(ReceiverConfig::default().with_tls(server_tls(&pki, true)))
        .await
        .unwrap();
    let without = TlsConfig::new()
        .with_ca_pem("test CA", pki.ca_pem.clone())
        .unwrap();
    for (name, transport) in transports(&receiver, without.clone()) {
        tls_error(send(&transport).await, name);
    }
    let with = without
        .with_client_identity_pem(
            "client certificate",
            pki.client.0.clone(),
            pki.client.1.clone(),
        )
        .unwrap();
    for (name, transport) in transports(&receiver, with) {
        assert_eq!(send(&transport).await.unwrap().accepted, 2, "{name}");
    }
}

/// Runs `openssl` with `args`, returning whether it succeeded and what it printed.
fn openssl(args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl is installed (it checks the chain as a client other than rustls)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_accepts_the_chain_and_the_live_handshake() {
    let pki = pki();
    let dir = std::env::temp_dir().join(format!("otlp-tls-openssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    let server = dir.join("server.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    std::fs::write(&server, &pki.server.0).unwrap();
    let (ca, server) = (ca.to_str().unwrap(), server.to_str().unwrap());

    let (ok, text) = openssl(&["verify", "-CAfile", ca, server]);
    assert!(ok && text.contains(": OK"), "openssl verify: {text}");

    let receiver = Receiver::start(ReceiverConfig::default().with_tls(server_tls(&pki, false)))
        .await
        .unwrap();
    for addr in [receiver.http_addr(), receiver.grpc_addr()] {
        let connect = addr.to_string();
        let args: Vec<String> = [
            "s_client",
            "-connect",
            connect.as_str(),
            "-CAfile",
            ca,
            "-verify_return_error",
            "-verify_ip",
            "127.0.0.1",
            "-alpn",
            "h2",
        ]
        .iter()
        .map(|arg| arg.to_string())
        .collect();
        let (ok, text) = tokio::task::spawn_blocking(move || {
            openssl(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .unwrap();
        assert!(
            ok && text.contains("Verify return code: 0 (ok)"),
            "openssl s_client {connect}: {text}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
