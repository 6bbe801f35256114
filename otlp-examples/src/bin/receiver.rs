//! A standalone OTLP receiver for development: gRPC on 127.0.0.1:4317 and HTTP on
//! 127.0.0.1:4318 by default, printing incoming traces as waterfalls and metrics and logs as
//! readable lines, until Ctrl-C; with `--ui ADDR`, also a viewer of them in a browser.

use std::net::SocketAddr;
use std::time::Duration;

use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::Tracer as _;
use opentelemetry::KeyValue;
use otlp_core::proto::common::v1::any_value::Value as AnyValue;
use otlp_core::proto::metrics::v1::metric::Data;
use otlp_core::proto::metrics::v1::number_data_point::Value;
use otlp_core::{Signal, Telemetry};
use otlp_examples::cli::Args;
use otlp_examples::viewer::{Store, Viewer};
use otlp_examples::waterfall;
use otlp_exporters::OtlpPipeline;
use otlp_transport::receiver::{Received, Receiver, ReceiverConfig};

const USAGE: &str = "receiver: a local OTLP receiver that prints what it gets

usage: cargo run -p otlp-examples --bin receiver -- [--grpc ADDR] [--http ADDR] [--ui ADDR] [--quick]

  --grpc ADDR   gRPC listen address (default 127.0.0.1:4317)
  --http ADDR   HTTP listen address (default 127.0.0.1:4318)
  --ui ADDR     also serve the telemetry viewer (traces, logs, metrics in a browser) on ADDR,
                for example 127.0.0.1:16686
  --quick       listen on free ports, send itself one trace, metric and log, print, and exit
                (with --ui: stay up afterwards, so the self-test can be looked at)";

fn print(received: &Received) {
    let via = format!(
        "{:?} {:?}{}",
        received.protocol,
        received.encoding,
        received
            .compression
            .as_ref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default()
    );
    match &received.payload {
        Telemetry::Traces(_) => {
            println!("── traces via {via}");
            let spans = waterfall::spans(std::slice::from_ref(received));
            for trace in waterfall::traces(&spans) {
                waterfall::print_trace(&trace);
            }
        }
        Telemetry::Metrics(request) => {
            println!("── metrics via {via}");
            for metric in request
                .resource_metrics
                .iter()
                .flat_map(|r| &r.scope_metrics)
                .flat_map(|s| &s.metrics)
            {
                let value = match &metric.data {
                    Some(Data::Sum(s)) => s
                        .data_points
                        .iter()
                        .map(|p| number(p.value))
                        .sum::<f64>()
                        .to_string(),
                    Some(Data::Gauge(g)) => g
                        .data_points
                        .last()
                        .map(|p| number(p.value))
                        .unwrap_or(0.0)
                        .to_string(),
                    Some(Data::Histogram(h)) => format!(
                        "count={}",
                        h.data_points.iter().map(|p| p.count).sum::<u64>()
                    ),
                    Some(Data::ExponentialHistogram(h)) => format!(
                        "count={}",
                        h.data_points.iter().map(|p| p.count).sum::<u64>()
                    ),
                    _ => String::new(),
                };
                println!("  {:<40} {value} {}", metric.name, metric.unit);
            }
        }
        Telemetry::Logs(request) => {
            println!("── logs via {via}");
            for record in request
                .resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .flat_map(|s| &s.log_records)
            {
                let body = match record.body.as_ref().and_then(|b| b.value.as_ref()) {
                    Some(AnyValue::StringValue(s)) => s.clone(),
                    other => format!("{other:?}"),
                };
                let trace: String = record.trace_id.iter().map(|b| format!("{b:02x}")).collect();
                println!(
                    "  [{:>5}] {body}  {}",
                    record.severity_text,
                    if trace.is_empty() {
                        String::new()
                    } else {
                        format!("trace={trace}")
                    }
                );
            }
        }
    }
}

fn number(value: Option<Value>) -> f64 {
    match value {
        Some(Value::AsInt(i)) => i as f64,
        Some(Value::AsDouble(d)) => d,
        None => 0.0,
    }
}

fn address(args: &Args, name: &str, default: &str) -> SocketAddr {
    let text = args.option(name).unwrap_or(default);
    text.parse().unwrap_or_else(|_| {
        eprintln!("error: --{name} expects an address such as {default}, not {text:?}");
        std::process::exit(2);
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["grpc", "http", "ui"]);
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("receiver: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let (grpc, http) = if args.quick {
        (
            address(args, "grpc", "127.0.0.1:0"),
            address(args, "http", "127.0.0.1:0"),
        )
    } else {
        (
            address(args, "grpc", "127.0.0.1:4317"),
            address(args, "http", "127.0.0.1:4318"),
        )
    };
    let store = Store::default();
    let keep = store.clone();
    let config = ReceiverConfig {
        grpc_addr: grpc,
        http_addr: http,
        ..ReceiverConfig::default()
    }
    .with_keep_requests(false)
    .with_on_receive(move |received| {
        print(received);
        keep.add(&received.payload);
    });
    let receiver = Receiver::start(config)
        .await
        .map_err(|e| format!("cannot listen on {grpc} / {http}: {e}"))?;
    println!(
        "📡 OTLP receiver: gRPC {} · HTTP {}",
        receiver.grpc_endpoint(),
        receiver.http_endpoint()
    );
    let viewer = match args.option("ui") {
        None => None,
        Some(_) => {
            let addr = address(args, "ui", "127.0.0.1:16686");
            let viewer = Viewer::start(addr, store)
                .await
                .map_err(|e| format!("cannot serve the viewer on {addr}: {e}"))?;
            println!("🔎 viewer: {}", viewer.url());
            Some(viewer)
        }
    };
    if !args.quick {
        println!("   Ctrl-C to stop");
        tokio::signal::ctrl_c().await?;
        receiver.shutdown().await;
        return Ok(());
    }
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_service_name("receiver-self-test")
        .build()?;
    pipeline.tracer("self-test").in_span("self-test", |_| {
        pipeline.tracer("self-test").in_span("child", |_| {});
    });
    pipeline
        .meter("self-test")
        .u64_counter("self_test_total")
        .build()
        .add(1, &[KeyValue::new("ok", true)]);
    let logger = pipeline.logger_provider().logger("self-test");
    let mut record = logger.create_log_record();
    record.set_body("hello from the self-test".into());
    record.set_severity_number(Severity::Info);
    record.set_severity_text("INFO");
    logger.emit(record);
    let report = pipeline.shutdown(Duration::from_secs(5));
    let arrived = receiver
        .wait_for_items(Signal::Traces, 2, Duration::from_secs(5))
        .await
        && receiver
            .wait_for_items(Signal::Logs, 1, Duration::from_secs(5))
            .await
        && receiver
            .wait_for_items(Signal::Metrics, 1, Duration::from_secs(5))
            .await;
    if !report.completed || !arrived {
        return Err(format!("the self-test did not arrive: {:?}", receiver.counts()).into());
    }
    println!("✅ self-test received: {:?}", receiver.counts());
    if let Some(viewer) = viewer {
        println!("   the viewer stays up at {}; Ctrl-C to stop", viewer.url());
        tokio::signal::ctrl_c().await?;
    }
    Ok(())
}
