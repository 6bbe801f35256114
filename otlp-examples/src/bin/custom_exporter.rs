//! A custom exporter (the guide's fourth example): telemetry goes to a JSON backend with a
//! bearer token instead of an OTLP collector, and still gets batching and retries. The backend
//! here is embedded: it checks the token and refuses the first requests with 503, so the
//! retries show.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use otlp_batch::BatchConfig;
use otlp_examples::cli::Args;
use otlp_exporters::custom::JsonHttpExporter;
use otlp_exporters::OtlpPipeline;
use otlp_reliability::retry::RetryConfig;
use parking_lot::Mutex;

const USAGE: &str = "custom_exporter: the pipeline's batching and retries in front of a custom JSON backend

usage: cargo run -p otlp-examples --bin custom_exporter -- [--quick] [--spans N] [--backend URL --token T]

  --quick      40 spans
  --spans N    spans to send (default 400), in batches of 100
  --backend    a JSON backend of your own (POST <URL>/spans|metrics|logs); default: an embedded one
  --token      its bearer token (default: demo-token)";

#[derive(Clone, Default)]
struct Backend {
    received: Arc<Mutex<Vec<(String, usize)>>>,
    refuse_next: Arc<Mutex<usize>>,
    refused: Arc<Mutex<usize>>,
    unauthorized: Arc<Mutex<usize>>,
}

async fn ingest(
    State(backend): State<Backend>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer demo-token") {
        *backend.unauthorized.lock() += 1;
        return StatusCode::UNAUTHORIZED;
    }
    {
        let mut refuse = backend.refuse_next.lock();
        if *refuse > 0 {
            *refuse -= 1;
            *backend.refused.lock() += 1;
            println!("  backend: 503 for a {kind} batch (the pipeline will retry)");
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    let items = serde_json::from_str::<Vec<serde_json::Value>>(&body)
        .map(|v| v.len())
        .unwrap_or(0);
    println!("  backend: accepted {items} {kind}");
    backend.received.lock().push((kind, items));
    StatusCode::OK
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["spans", "backend", "token"]);
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("custom_exporter: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let spans = args.number("spans", if args.quick { 40 } else { 400 });
    let backend = Backend::default();
    let (base, embedded) = match args.option("backend") {
        Some(url) => (url.to_owned(), false),
        None => {
            *backend.refuse_next.lock() = 2;
            let router = Router::new()
                .route("/api/v1/telemetry/{kind}", post(ingest))
                .with_state(backend.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let base = format!("http://{}/api/v1/telemetry", listener.local_addr()?);
            tokio::spawn(async move { axum::serve(listener, router).await });
            (base, true)
        }
    };
    println!("🔧 custom exporter: {spans} spans to the JSON backend at {base}\n");
    let exporter = JsonHttpExporter::new(&base)?
        .with_bearer_token(args.option("token").unwrap_or("demo-token"));
    let batch_size = 100.min(spans.max(1));
    let pipeline = OtlpPipeline::builder()
        .with_service_name("custom-exporter-demo")
        .with_custom_exporter(exporter)
        .with_batch(
            BatchConfig::default()
                .with_max_batch_size(batch_size)
                .with_scheduled_delay(Duration::from_millis(200)),
        )
        .with_retry(RetryConfig::default().with_backoff(
            Duration::from_millis(50),
            Duration::from_millis(200),
            2.0,
        ))
        .build()?;
    if args.print_config(&pipeline) {
        return Ok(());
    }
    let tracer = pipeline.tracer("custom-exporter-test");
    for i in 0..spans {
        let mut span = tracer.start("custom-exporter-operation");
        span.set_attribute(KeyValue::new("exporter.type", "custom"));
        span.set_attribute(KeyValue::new("item", i as i64));
        span.end();
    }
    pipeline
        .meter("custom")
        .u64_counter("custom_exports_total")
        .build()
        .add(spans as u64, &[]);
    let report = otlp_examples::target::shutdown(&pipeline);
    let stats = pipeline.stats();
    println!("\n{:<22} {:>8}", "spans offered", stats.spans.offered);
    println!("{:<22} {:>8}", "spans exported", stats.spans.exported);
    println!("{:<22} {:>8}", "batches", stats.spans.batches);
    println!("{:<22} {:>8}", "retries", stats.retry.retries);
    println!("{:<22} {:>8}", "spans dropped", stats.spans.dropped());
    if !report.completed || stats.spans.exported != spans as u64 {
        return Err(report.to_string().into());
    }
    if embedded {
        let received: usize = backend
            .received
            .lock()
            .iter()
            .filter(|(k, _)| k == "spans")
            .map(|(_, n)| n)
            .sum();
        let refused = *backend.refused.lock();
        if received != spans || refused != 2 || *backend.unauthorized.lock() > 0 {
            return Err(format!(
                "the backend got {received} of {spans} spans after {refused} refusals"
            )
            .into());
        }
        println!("\n✅ the backend got all {spans} spans in batches of {batch_size}; its two 503s were retried");
    } else {
        println!("\n✅ all {spans} spans accepted by the backend");
    }
    Ok(())
}
