//! Production configuration (the guide's seventh example): settings from a TOML file plus the
//! environment, TLS and mutual TLS with certificates made at start, a bearer token the
//! receiver requires, gzip, the health endpoint, JSON structured logs, and a load run that ends
//! with a delivery report.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Status, Tracer as _};
use opentelemetry::KeyValue;
use otlp_examples::cli::Args;
use otlp_exporters::config::LogFormat;
use otlp_exporters::OtlpPipeline;
use otlp_transport::receiver::{Receiver, ReceiverConfig, ServerTls};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

const USAGE: &str = "production: the guide's full production configuration, for real

usage: cargo run -p otlp-examples --bin production -- [--quick] [--requests N] [--config FILE]

  --quick         100 requests without pauses
  --requests N    requests of the load run (default 1000, 10 ms apart)
  --config FILE   a TOML file of your own (see otlp_exporters::config); default: one written
                  at start, pointing at an embedded receiver that requires TLS, a client
                  certificate and a bearer token

OTEL_* variables override the file, as they would in production.";

const TOKEN: &str = "production-token";

/// A CA, a server certificate for 127.0.0.1 and a client certificate, written as PEM files.
fn certificates(dir: &Path) -> Result<ServerTls, Box<dyn std::error::Error>> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let issue = |names: Vec<String>| -> Result<(String, String), rcgen::Error> {
        let key = KeyPair::generate()?;
        let certificate = CertificateParams::new(names)?.signed_by(&key, &ca)?;
        Ok((certificate.pem(), key.serialize_pem()))
    };
    let (server_cert, server_key) = issue(vec!["127.0.0.1".into()])?;
    let (client_cert, client_key) = issue(vec!["production-app".into()])?;
    std::fs::write(dir.join("ca.crt"), ca.pem())?;
    std::fs::write(dir.join("client.crt"), client_cert)?;
    std::fs::write(dir.join("client.key"), client_key)?;
    Ok(ServerTls {
        certificate_pem: server_cert.into_bytes(),
        key_pem: server_key.into_bytes(),
        client_ca_pem: Some(ca.pem().into_bytes()),
    })
}

fn config_file(dir: &Path, endpoint: &str) -> std::io::Result<PathBuf> {
    let path = dir.join("otlp.toml");
    let text = format!(
        r#"service_name = "production-app"
service_version = "1.0.0"
environment = "production"

[transport]
protocol = "grpc"
endpoint = "{endpoint}"
compression = "gzip"
timeout = "10s"

[connection]
connect_timeout = "5s"

[batch]
max_batch_size = 1000
max_queue_size = 50000
scheduled_delay = "200ms"
strategy = "hybrid"

[retry]
max_attempts = 3
initial_backoff = "100ms"
max_backoff = "5s"
multiplier = 2.0

[monitoring]
health_endpoint = "127.0.0.1:0"
metrics_export_interval = "10s"

[security]
ca_file = "{ca}"
cert_file = "{cert}"
key_file = "{key}"
bearer_token = "{TOKEN}"

[logging]
level = "info"
format = "json"
"#,
        ca = dir.join("ca.crt").display(),
        cert = dir.join("client.crt").display(),
        key = dir.join("client.key").display(),
    );
    std::fs::write(&path, text)?;
    Ok(path)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["requests", "config"]);
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
    let pause = Duration::from_millis(if args.quick { 0 } else { 10 });
    let dir = std::env::temp_dir().join(format!("otlp-production-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let (receiver, config) = match args.option("config") {
        Some(path) => (None, PathBuf::from(path)),
        None => {
            let tls = certificates(&dir)?;
            let receiver = Receiver::start(
                ReceiverConfig::default()
                    .with_tls(tls)
                    .with_bearer_token(TOKEN),
            )
            .await?;
            let config = config_file(&dir, &receiver.grpc_endpoint())?;
            (Some(receiver), config)
        }
    };
    let pipeline = OtlpPipeline::builder()
        .with_config_file(&config)?
        .with_env()?
        .build()?;
    init_logging(&pipeline);
    tracing::info!(config = %config.display(), "production pipeline started");
    let health = pipeline
        .health_endpoint()
        .map(|a| format!("http://{a}/health"));
    println!("🏭 production: {requests} requests; TLS + client certificate + bearer token + gzip");
    if let Some(url) = &health {
        println!("   health endpoint: {url}");
    }

    let tracer = pipeline.tracer("production-component");
    let meter = pipeline.meter("production-metrics");
    let request_counter = meter.u64_counter("requests_total").build();
    let response_time = meter
        .f64_histogram("response_time_seconds")
        .with_unit("s")
        .build();
    let error_counter = meter.u64_counter("errors_total").build();
    let started = Instant::now();
    let mut errors = 0;
    for i in 0..requests {
        let begun = Instant::now();
        let mut span = tracer.start("production-operation");
        span.set_attribute(KeyValue::new("request.id", i as i64));
        span.set_attribute(KeyValue::new("user.id", format!("user-{}", i % 100)));
        let failed = fastrand::f64() < 0.05;
        let attributes = [
            KeyValue::new("method", "POST"),
            KeyValue::new("endpoint", "/api/v1/data"),
        ];
        request_counter.add(1, &attributes);
        response_time.record(begun.elapsed().as_secs_f64(), &attributes);
        if failed {
            errors += 1;
            error_counter.add(1, &attributes);
            span.set_status(Status::error("Operation failed"));
        } else {
            span.set_status(Status::Ok);
        }
        span.end();
        if i % 250 == 0 {
            tracing::info!(processed = i, "load progress");
        }
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    let elapsed = started.elapsed();
    if let Some(url) = &health {
        pipeline.health_registry().check_now().await;
        let response = reqwest::get(url).await?;
        println!(
            "   GET {url} → {} {}",
            response.status(),
            response.text().await?
        );
    }
    let report = otlp_examples::target::shutdown(&pipeline);
    let stats = pipeline.stats();
    println!(
        "\n📦 delivery report ({requests} requests in {elapsed:.2?}, {errors} simulated failures)"
    );
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "signal", "accepted", "exported", "rejected", "dropped", "pending"
    );
    for (name, s) in [("spans", stats.spans), ("logs", stats.logs)] {
        println!(
            "{name:<12} {:>10} {:>10} {:>10} {:>10} {:>10}",
            s.offered,
            s.exported,
            s.rejected,
            s.dropped(),
            s.queued + s.in_flight
        );
    }
    let m = stats.metric_exports;
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "data points",
        m.exported + m.rejected + m.failed,
        m.exported,
        m.rejected,
        m.failed,
        0
    );
    println!(
        "retries: {}   requests sent: {}",
        stats.retry.retries,
        stats.span_exports.requests + stats.metric_exports.requests + stats.log_exports.requests
    );
    if report.undelivered > 0 {
        return Err(report.to_string().into());
    }
    if let Some(receiver) = &receiver {
        let received = receiver.received();
        let compressed = received
            .iter()
            .filter(|r| r.compression.as_deref() == Some("gzip"))
            .count();
        let authorized = received
            .iter()
            .filter(|r| {
                r.headers
                    .get("authorization")
                    .is_some_and(|v| v == format!("Bearer {TOKEN}").as_str())
            })
            .count();
        println!("receiver: {} requests over mTLS, {compressed} gzip-compressed, {authorized} with the bearer token", received.len());
        if receiver.counts().spans != requests {
            return Err(format!(
                "the receiver got {} of {requests} spans",
                receiver.counts().spans
            )
            .into());
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    if !report.completed {
        return Err(report.to_string().into());
    }
    tracing::info!(
        spans = stats.spans.exported,
        "production pipeline shut down"
    );
    println!("\n✅ every span delivered over mutual TLS with the token and gzip");
    Ok(())
}

/// JSON (or text) logs for the process, at the configured level; the pipeline's own warnings
/// go there too.
fn init_logging(pipeline: &OtlpPipeline) {
    let filter = tracing_subscriber::EnvFilter::try_new(&pipeline.config().log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match pipeline.config().log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
