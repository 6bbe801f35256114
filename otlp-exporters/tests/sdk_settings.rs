//! The SDK settings of the environment as a user notices them: `none` exporters send nothing
//! for their signal, `console` prints instead of sending, the sampler decides what is
//! recorded, span limits reach the receiver, propagators are the configured ones, and the
//! configuration report is logged once and returned by the handle.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use otlp_core::{Signal, Telemetry};
use otlp_exporters::custom::ConsoleExporter;
use otlp_exporters::OtlpPipeline;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

fn pipeline(receiver: &Receiver, vars: &[(&str, &str)]) -> OtlpPipeline {
    let env: HashMap<&str, &str> = vars.iter().copied().collect();
    OtlpPipeline::builder()
        .with_env_from(&env)
        .unwrap()
        .with_endpoint(receiver.http_endpoint())
        .with_metric_export_interval(Duration::from_secs(3600))
        .build()
        .unwrap()
}

/// One span, one log record, one counter increment.
fn record(pipeline: &OtlpPipeline) {
    pipeline.tracer("t").in_span("work", |_| {});
    let logger = pipeline.logger_provider().logger("l");
    let mut log = logger.create_log_record();
    log.set_body("hello".into());
    logger.emit(log);
    pipeline.meter("m").u64_counter("c").build().add(1, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_exporters_send_nothing_for_their_signal() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let pipeline = pipeline(
        &receiver,
        &[
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "None"),
        ],
    );
    record(&pipeline);
    assert!(pipeline.shutdown(Duration::from_secs(10)).completed);
    assert!(
        receiver
            .wait_for_items(Signal::Logs, 1, Duration::from_secs(5))
            .await
    );
    let counts = receiver.counts();
    assert_eq!(
        (counts.spans, counts.data_points, counts.log_records),
        (0, 0, 1)
    );
    assert_eq!(pipeline.stats().spans.offered, 0, "nothing was recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_exporters_print_instead_of_sending() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let pipeline = pipeline(&receiver, &[("OTEL_LOGS_EXPORTER", "console")]);
    record(&pipeline);
    assert!(pipeline.shutdown(Duration::from_secs(10)).completed);
    assert_eq!(receiver.counts().log_records, 0);
    assert_eq!(receiver.counts().spans, 1);
    assert_eq!(
        pipeline.stats().logs.exported,
        1,
        "the console took the record"
    );
}

#[test]
fn console_lines_are_readable() {
    use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
    use otlp_core::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: "GET /orders".into(),
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    start_time_unix_nano: 1_000_000,
                    end_time_unix_nano: 3_500_000,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let lines = ConsoleExporter::lines(&otlp_core::Telemetry::Traces(request));
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with("span ")
            && lines[0].contains("GET /orders")
            && lines[0].contains("trace=01010101010101010101010101010101")
            && lines[0].contains("2500µs"),
        "{}",
        lines[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampler_variables_decide_what_is_recorded() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    for (vars, sampled) in [
        (vec![("OTEL_TRACES_SAMPLER", "always_off")], false),
        (vec![("OTEL_TRACES_SAMPLER", "always_on")], true),
        (
            vec![
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0"),
            ],
            false,
        ),
        (
            vec![("OTEL_TRACES_SAMPLER", "parentbased_always_off")],
            false,
        ),
        (vec![], true),
    ] {
        let pipeline = pipeline(&receiver, &vars);
        let span = pipeline.tracer("t").start("root");
        assert_eq!(span.span_context().is_sampled(), sampled, "{vars:?}");
        drop(span);
        pipeline.shutdown(Duration::from_secs(5));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn span_limits_reach_the_receiver() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let pipeline = pipeline(
        &receiver,
        &[
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "2"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "1"),
        ],
    );
    let mut span = pipeline.tracer("t").start("limited");
    for i in 0..5 {
        span.set_attribute(KeyValue::new(format!("k{i}"), i as i64));
        span.add_event(format!("e{i}"), vec![]);
    }
    span.end();
    assert!(pipeline.shutdown(Duration::from_secs(10)).completed);
    let received = receiver.received();
    let Telemetry::Traces(request) = &received[0].payload else {
        panic!("expected spans");
    };
    let span = &request.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!((span.attributes.len(), span.events.len()), (2, 1));
    assert_eq!(
        (span.dropped_attributes_count, span.dropped_events_count),
        (3, 4)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagators_are_the_configured_ones() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    for (value, traceparent, baggage) in [
        ("", true, true),
        ("baggage", false, true),
        ("tracecontext", true, false),
        ("none", false, false),
    ] {
        let pipeline = pipeline(&receiver, &[("OTEL_PROPAGATORS", value)]);
        let span = pipeline.tracer("t").start("outgoing");
        let cx =
            Context::current_with_span(span).with_baggage(vec![KeyValue::new("tenant", "acme")]);
        let mut headers: HashMap<String, String> = HashMap::new();
        pipeline.propagator().inject_context(&cx, &mut headers);
        assert_eq!(
            headers.contains_key("traceparent"),
            traceparent,
            "{value:?}"
        );
        assert_eq!(headers.contains_key("baggage"), baggage, "{value:?}");
        pipeline.shutdown(Duration::from_secs(5));
    }
}

/// A writer that keeps what the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_report_is_logged_once_and_returned_by_the_handle() {
    let logged = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let logged = logged.clone();
            move || logged.clone()
        })
        .with_ansi(false)
        .finish();
    let env: HashMap<&str, &str> = [
        ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cret"),
        ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
        ("OTEL_SERVICE_NAME", "checkout"),
    ]
    .into_iter()
    .collect();
    let pipeline = tracing::subscriber::with_default(subscriber, || {
        OtlpPipeline::builder()
            .with_env_from(&env)
            .unwrap()
            .with_endpoint("http://127.0.0.1:9")
            .build()
            .unwrap()
    });
    let logged = String::from_utf8(logged.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        logged.matches("configuration in effect").count(),
        1,
        "{logged}"
    );
    assert!(logged.contains("INFO"), "{logged}");
    assert!(!logged.contains("s3cret"), "secrets stay out of the log");
    let report = pipeline.config_report();
    let name = report.get("service.name").unwrap();
    assert_eq!(
        (name.value.as_str(), name.source.to_string().as_str()),
        ("checkout", "environment")
    );
    assert_eq!(
        report.get("traces.endpoint").unwrap().value,
        "http://127.0.0.1:9/v1/traces"
    );
    assert_eq!(
        report.get("traces.endpoint").unwrap().source.to_string(),
        "code"
    );
    assert_eq!(
        report.get("traces.headers").unwrap().value,
        "api-key=<redacted>"
    );
    assert!(report.warnings[0].contains("OTEL_BSP_SCHEDULE_DELAY"));
    assert!(report.to_string().contains("OTEL_BSP_SCHEDULE_DELAY"));
    pipeline.shutdown(Duration::from_secs(1));
}
