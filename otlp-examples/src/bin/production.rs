//! Production configuration (the guide's seventh example): settings from the standard
//! OpenTelemetry configuration file shipped in `otlp-examples/config/production.yaml`, TLS and
//! mutual TLS with certificates made at start, a bearer token the receiver requires, gzip, the
//! health endpoint, JSON structured logs, and a load run that ends with a delivery report.

use std::path::Path;
use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Status, Tracer as _};
use opentelemetry::KeyValue;
use otlp_examples::cli::Args;
use otlp_exporters::config::{EnvSource, LogFormat, PipelineConfig, ProcessEnv};
use otlp_exporters::{OtlpPipeline, PipelineBuilder};
use otlp_transport::receiver::{Receiver, ReceiverConfig, ServerTls};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

const USAGE: &str = "production: the guide's full production configuration, for real

usage: cargo run -p otlp-examples --bin production -- [--quick] [--requests N] [--config FILE] [--print-config]

  --quick          100 requests without pauses
  --requests N     requests of the load run (default 1000, 10 ms apart)
  --config FILE    an OpenTelemetry configuration file of your own (the schema of
                   opentelemetry-configuration; OTEL_CONFIG_FILE does the same); default:
                   otlp-examples/config/production.yaml, its COLLECTOR_* references pointing at
                   an embedded receiver that requires TLS, a client certificate and a token
  --print-config   print the configuration in effect, where each value came from, and exit

While a file is in use, the other OTEL_* variables are ignored except through the file's
${VAR} references, as the OpenTelemetry specification says.";

/// The configuration file the demo reads, shipped for users to copy.
const PRODUCTION_FILE: &str = include_str!("../../config/production.yaml");

const TOKEN: &str = "production-token";

/// The demo's temporary directory (certificates, the client key, the config file), removed
/// when the demo ends, however it ends.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Certificate settings for `names` with its own subject: rcgen's default subject is the same
/// for every certificate, and a leaf named like its CA looks self-signed to OpenSSL and Node.
fn params(names: Vec<String>, common_name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    Ok(params)
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, written as PEM files.
fn certificates(dir: &Path) -> Result<ServerTls, Box<dyn std::error::Error>> {
    let mut ca_params = params(Vec::new(), "otlp-rust production demo CA")?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let issue = |names: Vec<String>| -> Result<(String, String), rcgen::Error> {
        let key = KeyPair::generate()?;
        let common_name = names.first().cloned().unwrap_or_default();
        let certificate = params(names, &common_name)?.signed_by(&key, &ca)?;
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

/// The process environment, with the demo's `COLLECTOR_*` values in front of it.
struct DemoEnv(Vec<(&'static str, String)>);

impl EnvSource for DemoEnv {
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| ProcessEnv.get(name))
    }
}

/// The shipped file, its collector references pointing at the embedded receiver.
fn demo_config(dir: &Path, endpoint: &str) -> Result<PipelineConfig, Box<dyn std::error::Error>> {
    let path = |name: &str| dir.join(name).display().to_string();
    let env = DemoEnv(vec![
        ("COLLECTOR_ENDPOINT", endpoint.to_owned()),
        ("COLLECTOR_CA_FILE", path("ca.crt")),
        ("COLLECTOR_CLIENT_CERT_FILE", path("client.crt")),
        ("COLLECTOR_CLIENT_KEY_FILE", path("client.key")),
        ("COLLECTOR_TOKEN", TOKEN.to_owned()),
    ]);
    let mut config = PipelineConfig::default();
    config.apply_yaml(
        PRODUCTION_FILE,
        "otlp-examples/config/production.yaml",
        &env,
    )?;
    Ok(config)
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
    let dir = TempDir(dir);
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
                .with_env()?,
        ),
        None => {
            let tls = certificates(dir)?;
            let receiver = Receiver::start(
                ReceiverConfig::default()
                    .with_tls(tls)
                    .with_bearer_token(TOKEN),
            )
            .await?;
            let config = demo_config(dir, &receiver.grpc_endpoint())?;
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
    let health = pipeline
        .health_endpoint()
        .map(|a| format!("http://{a}/health"));
    println!("🏭 production: {requests} requests; TLS + client certificate + bearer token + gzip");
    if let Some(url) = &health {
        println!("   health endpoint: {url}");
    }
    for warning in pipeline.security_warnings() {
        println!("   ⚠ {warning}");
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
