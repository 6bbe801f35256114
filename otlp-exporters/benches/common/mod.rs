//! The span every benchmark uses: 8 attributes and 2 events, as the performance issue sets it.
#![allow(dead_code)]

pub mod counting;
pub mod cpu;

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Event, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use opentelemetry_sdk::Resource;

pub fn attributes() -> Vec<KeyValue> {
    vec![
        KeyValue::new("http.request.method", "POST"),
        KeyValue::new("url.path", "/api/v1/orders"),
        KeyValue::new("http.response.status_code", 200),
        KeyValue::new("server.address", "orders.internal"),
        KeyValue::new("server.port", 8080),
        KeyValue::new("user.id", "user-4711"),
        KeyValue::new("order.amount", 99.99),
        KeyValue::new("retry", false),
    ]
}

pub fn span(i: u64) -> SpanData {
    let start = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_000 + i * 1000);
    let mut events = SpanEvents::default();
    events.events.push(Event::new(
        "cache.miss",
        start,
        vec![KeyValue::new("key", "order-17")],
        0,
    ));
    events.events.push(Event::new(
        "db.query",
        start,
        vec![KeyValue::new("rows", 3)],
        0,
    ));
    SpanData {
        span_context: SpanContext::new(
            TraceId::from(u128::from(i) + 1),
            SpanId::from(i + 1),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::from(i + 7),
        parent_span_is_remote: false,
        span_kind: SpanKind::Server,
        name: "POST /api/v1/orders".into(),
        start_time: start,
        end_time: start + Duration::from_millis(12),
        attributes: attributes(),
        dropped_attributes_count: 0,
        events,
        links: SpanLinks::default(),
        status: Status::Ok,
        instrumentation_scope: InstrumentationScope::builder("orders")
            .with_version("1.0")
            .build(),
    }
}

pub fn spans(n: usize) -> Vec<SpanData> {
    (0..n as u64).map(span).collect()
}

pub fn resource() -> Resource {
    Resource::builder_empty()
        .with_service_name("bench")
        .with_attributes([
            KeyValue::new("service.version", "1.0.0"),
            KeyValue::new("host.name", "bench-host"),
        ])
        .build()
}
