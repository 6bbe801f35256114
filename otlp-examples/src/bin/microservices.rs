//! The main demo: an API gateway and user, order, payment and notification services as real
//! HTTP servers on 127.0.0.1, each with its own `service.name` and its own pipeline, calling
//! each other with reqwest and propagating W3C `traceparent` and baggage. The order service
//! runs as two replicas that the gateway balances round robin over a static discovery list.
//! Each service fails at the guide's rate (user 10 %, order 5 %, payment 8 %, notification
//! 2 %), which sets its span's status, and logs a record correlated with its span.
//!
//! Telemetry goes to an embedded OTLP receiver, whose traces are printed as waterfalls, or to
//! the collector named by `OTEL_EXPORTER_OTLP_ENDPOINT`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::logs::SdkLogger;
use opentelemetry_sdk::trace::SdkTracer;
use otlp_examples::cli::Args;
use otlp_examples::propagation;
use otlp_examples::target::{deliver, Expect, Target};
use otlp_examples::waterfall;
use otlp_exporters::OtlpPipeline;

const USAGE: &str = "microservices: a traced microservice call chain (the guide's first example)

usage: cargo run -p otlp-examples --bin microservices -- [--quick] [--requests N] [--show N]
                                                          [--collectors URL,URL,... [--balance B]]

  --quick            5 requests, for a smoke test
  --requests N       requests sent to the gateway (default 20)
  --show N           traces printed as waterfalls (default 3)
  --collectors URLs  send to several collectors instead (e.g. three `receiver` demos)
  --balance B        round-robin (default), least-loaded or trace-id

Without OTEL_EXPORTER_OTLP_ENDPOINT, telemetry goes to an embedded OTLP receiver and is shown
at the end; with it (and the other OTEL_EXPORTER_OTLP_* variables), to that collector.";

/// One downstream service: its telemetry, its latency and how often it fails.
struct Service {
    name: &'static str,
    operation: &'static str,
    latency: Duration,
    failure_rate: f64,
    tracer: SdkTracer,
    logger: SdkLogger,
}

/// Handles one call: a server span under the caller's context, the work, a correlated log.
async fn handle(State(service): State<Arc<Service>>, headers: HeaderMap) -> StatusCode {
    let parent = propagation::extract(&headers);
    let span = service
        .tracer
        .span_builder(format!("{}-{}", service.name, service.operation))
        .with_kind(SpanKind::Server)
        .with_attributes([KeyValue::new("operation", service.operation)])
        .start_with_context(&service.tracer, &parent);
    let cx = parent.with_span(span);
    if let Some(tier) = cx.baggage().get("customer.tier") {
        cx.span()
            .set_attribute(KeyValue::new("customer.tier", tier.to_string()));
    }
    tokio::time::sleep(service.latency).await;
    let failed = fastrand::f64() < service.failure_rate;
    let (status, severity, message) = if failed {
        (
            Status::error(format!("{} failed", service.operation)),
            Severity::Error,
            "operation failed",
        )
    } else {
        (Status::Ok, Severity::Info, "operation succeeded")
    };
    cx.span().set_status(status);
    let span_context = cx.span().span_context().clone();
    let mut record = service.logger.create_log_record();
    record.set_body(format!("{}: {message}", service.operation).into());
    record.set_severity_number(severity);
    record.set_severity_text(if failed { "ERROR" } else { "INFO" });
    record.set_trace_context(
        span_context.trace_id(),
        span_context.span_id(),
        Some(span_context.trace_flags()),
    );
    service.logger.emit(record);
    cx.span().end();
    if failed {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn serve(router: Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            eprintln!("a demo service stopped: {error}");
        }
    });
    Ok(addr)
}

/// The gateway's view of the services it calls.
struct Gateway {
    tracer: SdkTracer,
    logger: SdkLogger,
    client: reqwest::Client,
    user: SocketAddr,
    order_replicas: Vec<SocketAddr>,
    next_order_replica: AtomicUsize,
    payment: SocketAddr,
    notification: SocketAddr,
}

impl Gateway {
    /// Calls one service under a client span, propagating the context; returns success.
    async fn call(&self, cx: &Context, service: &str, addr: SocketAddr, path: &str) -> bool {
        let span = self
            .tracer
            .span_builder(format!("call {service}"))
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("peer.service", service.to_owned()),
                KeyValue::new("server.address", addr.to_string()),
            ])
            .start_with_context(&self.tracer, cx);
        let call_cx = cx.with_span(span);
        let mut headers = reqwest::header::HeaderMap::new();
        propagation::inject(&call_cx, &mut headers);
        let result = self
            .client
            .post(format!("http://{addr}{path}"))
            .headers(headers)
            .send()
            .await;
        let ok = match result {
            Ok(response) => {
                call_cx.span().set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(response.status().as_u16()),
                ));
                response.status().is_success()
            }
            Err(error) => {
                call_cx
                    .span()
                    .set_attribute(KeyValue::new("error.type", error.to_string()));
                false
            }
        };
        if !ok {
            call_cx
                .span()
                .set_status(Status::error(format!("{service} failed")));
        }
        call_cx.span().end();
        ok
    }

    /// One `POST /api/v1/orders`: validate the user, create the order on a replica, take the
    /// payment, send the notification.
    async fn place_order(&self, request: usize) -> bool {
        let span = self
            .tracer
            .span_builder("POST /api/v1/orders")
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", "POST"),
                KeyValue::new("url.path", "/api/v1/orders"),
                KeyValue::new("request.id", request as i64),
            ])
            .start(&self.tracer);
        let cx = Context::new().with_span(span).with_baggage([KeyValue::new(
            "customer.tier",
            if request.is_multiple_of(3) {
                "gold"
            } else {
                "standard"
            },
        )]);
        let replica = self.order_replicas
            [self.next_order_replica.fetch_add(1, Ordering::Relaxed) % self.order_replicas.len()];
        let results = [
            self.call(&cx, "user-service", self.user, "/users/validate")
                .await,
            self.call(&cx, "order-service", replica, "/orders").await,
            self.call(&cx, "payment-service", self.payment, "/payments")
                .await,
            self.call(
                &cx,
                "notification-service",
                self.notification,
                "/notifications",
            )
            .await,
        ];
        let ok = results.iter().all(|r| *r);
        cx.span().set_status(if ok {
            Status::Ok
        } else {
            Status::error("some services failed")
        });
        let span_context = cx.span().span_context().clone();
        let mut record = self.logger.create_log_record();
        record.set_body(
            format!(
                "order request {request}: {}",
                if ok { "completed" } else { "failed" }
            )
            .into(),
        );
        record.set_severity_number(if ok { Severity::Info } else { Severity::Warn });
        record.set_trace_context(
            span_context.trace_id(),
            span_context.span_id(),
            Some(span_context.trace_flags()),
        );
        self.logger.emit(record);
        cx.span().end();
        ok
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["requests", "show", "collectors", "balance"]);
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("microservices: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let requests = args.number("requests", if args.quick { 5 } else { 20 });
    let show = args.number("show", if args.quick { 2 } else { 3 });
    let target = match Target::from_collectors(args.option("collectors"), args.option("balance"))? {
        Some(collectors) => collectors,
        None => Target::from_env().await?,
    };
    println!("🏗️  microservices demo: {requests} orders through 5 services (order-service has 2 replicas)");
    println!("   telemetry → {}\n", target.describe());
    if args.print_config {
        let pipeline = target.pipeline("user-service")?.build()?;
        args.print_config(&pipeline);
        return Ok(());
    }

    let mut pipelines: Vec<(String, OtlpPipeline)> = Vec::new();
    let mut start = |name: &'static str,
                     instance: &str,
                     operation,
                     latency_ms,
                     failure_rate|
     -> Result<Arc<Service>, Box<dyn std::error::Error>> {
        let pipeline = target
            .pipeline(name)?
            .with_resource_attribute("service.instance.id", instance)
            .build()?;
        let service = Arc::new(Service {
            name,
            operation,
            latency: Duration::from_millis(latency_ms),
            failure_rate,
            tracer: pipeline.tracer(name),
            logger: pipeline.logger_provider().logger(name),
        });
        pipelines.push((instance.to_owned(), pipeline));
        Ok(service)
    };
    let user = start("user-service", "user-service-1", "validate", 50, 0.10)?;
    let order_a = start("order-service", "order-service-1", "create", 80, 0.05)?;
    let order_b = start("order-service", "order-service-2", "create", 80, 0.05)?;
    let payment = start("payment-service", "payment-service-1", "process", 120, 0.08)?;
    let notification = start(
        "notification-service",
        "notification-service-1",
        "send",
        30,
        0.02,
    )?;
    let route = |path: &str, service: Arc<Service>| {
        Router::new().route(path, post(handle)).with_state(service)
    };

    let gateway_pipeline = target
        .pipeline("api-gateway")?
        .with_resource_attribute("service.instance.id", "api-gateway-1")
        .build()?;
    let gateway = Gateway {
        tracer: gateway_pipeline.tracer("api-gateway"),
        logger: gateway_pipeline.logger_provider().logger("api-gateway"),
        client: reqwest::Client::new(),
        user: serve(route("/users/validate", user)).await?,
        // The static discovery list of the order service: both replicas, balanced round robin.
        order_replicas: vec![
            serve(route("/orders", order_a)).await?,
            serve(route("/orders", order_b)).await?,
        ],
        next_order_replica: AtomicUsize::new(0),
        payment: serve(route("/payments", payment)).await?,
        notification: serve(route("/notifications", notification)).await?,
    };
    pipelines.push(("api-gateway-1".to_owned(), gateway_pipeline));

    let mut succeeded = 0;
    for request in 0..requests {
        let ok = gateway.place_order(request).await;
        succeeded += usize::from(ok);
        println!(
            "  order {request:>3}: {}",
            if ok {
                "✅ completed"
            } else {
                "❌ a service failed"
            }
        );
    }
    println!("\n{succeeded} of {requests} orders completed; flushing telemetry...");

    let expect = Expect {
        spans: requests * 9,
        log_records: requests * 5,
        ..Expect::default()
    };
    let all: Vec<&OtlpPipeline> = pipelines.iter().map(|(_, pipeline)| pipeline).collect();
    let Some(received) = deliver(&target, &all, expect).await? else {
        // What the collector accepted, as counted, not what was expected.
        let (spans, logs) = all.iter().fold((0, 0), |(spans, logs), pipeline| {
            let stats = pipeline.stats();
            (spans + stats.spans.exported, logs + stats.logs.exported)
        });
        println!("✅ {spans} spans and {logs} log records delivered to the collector");
        return Ok(());
    };
    let Some(receiver) = target.receiver() else {
        return Ok(());
    };
    let spans = waterfall::spans(&received);
    let traces = waterfall::traces(&spans);
    println!(
        "\n📊 {} traces, {} spans, {} log records received\n",
        traces.len(),
        spans.len(),
        receiver.counts().log_records
    );
    for trace in traces.iter().take(show) {
        waterfall::print_trace(trace);
        println!();
    }
    waterfall::print_summary(&spans);
    let mut per_replica = std::collections::BTreeMap::new();
    for span in spans.iter().filter(|s| s.span.name == "call order-service") {
        let address = span
            .span
            .attributes
            .iter()
            .find(|kv| kv.key == "server.address");
        let address = address
            .and_then(|kv| kv.value.as_ref())
            .map(|v| format!("{:?}", v.value));
        *per_replica.entry(address.unwrap_or_default()).or_insert(0) += 1;
    }
    println!(
        "\norder-service calls per replica (round robin): {:?}",
        per_replica.values().collect::<Vec<_>>()
    );
    let broken = traces.iter().filter(|t| t.len() != 9).count();
    if broken > 0 {
        return Err(format!("{broken} traces do not have their 9 spans").into());
    }
    println!("\n✅ every trace has its 9 spans across 5 services; context and baggage propagated over HTTP");
    Ok(())
}
