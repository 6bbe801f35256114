//! Reliability (the guide's section "🛡️ 可靠性框架集成"): concurrent load at a service that
//! goes healthy → failing → slow → healthy, through otlp-reliability's tower layers: a
//! bulkhead, retries, a circuit breaker and a per-attempt timeout. Printed as it happens: the
//! breaker opening, going half-open for its probe calls and closing, bulkhead rejections,
//! per-attempt timeouts, retries with the delay measured before each, and the health
//! endpoint's answer changing. A table counts each at the end; the demo fails (exit 1) if the
//! breaker never opened or the bulkhead never rejected a call.

mod events;
mod service;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::{Span as _, Status, Tracer as _};
use opentelemetry::KeyValue;
use otlp_core::{BoxError, ErrorKind};
use otlp_examples::cli::Args;
use otlp_examples::target::{deliver, Expect, Target};
use otlp_reliability::circuit_breaker::{BreakerConfig, CircuitBreakerLayer, CircuitState};
use otlp_reliability::health::{http, CheckConfig, CheckResult, HealthRegistry, HealthStatus};
use otlp_reliability::retry::{RetryConfig, RetryLayer};
use otlp_reliability::{OtlpClassify, ReliabilityBuilderExt};
use tower::{ServiceBuilder, ServiceExt};

use events::{Event, Events};
use service::{Attempts, Call, Phase, PhaseSwitch};

/// One attempt's future, boxed so that its type is spelled out for `tokio::spawn`.
type AttemptFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, BoxError>> + Send>>;

const USAGE: &str =
    "reliability: bulkhead, retry, circuit breaker and per-attempt timeout in front of a
service that fails in phases (the guide's section \"🛡️ 可靠性框架集成\", integrating the
reliability framework)

usage: cargo run -p otlp-examples --bin reliability -- [--quick] [--workers N] [--phase-ms MS]

  --quick          1.5 s phases, a 400 ms open breaker
  --workers N      concurrent callers (default 8; the bulkhead has 6 slots)
  --phase-ms MS    length of each phase (default 4000)

The service is healthy, then fails every call with 503, then answers in 400 ms (over the
200 ms per-attempt timeout), then is healthy again. Settings: bulkhead 6 slots, 50 ms wait;
3 attempts, backoff from 50 ms doubling; breaker opens after 5 consecutive failures (or 50 %
of 10), open 400 ms (quick) or 2 s, doubling up to twice that. Exit 1 if the breaker never
opened or the bulkhead never rejected a call.";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["workers", "phase-ms"]);
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("reliability: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let workers = args.number("workers", 8).max(1);
    let phase_length =
        Duration::from_millis(args.number("phase-ms", if args.quick { 1500 } else { 4000 }) as u64);
    let open_for = Duration::from_millis(if args.quick { 400 } else { 2000 });
    let target = Target::from_env().await?;
    println!(
        "🛡️  reliability: {workers} concurrent callers against a service that fails in phases\n   telemetry → {}",
        target.describe()
    );
    let pipeline = target.pipeline("reliability-demo")?.build()?;
    if args.print_config(&pipeline) {
        return Ok(());
    }
    let tracer = pipeline.tracer("reliability");
    let events = Arc::new(Events::new());
    let phase = PhaseSwitch::default();

    let breaker = CircuitBreakerLayer::new(
        "the-service",
        BreakerConfig::default()
            .with_consecutive_failures(5)
            .with_failure_rate(0.5, 10)
            .with_open_duration(open_for, 2.0, open_for * 2, 0.1),
        OtlpClassify,
    )?;
    let handle = breaker.handle();
    let on_change = Arc::clone(&events);
    handle.on_change(move |event| {
        let event = match event.to {
            CircuitState::Open | CircuitState::ForcedOpen => Event::Opened,
            CircuitState::HalfOpen => Event::HalfOpen,
            CircuitState::Closed => Event::Closed,
            CircuitState::Disabled => return,
        };
        on_change.record(event);
    });
    let retry = RetryLayer::new(
        RetryConfig::default()
            .with_max_attempts(3)
            .with_backoff(Duration::from_millis(50), Duration::from_secs(1), 2.0)
            .with_total_timeout(Duration::from_secs(5)),
        OtlpClassify,
    )?;
    let retry_stats = retry.stats();
    let attempt_service = ServiceBuilder::new()
        .attempt_timeout(Duration::from_millis(200))
        .service_fn({
            let phase = phase.clone();
            move |call: Call| service::serve(phase.get(), call)
        });
    let attempts = Arc::new(Attempts::default());
    let observed = tower::service_fn({
        let (events, attempts) = (Arc::clone(&events), Arc::clone(&attempts));
        move |call: Call| {
            let (events, attempts) = (Arc::clone(&events), Arc::clone(&attempts));
            let attempt = attempts.start(&events, call);
            let pending = attempt_service.clone().oneshot(call);
            let attempt: AttemptFuture = Box::pin(async move {
                let result: Result<String, BoxError> = pending.await;
                attempts.end(&events, call, attempt, &result);
                result
            });
            attempt
        }
    });
    let stack = ServiceBuilder::new()
        .bulkhead(6, Duration::from_millis(50))?
        .layer(retry)
        .layer(breaker)
        .service(observed);

    // Health: the service's own check follows its phase; the breaker's check its state.
    let health = HealthRegistry::new();
    let check = CheckConfig {
        interval: Duration::from_millis(200),
        timeout: Duration::from_millis(100),
        retries: 1,
    };
    health.register("the_service", check, {
        let phase = phase.clone();
        move || {
            let now = phase.get();
            async move {
                match now {
                    Phase::Healthy => HealthStatus::Healthy.into(),
                    Phase::Failing => CheckResult::new(HealthStatus::Unhealthy, "answers 503"),
                    Phase::Slow => CheckResult::new(HealthStatus::Degraded, "answers slowly"),
                }
            }
        }
    });
    health.register_breaker(handle.clone(), check);
    let checks = health.spawn();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let health_url = format!("http://{}/health", listener.local_addr()?);
    tokio::spawn(http::serve(health.clone(), listener));
    println!("   health endpoint: {health_url}");
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch_health(
        health_url.clone(),
        Arc::clone(&events),
        Arc::clone(&stop),
    ));

    // The load: every worker calls, waits 10 ms, calls again, until the last phase ends.
    let next_id = Arc::new(AtomicU64::new(0));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (stack, tracer, events, attempts) = (
            stack.clone(),
            tracer.clone(),
            Arc::clone(&events),
            Arc::clone(&attempts),
        );
        let (stop, next_id, ok, failed) = (
            Arc::clone(&stop),
            Arc::clone(&next_id),
            Arc::clone(&ok),
            Arc::clone(&failed),
        );
        tasks.push(async move {
            while !stop.load(Ordering::Relaxed) {
                let call = Call {
                    id: next_id.fetch_add(1, Ordering::Relaxed) + 1,
                };
                let mut span = tracer.start(format!("call {}", call.id));
                let result = stack.clone().oneshot(call).await;
                attempts.finish(call);
                match &result {
                    Ok(_) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        span.set_status(Status::Ok);
                    }
                    Err(error) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        let kind = otlp_core::classify(error.as_ref()).kind;
                        span.set_attribute(KeyValue::new("error.type", format!("{kind:?}")));
                        span.set_status(Status::error(error.to_string()));
                        match kind {
                            Some(ErrorKind::BulkheadFull) => events.record(Event::BulkheadRejected),
                            Some(ErrorKind::CircuitOpen) => events.record(Event::CircuitRefused),
                            _ => {}
                        }
                    }
                }
                span.end();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
    }
    // The callers run on this task (joined below) while the phases change on another.
    let phases = tokio::spawn({
        let (events, phase, handle) = (Arc::clone(&events), phase.clone(), handle.clone());
        let stop = Arc::clone(&stop);
        async move {
            for now in [Phase::Healthy, Phase::Failing, Phase::Slow, Phase::Healthy] {
                events.phase(&format!("the service is now {}", now.name()));
                phase.set(now);
                tokio::time::sleep(phase_length).await;
            }
            // Give an open breaker its probe in the healthy phase before stopping.
            let settle = tokio::time::Instant::now() + open_for * 3;
            while handle.state() != CircuitState::Closed && tokio::time::Instant::now() < settle {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            events.phase("the load stops");
            stop.store(true, Ordering::Relaxed);
        }
    });
    futures_util::future::join_all(tasks).await;
    phases.await?;
    health.check_now().await;
    let _ = watcher.await;
    checks.abort();

    let calls = next_id.load(Ordering::Relaxed);
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    let retries = retry_stats.snapshot();
    println!();
    println!("{:<46} {:>6}", "calls made", calls);
    println!("{:<46} {:>6}", "calls that succeeded", ok);
    println!("{:<46} {:>6}", "calls that failed", failed);
    println!(
        "{:<46} {:>6}",
        "attempts (the retry layer's count)", retries.attempts
    );
    println!(
        "{:<46} {:>6}",
        "retries (the retry layer's count)", retries.retries
    );
    events.print_table();
    println!(
        "{:<46} {:>6}",
        "breaker state at the end",
        format!("{:?}", handle.state())
    );

    let opened = events.count(&Event::Opened);
    let rejected = events.count(&Event::BulkheadRejected);
    if opened == 0 || rejected == 0 {
        return Err(format!(
            "the breaker opened {opened} time(s) and the bulkhead rejected {rejected} call(s); \
             both must happen under this load"
        )
        .into());
    }
    let expect = Expect {
        spans: calls as usize,
        ..Expect::default()
    };
    deliver(&target, &[&pipeline], expect).await?;
    let delivered = pipeline.stats().spans.exported;
    println!(
        "\n✅ {calls} calls: the breaker opened {opened} time(s) and closed {} time(s), the bulkhead rejected {rejected}, {} attempt(s) timed out, {} retries; {delivered} call spans delivered",
        events.count(&Event::Closed),
        events.count(&Event::AttemptTimeout { call: 0, attempt: 0 }),
        retries.retries
    );
    Ok(())
}

/// Polls the health endpoint and records each change of its answer.
async fn watch_health(url: String, events: Arc<Events>, stop: Arc<AtomicBool>) {
    let client = reqwest::Client::new();
    let mut last: Option<(u16, String)> = None;
    loop {
        let done = stop.load(Ordering::Relaxed);
        if let Ok(response) = client.get(&url).send().await {
            let code = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            let status = body["status"].as_str().unwrap_or("?").to_owned();
            let now = (code, status);
            if last.as_ref() != Some(&now) {
                events.record(Event::Health {
                    code: now.0,
                    status: now.1.clone(),
                });
                last = Some(now);
            }
        }
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
