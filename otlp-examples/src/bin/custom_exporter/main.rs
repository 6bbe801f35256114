//! A custom exporter (the guide's section "🔧 自定义导出器"): the demo implements
//! `CustomExporter` itself (line_exporter.rs) for a backend format of its own, and sends
//! spans, metrics and logs through it with the pipeline's batching, retry and circuit
//! breaker. Three runs: to the backend, which refuses its first two requests with 503 (the
//! retries deliver everything); with a wrong API key (401: refused for good, not retried, the
//! reason printed); to a port where nothing listens (connection refused: retried, then the
//! breaker opens).

mod backend;
mod line_exporter;

use std::time::Duration;

use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use otlp_batch::BatchConfig;
use otlp_examples::cli::Args;
use otlp_exporters::{OtlpPipeline, PipelineStats};
use otlp_reliability::circuit_breaker::BreakerConfig;
use otlp_reliability::retry::RetryConfig;

use line_exporter::LineExporter;

const USAGE: &str =
    "custom_exporter: an exporter written in the demo for a backend format of its own,
behind the pipeline's batching, retries and circuit breaker (the guide's section
\"🔧 自定义导出器\", a custom exporter)

usage: cargo run -p otlp-examples --bin custom_exporter -- [--quick] [--spans N]

  --quick      40 spans
  --spans N    spans to send (default 400), in batches of 50, with a log record every 4th

Exit 1 unless: the backend stored every span and log record and some metric points after
retrying its two 503s; the wrong key was refused with 401 and not retried; the closed port
was retried and opened the breaker.";

const KEY: &str = "demo-key";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["spans"]);
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("custom_exporter: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A pipeline whose every signal goes through a `LineExporter` to `url` with `key`.
fn pipeline(
    url: &str,
    key: &str,
    batch: usize,
) -> Result<OtlpPipeline, Box<dyn std::error::Error>> {
    Ok(OtlpPipeline::builder()
        .with_service_name("custom-exporter-demo")
        .with_custom_exporter(LineExporter::new(url, key)?)
        .with_batch(
            BatchConfig::default()
                .with_max_batch_size(batch)
                .with_scheduled_delay(Duration::from_millis(100)),
        )
        .with_retry(RetryConfig::default().with_max_attempts(3).with_backoff(
            Duration::from_millis(50),
            Duration::from_millis(200),
            2.0,
        ))
        .with_circuit_breaker(Some(
            BreakerConfig::default()
                .with_consecutive_failures(3)
                .with_open_duration(Duration::from_secs(5), 1.0, Duration::from_secs(5), 0.0),
        ))
        .build()?)
}

/// Spans, a log record in every 4th, a counter and a histogram.
fn record(pipeline: &OtlpPipeline, spans: usize) {
    let tracer = pipeline.tracer("custom-exporter");
    let logger = pipeline.logger_provider().logger("custom-exporter");
    let meter = pipeline.meter("custom-exporter");
    let orders = meter.u64_counter("orders_total").build();
    let latency = meter.f64_histogram("order_latency_ms").build();
    for i in 0..spans {
        let mut span = tracer.start("process order");
        span.set_attribute(KeyValue::new("order.id", i as i64));
        let cx = Context::current_with_span(span);
        if i % 4 == 0 {
            let mut log = logger.create_log_record();
            log.set_body(format!("order {i} processed").into());
            log.set_severity_number(Severity::Info);
            log.set_severity_text("INFO");
            let sc = cx.span().span_context().clone();
            log.set_trace_context(sc.trace_id(), sc.span_id(), Some(sc.trace_flags()));
            logger.emit(log);
        }
        orders.add(
            1,
            &[KeyValue::new(
                "tier",
                if i % 3 == 0 { "gold" } else { "standard" },
            )],
        );
        latency.record(20.0 + (i % 50) as f64, &[]);
        cx.span().end();
    }
}

fn table(stats: &PipelineStats) {
    let rows = [
        ("spans exported", stats.span_exports.exported),
        ("spans failed", stats.span_exports.failed),
        ("metric points exported", stats.metric_exports.exported),
        ("log records exported", stats.log_exports.exported),
        ("retries", stats.retry.retries),
        (
            "times a breaker opened",
            stats.circuits.iter().map(|c| c.stats.opened).sum(),
        ),
        (
            "exports refused by an open breaker",
            stats.circuits.iter().map(|c| c.stats.rejected_calls).sum(),
        ),
    ];
    for (name, value) in rows {
        println!("  {name:<36} {value:>6}");
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let spans = args
        .number("spans", if args.quick { 40 } else { 400 })
        .max(4);
    let (url, counts) = backend::start(KEY, 2).await?;
    let batch = 50.min(spans);
    let good = pipeline(&url, KEY, batch)?;
    if args.print_config(&good) {
        return Ok(());
    }
    println!(
        "🔧 custom exporter: {spans} spans, {} log records and metrics as obs-lines to {url}\n",
        spans.div_ceil(4)
    );
    record(&good, spans);
    let report = otlp_examples::target::shutdown(&good);
    let stats = good.stats();
    table(&stats);
    let stored = *counts.lock();
    let logs = spans.div_ceil(4);
    if !report.completed
        || stored.spans != spans
        || stored.logs != logs
        || stored.metric_points == 0
        || stored.busy != 2
        || stats.retry.retries < 2
    {
        return Err(format!(
            "the backend stored {} of {spans} spans, {} of {logs} log records and {} metric points after {} refusals ({} retries)",
            stored.spans, stored.logs, stored.metric_points, stored.busy, stats.retry.retries
        )
        .into());
    }
    println!(
        "  ✅ stored {} spans, {} log records, {} metric points; the backend's {} 503s were retried ({} retries)\n",
        stored.spans, stored.logs, stored.metric_points, stored.busy, stats.retry.retries
    );

    println!("🔑 the same with a wrong API key:");
    let wrong = pipeline(&url, "wrong-key", batch)?;
    record(&wrong, 8);
    otlp_examples::target::shutdown(&wrong);
    let stats = wrong.stats();
    table(&stats);
    let unauthorized = counts.lock().unauthorized;
    if stats.span_exports.exported != 0 || stats.retry.retries != 0 || unauthorized == 0 {
        return Err(format!(
            "a wrong key: {} spans exported, {} retries, {unauthorized} 401s",
            stats.span_exports.exported, stats.retry.retries
        )
        .into());
    }
    println!("  ✅ {unauthorized} request(s) refused with 401, none retried\n");

    println!("🔌 the same to a port where nothing listens:");
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        format!("http://{}/ingest", listener.local_addr()?)
    };
    let nowhere = pipeline(&closed, KEY, 4)?;
    record(&nowhere, 16);
    otlp_examples::target::shutdown(&nowhere);
    let stats = nowhere.stats();
    table(&stats);
    let opened: u64 = stats.circuits.iter().map(|c| c.stats.opened).sum();
    if stats.retry.retries == 0 || opened == 0 {
        return Err(format!(
            "an unreachable backend: {} retries, the breaker opened {opened} time(s)",
            stats.retry.retries
        )
        .into());
    }
    println!(
        "  ✅ connection refused: {} retries, then the breaker opened ({opened} time(s)) and refused {} export(s) without trying",
        stats.retry.retries,
        stats.circuits.iter().map(|c| c.stats.rejected_calls).sum::<u64>()
    );
    Ok(())
}
