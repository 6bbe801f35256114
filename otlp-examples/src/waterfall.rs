//! Printing received traces as indented waterfalls, and a per-service summary.

use std::collections::{BTreeMap, HashMap};

use otlp_core::proto::common::v1::any_value::Value;
use otlp_core::proto::trace::v1::{status::StatusCode, Span};
use otlp_core::Telemetry;
use otlp_transport::receiver::Received;

/// A received span and the `service.name` of its resource.
#[derive(Debug, Clone)]
pub struct ServiceSpan {
    /// `service.name`.
    pub service: String,
    /// The span.
    pub span: Span,
}

/// Every span in `received`, with its service.
pub fn spans(received: &[Received]) -> Vec<ServiceSpan> {
    let mut out = Vec::new();
    for request in received {
        let Telemetry::Traces(traces) = &request.payload else {
            continue;
        };
        for resource_spans in &traces.resource_spans {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                .and_then(|kv| kv.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(Value::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "unknown_service".to_owned());
            for scope in &resource_spans.scope_spans {
                for span in &scope.spans {
                    out.push(ServiceSpan {
                        service: service.clone(),
                        span: span.clone(),
                    });
                }
            }
        }
    }
    out
}

fn millis(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

fn failed(span: &Span) -> bool {
    span.status
        .as_ref()
        .is_some_and(|s| s.code == StatusCode::Error as i32)
}

/// Prints one trace as a waterfall: indentation by parent, a bar by time, status and service.
pub fn print_trace(spans: &[&ServiceSpan]) {
    const WIDTH: usize = 40;
    let Some(start) = spans.iter().map(|s| s.span.start_time_unix_nano).min() else {
        return;
    };
    let end = spans
        .iter()
        .map(|s| s.span.end_time_unix_nano)
        .max()
        .unwrap_or(start);
    let total = (end - start).max(1);
    let mut children: HashMap<&[u8], Vec<&ServiceSpan>> = HashMap::new();
    let ids: Vec<&[u8]> = spans.iter().map(|s| s.span.span_id.as_slice()).collect();
    let mut roots = Vec::new();
    for span in spans {
        if ids.contains(&span.span.parent_span_id.as_slice()) {
            children
                .entry(span.span.parent_span_id.as_slice())
                .or_default()
                .push(span);
        } else {
            roots.push(*span);
        }
    }
    for list in children.values_mut() {
        list.sort_by_key(|s| s.span.start_time_unix_nano);
    }
    let trace_id: String = spans[0]
        .span
        .trace_id
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!("trace {trace_id}  ({:.1} ms)", millis(total));
    let mut stack: Vec<(&ServiceSpan, usize)> = roots.into_iter().rev().map(|s| (s, 0)).collect();
    while let Some((span, depth)) = stack.pop() {
        let offset = (span.span.start_time_unix_nano - start) as f64 / total as f64;
        let length =
            (span.span.end_time_unix_nano - span.span.start_time_unix_nano) as f64 / total as f64;
        let left = (offset * WIDTH as f64).round() as usize;
        let bar = ((length * WIDTH as f64).round() as usize).clamp(1, WIDTH - left.min(WIDTH - 1));
        let label = format!("{}{}", "  ".repeat(depth), span.span.name);
        println!(
            "  {label:<42} {:>8.1} ms {} |{}{}{}| {}",
            millis(span.span.end_time_unix_nano - span.span.start_time_unix_nano),
            if failed(&span.span) { "✗" } else { "✓" },
            " ".repeat(left),
            "█".repeat(bar),
            " ".repeat(WIDTH.saturating_sub(left + bar)),
            span.service,
        );
        if let Some(list) = children.get(span.span.span_id.as_slice()) {
            stack.extend(list.iter().rev().map(|s| (*s, depth + 1)));
        }
    }
}

/// Spans grouped by trace, in order of the traces' start.
pub fn traces(spans: &[ServiceSpan]) -> Vec<Vec<&ServiceSpan>> {
    let mut by_trace: BTreeMap<(u64, Vec<u8>), Vec<&ServiceSpan>> = BTreeMap::new();
    let mut starts: HashMap<&[u8], u64> = HashMap::new();
    for span in spans {
        let entry = starts
            .entry(span.span.trace_id.as_slice())
            .or_insert(u64::MAX);
        *entry = (*entry).min(span.span.start_time_unix_nano);
    }
    for span in spans {
        let start = starts[span.span.trace_id.as_slice()];
        by_trace
            .entry((start, span.span.trace_id.clone()))
            .or_default()
            .push(span);
    }
    by_trace.into_values().collect()
}

/// Prints spans, errors and latency per service.
pub fn print_summary(spans: &[ServiceSpan]) {
    let mut by_service: BTreeMap<&str, Vec<&ServiceSpan>> = BTreeMap::new();
    for span in spans {
        by_service.entry(&span.service).or_default().push(span);
    }
    println!(
        "{:<24} {:>6} {:>7} {:>10} {:>10} {:>10}",
        "service", "spans", "errors", "avg ms", "p95 ms", "max ms"
    );
    for (service, list) in by_service {
        let mut durations: Vec<f64> = list
            .iter()
            .map(|s| millis(s.span.end_time_unix_nano - s.span.start_time_unix_nano))
            .collect();
        durations.sort_by(f64::total_cmp);
        let errors = list.iter().filter(|s| failed(&s.span)).count();
        let average = durations.iter().sum::<f64>() / durations.len().max(1) as f64;
        let p95 = durations
            [((durations.len() as f64 * 0.95).ceil() as usize).clamp(1, durations.len()) - 1];
        let max = durations.last().copied().unwrap_or(0.0);
        println!(
            "{service:<24} {:>6} {errors:>7} {average:>10.1} {p95:>10.1} {max:>10.1}",
            list.len()
        );
    }
}
