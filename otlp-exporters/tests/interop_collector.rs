//! Interop with a real OpenTelemetry Collector (the release pinned in `interop/collector/go.mod`),
//! both directions at once: our exporters send to the Collector's OTLP receiver, the Collector's
//! own `otlp_grpc` and `otlp_http` exporters forward to our receiver, and what our receiver
//! decoded must equal what we sent, field by field.
//!
//! - every signal over gRPC, HTTP/protobuf and HTTP/JSON, with none, gzip and zstd, with a
//!   header the Collector checks and a bearer token it sends on; the Collector's default
//!   (gzip) compression towards us;
//! - mutual TLS both ways (towards our receiver and towards the Collector), certificates made here;
//! - the pipeline (`OtlpPipeline`) through the Collector's batch processor.
//!
//! Pressure and faults are in `interop_collector_pressure.rs`. `cargo xtask interop` builds the
//! Collector and runs both with `OTLP_INTEROP_COLLECTOR` set.

#![allow(clippy::unwrap_used)]

mod collector;

use std::time::{Duration, Instant};

use collector::clients::{
    endpoint, forward_to, pipeline_protocol, span_names, take, transport, Transport,
};
use collector::payloads::{items, request, rich};
use collector::{Collector, Forward, ReceiverTls, Scratch, Settings};
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use otlp_core::Telemetry;
use otlp_core::{Encoding, Error, Signal};
use otlp_exporters::OtlpPipeline;
use otlp_transport::receiver::{ReceivedOver, Receiver, ReceiverConfig, ServerTls};
use otlp_transport::{Compression, Headers, TlsConfig};
use tower::ServiceExt;

const API_KEY: &str = "in-secret";
const FORWARD_TOKEN: &str = "out-secret";

fn api_key(value: &str) -> Headers {
    let mut headers = Headers::new();
    headers.insert("test", "x-api-key", value).unwrap();
    headers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OpenTelemetry Collector: run `cargo xtask interop`"]
async fn every_field_survives_our_exporters_the_collector_and_its_exporters() {
    let receiver = Receiver::start(ReceiverConfig::default().with_bearer_token(FORWARD_TOKEN))
        .await
        .unwrap();
    let mut settings = Settings::new();
    settings.forward = Forward {
        bearer_token: Some(FORWARD_TOKEN.into()),
        ..forward_to(&receiver, true, true)
    };
    settings.api_key = Some(API_KEY.into());
    let collector = Collector::start(settings);

    for protocol in ["grpc", "http/protobuf", "http/json"] {
        let encoding = if protocol == "http/json" {
            Encoding::Json
        } else {
            Encoding::Protobuf
        };
        for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let transport = transport(&collector, protocol, compression, api_key(API_KEY), None);
            for signal in Signal::ALL {
                let case = format!("{protocol} {compression:?} {signal}");
                let sent = rich(signal);
                let outcome = transport
                    .clone()
                    .oneshot(request(&sent, encoding))
                    .await
                    .unwrap_or_else(|e| panic!("{case}: {e}\n{}", collector.log()));
                assert_eq!(outcome.accepted as usize, items(&sent), "{case}");
                assert_eq!(outcome.rejected, 0, "{case}");

                // One copy from each of the Collector's exporters, each equal to what we sent.
                let mut arrived = take(&receiver, 2).await;
                arrived.sort_by_key(|r| r.protocol == ReceivedOver::Http);
                let protocols: Vec<_> = arrived.iter().map(|r| r.protocol).collect();
                assert_eq!(
                    protocols,
                    [ReceivedOver::Grpc, ReceivedOver::Http],
                    "{case}"
                );
                for copy in &arrived {
                    assert_eq!(
                        copy.payload, sent,
                        "{case}, forwarded over {:?}",
                        copy.protocol
                    );
                    assert_eq!(
                        copy.compression.as_deref(),
                        Some("gzip"),
                        "{case}: the Collector's exporters compress with gzip by default"
                    );
                    assert_eq!(copy.encoding, Encoding::Protobuf, "{case}");
                }
            }
        }
    }

    // The Collector checks the header we send: a wrong key is refused for good, over both
    // protocols, and nothing is forwarded.
    for protocol in ["grpc", "http/protobuf"] {
        let transport = transport(
            &collector,
            protocol,
            Compression::None,
            api_key("wrong"),
            None,
        );
        let error = transport
            .oneshot(request(&rich(Signal::Traces), Encoding::Protobuf))
            .await
            .unwrap_err();
        let error = error.downcast::<Error>().unwrap();
        assert!(!error.is_retryable(), "{protocol}: {error}");
    }
    assert!(take(&receiver, 0).await.is_empty());
    receiver.shutdown().await;
}

/// A CA and two leaves it issued, each with a subject of its own.
struct Pki {
    ca: String,
    server: (String, String),
    client: (String, String),
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "otlp-rust interop CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let issue = |names: Vec<String>, subject: &str| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, subject);
        let cert = params.signed_by(&key, &ca).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        ca: ca.pem(),
        server: issue(
            vec!["127.0.0.1".into(), "localhost".into()],
            "otlp-rust interop server",
        ),
        client: issue(vec!["client.test".into()], "otlp-rust interop client"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OpenTelemetry Collector: run `cargo xtask interop`"]
async fn tls_to_the_collector_and_from_it() {
    let pki = pki();
    let files = Scratch::new();
    let ca_file = files.write("ca.pem", &pki.ca);
    // Our receiver serves TLS and requires a client certificate from the CA; the Collector's
    // exporters trust the CA and present one.
    let receiver = Receiver::start(ReceiverConfig::default().with_tls(ServerTls {
        certificate_pem: pki.server.0.clone().into_bytes(),
        key_pem: pki.server.1.clone().into_bytes(),
        client_ca_pem: Some(pki.ca.clone().into_bytes()),
    }))
    .await
    .unwrap();
    // The Collector's receiver serves TLS and requires a client certificate from the CA.
    let mut settings = Settings::new();
    settings.forward = Forward {
        ca_file: Some(ca_file.clone()),
        client_identity: Some((
            files.write("client.pem", &pki.client.0),
            files.write("client.key", &pki.client.1),
        )),
        ..forward_to(&receiver, true, true)
    };
    settings.tls = Some(ReceiverTls {
        cert_file: files.write("server.pem", &pki.server.0),
        key_file: files.write("server.key", &pki.server.1),
        client_ca_file: Some(ca_file),
    });
    let collector = Collector::start(settings);

    let trusted = TlsConfig::new()
        .with_ca_pem("test CA", pki.ca.as_bytes())
        .unwrap();
    let with_identity = trusted
        .clone()
        .with_client_identity_pem(
            "test client",
            pki.client.0.as_bytes(),
            pki.client.1.as_bytes(),
        )
        .unwrap();
    for protocol in ["grpc", "http/protobuf"] {
        let sent = rich(Signal::Logs);
        let transport = transport(
            &collector,
            protocol,
            Compression::Gzip,
            Headers::new(),
            Some(with_identity.clone()),
        );
        let outcome = transport
            .oneshot(request(&sent, Encoding::Protobuf))
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e}\n{}", collector.log()));
        assert_eq!(outcome.accepted as usize, items(&sent));
        let arrived = take(&receiver, 2).await;
        assert_eq!(arrived.len(), 2, "{protocol}");
        assert!(arrived.iter().all(|r| r.payload == sent), "{protocol}");

        // Without a client certificate the Collector's TLS server refuses us.
        let transport = transport_without_identity(&collector, protocol, trusted.clone());
        let result = transport.oneshot(request(&sent, Encoding::Protobuf)).await;
        assert!(
            result.is_err(),
            "{protocol}: mTLS let a client without a certificate in"
        );
    }
    assert!(take(&receiver, 0).await.is_empty());
    receiver.shutdown().await;
}

fn transport_without_identity(collector: &Collector, protocol: &str, tls: TlsConfig) -> Transport {
    transport(
        collector,
        protocol,
        Compression::None,
        Headers::new(),
        Some(tls),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OpenTelemetry Collector: run `cargo xtask interop`"]
async fn the_pipeline_delivers_every_signal_through_the_collectors_batch_processor() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let mut settings = Settings::new();
    settings.forward = forward_to(&receiver, true, false);
    settings.batch = true;
    let collector = Collector::start(settings);
    let cases = [
        ("grpc", Compression::Zstd),
        ("http/protobuf", Compression::Gzip),
        ("http/json", Compression::None),
    ];
    for (protocol, compression) in cases {
        let pipeline = OtlpPipeline::builder()
            .with_endpoint(endpoint(&collector, protocol))
            .with_protocol(pipeline_protocol(protocol))
            .with_compression(compression)
            .with_header("x-interop-case", protocol)
            .unwrap()
            .with_service_name("interop")
            .with_metric_export_interval(Duration::from_secs(3600))
            .build()
            .unwrap();
        let tracer = pipeline.tracer("interop");
        for i in 0..50 {
            let mut span = tracer.start(format!("{protocol} span {i}"));
            span.set_attribute(KeyValue::new("index", i64::from(i)));
            span.set_attribute(KeyValue::new("ratio", f64::from(i) / 4.0));
            span.set_attribute(KeyValue::new("even", i % 2 == 0));
            span.end();
        }
        let logger = pipeline.logger_provider().logger("interop");
        for i in 0..20 {
            let mut record = logger.create_log_record();
            record.set_body(format!("{protocol} log {i}").into());
            record.set_severity_number(Severity::Warn);
            logger.emit(record);
        }
        let counter = pipeline
            .meter("interop")
            .u64_counter("interop.sent")
            .build();
        counter.add(7, &[KeyValue::new("protocol", protocol)]);

        let report = pipeline.shutdown(Duration::from_secs(20));
        assert!(
            report.completed,
            "{protocol}: {report:?}\n{}",
            collector.log()
        );
        let stats = pipeline.stats();
        assert_eq!(stats.spans.exported, 50, "{protocol}: {stats:#?}");
        assert_eq!(stats.logs.exported, 20, "{protocol}: {stats:#?}");
        assert!(stats.spans.balanced() && stats.logs.balanced());

        // The Collector's batch processor holds items for up to 50 ms before forwarding them.
        let baseline = receiver.counts();
        let started = Instant::now();
        while {
            let now = receiver.counts();
            now.spans - baseline.spans < 50
                || now.log_records - baseline.log_records < 20
                || now.data_points == baseline.data_points
        } && started.elapsed() < Duration::from_secs(20)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let arrived = receiver.take_received();
        let names = span_names(&arrived);
        assert_eq!(names.len(), 50, "{protocol}");
        assert!(names.values().all(|&n| n == 1), "{protocol}: {names:?}");
        let span = arrived
            .iter()
            .find_map(|r| match &r.payload {
                Telemetry::Traces(t) => Some(t.resource_spans[0].scope_spans[0].spans[0].clone()),
                _ => None,
            })
            .unwrap();
        let types: Vec<_> = span
            .attributes
            .iter()
            .map(|kv| (kv.key.as_str(), kv.value.clone().unwrap().value.unwrap()))
            .collect();
        use otlp_core::proto::common::v1::any_value::Value;
        assert!(types
            .iter()
            .any(|(k, v)| *k == "index" && matches!(v, Value::IntValue(_))));
        assert!(types
            .iter()
            .any(|(k, v)| *k == "ratio" && matches!(v, Value::DoubleValue(_))));
        assert!(types
            .iter()
            .any(|(k, v)| *k == "even" && matches!(v, Value::BoolValue(_))));
        let logs: usize = arrived
            .iter()
            .filter(|r| r.payload.signal() == Signal::Logs)
            .map(|r| r.payload.items())
            .sum();
        assert_eq!(logs, 20, "{protocol}");
        let points: usize = arrived
            .iter()
            .filter(|r| r.payload.signal() == Signal::Metrics)
            .map(|r| r.payload.items())
            .sum();
        assert!(points >= 1, "{protocol}: the counter did not arrive");
    }
    receiver.shutdown().await;
}
