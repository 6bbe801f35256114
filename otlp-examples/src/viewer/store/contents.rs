//! What the store holds: each trace's spans in arrival order, and each metric's series with
//! their points, oldest first; how a span or a metric's points are added.

use std::collections::{BTreeMap, VecDeque};

use otlp_core::proto::metrics::v1::metric::Data;
use serde::Serialize;

use super::Inner;
use crate::viewer::rows::{attributes, Attribute, HistogramPoint, MetricPoint, SpanRow};

/// One trace: its spans in arrival order.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    pub(crate) spans: Vec<SpanRow>,
}

/// One series of a metric: its attributes and its points, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// The series' attributes.
    pub attributes: Vec<Attribute>,
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

impl Inner {
    pub(super) fn add_span(&mut self, row: SpanRow) {
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

    pub(super) fn add_metric(
        &mut self,
        metric: &otlp_core::proto::metrics::v1::Metric,
        service: &str,
    ) {
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
}
