//! Interop with the reference peers of the OpenTelemetry Python project.
//!
//! - A receiver built on `grpcio` and the `opentelemetry-proto` Python package decodes what our
//!   gRPC, HTTP/protobuf and HTTP/JSON transports send (with and without gzip), and the content
//!   it reports (ids, names, attributes, resource, timestamps) must equal what we sent.
//! - The Python SDK's OTLP exporters (gRPC and HTTP) send to our receiver, which must decode
//!   spans, log records and metrics with their content.
//!
//! The tests need the Python packages of `interop/requirements.txt`; `cargo xtask interop`
//! installs them in a virtualenv and runs these tests with `OTLP_INTEROP_PYTHON` pointing at its
//! interpreter. zstd is not covered: neither Python peer speaks it.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use otlp_core::proto::common::v1::{any_value, AnyValue, KeyValue};
use otlp_core::proto::metrics::v1::{metric, number_data_point};
use otlp_core::Telemetry;
use otlp_core::{BoxError, Encoding, ExportOutcome, Signal};
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::receiver::{ReceivedOver, Receiver, ReceiverConfig};
use otlp_transport::Compression;
use serde_json::{json, Map, Value};
use tower::util::BoxCloneService;
use tower::ServiceExt;

fn python() -> PathBuf {
    std::env::var_os("OTLP_INTEROP_PYTHON")
        .map(PathBuf::from)
        .expect("OTLP_INTEROP_PYTHON is not set: run these tests with `cargo xtask interop`")
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../interop")
        .join(name)
}

fn value(any: &Option<AnyValue>) -> Value {
    match any.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => json!(s),
        Some(any_value::Value::BoolValue(b)) => json!(b),
        Some(any_value::Value::IntValue(i)) => json!(i.to_string()),
        Some(any_value::Value::DoubleValue(d)) => json!(d),
        Some(any_value::Value::BytesValue(b)) => json!(hex(b)),
        Some(any_value::Value::ArrayValue(a)) => {
            a.values.iter().map(|v| value(&Some(v.clone()))).collect()
        }
        Some(any_value::Value::KvlistValue(kv)) => Value::Object(attributes(&kv.values)),
        Some(any_value::Value::StringValueStrindex(_)) | None => Value::Null,
    }
}

fn attributes(kvs: &[KeyValue]) -> Map<String, Value> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), value(&kv.value)))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The content of a payload in the shape `interop/peer_receiver.py` reports it.
fn summary(payload: &Telemetry) -> Value {
    let mut out = Vec::new();
    match payload {
        Telemetry::Traces(r) => {
            for rs in &r.resource_spans {
                let resource = attributes(&rs.resource.clone().unwrap_or_default().attributes);
                for ss in &rs.scope_spans {
                    let scope = ss.scope.clone().unwrap_or_default();
                    for span in &ss.spans {
                        out.push(json!({
                            "resource": resource, "scope": [scope.name, scope.version],
                            "trace_id": hex(&span.trace_id), "span_id": hex(&span.span_id),
                            "name": span.name, "kind": span.kind,
                            "start": span.start_time_unix_nano.to_string(),
                            "end": span.end_time_unix_nano.to_string(),
                            "attributes": attributes(&span.attributes),
                        }));
                    }
                }
            }
        }
        Telemetry::Metrics(r) => {
            for rm in &r.resource_metrics {
                let resource = attributes(&rm.resource.clone().unwrap_or_default().attributes);
                for sm in &rm.scope_metrics {
                    let scope = sm.scope.clone().unwrap_or_default();
                    for m in &sm.metrics {
                        let Some(metric::Data::Gauge(gauge)) = &m.data else {
                            panic!("samples are gauges")
                        };
                        for point in &gauge.data_points {
                            let value = match point.value {
                                Some(number_data_point::Value::AsInt(i)) => i.to_string(),
                                Some(number_data_point::Value::AsDouble(d)) => d.to_string(),
                                None => String::new(),
                            };
                            out.push(json!({
                                "resource": resource, "scope": [scope.name, scope.version],
                                "name": m.name, "unit": m.unit,
                                "time": point.time_unix_nano.to_string(), "value": value,
                            }));
                        }
                    }
                }
            }
        }
        Telemetry::Logs(r) => {
            for rl in &r.resource_logs {
                let resource = attributes(&rl.resource.clone().unwrap_or_default().attributes);
                for sl in &rl.scope_logs {
                    let scope = sl.scope.clone().unwrap_or_default();
                    for record in &sl.log_records {
                        out.push(json!({
                            "resource": resource, "scope": [scope.name, scope.version],
                            "time": record.time_unix_nano.to_string(),
                            "severity_number": record.severity_number,
                            "severity_text": record.severity_text,
                            "body": value(&record.body),
                        }));
                    }
                }
            }
        }
    }
    Value::Array(out)
}

type Transport = BoxCloneService<otlp_core::ExportRequest, ExportOutcome, BoxError>;

#[tokio::test]
#[ignore = "needs the Python reference peers: run `cargo xtask interop`"]
async fn the_python_receiver_decodes_what_we_send() {
    let mut peer = Command::new(python())
        .arg(script("peer_receiver.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel::<Value>();
    let stdout = peer.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    let next = || {
        lines
            .recv_timeout(Duration::from_secs(20))
            .expect("the Python peer reported nothing")
    };
    let ports = next();
    let grpc_endpoint = format!("http://127.0.0.1:{}", ports["grpc_port"]);
    let http_endpoint = format!("http://127.0.0.1:{}", ports["http_port"]);

    let mut cases: Vec<(&str, Option<&str>, Encoding, Transport)> = Vec::new();
    for compression in [Compression::None, Compression::Gzip] {
        let name = (compression == Compression::Gzip).then_some("gzip");
        let grpc =
            GrpcTransport::new(GrpcConfig::new(&grpc_endpoint).with_compression(compression))
                .unwrap();
        cases.push(("grpc", name, Encoding::Protobuf, BoxCloneService::new(grpc)));
        let http = HttpTransport::new(
            HttpConfig::from_base_endpoint(&http_endpoint)
                .unwrap()
                .with_compression(compression),
        )
        .unwrap();
        cases.push((
            "http/protobuf",
            name,
            Encoding::Protobuf,
            BoxCloneService::new(http.clone()),
        ));
        cases.push((
            "http/json",
            name,
            Encoding::Json,
            BoxCloneService::new(http),
        ));
    }
    for (protocol, compression, encoding, transport) in cases {
        for signal in Signal::ALL {
            let payload = support::payload(signal, 3);
            let outcome = transport
                .clone()
                .oneshot(support::request(&payload, encoding))
                .await
                .unwrap();
            assert_eq!(outcome.accepted, 3);
            let report = next();
            assert_eq!(report["protocol"], protocol);
            assert_eq!(report["signal"], signal.as_str());
            if protocol != "grpc" {
                assert_eq!(report["compression"], json!(compression), "{protocol}");
            }
            assert_eq!(
                report["items"],
                summary(&payload),
                "{protocol} {compression:?} {signal}"
            );
        }
    }
    drop(peer.stdin.take());
    assert!(peer.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the Python reference peers: run `cargo xtask interop`"]
async fn the_python_sdk_sends_to_our_receiver() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let mut sender = Command::new(python());
    sender
        .arg(script("sdk_sender.py"))
        .arg(receiver.grpc_endpoint())
        .arg(receiver.http_endpoint());
    let output = tokio::task::spawn_blocking(move || sender.output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "sdk_sender.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::io::stderr().write_all(&output.stderr).unwrap();

    let received = receiver.received();
    for (protocol, service) in [
        (ReceivedOver::Grpc, "python-sdk-grpc"),
        (ReceivedOver::Http, "python-sdk-http"),
    ] {
        let mine: Vec<_> = received.iter().filter(|r| r.protocol == protocol).collect();
        let resource_is = |resource: &Option<otlp_core::proto::resource::v1::Resource>| {
            attributes(&resource.clone().unwrap_or_default().attributes)["service.name"]
                == json!(service)
        };

        let spans: Vec<_> = mine
            .iter()
            .filter_map(|r| match &r.payload {
                Telemetry::Traces(t) => Some(t),
                _ => None,
            })
            .flat_map(|t| &t.resource_spans)
            .inspect(|rs| assert!(resource_is(&rs.resource), "{protocol:?}"))
            .flat_map(|rs| &rs.scope_spans)
            .flat_map(|ss| &ss.spans)
            .collect();
        assert_eq!(spans.len(), 2, "{protocol:?}");
        let parent = spans.iter().find(|s| s.name == "parent").unwrap();
        let child = spans.iter().find(|s| s.name == "child").unwrap();
        assert_eq!(child.trace_id, parent.trace_id);
        assert_eq!(child.parent_span_id, parent.span_id);
        assert_eq!(parent.trace_id.len(), 16);
        let parent_attributes = attributes(&parent.attributes);
        assert_eq!(parent_attributes["peer"], json!("python"));
        assert_eq!(parent_attributes["answer"], json!("42"));
        assert!(
            parent.end_time_unix_nano >= parent.start_time_unix_nano
                && parent.start_time_unix_nano > 0
        );

        let records: Vec<_> = mine
            .iter()
            .filter_map(|r| match &r.payload {
                Telemetry::Logs(l) => Some(l),
                _ => None,
            })
            .flat_map(|l| &l.resource_logs)
            .inspect(|rl| assert!(resource_is(&rl.resource)))
            .flat_map(|rl| &rl.scope_logs)
            .flat_map(|sl| &sl.log_records)
            .collect();
        assert_eq!(records.len(), 1, "{protocol:?}");
        assert_eq!(value(&records[0].body), json!("hello from python"));
        assert_eq!(records[0].severity_number, 13);

        let sums: Vec<_> = mine
            .iter()
            .filter_map(|r| match &r.payload {
                Telemetry::Metrics(m) => Some(m),
                _ => None,
            })
            .flat_map(|m| &m.resource_metrics)
            .inspect(|rm| assert!(resource_is(&rm.resource)))
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .filter(|m| m.name == "interop_requests_total")
            .collect();
        assert_eq!(sums.len(), 1, "{protocol:?}");
        let Some(metric::Data::Sum(sum)) = &sums[0].data else {
            panic!("a counter is a sum")
        };
        assert!(sum.is_monotonic);
        assert_eq!(
            sum.data_points[0].value,
            Some(number_data_point::Value::AsInt(5))
        );
    }
    receiver.shutdown().await;
}
