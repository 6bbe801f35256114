//! The whole pipeline against the receiver: all three signals over all three protocols.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use opentelemetry::KeyValue;
use otlp_core::Signal;
use otlp_core::Telemetry;
use otlp_exporters::{OtlpPipeline, Protocol};
use otlp_transport::receiver::{Receiver, ReceiverConfig};

async fn run(protocol: Protocol) {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let endpoint = match protocol {
        Protocol::Grpc => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(endpoint)
        .with_protocol(protocol)
        .with_service_name("order-service")
        .with_service_version("1.4.2")
        .with_environment("test")
        .with_metric_export_interval(Duration::from_secs(3600))
        .build()
        .unwrap();

    let tracer = pipeline.tracer("orders");
    let trace_id = tracer.in_span("POST /orders", |cx| {
        cx.span()
            .set_attribute(KeyValue::new("order.amount", 99.99));
        tracer.in_span("INSERT orders", |_| {});
        cx.span().span_context().trace_id()
    });
    let counter = pipeline.meter("orders").u64_counter("orders_total").build();
    counter.add(3, &[KeyValue::new("region", "eu")]);
    let logger = pipeline.logger_provider().logger("orders");
    let mut record = logger.create_log_record();
    record.set_body("order placed".into());
    record.set_severity_number(Severity::Info);
    logger.emit(record);

    let report = pipeline.shutdown(Duration::from_secs(10));
    assert!(report.completed, "{protocol:?}: {report:?}");
    assert!(
        receiver
            .wait_for_items(Signal::Traces, 2, Duration::from_secs(5))
            .await
    );
    let counts = receiver.counts();
    assert_eq!((counts.spans, counts.log_records), (2, 1), "{protocol:?}");
    assert!(counts.data_points >= 1, "{protocol:?}");

    for received in receiver.received() {
        let resource = match &received.payload {
            Telemetry::Traces(r) => r.resource_spans[0].resource.clone(),
            Telemetry::Metrics(r) => r.resource_metrics[0].resource.clone(),
            Telemetry::Logs(r) => r.resource_logs[0].resource.clone(),
        }
        .unwrap();
        let attribute = |key: &str| {
            resource
                .attributes
                .iter()
                .find(|kv| kv.key == key)
                .and_then(|kv| kv.value.clone())
                .and_then(|v| v.value)
        };
        use otlp_core::proto::common::v1::any_value::Value::StringValue;
        assert_eq!(
            attribute("service.name"),
            Some(StringValue("order-service".into()))
        );
        assert_eq!(
            attribute("service.version"),
            Some(StringValue("1.4.2".into()))
        );
        assert_eq!(
            attribute("deployment.environment.name"),
            Some(StringValue("test".into()))
        );
        if let Telemetry::Traces(request) = &received.payload {
            let spans = &request.resource_spans[0].scope_spans[0].spans;
            assert!(spans.iter().all(|s| s.trace_id == trace_id.to_bytes()));
            let parent = spans.iter().find(|s| s.name == "POST /orders").unwrap();
            let child = spans.iter().find(|s| s.name == "INSERT orders").unwrap();
            assert_eq!(child.parent_span_id, parent.span_id);
        }
    }
    let stats = pipeline.stats();
    assert_eq!(stats.spans.exported, 2);
    assert_eq!(stats.logs.exported, 1);
    assert!(stats.spans.balanced() && stats.logs.balanced());
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc() {
    run(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf() {
    run(Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_json() {
    run(Protocol::HttpJson).await;
}

#[test]
fn sdk_disabled_records_and_sends_nothing() {
    let env: std::collections::HashMap<&str, &str> =
        [("OTEL_SDK_DISABLED", "true")].into_iter().collect();
    let pipeline = OtlpPipeline::builder()
        .with_env_from(&env)
        .unwrap()
        .build()
        .unwrap();
    pipeline.tracer("x").in_span("ignored", |_| {});
    let report = pipeline.shutdown(Duration::from_secs(1));
    assert!(report.completed);
    assert_eq!(pipeline.stats().spans.offered, 0);
}
