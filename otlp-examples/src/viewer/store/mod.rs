//! What the viewer keeps of the telemetry the receiver got: traces, log records and metric
//! points, each bounded by a retention limit, the oldest evicted first and counted. The store
//! and its queries are here; what it holds is in `contents.rs`, its limits and eviction in
//! `retention.rs`; all of it sits behind one lock.

mod contents;
mod retention;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use otlp_core::Telemetry;
use otlp_transport::receiver::OnReceive;
use parking_lot::Mutex;
use serde::Serialize;

use super::rows::{attributes, service_of, LogRow, SpanRow};
pub use super::trace::{critical_path, TraceSummary};
pub(crate) use contents::Trace;
pub use contents::{MetricEntry, Series};
pub use retention::{Evicted, Retention};

/// Totals of what the store holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    /// Grows with every change: a page polls it to know when to refresh.
    pub version: u64,
    /// Traces held.
    pub traces: usize,
    /// Spans held.
    pub spans: usize,
    /// Log records held.
    pub log_records: usize,
    /// Metrics held.
    pub metrics: usize,
    /// Metric points held.
    pub points: usize,
    /// What retention evicted.
    pub evicted: Evicted,
    /// The limits.
    pub retention: Retention,
}

#[derive(Debug, Default)]
struct Inner {
    traces: HashMap<String, Trace>,
    trace_order: VecDeque<String>,
    spans: usize,
    logs: VecDeque<LogRow>,
    metrics: BTreeMap<String, MetricEntry>,
    point_order: VecDeque<(String, String)>,
    points: usize,
    evicted: Evicted,
}

/// The viewer's store. Cheap to clone; clones share the data.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
    version: Arc<AtomicU64>,
    retention: Retention,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(Retention::default())
    }
}

impl Store {
    /// An empty store with these limits.
    pub fn new(retention: Retention) -> Self {
        Store {
            inner: Arc::default(),
            version: Arc::default(),
            retention,
        }
    }

    /// A receiver callback that adds every accepted request to this store.
    pub fn on_receive(&self) -> OnReceive {
        let store = self.clone();
        Arc::new(move |received| store.add(&received.payload))
    }

    /// Adds one decoded request.
    pub fn add(&self, telemetry: &Telemetry) {
        let mut inner = self.inner.lock();
        match telemetry {
            Telemetry::Traces(request) => {
                for resource in &request.resource_spans {
                    let service = service_of(resource.resource.as_ref());
                    let resource_attributes = resource
                        .resource
                        .as_ref()
                        .map(|r| attributes(&r.attributes))
                        .unwrap_or_default();
                    for scope in &resource.scope_spans {
                        let scope_name = scope
                            .scope
                            .as_ref()
                            .map(|s| s.name.clone())
                            .unwrap_or_default();
                        for span in &scope.spans {
                            let row =
                                SpanRow::new(span, &service, &resource_attributes, &scope_name);
                            inner.add_span(row);
                        }
                    }
                }
                inner.evict_spans(self.retention.max_spans);
            }
            Telemetry::Logs(request) => {
                for resource in &request.resource_logs {
                    let service = service_of(resource.resource.as_ref());
                    for scope in &resource.scope_logs {
                        for record in &scope.log_records {
                            inner.logs.push_back(LogRow::new(record, &service));
                        }
                    }
                }
                while inner.logs.len() > self.retention.max_log_records {
                    inner.logs.pop_front();
                    inner.evicted.log_records += 1;
                }
            }
            Telemetry::Metrics(request) => {
                for resource in &request.resource_metrics {
                    let service = service_of(resource.resource.as_ref());
                    for scope in &resource.scope_metrics {
                        for metric in &scope.metrics {
                            inner.add_metric(metric, &service);
                        }
                    }
                }
                inner.evict_points(self.retention.max_points);
            }
        }
        self.version.fetch_add(1, Ordering::Release);
    }

    /// Totals, the version and what was evicted.
    pub fn stats(&self) -> StoreStats {
        let inner = self.inner.lock();
        StoreStats {
            version: self.version.load(Ordering::Acquire),
            traces: inner.traces.len(),
            spans: inner.spans,
            log_records: inner.logs.len(),
            metrics: inner.metrics.len(),
            points: inner.points,
            evicted: inner.evicted,
            retention: self.retention,
        }
    }

    /// Summaries of the traces, newest first: those with a span of `service`, with a span whose
    /// name contains `name` (any case), with or without an error, at most `limit`.
    pub fn list_traces(
        &self,
        service: Option<&str>,
        name: Option<&str>,
        error: Option<bool>,
        limit: usize,
    ) -> Vec<TraceSummary> {
        let name = name.map(str::to_lowercase);
        self.with_traces(|traces| {
            traces
                .filter(|t| service.is_none_or(|s| t.spans.iter().any(|span| span.service == s)))
                .filter(|t| {
                    name.as_ref().is_none_or(|n| {
                        t.spans
                            .iter()
                            .any(|span| span.name.to_lowercase().contains(n))
                    })
                })
                .filter_map(TraceSummary::of)
                .filter(|t| error.is_none_or(|e| t.error == e))
                .take(limit)
                .collect()
        })
    }

    /// Every service with a span held, sorted.
    pub fn services(&self) -> BTreeSet<String> {
        self.with_traces(|traces| {
            traces
                .flat_map(|t| t.spans.iter().map(|s| s.service.clone()))
                .collect()
        })
    }

    /// Runs `f` over every trace, newest first.
    fn with_traces<R>(&self, f: impl FnOnce(&mut dyn Iterator<Item = &Trace>) -> R) -> R {
        let inner = self.inner.lock();
        let mut traces = inner
            .trace_order
            .iter()
            .rev()
            .filter_map(|id| inner.traces.get(id));
        f(&mut traces)
    }

    /// The spans of one trace, sorted by start time.
    pub fn trace(&self, trace_id: &str) -> Option<Vec<SpanRow>> {
        let inner = self.inner.lock();
        let mut spans = inner.traces.get(trace_id)?.spans.clone();
        spans.sort_by_key(|s| (s.start_unix_nano, s.end_unix_nano));
        Some(spans)
    }

    /// Log records that `keep` accepts, newest first, at most `limit`.
    pub fn logs(&self, limit: usize, keep: impl Fn(&LogRow) -> bool) -> Vec<LogRow> {
        let inner = self.inner.lock();
        inner
            .logs
            .iter()
            .rev()
            .filter(|r| keep(r))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Every metric, without its points.
    pub fn metrics(&self) -> Vec<(String, &'static str, String, String, usize, usize)> {
        let inner = self.inner.lock();
        inner
            .metrics
            .values()
            .map(|m| {
                let points = m.series.values().map(|s| s.points.len()).sum();
                (
                    m.name.clone(),
                    m.kind,
                    m.unit.clone(),
                    m.description.clone(),
                    m.series.len(),
                    points,
                )
            })
            .collect()
    }

    /// One metric with its series and points.
    pub fn metric(&self, name: &str) -> Option<MetricEntry> {
        self.inner.lock().metrics.get(name).cloned()
    }
}
