//! TLS and mutual TLS with certificates generated here: a trusted CA delivers, anything that
//! does not verify is a permanent error that says it is about TLS.

#![allow(clippy::unwrap_used)]

mod support;

use otlp_core::{BoxError, Encoding, Error, ErrorKind, ExportOutcome, Signal};
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::receiver::{Receiver, ReceiverConfig, ServerTls};
use otlp_transport::TlsConfig;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tower::util::BoxCloneService;
use tower::ServiceExt;

/// A CA and what it issued: a server certificate for 127.0.0.1 and a client certificate.
struct Pki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let issue = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
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
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
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
