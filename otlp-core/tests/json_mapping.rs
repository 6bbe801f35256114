//! OTLP/JSON output checked field by field against the OTLP specification's JSON rules:
//! hex trace and span ids, lowerCamelCase keys, enums as integers, 64-bit integers as strings.

#![allow(clippy::unwrap_used)]

mod support;

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::logs::LogBatch;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use opentelemetry_sdk::Resource;
use otlp_core::encode::{
    decode_json, encode_logs, encode_metrics, encode_spans, to_json, EncodeOptions,
};
use otlp_core::proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_core::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_core::Encoding;
use serde_json::Value;
use std::time::{Duration, SystemTime};

fn json_options() -> EncodeOptions {
    EncodeOptions::default().with_encoding(Encoding::Json)
}

/// Every object key in the document is lowerCamelCase.
fn assert_camel_case_keys(value: &Value, path: &str) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let first_lower = key.chars().next().is_some_and(|c| c.is_ascii_lowercase());
                assert!(
                    first_lower && key.chars().all(|c| c.is_ascii_alphanumeric()),
                    "key {path}.{key} is not lowerCamelCase"
                );
                assert_camel_case_keys(child, &format!("{path}.{key}"));
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| assert_camel_case_keys(item, path)),
        _ => {}
    }
}

fn server_span() -> SpanData {
    let mut events = SpanEvents::default();
    events.events.push(opentelemetry::trace::Event::new(
        "retry",
        SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_500_000_000),
        vec![KeyValue::new("attempt", 2)],
        0,
    ));
    SpanData {
        span_context: SpanContext::new(
            TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap(),
            SpanId::from_hex("eee19b7ec3c1b174").unwrap(),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::from_hex("eee19b7ec3c1b173").unwrap(),
        parent_span_is_remote: false,
        span_kind: SpanKind::Server,
        name: "POST /orders".into(),
        start_time: SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_000),
        end_time: SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_001_000_000_000),
        attributes: vec![
            KeyValue::new("http.response.status_code", 201i64),
            KeyValue::new("order.total", 12.5),
            KeyValue::new("order.express", true),
            KeyValue::new("order.id", "A-17"),
        ],
        dropped_attributes_count: 0,
        events,
        links: SpanLinks::default(),
        status: Status::error("card declined"),
        instrumentation_scope: InstrumentationScope::builder("order-service")
            .with_version("1.2.0")
            .build(),
    }
}

#[test]
fn spans_follow_the_otlp_json_rules() {
    let resource = Resource::builder_empty()
        .with_service_name("order-service")
        .build();
    let encoded = encode_spans(vec![server_span()], &resource, &json_options()).unwrap();
    let request = &encoded.requests[0];
    assert_eq!(request.encoding.content_type(), "application/json");
    let doc: Value = serde_json::from_slice(&request.body).unwrap();
    assert_camel_case_keys(&doc, "");

    let resource_spans = &doc["resourceSpans"][0];
    assert_eq!(
        resource_spans["resource"]["attributes"][0],
        serde_json::json!({"key": "service.name", "value": {"stringValue": "order-service"}})
    );
    let scope = &resource_spans["scopeSpans"][0];
    assert_eq!(scope["scope"]["name"], "order-service");
    assert_eq!(scope["scope"]["version"], "1.2.0");
    let span = &scope["spans"][0];
    assert_eq!(span["traceId"], "5b8efff798038103d269b633813fc60c");
    assert_eq!(span["spanId"], "eee19b7ec3c1b174");
    assert_eq!(span["parentSpanId"], "eee19b7ec3c1b173");
    assert_eq!(span["name"], "POST /orders");
    assert_eq!(span["kind"], 2, "SPAN_KIND_SERVER as an integer");
    assert_eq!(span["startTimeUnixNano"], "1700000000000000000");
    assert_eq!(span["endTimeUnixNano"], "1700000001000000000");
    assert_eq!(span["status"]["code"], 2, "STATUS_CODE_ERROR as an integer");
    assert_eq!(span["status"]["message"], "card declined");
    let attributes = span["attributes"].as_array().unwrap();
    let value = |key: &str| attributes.iter().find(|kv| kv["key"] == key).unwrap()["value"].clone();
    assert_eq!(
        value("http.response.status_code"),
        serde_json::json!({"intValue": "201"})
    );
    assert_eq!(
        value("order.total"),
        serde_json::json!({"doubleValue": 12.5})
    );
    assert_eq!(
        value("order.express"),
        serde_json::json!({"boolValue": true})
    );
    assert_eq!(
        value("order.id"),
        serde_json::json!({"stringValue": "A-17"})
    );
    assert_eq!(span["events"][0]["timeUnixNano"], "1700000000500000000");
    assert_eq!(span["events"][0]["name"], "retry");

    let back: ExportTraceServiceRequest = decode_json(&request.body).unwrap();
    assert_eq!(
        to_json(&back).unwrap(),
        request.body,
        "JSON round trip is stable"
    );
}

#[test]
fn logs_follow_the_otlp_json_rules() {
    let spec = support::LogSpec {
        body: "payment failed".into(),
        severity: 17,
        time: SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_123),
        attributes: vec![KeyValue::new("order.id", "A-17")],
        trace: Some(server_span().span_context),
        scope: InstrumentationScope::builder("payment-service").build(),
        target: None,
    };
    let records = support::log_records(&[spec]);
    let pairs: Vec<_> = records.iter().map(|(r, s)| (r, s)).collect();
    let resource = Resource::builder_empty()
        .with_service_name("payment-service")
        .build();
    let encoded = encode_logs(&LogBatch::new(&pairs), &resource, &json_options()).unwrap();
    let doc: Value = serde_json::from_slice(&encoded.requests[0].body).unwrap();
    assert_camel_case_keys(&doc, "");
    let record = &doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    assert_eq!(record["timeUnixNano"], "1700000000000000123");
    assert_eq!(
        record["severityNumber"], 17,
        "SEVERITY_NUMBER_ERROR as an integer"
    );
    assert_eq!(
        record["body"],
        serde_json::json!({"stringValue": "payment failed"})
    );
    assert_eq!(record["traceId"], "5b8efff798038103d269b633813fc60c");
    assert_eq!(record["spanId"], "eee19b7ec3c1b174");
    let back: ExportLogsServiceRequest = decode_json(&encoded.requests[0].body).unwrap();
    assert_eq!(back.resource_logs[0].scope_logs[0].log_records.len(), 1);
}

#[test]
fn metrics_follow_the_otlp_json_rules() {
    let spec = support::MetricSpec {
        counts: vec![(3, 0), (4, 0)],
        amounts: vec![10.0, 250.0],
        deltas: vec![5, -2],
        gauge: 0.75,
        observed: 9_007_199_254_740_993,
    };
    let documents = support::with_metrics(&spec, |metrics| {
        let encoded = encode_metrics(metrics, &json_options()).unwrap();
        serde_json::from_slice::<Value>(&encoded.requests[0].body).unwrap()
    });
    let doc = &documents[0];
    assert_camel_case_keys(doc, "");
    let metrics = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
        .as_array()
        .unwrap();
    let metric = |name: &str| metrics.iter().find(|m| m["name"] == name).unwrap().clone();

    let actions = metric("user_actions_total");
    assert_eq!(
        actions["sum"]["aggregationTemporality"], 2,
        "CUMULATIVE as an integer"
    );
    assert_eq!(actions["sum"]["isMonotonic"], true);
    assert_eq!(actions["sum"]["dataPoints"][0]["asInt"], "7");
    assert!(actions["sum"]["dataPoints"][0]["timeUnixNano"].is_string());

    let depth = metric("queue_depth");
    assert_eq!(
        depth["gauge"]["dataPoints"][0]["asInt"], "9007199254740993",
        "an int64 beyond 2^53 survives as a string"
    );
    assert_eq!(
        metric("cpu_usage")["gauge"]["dataPoints"][0]["asDouble"],
        0.75
    );

    let amounts = metric("transaction_amount");
    assert_eq!(amounts["unit"], "USD");
    let point = &amounts["histogram"]["dataPoints"][0];
    assert_eq!(point["count"], "2");
    assert_eq!(point["sum"], 260.0);
    assert!(point["explicitBounds"][0].is_number());
    assert!(point["bucketCounts"]
        .as_array()
        .unwrap()
        .iter()
        .all(Value::is_string));

    let exponential = metric("latency_exponential");
    let point = &exponential["exponentialHistogram"]["dataPoints"][0];
    assert_eq!(point["count"], "2");
    assert!(point["scale"].is_number());
    assert!(point["positive"]["bucketCounts"]
        .as_array()
        .unwrap()
        .iter()
        .all(Value::is_string));

    let body = serde_json::to_vec(doc).unwrap();
    let back: ExportMetricsServiceRequest = decode_json(&body).unwrap();
    assert_eq!(
        back.resource_metrics[0].scope_metrics[0].metrics.len(),
        metrics.len()
    );
}

#[test]
fn malformed_json_is_an_encoding_error_naming_the_signal() {
    let error = decode_json::<ExportTraceServiceRequest>(b"{\"resourceSpans\": 7}").unwrap_err();
    assert_eq!(error.kind(), otlp_core::ErrorKind::Encoding);
    assert!(error.to_string().contains("traces"), "{error}");
}
