//! Custom (non-OTLP) exporters get the pipeline's batching and retries: the guide's JSON
//! backend with a bearer token, and JSON lines to a file.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use otlp_exporters::custom::{JsonHttpExporter, JsonLinesExporter};
use otlp_exporters::OtlpPipeline;
use otlp_reliability::retry::RetryConfig;
use parking_lot::Mutex;
use serde_json::Value;

#[derive(Clone, Default)]
struct Backend {
    bodies: Arc<Mutex<Vec<(String, Value)>>>,
    fail_first: Arc<Mutex<usize>>,
}

async fn ingest(
    State(backend): State<Backend>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer backend-token") {
        return StatusCode::UNAUTHORIZED;
    }
    {
        let mut fail = backend.fail_first.lock();
        if *fail > 0 {
            *fail -= 1;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    backend
        .bodies
        .lock()
        .push((kind, serde_json::from_str(&body).unwrap()));
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_backend_gets_spans_metrics_and_logs_with_retries() {
    let backend = Backend::default();
    *backend.fail_first.lock() = 1;
    let router = Router::new()
        .route("/api/v1/telemetry/{kind}", post(ingest))
        .with_state(backend.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1/telemetry", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let exporter = JsonHttpExporter::new(&base)
        .unwrap()
        .with_bearer_token("backend-token");
    let pipeline = OtlpPipeline::builder()
        .with_service_name("custom-exporter-demo")
        .with_custom_exporter(exporter)
        .with_retry(RetryConfig::default().with_backoff(
            Duration::from_millis(5),
            Duration::from_millis(10),
            2.0,
        ))
        .build()
        .unwrap();
    let mut span = pipeline.tracer("custom").start("custom-exporter-operation");
    span.set_attribute(KeyValue::new("exporter.type", "custom"));
    span.end();
    pipeline
        .meter("custom")
        .u64_counter("requests_total")
        .build()
        .add(2, &[KeyValue::new("route", "/x")]);
    let report = pipeline.shutdown(Duration::from_secs(10));
    assert!(report.completed, "{report:?}");

    let bodies = backend.bodies.lock().clone();
    let spans = &bodies.iter().find(|(kind, _)| kind == "spans").unwrap().1;
    assert_eq!(spans[0]["name"], "custom-exporter-operation");
    assert_eq!(spans[0]["service"], "custom-exporter-demo");
    assert_eq!(spans[0]["attributes"]["exporter.type"], "custom");
    assert_eq!(spans[0]["trace_id"].as_str().unwrap().len(), 32);
    let metrics = &bodies.iter().find(|(kind, _)| kind == "metrics").unwrap().1;
    assert_eq!(metrics[0]["name"], "requests_total");
    assert_eq!(metrics[0]["value"], 2);
    assert_eq!(metrics[0]["metric_type"], "sum");
    let stats = pipeline.stats();
    assert_eq!(stats.spans.exported, 1);
    assert_eq!(stats.retry.retries, 1, "the 503 was retried");
}

#[test]
fn json_lines_go_to_a_file() {
    let dir = std::env::temp_dir().join(format!("otlp-json-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("telemetry.jsonl");
    let pipeline = OtlpPipeline::builder()
        .with_service_name("debug")
        .with_custom_exporter(JsonLinesExporter::file(&path).unwrap())
        .build()
        .unwrap();
    for i in 0..3 {
        pipeline
            .tracer("debug")
            .in_span(format!("step-{i}"), |_| {});
    }
    assert!(pipeline.shutdown(Duration::from_secs(5)).completed);
    let text = std::fs::read_to_string(&path).unwrap();
    let spans: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v.get("span").is_some())
        .collect();
    assert_eq!(spans.len(), 3);
    assert_eq!(spans[0]["span"]["service"], "debug");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unreachable_backend_is_counted_not_hidden() {
    let exporter = JsonHttpExporter::new("http://127.0.0.1:9/telemetry").unwrap();
    let pipeline = OtlpPipeline::builder()
        .with_custom_exporter(exporter)
        .with_retry(RetryConfig::default().with_max_attempts(2).with_backoff(
            Duration::from_millis(1),
            Duration::from_millis(2),
            2.0,
        ))
        .build()
        .unwrap();
    pipeline.tracer("x").in_span("lost", |_| {});
    let report = pipeline.shutdown(Duration::from_secs(5));
    assert_eq!(report.undelivered, 1);
    assert_eq!(pipeline.stats().spans.failed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_backend_gets_the_configured_headers_and_its_answer_is_bounded() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&seen);
    let router = Router::new().route(
        "/api/{kind}",
        post(move |headers: HeaderMap| {
            let recorded = Arc::clone(&recorded);
            async move {
                let tenant = headers
                    .get("x-tenant")
                    .map(|v| v.to_str().unwrap().to_owned());
                recorded.lock().push(tenant);
                // A success whose body is far larger than the exporter reads.
                (StatusCode::OK, "x".repeat(64 * 1024))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    // The exporter talks like the pipeline's OTLP exporters: their headers, TLS and limits.
    let mut config = otlp_exporters::PipelineConfig::default();
    let mut headers = otlp_transport::Headers::new();
    headers.insert("code", "x-tenant", "acme").unwrap();
    config.exporter.headers = Some(headers);
    config.max_response_bytes = 1024;
    let options = config.client_options(otlp_core::Signal::Traces).unwrap();
    let exporter = JsonHttpExporter::with_options(&base, options).unwrap();
    let pipeline = OtlpPipeline::builder()
        .with_custom_exporter(exporter)
        .with_retry(RetryConfig::default().with_backoff(
            Duration::from_millis(1),
            Duration::from_millis(2),
            2.0,
        ))
        .build()
        .unwrap();
    pipeline.tracer("x").in_span("answered-too-long", |_| {});
    pipeline.shutdown(Duration::from_secs(5));

    assert_eq!(
        *seen.lock(),
        [Some("acme".to_owned())],
        "sent once, not retried"
    );
    let stats = pipeline.stats();
    assert_eq!(
        stats.spans.exported, 0,
        "an answer that cannot be read whole is a failure"
    );
    assert_eq!(stats.span_exports.failed_requests, 1);
}
