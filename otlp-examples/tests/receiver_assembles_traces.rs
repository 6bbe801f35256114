//! The receiver binary puts a trace together across requests and services: a frontend and a
//! checkout service export their spans of one trace in two requests, and the receiver prints
//! that trace once, as one waterfall with both services, after it went quiet.

mod receiver_process;

use std::time::Duration;

use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _};
use opentelemetry::Context;
use otlp_exporters::OtlpPipeline;
use receiver_process::ReceiverProcess;

fn pipeline(endpoint: &str, service: &str) -> OtlpPipeline {
    OtlpPipeline::builder()
        .with_endpoint(endpoint)
        .with_service_name(service)
        .build()
        .expect("a pipeline")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trace_from_two_requests_and_two_services_is_printed_once_whole() {
    let mut receiver = ReceiverProcess::start(&["--trace-quiet", "1500"]);
    let banner = receiver.wait_for_line(|l| l.contains("OTLP receiver"));
    // 📡 OTLP receiver: gRPC http://127.0.0.1:X · HTTP http://127.0.0.1:Y
    let endpoint = banner
        .rsplit("HTTP ")
        .next()
        .map(|e| e.trim().to_owned())
        .expect("the HTTP endpoint in the banner");

    let frontend = pipeline(&endpoint, "frontend");
    let checkout = pipeline(&endpoint, "checkout");
    let root = frontend.tracer("frontend").start("GET /checkout");
    let trace_id = root.span_context().trace_id().to_string();
    let parent = Context::new().with_remote_span_context(root.span_context().clone());
    checkout
        .tracer("checkout")
        .start_with_context("charge card", &parent)
        .end();
    let mut root = root;
    root.end();
    // Two pipelines: two requests, one per service, the second 400 ms after the first (the
    // receiver looks for quiet traces every 100 ms; this one must wait for the 1.5 s).
    assert!(checkout.shutdown(Duration::from_secs(5)).completed);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(frontend.shutdown(Duration::from_secs(5)).completed);

    let header = receiver.wait_for_line(|l| l.starts_with("── trace of"));
    assert_eq!(
        header,
        "── trace of 2 span(s) from 2 request(s), services: checkout, frontend"
    );
    let title = receiver.wait_for_line(|l| l.starts_with("trace "));
    assert!(title.contains(&trace_id), "{title}");
    let root_line = receiver.wait_for_line(|l| l.contains("GET /checkout"));
    assert!(root_line.trim_end().ends_with("frontend"), "{root_line}");
    let child_line = receiver.wait_for_line(|l| l.contains("charge card"));
    assert!(child_line.trim_end().ends_with("checkout"), "{child_line}");
    assert!(
        child_line.find("charge card") > root_line.find("GET /checkout"),
        "the child is indented under its parent:\n{root_line}\n{child_line}"
    );

    assert!(receiver.terminate().success());
    let traces = receiver
        .seen
        .iter()
        .filter(|l| l.starts_with("── trace of"))
        .count();
    assert_eq!(
        traces,
        1,
        "one trace, printed once:\n{}",
        receiver.seen.join("\n")
    );
    assert!(receiver
        .seen
        .iter()
        .any(|l| l.starts_with("spans: 2 in 1 trace(s)")));
}
