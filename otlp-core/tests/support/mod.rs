//! Generators of SDK telemetry for the encoder tests: spans, log records and metrics.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::SdkLogRecord;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    Aggregation, Instrument, PeriodicReader, SdkMeterProvider, Stream, Temporality,
};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use opentelemetry_sdk::Resource;
use proptest::prelude::*;

pub mod collections;

pub fn attribute() -> impl Strategy<Value = KeyValue> {
    let value = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[ -~]{0,24}".prop_map(Value::from),
        // Long enough that the enclosing messages need two- and three-byte lengths.
        (100usize..20_000).prop_map(|n| Value::from("v".repeat(n))),
        prop::collection::vec(any::<i64>(), 0..4)
            .prop_map(|v| Value::Array(opentelemetry::Array::I64(v))),
        prop::collection::vec(any::<bool>(), 0..3)
            .prop_map(|v| Value::Array(opentelemetry::Array::Bool(v))),
        prop::collection::vec("[a-z]{0,6}", 0..3).prop_map(|v| {
            Value::Array(opentelemetry::Array::String(
                v.into_iter().map(Into::into).collect(),
            ))
        }),
        prop::collection::vec(-1e9f64..1e9, 0..3)
            .prop_map(|v| Value::Array(opentelemetry::Array::F64(v))),
    ];
    ("[a-z][a-z._]{0,15}", value).prop_map(|(k, v)| KeyValue::new(k, v))
}

pub fn attributes(max: usize) -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec(attribute(), 0..max)
}

fn time() -> impl Strategy<Value = SystemTime> {
    (0u64..4_000_000_000_000_000_000).prop_map(|n| SystemTime::UNIX_EPOCH + Duration::from_nanos(n))
}

fn span_context() -> impl Strategy<Value = SpanContext> {
    (any::<u128>(), any::<u64>(), any::<bool>(), any::<bool>()).prop_map(
        |(trace, span, sampled, remote)| {
            let flags = if sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            };
            SpanContext::new(
                TraceId::from(trace.max(1)),
                SpanId::from(span.max(1)),
                flags,
                remote,
                TraceState::default(),
            )
        },
    )
}

fn scope() -> impl Strategy<Value = InstrumentationScope> {
    (0..3usize, prop::option::of("[0-9]\\.[0-9]"), any::<bool>()).prop_map(
        |(i, version, extras)| {
            let mut builder = InstrumentationScope::builder(["gateway", "orders", "payments"][i]);
            if let Some(version) = version {
                builder = builder.with_version(version);
            }
            if extras {
                builder = builder
                    .with_schema_url("https://opentelemetry.io/schemas/1.30.0")
                    .with_attributes([KeyValue::new("scope.attr", 7)]);
            }
            builder.build()
        },
    )
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![
        Just(Status::Unset),
        Just(Status::Ok),
        "[a-z ]{0,20}".prop_map(Status::error),
    ]
}

fn kind() -> impl Strategy<Value = SpanKind> {
    prop_oneof![
        Just(SpanKind::Internal),
        Just(SpanKind::Server),
        Just(SpanKind::Client),
        Just(SpanKind::Producer),
        Just(SpanKind::Consumer),
    ]
}

pub fn span() -> impl Strategy<Value = SpanData> {
    (
        (
            span_context(),
            any::<u64>(),
            any::<bool>(),
            kind(),
            "[a-zA-Z /]{1,30}",
        ),
        (time(), 0u64..10_000_000_000, attributes(8), 0u32..3),
        (
            prop::collection::vec(("[a-z]{1,10}", time(), attributes(3)), 0..3),
            prop::collection::vec((span_context(), attributes(2)), 0..2),
            status(),
            scope(),
        ),
    )
        .prop_map(
            |(
                (context, parent, parent_remote, kind, name),
                (start, duration, attributes, dropped),
                (events, links, status, scope),
            )| SpanData {
                span_context: context,
                parent_span_id: SpanId::from(parent),
                parent_span_is_remote: parent_remote,
                span_kind: kind,
                name: name.into(),
                start_time: start,
                end_time: start + Duration::from_nanos(duration),
                attributes,
                dropped_attributes_count: dropped,
                events: {
                    let mut list = SpanEvents::default();
                    list.events = events
                        .into_iter()
                        .map(|(name, time, attrs)| Event::new(name, time, attrs, 0))
                        .collect();
                    list
                },
                links: {
                    let mut list = SpanLinks::default();
                    list.links = links
                        .into_iter()
                        .map(|(context, attrs)| Link::new(context, attrs, 0))
                        .collect();
                    list
                },
                status,
                instrumentation_scope: scope,
            },
        )
}

pub fn resource() -> impl Strategy<Value = Resource> {
    ("[a-z-]{1,12}", attributes(4), any::<bool>()).prop_map(|(service, attrs, schema)| {
        let builder = Resource::builder_empty()
            .with_service_name(service)
            .with_attributes(attrs);
        if schema {
            builder
                .with_schema_url([], "https://opentelemetry.io/schemas/1.30.0")
                .build()
        } else {
            builder.build()
        }
    })
}

/// The parts of a log record the generator sets.
#[derive(Debug, Clone)]
pub struct LogSpec {
    pub body: String,
    pub severity: u8,
    pub time: SystemTime,
    pub attributes: Vec<KeyValue>,
    pub trace: Option<SpanContext>,
    pub scope: InstrumentationScope,
    pub target: Option<&'static str>,
}

pub fn log_spec() -> impl Strategy<Value = LogSpec> {
    (
        "[ -~]{0,40}",
        1u8..24,
        time(),
        attributes(5),
        prop::option::of(span_context()),
        scope(),
        prop::option::of(prop_oneof![Just("app::handlers"), Just("app::db")]),
    )
        .prop_map(
            |(body, severity, time, attributes, trace, scope, target)| LogSpec {
                body,
                severity,
                time,
                attributes,
                trace,
                scope,
                target,
            },
        )
}

/// Builds SDK log records the way a logger does.
pub fn log_records(specs: &[LogSpec]) -> Vec<(SdkLogRecord, InstrumentationScope)> {
    let provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder().build();
    let logger = provider.logger("generator");
    specs
        .iter()
        .map(|spec| {
            let mut record = logger.create_log_record();
            record.set_body(AnyValue::from(spec.body.clone()));
            record.set_severity_number(severity(spec.severity));
            record.set_timestamp(spec.time);
            record.set_observed_timestamp(spec.time);
            for kv in &spec.attributes {
                record.add_attribute(kv.key.clone(), any_value(&kv.value));
            }
            if let Some(target) = spec.target {
                record.set_target(target);
            }
            if let Some(context) = &spec.trace {
                record.set_trace_context(
                    context.trace_id(),
                    context.span_id(),
                    Some(context.trace_flags()),
                );
            }
            (record, spec.scope.clone())
        })
        .collect()
}

fn any_value(value: &Value) -> AnyValue {
    match value {
        Value::Bool(b) => AnyValue::Boolean(*b),
        Value::I64(i) => AnyValue::Int(*i),
        Value::F64(f) => AnyValue::Double(*f),
        other => AnyValue::String(other.to_string().into()),
    }
}

fn severity(n: u8) -> Severity {
    use Severity::*;
    [
        Trace, Trace2, Trace3, Trace4, Debug, Debug2, Debug3, Debug4, Info, Info2, Info3, Info4,
        Warn, Warn2, Warn3, Warn4, Error, Error2, Error3, Error4, Fatal, Fatal2, Fatal3, Fatal4,
    ][usize::from(n - 1) % 24]
}

/// A push exporter that hands every collection to a callback, on the reader's thread.
pub struct Capture<F>(pub F);

impl<F> std::fmt::Debug for Capture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Capture")
    }
}

impl<F: Fn(&ResourceMetrics) + Send + Sync + 'static> PushMetricExporter for Capture<F> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        (self.0)(metrics);
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// Measurements recorded into every kind of instrument the SDK has.
#[derive(Debug, Clone)]
pub struct MetricSpec {
    pub counts: Vec<(u64, usize)>,
    pub amounts: Vec<f64>,
    pub deltas: Vec<i64>,
    pub gauge: f64,
    pub observed: i64,
}

pub fn metric_spec() -> impl Strategy<Value = MetricSpec> {
    (
        prop::collection::vec((0u64..1000, 0usize..3), 1..20),
        prop::collection::vec(0.0f64..10_000.0, 1..20),
        prop::collection::vec(-100i64..100, 0..10),
        -1e6f64..1e6,
        any::<i64>(),
    )
        .prop_map(|(counts, amounts, deltas, gauge, observed)| MetricSpec {
            counts,
            amounts,
            deltas,
            gauge,
            observed,
        })
}

/// Records `spec` through a meter provider; returns what `inspect` made of each collection.
pub fn with_metrics<R: Send + 'static>(
    spec: &MetricSpec,
    inspect: impl Fn(&ResourceMetrics) -> R + Send + Sync + 'static,
) -> Vec<R> {
    let results = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&results);
    let exporter = Capture(move |metrics: &ResourceMetrics| {
        let result = inspect(metrics);
        sink.lock().expect("lock").push(result);
    });
    let provider = SdkMeterProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name("metrics-test")
                .build(),
        )
        .with_reader(PeriodicReader::builder(exporter).build())
        .with_view(|instrument: &Instrument| {
            (instrument.name() == "latency_exponential").then(|| {
                Stream::builder()
                    .with_aggregation(Aggregation::Base2ExponentialHistogram {
                        max_size: 160,
                        max_scale: 20,
                        record_min_max: true,
                    })
                    .build()
                    .expect("valid stream")
            })
        })
        .build();
    let meter = provider.meter("advanced_metrics");
    let actions = meter.u64_counter("user_actions_total").build();
    let amounts = meter
        .f64_histogram("transaction_amount")
        .with_unit("USD")
        .build();
    let exponential = meter.f64_histogram("latency_exponential").build();
    let sessions = meter.i64_up_down_counter("active_sessions").build();
    let gauge = meter.f64_gauge("cpu_usage").build();
    let observed = spec.observed;
    let _observable = meter
        .i64_observable_gauge("queue_depth")
        .with_callback(move |o| o.observe(observed, &[KeyValue::new("queue", "orders")]))
        .build();
    for (count, action) in &spec.counts {
        actions.add(
            *count,
            &[KeyValue::new("action", ["login", "view", "buy"][*action])],
        );
    }
    for amount in &spec.amounts {
        amounts.record(*amount, &[KeyValue::new("currency", "USD")]);
        exponential.record(*amount, &[]);
    }
    for delta in &spec.deltas {
        sessions.add(*delta, &[]);
    }
    gauge.record(spec.gauge, &[KeyValue::new("host", "a")]);
    provider.force_flush().expect("flush");
    provider.shutdown().expect("shutdown");
    let collected = std::mem::take(&mut *results.lock().expect("lock"));
    assert!(!collected.is_empty(), "the reader exported nothing");
    collected
}
