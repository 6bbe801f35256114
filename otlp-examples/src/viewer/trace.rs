//! What the viewer says about one trace: its summary for the list, and its critical path.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::rows::{SpanRow, StatusCode};
use super::store::Trace;

/// A trace's one-line description for the list.
#[derive(Debug, Clone, Serialize)]
pub struct TraceSummary {
    /// The trace id, hex.
    pub trace_id: String,
    /// The root span's name (the earliest span without a parent in the trace).
    pub root_name: String,
    /// The root span's service.
    pub root_service: String,
    /// Every service with a span in the trace, sorted.
    pub services: Vec<String>,
    /// Spans held.
    pub span_count: usize,
    /// The earliest start, Unix nanoseconds.
    pub start_unix_nano: u64,
    /// From the earliest start to the latest end, nanoseconds.
    pub duration_nano: u64,
    /// Whether any span has an error status.
    pub error: bool,
}

impl TraceSummary {
    pub(crate) fn of(trace: &Trace) -> Option<TraceSummary> {
        let first = trace.spans.first()?;
        let ids: BTreeSet<&str> = trace.spans.iter().map(|s| s.span_id.as_str()).collect();
        let root = trace
            .spans
            .iter()
            .filter(|s| s.parent_span_id.as_deref().is_none_or(|p| !ids.contains(p)))
            .min_by_key(|s| s.start_unix_nano)
            .unwrap_or(first);
        let start = trace.spans.iter().map(|s| s.start_unix_nano).min()?;
        let end = trace.spans.iter().map(|s| s.end_unix_nano).max()?;
        let services: BTreeSet<&str> = trace.spans.iter().map(|s| s.service.as_str()).collect();
        Some(TraceSummary {
            trace_id: first.trace_id.clone(),
            root_name: root.name.clone(),
            root_service: root.service.clone(),
            services: services.into_iter().map(str::to_owned).collect(),
            span_count: trace.spans.len(),
            start_unix_nano: start,
            duration_nano: end.saturating_sub(start),
            error: trace
                .spans
                .iter()
                .any(|s| s.status_code == StatusCode::Error),
        })
    }
}

/// The ids of the spans on the critical path: from the root, each step goes to the child that
/// ended last, the one the parent waited for.
pub fn critical_path(spans: &[SpanRow]) -> Vec<String> {
    let ids: BTreeSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut children: HashMap<&str, Vec<&SpanRow>> = HashMap::new();
    let mut roots = Vec::new();
    for span in spans {
        match span.parent_span_id.as_deref() {
            Some(parent) if ids.contains(parent) => children.entry(parent).or_default().push(span),
            _ => roots.push(span),
        }
    }
    let Some(mut current) = roots.into_iter().max_by_key(|s| {
        (
            s.end_unix_nano.saturating_sub(s.start_unix_nano),
            std::cmp::Reverse(s.start_unix_nano),
        )
    }) else {
        return Vec::new();
    };
    let mut path = vec![current.span_id.clone()];
    while let Some(next) = children
        .get(current.span_id.as_str())
        .and_then(|c| c.iter().max_by_key(|s| s.end_unix_nano))
    {
        if path.len() > spans.len() {
            break;
        }
        path.push(next.span_id.clone());
        current = next;
    }
    path
}
