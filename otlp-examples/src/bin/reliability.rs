//! Reliability (the guide's sixth example): a flaky service behind a circuit breaker, retries,
//! a per-attempt timeout and a bulkhead, built from otlp-reliability's tower layers. Every
//! breaker transition is printed as it happens, then the final counts; health checks
//! (database, external API, cache, the breaker) are aggregated and served over HTTP.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::{Span as _, Status, Tracer as _};
use opentelemetry::KeyValue;
use otlp_core::{BoxError, Error, ErrorKind};
use otlp_examples::cli::Args;
use otlp_examples::target::{deliver, Expect, Target};
use otlp_reliability::circuit_breaker::{BreakerConfig, CircuitBreakerLayer};
use otlp_reliability::health::{http, CheckConfig, CheckResult, HealthRegistry, HealthStatus};
use otlp_reliability::retry::{RetryConfig, RetryLayer};
use otlp_reliability::{OtlpClassify, ReliabilityBuilderExt};
use tower::{ServiceBuilder, ServiceExt};

const USAGE: &str =
    "reliability: circuit breaker, retry, timeout and bulkhead in front of a flaky service

usage: cargo run -p otlp-examples --bin reliability -- [--quick] [--operations N]

  --quick          20 operations, 20 ms apart, a 1 s open circuit
  --operations N   operations (default 20, 500 ms apart as in the guide)";

/// The guide's unreliable service: its failure rate depends on the call number; failures are
/// network, timeout, server or business errors.
async fn unreliable_service_call(call: u32, attempts: Arc<AtomicU32>) -> Result<String, BoxError> {
    attempts.fetch_add(1, Ordering::Relaxed);
    let failure_rate = match call {
        1..=5 => 0.1,
        6..=10 => 0.3,
        11..=15 => 0.5,
        _ => 0.2,
    };
    if fastrand::f64() >= failure_rate {
        return Ok(format!("service call {call} succeeded"));
    }
    match fastrand::u32(0..4) {
        0 => Err(Error::new(ErrorKind::Connect, "network: connection refused").into()),
        1 => {
            // Slower than the per-attempt timeout: the timeout layer cuts it off.
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok("too late".to_owned())
        }
        2 => Err(Error::from_http_status(503, "internal server error", None).into()),
        _ => Err(Error::from_http_status(422, "business rule violated", None).into()),
    }
}

async fn probe(name: &'static str, latency_ms: u64, failure_rate: f64) -> CheckResult {
    tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    if fastrand::f64() < failure_rate {
        CheckResult::new(HealthStatus::Unhealthy, format!("{name} check failed"))
    } else {
        HealthStatus::Healthy.into()
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["operations"]);
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("reliability: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let operations = args.number("operations", 20) as u32;
    let pause = Duration::from_millis(if args.quick { 20 } else { 500 });
    let open_for = Duration::from_secs(if args.quick { 1 } else { 10 });
    let target = Target::from_env().await?;
    println!(
        "🛡️  reliability: {operations} operations against a flaky service\n   telemetry → {}\n",
        target.describe()
    );
    let pipeline = target.pipeline("reliability-demo")?.build()?;
    if args.print_config(&pipeline) {
        return Ok(());
    }
    let tracer = pipeline.tracer("reliability");

    // The guide's settings: 5 failures open the circuit for 10 s; 3 attempts from 100 ms
    // doubling to 5 s; a 30 s timeout (1 s here, so a hanging call shows); 10 concurrent calls.
    let breaker = CircuitBreakerLayer::new(
        "flaky-service",
        BreakerConfig::default()
            .with_consecutive_failures(5)
            .with_failure_rate(0.5, 10)
            .with_open_duration(open_for, 2.0, open_for * 4, 0.1),
        OtlpClassify,
    )?;
    let handle = breaker.handle();
    handle.on_change(|event| {
        println!(
            "  ⚡ circuit {}: {:?} → {:?}",
            event.name, event.from, event.to
        )
    });
    let retry = RetryLayer::new(
        RetryConfig::default()
            .with_max_attempts(3)
            .with_backoff(Duration::from_millis(100), Duration::from_secs(5), 2.0)
            .with_total_timeout(Duration::from_secs(10)),
        OtlpClassify,
    )?;
    let retry_stats = retry.stats();
    let attempts = Arc::new(AtomicU32::new(0));
    let call_attempts = Arc::clone(&attempts);
    let stack = ServiceBuilder::new()
        .bulkhead(10, Duration::from_millis(100))?
        .layer(retry)
        .layer(breaker)
        .attempt_timeout(Duration::from_secs(1))
        .service_fn(move |call: u32| unreliable_service_call(call, Arc::clone(&call_attempts)));

    let health = HealthRegistry::new();
    let check = CheckConfig {
        interval: Duration::from_secs(1),
        timeout: Duration::from_millis(500),
        retries: 3,
    };
    health.register("database", check, || probe("database", 100, 0.1));
    health.register("external_api", check, || probe("external_api", 200, 0.05));
    health.register("cache", check, || probe("cache", 10, 0.02));
    health.register_breaker(handle.clone(), check);
    let checks = health.spawn();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let health_url = format!("http://{}/health", listener.local_addr()?);
    tokio::spawn(http::serve(health.clone(), listener));

    let (mut ok, mut failed) = (0, 0);
    for call in 1..=operations {
        let mut span = tracer.start(format!("operation {call}"));
        let before = attempts.load(Ordering::Relaxed);
        let result = stack.clone().oneshot(call).await;
        let tries = attempts.load(Ordering::Relaxed) - before;
        span.set_attribute(KeyValue::new("attempts", i64::from(tries)));
        match &result {
            Ok(response) => {
                ok += 1;
                span.set_status(Status::Ok);
                println!("  ✅ {call:>3}: {response} ({tries} attempt(s))");
            }
            Err(error) => {
                failed += 1;
                span.set_status(Status::error(error.to_string()));
                println!("  ❌ {call:>3}: {error} ({tries} attempt(s))");
            }
        }
        span.end();
        tokio::time::sleep(pause).await;
    }
    health.check_now().await;
    let response = reqwest::get(&health_url).await?;
    let code = response.status();
    let body: serde_json::Value = response.json().await?;
    checks.abort();

    let retries = retry_stats.snapshot();
    let circuit = handle.stats();
    println!("\n{:<34} {:>6}", "operations succeeded", ok);
    println!("{:<34} {:>6}", "operations failed", failed);
    println!(
        "{:<34} {:>6}",
        "attempts sent to the service",
        attempts.load(Ordering::Relaxed)
    );
    println!("{:<34} {:>6}", "retries", retries.retries);
    println!(
        "{:<34} {:>6}",
        "gave up: attempts exhausted", retries.attempts_exhausted
    );
    println!("{:<34} {:>6}", "circuit opened", circuit.opened);
    println!(
        "{:<34} {:>6}",
        "calls refused by the open circuit", circuit.rejected_calls
    );
    println!(
        "{:<34} {:>6}",
        "circuit state at the end",
        format!("{:?}", handle.state())
    );
    println!("\nGET {health_url} → {code}");
    println!("{}", serde_json::to_string_pretty(&body)?);

    let expect = Expect {
        spans: operations as usize,
        ..Expect::default()
    };
    deliver(&target, &[&pipeline], expect).await?;
    println!("\n✅ {operations} operation spans delivered; every failure above was classified, retried or refused as shown");
    Ok(())
}
