//! Distributed tracing (the guide's second example): a root span fans out to three services
//! over HTTP and to a sub-operation on another task; the context travels across tasks and
//! across HTTP. At the end the demo checks that every span belongs to the trace with the
//! right parent, and says so.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use otlp_examples::cli::Args;
use otlp_examples::target::{deliver, Expect, Target};
use otlp_examples::{propagation, waterfall};

const USAGE: &str = "distributed_tracing: context propagation across tasks and HTTP

usage: cargo run -p otlp-examples --bin distributed_tracing -- [--quick] [--traces N]

  --quick      1 trace
  --traces N   traces to make (default 3)";

const SERVICES: [(&str, &str, u64); 3] = [
    ("inventory-service", "/inventory", 40),
    ("pricing-service", "/prices", 25),
    ("shipping-service", "/shipping/quote", 60),
];

/// A service: a server span under the caller's context, then a sub-operation on another task.
async fn serve(
    tracer: SdkTracer,
    name: &'static str,
    path: &'static str,
    work_ms: u64,
) -> std::io::Result<SocketAddr> {
    let handler = move |headers: HeaderMap| {
        let tracer = tracer.clone();
        async move {
            let parent = propagation::extract(&headers);
            let span = tracer
                .span_builder(format!("GET {path}"))
                .with_kind(SpanKind::Server)
                .start_with_context(&tracer, &parent);
            let cx = parent.with_span(span);
            // The sub-operation runs on a spawned task; the context goes with the future.
            let sub_tracer = tracer.clone();
            let sub = tokio::spawn(
                async move {
                    let span = sub_tracer
                        .start_with_context(format!("{name}.lookup"), &Context::current());
                    let _cx = Context::current().with_span(span);
                    tokio::time::sleep(Duration::from_millis(work_ms)).await;
                }
                .with_context(cx.clone()),
            );
            let _ = sub.await;
            cx.span().end();
            "ok"
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
    let traces = args.number("traces", if args.quick { 1 } else { 3 });
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
    for (name, path, work) in SERVICES {
        let pipeline = target.pipeline(name)?.build()?;
        addrs.push((
            name,
            path,
            serve(pipeline.tracer(name), name, path, work).await?,
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
        let calls = addrs.iter().map(|(name, path, addr)| {
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
                call_cx
                    .span()
                    .set_attribute(KeyValue::new("ok", result.is_ok()));
                call_cx.span().end();
            })
        });
        for call in calls.collect::<Vec<_>>() {
            call.await?;
        }
        cx.span().end();
        println!(
            "  trace {n}: checkout fanned out to {} services",
            addrs.len()
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
        println!("\n✅ {} spans delivered to the collector", traces * 10);
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
    println!("✅ {} traces, each of 10 spans: one root, every other span's parent is in its trace and is the expected one", grouped.len());
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
                    .find(|(n, _, _)| *n == span.service)
                    .map(|(_, p, _)| *p)
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
