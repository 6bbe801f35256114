//! The receiver binary with `--json` and `--fault 503:2 --retry-after 1`: a pipeline's span
//! is refused twice (two `refused` lines), retried after the delay the receiver asked for,
//! and then arrives as one JSON line with OTLP/JSON field names, the request's protocol and
//! its headers with the credential redacted; SIGTERM prints the summary line and exits 0.

mod receiver_process;

use std::time::Duration;

use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use otlp_exporters::OtlpPipeline;
use receiver_process::ReceiverProcess;
use serde_json::Value;

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn json_lines_show_the_span_the_refusals_and_the_summary() {
    let mut receiver =
        ReceiverProcess::start(&["--json", "--fault", "503:2", "--retry-after", "1"]);
    let listening = json(&receiver.wait_for_line(|l| l.contains(r#""type":"listening""#)));
    let endpoint = listening["http"]
        .as_str()
        .expect("an HTTP endpoint")
        .to_owned();
    assert_eq!(
        listening["fault"],
        "the next 2 request(s) get HTTP 503 with a retry delay of 1s"
    );

    let pipeline = OtlpPipeline::builder()
        .with_endpoint(endpoint)
        .with_service_name("json-test")
        .with_header("x-api-key", "very-secret")
        .expect("a valid header")
        .build()
        .expect("a pipeline");
    let mut span = pipeline.tracer("test").start("checkout");
    span.set_attribute(KeyValue::new("order.id", 42));
    span.end();
    let report = pipeline.shutdown(Duration::from_secs(15));
    assert!(report.completed, "{report}");
    let stats = pipeline.stats();
    assert_eq!(stats.spans.exported, 1);
    assert_eq!(stats.retry.retries, 2, "two refusals, two retries");

    let span_line = json(&receiver.wait_for_line(|l| l.contains(r#""type":"span""#)));
    assert_eq!(span_line["span"]["name"], "checkout");
    assert_eq!(
        span_line["span"]["traceId"].as_str().map(str::len),
        Some(32),
        "hex trace id: {span_line}"
    );
    assert_eq!(span_line["span"]["attributes"][0]["key"], "order.id");
    assert!(
        span_line["resource"]["attributes"]
            .as_array()
            .is_some_and(|a| {
                a.iter().any(|kv| {
                    kv["key"] == "service.name" && kv["value"]["stringValue"] == "json-test"
                })
            }),
        "{span_line}"
    );
    assert_eq!(span_line["request"]["protocol"], "http");
    assert_eq!(span_line["request"]["encoding"], "protobuf");
    assert_eq!(span_line["request"]["headers"]["x-api-key"], "<redacted>");
    assert!(!span_line.to_string().contains("very-secret"));

    let status = receiver.terminate();
    assert!(status.success(), "SIGTERM ends with 0, not {status:?}");
    let lines: Vec<Value> = receiver.seen.iter().map(|l| json(l)).collect();
    let refused: Vec<&Value> = lines.iter().filter(|l| l["type"] == "refused").collect();
    assert_eq!(refused.len(), 2, "{:?}", receiver.seen);
    for line in &refused {
        assert_eq!(line["httpStatus"], 503);
        assert_eq!(line["signal"], "traces");
        assert_eq!(line["headers"]["x-api-key"], "<redacted>");
    }
    let summary = lines
        .iter()
        .find(|l| l["type"] == "summary")
        .expect("a summary line");
    assert_eq!(summary["stoppedBy"], "SIGTERM");
    assert_eq!(summary["spans"], 1);
    assert_eq!(summary["refusedRequests"]["HTTP 503"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_request_gets_one_line_with_its_status_and_reason() {
    let mut receiver = ReceiverProcess::start(&["--json"]);
    let listening = json(&receiver.wait_for_line(|l| l.contains(r#""type":"listening""#)));
    let endpoint = listening["http"]
        .as_str()
        .expect("an HTTP endpoint")
        .to_owned();
    let client = reqwest::Client::new();
    let answer = client
        .post(format!("{endpoint}/v1/logs"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status(), 415);
    let line = json(&receiver.wait_for_line(|l| l.contains(r#""type":"refused""#)));
    assert_eq!(line["httpStatus"], 415);
    assert_eq!(line["signal"], "logs");
    assert!(
        line["reason"]
            .as_str()
            .is_some_and(|r| r.contains("text/plain")),
        "{line}"
    );
}
