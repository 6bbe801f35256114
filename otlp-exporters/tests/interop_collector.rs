//! Interop with a real OpenTelemetry Collector (the release pinned in `interop/collector/go.mod`),
//! both directions at once: our exporters send to the Collector's OTLP receiver, the Collector's
//! own `otlp_grpc` and `otlp_http` exporters forward to our receiver, and what our receiver
//! decoded must equal what we sent, field by field.
//!
//! - every signal over gRPC, HTTP/protobuf and HTTP/JSON, with none, gzip and zstd, with a
//!   header the Collector checks and a bearer token it sends on; the Collector's default
//!   (gzip) compression towards us;
//! - TLS towards our receiver and mutual TLS towards the Collector, certificates made here;
//! - the pipeline (`OtlpPipeline`) through the Collector's batch processor;
//! - pressure: a `memory_limiter` that refuses, and a Collector killed and restarted mid-run,
//!   against our retries and our stats;
//! - the Collector's exporters retrying on faults our receiver injects: what they forward
//!   arrives once.
//!
//! `cargo xtask interop` builds the Collector and runs these with `OTLP_INTEROP_COLLECTOR` set.

#![allow(clippy::unwrap_used)]

mod collector;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use collector::payloads::{items, request, rich};
use collector::{Collector, Forward, ReceiverTls, Scratch, Settings};
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use otlp_batch::BatchConfig;
use otlp_core::{BoxError, Encoding, Error, ExportOutcome, Signal};
use otlp_exporters::{OtlpPipeline, Protocol as PipelineProtocol};
use otlp_reliability::retry::RetryConfig;
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::receiver::{
    Fault, GrpcCode, Payload, Protocol, Received, Receiver, ReceiverConfig, ServerTls,
};
use otlp_transport::{Compression, Headers, TlsConfig};
use tower::util::BoxCloneService;
use tower::ServiceExt;

type Transport = BoxCloneService<otlp_core::ExportRequest, ExportOutcome, BoxError>;

const API_KEY: &str = "in-secret";
const FORWARD_TOKEN: &str = "out-secret";

/// Our transport for one protocol, with the given compression, headers and TLS.
fn transport(
    collector: &Collector,
    protocol: &str,
    compression: Compression,
    headers: Headers,
    tls: Option<TlsConfig>,
) -> Transport {
    if protocol == "grpc" {
        let mut config = GrpcConfig::new(collector.grpc_endpoint())
            .with_compression(compression)
            .with_headers(headers);
        if let Some(tls) = tls {
            config = config.with_tls(tls);
        }
        BoxCloneService::new(GrpcTransport::new(config).unwrap())
    } else {
        let mut config = HttpConfig::from_base_endpoint(&collector.http_endpoint())
            .unwrap()
            .with_compression(compression)
            .with_headers(headers);
        if let Some(tls) = tls {
            config = config.with_tls(tls);
        }
        BoxCloneService::new(HttpTransport::new(config).unwrap())
    }
}

fn api_key(value: &str) -> Headers {
    let mut headers = Headers::new();
    headers.insert("test", "x-api-key", value).unwrap();
    headers
}

/// Waits (bounded) until the receiver holds `count` requests, and takes them.
async fn take(receiver: &Receiver, count: usize) -> Vec<Received> {
    let started = Instant::now();
    while receiver.received().len() < count && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    receiver.take_received()
}

fn forward_to(receiver: &Receiver, grpc: bool, http: bool) -> Forward {
    Forward {
        grpc: grpc.then(|| receiver.grpc_addr()),
        http: http.then(|| receiver.http_addr()),
        ..Forward::default()
    }
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
                arrived.sort_by_key(|r| r.protocol == Protocol::Http);
                let protocols: Vec<_> = arrived.iter().map(|r| r.protocol).collect();
                assert_eq!(protocols, [Protocol::Grpc, Protocol::Http], "{case}");
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
    // Our receiver serves TLS; the Collector's exporters trust the CA.
    let receiver = Receiver::start(ReceiverConfig::default().with_tls(ServerTls {
        certificate_pem: pki.server.0.clone().into_bytes(),
        key_pem: pki.server.1.clone().into_bytes(),
        client_ca_pem: None,
    }))
    .await
    .unwrap();
    // The Collector's receiver serves TLS and requires a client certificate from the CA.
    let mut settings = Settings::new();
    settings.forward = Forward {
        ca_file: Some(ca_file.clone()),
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

fn pipeline_protocol(protocol: &str) -> PipelineProtocol {
    match protocol {
        "grpc" => PipelineProtocol::Grpc,
        "http/protobuf" => PipelineProtocol::HttpProtobuf,
        _ => PipelineProtocol::HttpJson,
    }
}

fn endpoint(collector: &Collector, protocol: &str) -> String {
    if protocol == "grpc" {
        collector.grpc_endpoint()
    } else {
        collector.http_endpoint()
    }
}

fn span_names(received: &[Received]) -> HashMap<String, usize> {
    let mut names = HashMap::new();
    for r in received {
        if let Payload::Traces(t) = &r.payload {
            for span in t
                .resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .flat_map(|ss| &ss.spans)
            {
                *names.entry(span.name.clone()).or_insert(0) += 1;
            }
        }
    }
    names
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
                Payload::Traces(t) => Some(t.resource_spans[0].scope_spans[0].spans[0].clone()),
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

fn retries(max_attempts: u32, total: Duration) -> RetryConfig {
    RetryConfig::default()
        .with_max_attempts(max_attempts)
        .with_backoff(Duration::from_millis(50), Duration::from_millis(300), 2.0)
        .with_total_timeout(total)
        .with_budget(None)
}

/// Sends until the Collector's memory_limiter refuses (it checks the heap every 50 ms, so the
/// first requests may pass) and returns the error it answered with.
async fn first_refusal(collector: &Collector, protocol: &str) -> Error {
    let transport = transport(collector, protocol, Compression::None, Headers::new(), None);
    let started = Instant::now();
    loop {
        let result = transport
            .clone()
            .oneshot(request(&rich(Signal::Traces), Encoding::Protobuf))
            .await;
        if let Err(error) = result {
            return *error.downcast::<Error>().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the memory_limiter never refused\n{}",
            collector.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OpenTelemetry Collector: run `cargo xtask interop`"]
async fn a_refusing_memory_limiter_is_retried_counted_and_then_delivered_to() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    for protocol in ["grpc", "http/protobuf"] {
        receiver.take_received();
        // A limit far below the Collector's own heap: it refuses everything once it has looked.
        let mut settings = Settings::new();
        settings.forward = forward_to(&receiver, true, false);
        settings.memory_limit_mib = Some(2);
        let collector = Collector::start(settings.clone());
        let refusal = first_refusal(&collector, protocol).await;
        assert!(refusal.is_retryable(), "{protocol}: {refusal}");
        assert!(
            refusal.to_string().contains("memory"),
            "{protocol}: the Collector's reason is kept: {refusal}"
        );
        receiver.take_received();

        // Three attempts per batch against it: every span failed, every retry counted.
        let pipeline = OtlpPipeline::builder()
            .with_endpoint(endpoint(&collector, protocol))
            .with_protocol(pipeline_protocol(protocol))
            .with_batch(BatchConfig::default().with_max_batch_size(10))
            .with_retry(retries(3, Duration::from_secs(10)))
            .with_circuit_breaker(None)
            .build()
            .unwrap();
        let tracer = pipeline.tracer("pressure");
        for batch in 0..3 {
            for i in 0..10 {
                tracer.in_span(format!("refused {batch}-{i}"), |_| {});
            }
            pipeline.force_flush(Duration::from_secs(15));
        }
        let stats = pipeline.stats();
        assert_eq!(stats.spans.offered, 30, "{protocol}: {stats:#?}");
        assert_eq!(stats.spans.exported, 0, "{protocol}: {stats:#?}");
        assert_eq!(stats.spans.failed, 30, "{protocol}: {stats:#?}");
        assert_eq!(stats.retry.retries, 6, "{protocol}: two retries per batch");
        assert!(stats.spans.balanced());
        pipeline.shutdown(Duration::from_secs(5));
        let past_the_limiter = span_names(&receiver.take_received())
            .into_keys()
            .filter(|name| name.starts_with("refused"))
            .count();
        assert_eq!(past_the_limiter, 0, "{protocol}: failed spans arrived");

        // Retrying for longer while the Collector is replaced by one without the limiter, on
        // the same ports: everything arrives, once.
        let pipeline = OtlpPipeline::builder()
            .with_endpoint(endpoint(&collector, protocol))
            .with_protocol(pipeline_protocol(protocol))
            .with_batch(BatchConfig::default().with_max_batch_size(10))
            .with_retry(retries(100, Duration::from_secs(30)))
            .with_circuit_breaker(None)
            .build()
            .unwrap();
        let tracer = pipeline.tracer("pressure");
        for i in 0..20 {
            tracer.in_span(format!("retried {i}"), |_| {});
        }
        // Replace the Collector while the flush below is retrying against it.
        let replacing = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(1));
            collector.kill();
            settings.memory_limit_mib = None;
            Collector::start(settings)
        });
        pipeline.force_flush(Duration::from_secs(30));
        let collector = replacing.join().unwrap();
        let stats = pipeline.stats();
        assert_eq!(
            stats.spans.exported,
            20,
            "{protocol}: {stats:#?}\n{}",
            collector.log()
        );
        assert!(stats.retry.retries >= 1, "{protocol}: {stats:#?}");
        assert!(stats.spans.balanced());
        let names = span_names(&take(&receiver, 2).await);
        assert_eq!(names.len(), 20, "{protocol}: {names:?}");
        assert!(names.values().all(|&n| n == 1), "{protocol}: {names:?}");
        pipeline.shutdown(Duration::from_secs(5));
    }
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OpenTelemetry Collector: run `cargo xtask interop`"]
async fn a_collector_killed_and_restarted_mid_run_loses_nothing_we_do_not_count() {
    let receiver = Receiver::start(ReceiverConfig::default().with_keep_requests(true))
        .await
        .unwrap();
    let mut settings = Settings::new();
    settings.forward = forward_to(&receiver, true, false);
    let mut collector = Some(Collector::start(settings.clone()));
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(collector.as_ref().unwrap().http_endpoint())
        .with_protocol(PipelineProtocol::HttpProtobuf)
        .with_batch(
            BatchConfig::default()
                .with_max_batch_size(10)
                .with_scheduled_delay(Duration::from_millis(20)),
        )
        .with_retry(retries(1000, Duration::from_secs(30)))
        .with_circuit_breaker(None)
        .build()
        .unwrap();
    let tracer = pipeline.tracer("restart");
    // 30 rounds of 10 spans, 30 ms apart; the Collector is down from round 10 to round 20.
    for round in 0..30 {
        if round == 10 {
            collector.take().unwrap().kill();
        }
        if round == 20 {
            collector = Some(Collector::start(settings.clone()));
        }
        for i in 0..10 {
            tracer.in_span(format!("span {round}-{i}"), |_| {});
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let report = pipeline.force_flush(Duration::from_secs(30));
    let stats = pipeline.stats();
    assert_eq!(report.spans.unwrap().stats.queued, 0, "{stats:#?}");
    assert_eq!(stats.spans.offered, 300);
    assert!(stats.spans.balanced(), "{stats:#?}");
    assert!(
        stats.retry.retries >= 1,
        "the outage was retried: {stats:#?}"
    );
    let names = span_names(&receiver.received());
    // What our stats call exported reached our receiver (the Collector answers only after
    // forwarding); what did not arrive is counted as failed or dropped. With retries that
    // outlast the outage, that is nothing.
    assert!(names.len() as u64 >= stats.spans.exported, "{stats:#?}");
    assert!(
        300 - names.len() as u64 <= stats.spans.failed + stats.spans.dropped(),
        "{stats:#?}"
    );
    assert_eq!(stats.spans.exported, 300, "{stats:#?}");
    assert_eq!(names.len(), 300);
    // A request cut off by the kill after the Collector forwarded it is sent again: at least
    // once, not exactly once.
    let duplicates: usize = names.values().map(|n| n - 1).sum();
    eprintln!("spans forwarded twice across the kill: {duplicates}");
    pipeline.shutdown(Duration::from_secs(5));
    drop(collector);
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OpenTelemetry Collector: run `cargo xtask interop`"]
async fn the_collectors_exporters_retry_our_faults_and_forward_once() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    // One Collector per exporter, so that each fault meets the exporter it is meant for.
    for (exporter, grpc, http) in [("otlp_grpc", true, false), ("otlp_http", false, true)] {
        let mut settings = Settings::new();
        settings.forward = forward_to(&receiver, grpc, http);
        let collector = Collector::start(settings);
        let ours = transport(&collector, "grpc", Compression::None, Headers::new(), None);
        let faults = [
            Fault::unavailable(),
            Fault::status(GrpcCode::ResourceExhausted, 429, "slow down")
                .with_retry_after(Duration::from_millis(300)),
            Fault::status(GrpcCode::Unavailable, 503, "restarting")
                .with_retry_after(Duration::from_secs(1)),
        ];
        for fault in faults {
            let case = format!("{exporter} {fault:?}");
            let before = receiver.counts().refused_requests;
            receiver.faults().push_n(fault, 2);
            let sent = rich(Signal::Metrics);
            let outcome = ours
                .clone()
                .oneshot(request(&sent, Encoding::Protobuf))
                .await
                .unwrap_or_else(|e| panic!("{case}: {e}\n{}", collector.log()));
            assert_eq!(outcome.accepted as usize, items(&sent), "{case}");
            let arrived = take(&receiver, 1).await;
            assert_eq!(arrived.len(), 1, "{case}: forwarded once");
            assert_eq!(arrived[0].payload, sent, "{case}");
            assert_eq!(
                receiver.counts().refused_requests - before,
                2,
                "{case}: the Collector's exporter tried twice before it got through"
            );
        }

        // A permanent refusal is not retried by the Collector, and reaches us as one.
        let before = receiver.counts().refused_requests;
        receiver
            .faults()
            .push(Fault::status(GrpcCode::InvalidArgument, 400, "malformed"));
        let error = ours
            .clone()
            .oneshot(request(&rich(Signal::Logs), Encoding::Protobuf))
            .await
            .unwrap_err();
        let error = error.downcast::<Error>().unwrap();
        eprintln!("{exporter}: a permanent refusal downstream reaches us as: {error}");
        assert!(!error.is_retryable(), "{exporter}: {error}");
        assert_eq!(receiver.counts().refused_requests - before, 1, "{exporter}");
        assert!(take(&receiver, 0).await.is_empty());
    }
    receiver.shutdown().await;
}
