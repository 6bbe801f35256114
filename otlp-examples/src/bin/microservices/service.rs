//! The downstream services of the microservices demo: one handler per service (a server span
//! under the caller's context, the guide's latency and failure rate, a correlated log), served
//! on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::logs::{LogRecord as _, Logger as _, Severity};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::logs::SdkLogger;
use opentelemetry_sdk::trace::SdkTracer;
use otlp_examples::propagation;

/// One downstream service: its telemetry, its latency and how often it fails.
pub(crate) struct Service {
    pub(crate) name: &'static str,
    pub(crate) operation: &'static str,
    pub(crate) latency: Duration,
    pub(crate) failure_rate: f64,
    pub(crate) tracer: SdkTracer,
    pub(crate) logger: SdkLogger,
}

/// Handles one call: a server span under the caller's context, the work, a correlated log.
pub(crate) async fn handle(State(service): State<Arc<Service>>, headers: HeaderMap) -> StatusCode {
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

pub(crate) async fn serve(router: Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            eprintln!("a demo service stopped: {error}");
        }
    });
    Ok(addr)
}
