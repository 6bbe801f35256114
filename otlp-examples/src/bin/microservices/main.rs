//! The main demo: an API gateway and user, order, payment and notification services as real
//! HTTP servers on 127.0.0.1, each with its own `service.name` and its own pipeline, calling
//! each other with reqwest and propagating W3C `traceparent` and baggage. The order service
//! runs as two replicas that register with a service registry (one the demo runs on
//! 127.0.0.1 speaking Consul's HTTP API, or the Consul agent of `CONSUL_HTTP_ADDR`); the
//! gateway finds them with the library's `consul://` resolver and balances them with the
//! library's balancer, the one collectors get. Halfway through, one replica stops (still
//! registered): calls to it fail over to the other, and its health probe takes it out of the
//! rotation. Each service fails at the guide's rate (user 10 %, order 5 %, payment 8 %,
//! notification 2 %), which sets its span's status, and logs a record correlated with its
//! span.
//!
//! Telemetry goes to an embedded OTLP receiver, whose traces are printed as waterfalls, or to
//! the collector named by `OTEL_EXPORTER_OTLP_ENDPOINT`.

mod failover;
mod gateway;
mod service;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use opentelemetry::logs::LoggerProvider as _;
use otlp_examples::balanced_http;
use otlp_examples::cli::Args;
use otlp_examples::registry::{self, Registration};
use otlp_examples::target::{deliver, Expect, Target};
use otlp_examples::waterfall;
use otlp_exporters::OtlpPipeline;
use otlp_transport::balance::{
    resolver_for, BalanceStrategy, Balancer, BalancerConfig, DiscoveryConfig,
};

use failover::FailoverWatch;
use gateway::Gateway;
use service::{handle, serve, Service};

const USAGE: &str = "microservices: a traced microservice call chain with service discovery, load
balancing and failover (the guide's section \"🏗️ 微服务架构示例\", microservice architecture)

usage: cargo run -p otlp-examples --bin microservices -- [--quick] [--requests N] [--show N]
                                                          [--collectors URL,URL,... [--balance B]]

  --quick            5 requests, for a smoke test
  --requests N       requests sent to the gateway (default 20)
  --show N           traces printed as waterfalls (default 3)
  --collectors URLs  send to several collectors instead (e.g. three `receiver` demos)
  --balance B        round-robin (default), least-loaded or trace-id

Without OTEL_EXPORTER_OTLP_ENDPOINT, telemetry goes to an embedded OTLP receiver and is shown
at the end; with it (and the other OTEL_EXPORTER_OTLP_* variables), to that collector.

The order-service replicas register with a registry the demo runs on 127.0.0.1 (Consul's HTTP
API); with CONSUL_HTTP_ADDR set they register with that Consul agent instead. The gateway
finds them through consul://order-service. Halfway through, replica 2 stops: the demo fails
(exit 1) unless the gateway failed over to replica 1 without losing an order-service call.";
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
        Router::new()
            .route(path, post(handle))
            .route("/health", get(|| async { StatusCode::OK }))
            .with_state(service)
    };

    // The order service: two replicas that register; the gateway discovers them.
    let (agent, registry_shown) = match std::env::var("CONSUL_HTTP_ADDR") {
        Ok(address) if !address.trim().is_empty() => {
            let agent = DiscoveryConfig::default()
                .with_consul_agent(&address)
                .consul_agent;
            (
                agent.clone(),
                format!("the Consul agent at {agent} (CONSUL_HTTP_ADDR)"),
            )
        }
        _ => {
            let agent = registry::start().await?;
            (
                agent.clone(),
                format!("the demo's registry at {agent} (Consul's HTTP API)"),
            )
        }
    };
    let mut replicas = Vec::new();
    for (id, service) in [("order-service-1", order_a), ("order-service-2", order_b)] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let router = route("/orders", service);
        let task = tokio::spawn(async move { axum::serve(listener, router).await });
        let entry = Registration {
            id: id.to_owned(),
            name: "order-service".to_owned(),
            address: addr.ip().to_string(),
            port: addr.port(),
        };
        registry::register_instance(&agent, &entry).await?;
        println!("   📇 {id} on {addr} registered with {registry_shown}");
        replicas.push((id, format!("http://{addr}"), task));
    }
    let discovery = DiscoveryConfig {
        consul_wait: Duration::from_secs(5),
        ..DiscoveryConfig::default().with_consul_agent(&agent)
    };
    let balancer_config = BalancerConfig {
        strategy: BalanceStrategy::RoundRobin,
        max_failover: 2,
        probe_interval: Duration::from_secs(2),
        probe_timeout: Duration::from_millis(500),
    };
    let resolver = resolver_for(
        "order-service discovery",
        &["consul://order-service".to_owned()],
        "http",
        &discovery,
    )?;
    let orders = Balancer::start(
        balancer_config,
        resolver,
        balanced_http::factory(Duration::from_secs(5)),
    )
    .await;
    println!(
        "   🔎 consul://order-service → {:?}\n",
        orders
            .endpoints()
            .iter()
            .map(|e| &e.url)
            .collect::<Vec<_>>()
    );

    let gateway_pipeline = target
        .pipeline("api-gateway")?
        .with_resource_attribute("service.instance.id", "api-gateway-1")
        .build()?;
    let gateway = Gateway {
        tracer: gateway_pipeline.tracer("api-gateway"),
        logger: gateway_pipeline.logger_provider().logger("api-gateway"),
        client: reqwest::Client::new(),
        user: serve(route("/users/validate", user)).await?,
        orders,
        payment: serve(route("/payments", payment)).await?,
        notification: serve(route("/notifications", notification)).await?,
    };
    pipelines.push(("api-gateway-1".to_owned(), gateway_pipeline));

    let stop_at = requests / 2;
    let (stopped_id, stopped_url, stopped_task) = replicas.remove(1);
    let mut stopped_task = Some(stopped_task);
    let replica_name = |url: &str| {
        if url == stopped_url {
            stopped_id
        } else {
            replicas.first().map_or("?", |r| r.0)
        }
    };
    let mut watch = FailoverWatch::new(&stopped_url);
    let (mut succeeded, mut lost_after_stop) = (0, 0);
    for request in 0..requests {
        if let Some(task) = stopped_task.take_if(|_| request == stop_at) {
            // Stopped, not deregistered: as a crashed replica, it stays in the registry.
            task.abort();
            let _ = task.await;
            println!("  🛑 {stopped_id} stopped (still registered)");
        }
        let (ok, unreachable) = gateway.place_order(request).await;
        succeeded += usize::from(ok);
        if request >= stop_at && unreachable {
            lost_after_stop += 1;
        }
        println!(
            "  order {request:>3}: {}",
            if ok {
                "✅ completed"
            } else if unreachable {
                "❌ no order-service replica reachable"
            } else {
                "❌ a service failed"
            }
        );
        watch.report(&gateway.orders, stopped_id);
    }
    println!("\n  order-service replicas (from the balancer):");
    for endpoint in gateway.orders.endpoints() {
        println!(
            "    {:<16} {:<24} {:>3} calls, {:>2} failed over, {}",
            replica_name(&endpoint.url),
            endpoint.url,
            endpoint.requests,
            endpoint.failed_over,
            if endpoint.available {
                "in rotation"
            } else {
                "out of rotation"
            }
        );
    }
    if std::env::var("CONSUL_HTTP_ADDR").is_ok_and(|a| !a.trim().is_empty()) {
        for (id, _, _) in &replicas {
            registry::deregister_instance(&agent, id).await;
        }
        registry::deregister_instance(&agent, stopped_id).await;
    }
    if stop_at < requests {
        let noticed = watch.failed_over > 0 || watch.left_rotation;
        if !noticed || lost_after_stop > 0 {
            return Err(format!(
                "failover did not happen: {} calls failed over, {} left the rotation: {}, \
                 {lost_after_stop} order-service calls after the stop reached no replica",
                watch.failed_over, stopped_id, watch.left_rotation
            )
            .into());
        }
        println!(
            "  ✅ failover: {stopped_id} stopped after order {}; {} call(s) to it failed over, it {} the rotation, 0 order-service calls lost",
            stop_at.saturating_sub(1),
            watch.failed_over,
            if watch.left_rotation { "left" } else { "has not yet left" }
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
    let broken = traces.iter().filter(|t| t.len() != 9).count();
    if broken > 0 {
        return Err(format!("{broken} traces do not have their 9 spans").into());
    }
    println!(
        "\n✅ {} traces, {} spans: each trace has its 9 spans across 5 services; context and baggage propagated over HTTP",
        traces.len(),
        spans.len()
    );
    Ok(())
}
