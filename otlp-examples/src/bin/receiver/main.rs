//! A standalone OTLP receiver for development: gRPC on 127.0.0.1:4317 and HTTP on
//! 127.0.0.1:4318 by default. It puts spans together into whole traces across requests and
//! services and prints each once, when it has gone quiet, as a waterfall; prints metrics and
//! logs as readable lines (`--verbose`: ids, attributes, events, every data point), or one JSON
//! line per item (`--json`); refuses requests on purpose (`--fault`) to try an exporter's
//! retries; serves TLS, mTLS and a bearer-token check; prints one line per refused request, and
//! a summary on Ctrl-C or SIGTERM. With `--ui ADDR`, also a viewer in a browser.

mod assemble;
mod json;
mod options;
mod output;
mod summary;
mod text;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::Tracer as _;
use opentelemetry::KeyValue;
use otlp_core::Signal;
use otlp_examples::cli::Args;
use otlp_examples::viewer::{Store, Viewer};
use otlp_exporters::OtlpPipeline;
use otlp_transport::receiver::{Receiver, ReceiverConfig};
use parking_lot::Mutex;

use assemble::Assembler;
use options::FaultOption;
use output::Output;
use summary::Summary;

const USAGE: &str = "receiver: a local OTLP receiver that prints what it gets

usage: cargo run -p otlp-examples --bin receiver -- [options]

  --grpc ADDR            gRPC listen address (default 127.0.0.1:4317)
  --http ADDR            HTTP listen address (default 127.0.0.1:4318)
  --ui ADDR              also serve the telemetry viewer (traces, logs, metrics in a browser)
                         on ADDR, for example 127.0.0.1:16686
  --verbose              span ids, attributes and events; every metric data point with its
                         attributes; log record attributes
  --json                 one JSON line per span, data point and log record on stdout (OTLP/JSON
                         field names, plus the request's protocol, compression and headers with
                         credentials redacted); refusals and the summary are JSON lines too
  --trace-quiet MS       print a trace once no span of it arrived for MS milliseconds
                         (default 1000); spans from every request and service are put together
  --fault STATUS[:COUNT] answer the next COUNT requests (every request without COUNT) with the
                         HTTP error STATUS, gRPC clients with its gRPC code (503: UNAVAILABLE,
                         429: RESOURCE_EXHAUSTED, ...), to watch an exporter retry
  --retry-after SECONDS  with --fault: a retry delay (Retry-After for HTTP, RetryInfo for gRPC)
  --tls-cert FILE        serve TLS with this PEM certificate chain (with --tls-key)
  --tls-key FILE         the PEM private key of --tls-cert
  --client-ca FILE       require client certificates issued by this PEM CA (mutual TLS)
  --bearer-token TOKEN   refuse requests without `authorization: Bearer TOKEN` (401)
  --quick                listen on free ports, send itself one trace, metric and log, print, and
                         exit (with --ui: stay up afterwards, so the self-test can be looked at)

Every refused request gets one line with its status and reason (415, 400, 413, 401, 404,
faults); empty requests (a load balancer's health probes) are counted but not printed. Ctrl-C
or SIGTERM prints a summary and exits 0.";

fn address(args: &Args, name: &str, default: &str) -> SocketAddr {
    let text = args.option(name).unwrap_or(default);
    text.parse().unwrap_or_else(|_| {
        eprintln!("error: --{name} expects an address such as {default}, not {text:?}");
        std::process::exit(2);
    })
}

const OPTIONS: [&str; 10] = [
    "grpc",
    "http",
    "trace-quiet",
    "fault",
    "retry-after",
    "tls-cert",
    "tls-key",
    "client-ca",
    "bearer-token",
    "ui",
];

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse_with_flags(USAGE, &OPTIONS, &["verbose", "json"]);
    // The receiver's own warnings (connection limits, timeouts) on stderr; stdout stays for
    // what arrives.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
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
    let fault = FaultOption::parse(args)?;
    let tls = options::tls(args)?;
    let output = Arc::new(Output {
        json: args.flag("json"),
        verbose: args.flag("verbose"),
        assembler: Mutex::new(Assembler::new(options::trace_quiet(args)?)),
        summary: Summary::default(),
        store: args.option("ui").map(|_| Store::default()),
        printing: Mutex::new(()),
    });
    let (on_receive, on_refuse) = (Arc::clone(&output), Arc::clone(&output));
    let mut config = ReceiverConfig {
        grpc_addr: grpc,
        http_addr: http,
        ..ReceiverConfig::default()
    }
    .with_keep_requests(false)
    .with_on_receive(move |received| on_receive.received(received))
    .with_on_refuse(move |refused| on_refuse.refused(refused));
    if let Some(tls) = tls {
        config = config.with_tls(tls);
    }
    if let Some(token) = options::bearer_token(args)? {
        config = config.with_bearer_token(token);
    }
    let receiver = Receiver::start(config)
        .await
        .map_err(|e| format!("cannot listen on {grpc} / {http}: {e}"))?;
    if let Some(fault) = &fault {
        fault.apply(&receiver);
    }
    let viewer = match &output.store {
        None => None,
        Some(store) => {
            let addr = address(args, "ui", "127.0.0.1:16686");
            let viewer = Viewer::start(addr, store.clone())
                .await
                .map_err(|e| format!("cannot serve the viewer on {addr}: {e}"))?;
            Some(viewer)
        }
    };
    banner(&output, &receiver, viewer.as_ref(), fault.as_ref(), args);
    let printer = Arc::clone(&output);
    let ticker = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            printer.print_traces(false);
        }
    });
    if args.quick {
        self_test(&receiver).await?;
        output.print_traces(true);
        let counts = receiver.counts();
        if !output.json {
            println!(
                "✅ self-test received: {} spans, {} data points, {} log records",
                counts.spans, counts.data_points, counts.log_records
            );
        }
    }
    if !args.quick || viewer.is_some() {
        let why = stop_signal_or_exit().await;
        ticker.abort();
        output.print_summary(why);
    }
    receiver.shutdown().await;
    Ok(())
}

async fn stop_signal_or_exit() -> &'static str {
    match output::stop_signal().await {
        Ok(why) => why,
        Err(error) => {
            eprintln!("receiver: cannot wait for Ctrl-C or SIGTERM: {error}");
            "a signal error"
        }
    }
}

/// Where it listens, and what it will do to requests.
fn banner(
    output: &Output,
    receiver: &Receiver,
    viewer: Option<&Viewer>,
    fault: Option<&FaultOption>,
    args: &Args,
) {
    if output.json {
        json::print(
            "listening",
            serde_json::json!({
                "grpc": receiver.grpc_endpoint(),
                "http": receiver.http_endpoint(),
                "viewer": viewer.map(Viewer::url),
                "fault": fault.map(FaultOption::describe),
                "bearerToken": args.option("bearer-token").is_some(),
                "clientCertificates": args.option("client-ca").is_some(),
            }),
        );
        return;
    }
    println!(
        "📡 OTLP receiver: gRPC {} · HTTP {}",
        receiver.grpc_endpoint(),
        receiver.http_endpoint()
    );
    if args.option("client-ca").is_some() {
        println!("   TLS with client certificates required (mutual TLS)");
    } else if args.option("tls-cert").is_some() {
        println!("   TLS");
    }
    if args.option("bearer-token").is_some() {
        println!("   requests need the bearer token");
    }
    if let Some(fault) = fault {
        println!("   fault: {}", fault.describe());
    }
    if let Some(viewer) = viewer {
        println!("🔎 viewer: {}", viewer.url());
    }
    if !args.quick {
        println!("   Ctrl-C (or SIGTERM) for the summary");
    } else if viewer.is_some() {
        println!("   after the self-test the viewer stays up; Ctrl-C to stop");
    }
}

/// `--quick`: one trace, metric and log from a pipeline pointed at this receiver.
async fn self_test(receiver: &Receiver) -> Result<(), Box<dyn std::error::Error>> {
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
    Ok(())
}
