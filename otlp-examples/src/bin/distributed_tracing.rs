//! Distributed tracing (the guide's section "🔗 分布式追踪示例"): a root span fans out to three
//! services over HTTP and to a sub-operation on another task; the context travels across tasks
//! and across HTTP. The services fail at the guide's rates (the inventory service when its
//! sub-operation fails, 15 %; pricing 10 %; shipping 5 %), set their spans' error status, and
//! answer 500; the caller's span and the root take the error status too, so a failure shows in
//! the waterfall all the way up. At the end the demo checks every span's trace and parent, and
//! that every error status sits where the failure and its propagation put it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use opentelemetry::context::FutureExt as _;
use std::sync::Arc;

use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use otlp_examples::cli::Args;
use otlp_examples::target::{deliver, Expect, Target};
use otlp_examples::{propagation, waterfall};

const USAGE: &str = "distributed_tracing: context propagation across tasks and HTTP, with errors
propagated to the root (the guide's section \"🔗 分布式追踪示例\", distributed tracing)

usage: cargo run -p otlp-examples --bin distributed_tracing -- [--quick] [--traces N] [--seed N]

  --quick      4 traces
  --traces N   traces to make (default 8)
  --seed N     seed of the services' failures (default 7; the same seed, the same failures)

Failure rates as in the guide: the inventory service's sub-operation 15 % (the service fails
with it), pricing 10 %, shipping 5 %.";

/// Name, path, work in ms, the service's own failure rate, its sub-operation's failure rate.
const SERVICES: [(&str, &str, u64, f64, f64); 3] = [
    ("inventory-service", "/inventory", 40, 0.0, 0.15),
    ("pricing-service", "/prices", 25, 0.10, 0.0),
    ("shipping-service", "/shipping/quote", 60, 0.05, 0.0),
];

/// A service's own random numbers: its requests come one trace after the other, so a seed
/// gives the same failures every run.
type Dice = Arc<parking_lot::Mutex<fastrand::Rng>>;

/// A service: a server span under the caller's context, then a sub-operation on another task.
async fn serve(
    tracer: SdkTracer,
    (name, path, work_ms, failure_rate, sub_failure_rate): (
        &'static str,
        &'static str,
        u64,
        f64,
        f64,
    ),
    dice: Dice,
) -> std::io::Result<SocketAddr> {
    let handler = move |headers: HeaderMap| {
        let (tracer, dice) = (tracer.clone(), Arc::clone(&dice));
        async move {
            let parent = propagation::extract(&headers);
            let span = tracer
                .span_builder(format!("GET {path}"))
                .with_kind(SpanKind::Server)
                .start_with_context(&tracer, &parent);
            let cx = parent.with_span(span);
            // The sub-operation runs on a spawned task; the context goes with the future.
            let sub_tracer = tracer.clone();
            let sub_failed = dice.lock().f64() < sub_failure_rate;
            let sub = tokio::spawn(
                async move {
                    let span = sub_tracer
                        .start_with_context(format!("{name}.lookup"), &Context::current());
                    let cx = Context::current().with_span(span);
                    tokio::time::sleep(Duration::from_millis(work_ms)).await;
                    cx.span().set_status(if sub_failed {
                        Status::error("Sub operation failed")
                    } else {
                        Status::Ok
                    });
                    cx.span().end();
                }
                .with_context(cx.clone()),
            );
            let _ = sub.await;
            let failed = sub_failed || dice.lock().f64() < failure_rate;
            cx.span().set_status(if failed {
                Status::error(format!("{name} operation failed"))
            } else {
                Status::Ok
            });
            cx.span().end();
            if failed {
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "failed")
            } else {
                (axum::http::StatusCode::OK, "ok")
            }
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(
        async move { axum::serve(listener, Router::new().route(path, get(handler))).await },
    );
    Ok(addr)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["traces"]);
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("distributed_tracing: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let traces = args.number("traces", if args.quick { 4 } else { 8 });
    let seed = args.number("seed", 7) as u64;
    let target = Target::from_env().await?;
    println!(
        "🔗 distributed tracing: {traces} checkout trace(s) across 3 services\n   telemetry → {}\n",
        target.describe()
    );

    let frontend = target.pipeline("frontend")?.build()?;
    if args.print_config(&frontend) {
        return Ok(());
    }
    let mut pipelines = vec![];
    let mut addrs = vec![];
    for (index, service) in SERVICES.into_iter().enumerate() {
        let (name, path) = (service.0, service.1);
        let pipeline = target.pipeline(name)?.build()?;
        let dice: Dice = Arc::new(parking_lot::Mutex::new(fastrand::Rng::with_seed(
            seed.wrapping_add(index as u64),
        )));
        addrs.push((
            name,
            path,
            serve(pipeline.tracer(name), service, dice).await?,
        ));
        pipelines.push(pipeline);
    }

    let tracer = frontend.tracer("frontend");
    let client = reqwest::Client::new();
    for n in 0..traces {
        let root = tracer
            .span_builder("checkout")
            .with_kind(SpanKind::Server)
            .with_attributes([KeyValue::new("checkout.id", n as i64)])
            .start(&tracer);
        let cx = Context::new().with_span(root);
        // Fan out: the three calls run concurrently, each on its own task.
        let calls = addrs.iter().map(|&(name, path, addr)| {
            let span = tracer
                .span_builder(format!("call {name}"))
                .with_kind(SpanKind::Client)
                .start_with_context(&tracer, &cx);
            let call_cx = cx.with_span(span);
            let client = client.clone();
            let url = format!("http://{addr}{path}");
            tokio::spawn(async move {
                let mut headers = reqwest::header::HeaderMap::new();
                propagation::inject(&call_cx, &mut headers);
                let result = client.get(url).headers(headers).send().await;
                let ok = match &result {
                    Ok(response) => {
                        let code = response.status().as_u16();
                        call_cx.span().set_attribute(KeyValue::new(
                            "http.response.status_code",
                            i64::from(code),
                        ));
                        response.status().is_success()
                    }
                    Err(_) => false,
                };
                call_cx.span().set_status(if ok {
                    Status::Ok
                } else {
                    Status::error(format!("{name} failed"))
                });
                call_cx.span().end();
                (name, ok)
            })
        });
        let mut outcomes = Vec::new();
        for call in calls.collect::<Vec<_>>() {
            outcomes.push(call.await?);
        }
        let all_ok = outcomes.iter().all(|(_, ok)| *ok);
        cx.span().set_status(if all_ok {
            Status::Ok
        } else {
            Status::error("Some distributed operations failed")
        });
        cx.span().end();
        let shown: Vec<String> = outcomes
            .iter()
            .map(|(name, ok)| format!("{name} {}", if *ok { "✅" } else { "❌" }))
            .collect();
        println!(
            "  trace {n}: checkout → {} → {}",
            shown.join(", "),
            if all_ok { "OK" } else { "ERROR" }
        );
    }

    // Per trace: root, 3 client spans, 3 server spans, 3 sub-operations.
    let mut all = vec![&frontend];
    all.extend(pipelines.iter());
    let expect = Expect {
        spans: traces * 10,
        ..Expect::default()
    };
    let Some(received) = deliver(&target, &all, expect).await? else {
        // What the collector accepted, as counted by the pipelines.
        let exported: u64 = all.iter().map(|p| p.stats().spans.exported).sum();
        println!("\n✅ {exported} spans delivered to the collector");
        return Ok(());
    };
    let spans = waterfall::spans(&received);
    let grouped = waterfall::traces(&spans);
    println!();
    for trace in &grouped {
        waterfall::print_trace(trace);
        println!();
    }
    check(&grouped, traces)?;
    let (failed_traces, failed_spans) = check_errors(&grouped)?;
    println!("✅ {} traces, each of 10 spans: one root, every other span's parent is in its trace and is the expected one", grouped.len());
    if failed_traces == 0 {
        println!("   (no service failed in this run; another --seed gives other failures)");
    }
    println!("✅ {failed_traces} of {} traces failed: {failed_spans} spans with an error status, each failure propagated from the service to its caller's span and the root", grouped.len());
    Ok(())
}

/// Every span is in a trace of exactly 10 and has the parent its name says it should have.
fn check(traces: &[Vec<&waterfall::ServiceSpan>], expected: usize) -> Result<(), String> {
    if traces.len() != expected {
        return Err(format!(
            "expected {expected} traces, found {}",
            traces.len()
        ));
    }
    for trace in traces {
        let by_id = |id: &[u8]| {
            trace
                .iter()
                .find(|s| s.span.span_id == id)
                .map(|s| s.span.name.clone())
        };
        let roots: Vec<_> = trace
            .iter()
            .filter(|s| s.span.parent_span_id.is_empty())
            .collect();
        if trace.len() != 10 || roots.len() != 1 || roots[0].span.name != "checkout" {
            return Err(format!(
                "a trace has {} spans and {} roots",
                trace.len(),
                roots.len()
            ));
        }
        for span in trace.iter().filter(|s| !s.span.parent_span_id.is_empty()) {
            let parent = by_id(&span.span.parent_span_id)
                .ok_or_else(|| format!("{}: parent not in the trace", span.span.name))?;
            let expected_parent = if span.span.name.starts_with("call ") {
                "checkout".to_owned()
            } else if span.span.name.starts_with("GET ") {
                format!("call {}", span.service)
            } else {
                let path = SERVICES
                    .iter()
                    .find(|service| service.0 == span.service)
                    .map(|service| service.1)
                    .unwrap_or("");
                format!("GET {path}")
            };
            if parent != expected_parent {
                return Err(format!(
                    "{}'s parent is {parent}, expected {expected_parent}",
                    span.span.name
                ));
            }
        }
    }
    Ok(())
}

/// Error statuses where the failures put them: a lookup's error fails its service; a
/// service's error fails the caller's span; any failed call fails the root. Returns the failed
/// traces and the spans with an error status.
fn check_errors(traces: &[Vec<&waterfall::ServiceSpan>]) -> Result<(usize, usize), String> {
    let failed = |span: &waterfall::ServiceSpan| {
        span.span.status.as_ref().is_some_and(|s| {
            s.code == otlp_core::proto::trace::v1::status::StatusCode::Error as i32
        })
    };
    let (mut failed_traces, mut failed_spans) = (0, 0);
    for trace in traces {
        let children = |parent: &[u8]| -> Vec<&waterfall::ServiceSpan> {
            trace
                .iter()
                .copied()
                .filter(|s| s.span.parent_span_id == parent)
                .collect()
        };
        failed_spans += trace.iter().filter(|s| failed(s)).count();
        let Some(root) = trace.iter().find(|s| s.span.parent_span_id.is_empty()) else {
            continue;
        };
        let calls = children(&root.span.span_id);
        let any_call_failed = calls.iter().any(|c| failed(c));
        if failed(root) != any_call_failed {
            return Err(format!(
                "the root's status (failed: {}) does not follow its calls (one failed: {any_call_failed})",
                failed(root)
            ));
        }
        failed_traces += usize::from(any_call_failed);
        for call in calls {
            for server in children(&call.span.span_id) {
                if failed(call) != failed(server) {
                    return Err(format!(
                        "{} and {} disagree about failing",
                        call.span.name, server.span.name
                    ));
                }
                for lookup in children(&server.span.span_id) {
                    if failed(lookup) && !failed(server) {
                        return Err(format!(
                            "{} failed but {} did not",
                            lookup.span.name, server.span.name
                        ));
                    }
                }
            }
        }
    }
    Ok((failed_traces, failed_spans))
}
