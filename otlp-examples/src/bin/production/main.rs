//! Production configuration (the guide's seventh example): settings from the standard
//! OpenTelemetry configuration file shipped in `otlp-examples/config/production.yaml`, TLS and
//! mutual TLS with certificates made at start, a bearer token the receiver requires, gzip, the
//! health endpoint, the pipeline's own metrics turned on by the file, application logs through
//! the `tracing` bridge correlated with their spans, and a load of real 50-150 ms requests
//! that ends with a delivery report. Against a collector of your own
//! (`OTEL_EXPORTER_OTLP_ENDPOINT`, `--config`), delivery is checked from the pipeline's report.

mod certs;
mod checks;
mod load;
mod route;

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use otlp_examples::cli::Args;
use otlp_exporters::config::LogFormat;
use otlp_exporters::{OtlpPipeline, PipelineBuilder};
use otlp_transport::receiver::{Receiver, ReceiverConfig};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

const USAGE: &str = "production: the guide's full production configuration, for real
(guide section 7, \"Production Configuration\")

usage: cargo run -p otlp-examples --bin production -- [--quick] [--requests N] [--concurrency N]
                                                      [--config FILE] [--ui ADDR] [--print-config]

  --quick           100 requests
  --requests N      requests of the load run (default 1000); each takes 50-150 ms (a
                    downstream call), with a span, a child span, logs and metrics
  --concurrency N   requests in flight at once (default 50)
  --config FILE     an OpenTelemetry configuration file of your own (the schema of
                    opentelemetry-configuration; OTEL_CONFIG_FILE does the same); default:
                    otlp-examples/config/production.yaml, its COLLECTOR_* references pointing at
                    an embedded receiver that requires TLS, a client certificate and a token
  --ui ADDR         also show what the embedded receiver got in the viewer on ADDR; the
                    viewer stays up at the end until Ctrl-C
  --print-config    print the configuration in effect, where each value came from, and exit

With OTEL_EXPORTER_OTLP_ENDPOINT (or a configuration file) the demo sends to that collector
and checks delivery from the pipeline's own report: what the collector accepted. While a file
is in use, the other OTEL_* variables are ignored except through the file's ${VAR}
references, as the OpenTelemetry specification says.";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["requests", "concurrency", "config"]);
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("production: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let requests = args.number("requests", if args.quick { 100 } else { 1000 });
    let concurrency = args.number("concurrency", 50).max(1);
    let dir = std::env::temp_dir().join(format!("otlp-production-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let dir = certs::TempDir(dir);
    let dir = &dir.0;

    let (receiver, builder) = match args.option("config") {
        Some(path) => (None, OtlpPipeline::builder().with_config_file(path)?),
        None if std::env::var_os("OTEL_CONFIG_FILE").is_some() => {
            (None, OtlpPipeline::builder().with_env()?)
        }
        // A collector of the user's, named the standard way: the environment configures it.
        None if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() => (
            None,
            OtlpPipeline::builder()
                .with_service_name("production-app")
                .with_self_metrics(true)
                .with_env()?,
        ),
        None => {
            let tls = certs::certificates(dir)?;
            let config = ReceiverConfig::default()
                .with_tls(tls)
                .with_bearer_token(certs::TOKEN);
            let receiver =
                Receiver::start(otlp_examples::target::with_viewer(config).await?).await?;
            let config = certs::demo_config(dir, &receiver.grpc_endpoint())?;
            (Some(receiver), PipelineBuilder::from_config(config))
        }
    };
    let pipeline = builder.build()?;
    if args.print_config(&pipeline) {
        // The temporary directory goes with its guard.
        return Ok(());
    }
    init_logging(&pipeline);
    tracing::info!(
        config = pipeline.config_report().file.as_deref().unwrap_or("none"),
        "production pipeline started"
    );
    let routes = route::routes(&pipeline);
    match &receiver {
        Some(_) => println!(
            "🏭 production: {requests} requests, {concurrency} at a time, to the embedded receiver"
        ),
        None => println!(
            "🏭 production: {requests} requests, {concurrency} at a time, to your collector"
        ),
    }
    for route in &routes {
        println!("   {}", route::describe(route));
    }
    let health = pipeline
        .health_endpoint()
        .map(|a| format!("http://{a}/health"));
    if let Some(url) = &health {
        println!("   health endpoint: {url}");
    }
    println!(
        "   self-metrics: {}",
        if pipeline.config().self_metrics {
            "on (from the configuration file)"
        } else {
            "on"
        }
    );
    for warning in pipeline.security_warnings() {
        println!("   ⚠ {warning}");
    }

    let load = load::run(&pipeline, requests, concurrency).await?;
    if let Some(url) = &health {
        pipeline.health_registry().check_now().await;
        let response = reqwest::get(url).await?;
        println!(
            "   GET {url} → {} {}",
            response.status(),
            response.text().await?
        );
    }
    tracing::info!(requests, "production load finished");
    let report = otlp_examples::target::shutdown(&pipeline);
    let stats = pipeline.stats();
    checks::print_table(&load, &stats);
    let outcome = checks::check(&load, &stats, &report, receiver.as_ref(), &routes).await;
    let result = match outcome {
        Ok(success) => {
            println!("\n✅ {success}");
            Ok(())
        }
        Err(error) => Err(error.into()),
    };
    if receiver.is_some() {
        otlp_examples::target::linger();
    }
    result
}

/// The process's `tracing` output: the pipeline's own logs and the demo's milestones on
/// stderr (JSON or text, at the configured level); spans of the demo's requests through
/// `tracing-opentelemetry`, and their events as OTLP log records through the bridge, so that
/// every log record carries its span.
fn init_logging(pipeline: &OtlpPipeline) {
    let console = tracing_subscriber::EnvFilter::try_new(format!(
        "{},production::request=off",
        pipeline.config().log_level
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match pipeline.config().log_format {
        LogFormat::Json => fmt.json().with_filter(console).boxed(),
        LogFormat::Text => fmt.with_filter(console).boxed(),
    };
    // Only the demo's own events go out over OTLP: the pipeline's logs about its exports
    // must not feed its own exports.
    let ours = || {
        tracing_subscriber::filter::Targets::new().with_target("production", tracing::Level::INFO)
    };
    let spans = tracing_opentelemetry::layer()
        .with_tracer(pipeline.tracer("production"))
        .with_filter(ours());
    let logs = OpenTelemetryTracingBridge::new(pipeline.logger_provider()).with_filter(ours());
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(spans)
        .with(logs)
        .try_init();
}
