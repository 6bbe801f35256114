//! What the viewer keeps of the telemetry the receiver got: traces, log records and metric
// tidy: long-file the store and its eviction share one lock and one set of books
//! points, each bounded by a retention limit, the oldest evicted first and counted.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use otlp_core::proto::metrics::v1::metric::Data;
use otlp_core::Telemetry;
use otlp_transport::receiver::OnReceive;
use parking_lot::Mutex;
use serde::Serialize;

use super::rows::{attributes, service_of, HistogramPoint, LogRow, MetricPoint, SpanRow};
pub use super::trace::{critical_path, TraceSummary};

/// How much the viewer keeps. Past a limit the oldest is evicted first: whole traces (by when
/// their first span arrived), log records, metric points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retention {
    /// Spans kept, over all traces. Default 100,000.
    pub max_spans: usize,
    /// Log records kept. Default 50,000.
    pub max_log_records: usize,
    /// Metric points kept, over all series. Default 100,000.
    pub max_points: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_spans: 100_000,
            max_log_records: 50_000,
            max_points: 100_000,
        }
    }
}

/// What retention has evicted since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Evicted {
    /// Whole traces evicted.
    pub traces: u64,
    /// Spans in them.
    pub spans: u64,
    /// Log records evicted.
    pub log_records: u64,
    /// Metric points evicted.
    pub points: u64,
}

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

/// One trace: its spans in arrival order.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    pub(crate) spans: Vec<SpanRow>,
}

/// One series of a metric: its attributes and its points, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// The series' attributes.
    pub attributes: Vec<super::rows::Attribute>,
    /// The points, oldest first.
    pub points: VecDeque<MetricPoint>,
}

/// One metric: what it is and its series by attributes.
#[derive(Debug, Clone, Serialize)]
pub struct MetricEntry {
    /// The metric's name.
    pub name: String,
    /// `sum`, `gauge`, `histogram`, `exponential_histogram` or `summary`.
    pub kind: &'static str,
    /// The unit, as sent.
    pub unit: String,
    /// The description, as sent.
    pub description: String,
    /// The service that sent it (the first one seen).
    pub service: String,
    /// Series by attributes.
    pub series: BTreeMap<String, Series>,
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

impl Inner {
    fn add_span(&mut self, row: SpanRow) {
        let trace = match self.traces.get_mut(&row.trace_id) {
            Some(trace) => trace,
            None => {
                self.trace_order.push_back(row.trace_id.clone());
                self.traces.entry(row.trace_id.clone()).or_default()
            }
        };
        trace.spans.push(row);
        self.spans += 1;
    }

    fn evict_spans(&mut self, max_spans: usize) {
        while self.spans > max_spans {
            let Some(oldest) = self.trace_order.pop_front() else {
                break;
            };
            if let Some(trace) = self.traces.remove(&oldest) {
                self.spans -= trace.spans.len();
                self.evicted.traces += 1;
                self.evicted.spans += trace.spans.len() as u64;
            }
        }
    }

    fn add_metric(&mut self, metric: &otlp_core::proto::metrics::v1::Metric, service: &str) {
        let kind = match &metric.data {
            Some(Data::Sum(_)) => "sum",
            Some(Data::Gauge(_)) => "gauge",
            Some(Data::Histogram(_)) => "histogram",
            Some(Data::ExponentialHistogram(_)) => "exponential_histogram",
            Some(Data::Summary(_)) => "summary",
            None => return,
        };
        let entry = self
            .metrics
            .entry(metric.name.clone())
            .or_insert_with(|| MetricEntry {
                name: metric.name.clone(),
                kind,
                unit: metric.unit.clone(),
                description: metric.description.clone(),
                service: service.to_owned(),
                series: BTreeMap::new(),
            });
        let mut added = Vec::new();
        let mut push = |attrs: &[otlp_core::proto::common::v1::KeyValue], point: MetricPoint| {
            let attributes = attributes(attrs);
            let key = attributes
                .iter()
                .map(|a| format!("{}={}", a.key, a.value))
                .collect::<Vec<_>>()
                .join(",");
            let series = entry.series.entry(key.clone()).or_insert_with(|| Series {
                attributes,
                points: VecDeque::new(),
            });
            series.points.push_back(point);
            added.push(key);
        };
        match &metric.data {
            Some(Data::Sum(sum)) => {
                for p in &sum.data_points {
                    push(&p.attributes, MetricPoint::number(p));
                }
            }
            Some(Data::Gauge(gauge)) => {
                for p in &gauge.data_points {
                    push(&p.attributes, MetricPoint::number(p));
                }
            }
            Some(Data::Histogram(histogram)) => {
                for p in &histogram.data_points {
                    push(
                        &p.attributes,
                        MetricPoint::Histogram(HistogramPoint::new(p)),
                    );
                }
            }
            Some(Data::ExponentialHistogram(histogram)) => {
                for p in &histogram.data_points {
                    push(
                        &p.attributes,
                        MetricPoint::Summary {
                            time_unix_nano: p.time_unix_nano,
                            count: p.count,
                            sum: p.sum.unwrap_or(0.0),
                        },
                    );
                }
            }
            Some(Data::Summary(summary)) => {
                for p in &summary.data_points {
                    push(
                        &p.attributes,
                        MetricPoint::Summary {
                            time_unix_nano: p.time_unix_nano,
                            count: p.count,
                            sum: p.sum,
                        },
                    );
                }
            }
            None => {}
        }
        self.points += added.len();
        let name = metric.name.clone();
        self.point_order
            .extend(added.into_iter().map(|key| (name.clone(), key)));
    }

    fn evict_points(&mut self, max_points: usize) {
        while self.points > max_points {
            let Some((name, key)) = self.point_order.pop_front() else {
                break;
            };
            self.points -= 1;
            self.evicted.points += 1;
            let Some(metric) = self.metrics.get_mut(&name) else {
                continue;
            };
            if let Some(series) = metric.series.get_mut(&key) {
                series.points.pop_front();
                if series.points.is_empty() {
                    metric.series.remove(&key);
                }
            }
            if metric.series.is_empty() {
                self.metrics.remove(&name);
            }
        }
    }
}
