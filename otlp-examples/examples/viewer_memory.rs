//! How much memory the viewer's store takes for 100,000 spans (1,000 traces of 100 spans,
//! each with four attributes and a resource of two), and what listing them costs.
//!
//! `cargo run --release -p otlp-examples --example viewer_memory` prints one table row. The
//! figure is the growth of the resident set (`/proc/self/statm`, Linux) while the spans are
//! added, so it includes the allocator's slack.

use std::time::Instant;

use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_core::proto::common::v1::{any_value::Value, AnyValue, KeyValue};
use otlp_core::proto::resource::v1::Resource;
use otlp_core::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_core::Telemetry;
use otlp_examples::viewer::{Retention, Store};

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn text(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value)),
        }),
        ..KeyValue::default()
    }
}

fn main() {
    const TRACES: u64 = 1_000;
    const SPANS: u64 = 100;
    let store = Store::new(Retention::default());
    let before = resident_bytes().unwrap_or(0);
    let started = Instant::now();
    for t in 0..TRACES {
        let trace_id = (t as u128 + 1).to_be_bytes().to_vec();
        let spans = (0..SPANS)
            .map(|s| Span {
                trace_id: trace_id.clone(),
                span_id: (t * SPANS + s + 1).to_be_bytes().to_vec(),
                parent_span_id: if s == 0 {
                    Vec::new()
                } else {
                    (t * SPANS + 1).to_be_bytes().to_vec()
                },
                name: format!("operation {s}"),
                kind: 2,
                start_time_unix_nano: 1_700_000_000_000_000_000 + s * 1_000,
                end_time_unix_nano: 1_700_000_000_000_000_000 + s * 1_000 + 500_000,
                attributes: vec![
                    text("http.route", format!("/api/items/{s}")),
                    text("http.request.method", "GET".into()),
                    text("net.peer.name", "inventory".into()),
                    text("user.id", format!("user-{t}")),
                ],
                ..Span::default()
            })
            .collect();
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        text("service.name", format!("service-{}", t % 8)),
                        text("deployment.environment", "bench".into()),
                    ],
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        };
        store.add(&Telemetry::Traces(request));
    }
    let added = started.elapsed();
    let after = resident_bytes().unwrap_or(0);
    let stats = store.stats();
    let listed = Instant::now();
    let summaries = store.list_traces(None, None, None, 1_000);
    let list_time = listed.elapsed();
    let growth = after.saturating_sub(before);
    println!("| spans held | resident growth | per span | add 100k spans | list 1,000 traces |");
    println!("|---|---|---|---|---|");
    println!(
        "| {} | {:.1} MiB | {} B | {:.0} ms | {:.1} ms ({} listed) |",
        stats.spans,
        growth as f64 / (1024.0 * 1024.0),
        growth / stats.spans.max(1) as u64,
        added.as_secs_f64() * 1e3,
        list_time.as_secs_f64() * 1e3,
        summaries.len()
    );
}
