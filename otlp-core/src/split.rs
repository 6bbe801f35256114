//! Splitting an OTLP request into smaller ones without losing or duplicating an item.
//!
//! Every request type is a tree: resource -> scope -> items (and, for metrics, metric -> data
//! points). [`Items::split_off`] cuts the tree after the first `at` items, copying the resource
//! and scope headers into both halves, so grouping by resource and scope is kept.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, ExponentialHistogram, Gauge, Histogram, Metric, ResourceMetrics, ScopeMetrics,
    Sum, Summary,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

/// A node of an OTLP request tree that holds countable items.
pub trait Items: Sized {
    /// How many items (spans, log records, data points) the node holds.
    fn item_count(&self) -> usize;

    /// Keeps the first `at` items in `self` and returns a node holding the rest.
    ///
    /// `at` must be at most [`Items::item_count`].
    fn split_off(&mut self, at: usize) -> Self;
}

/// Splits a list of nodes after its first `at` items.
fn split_nodes<T: Items>(nodes: &mut Vec<T>, at: usize) -> Vec<T> {
    let mut seen = 0;
    for index in 0..nodes.len() {
        let count = nodes[index].item_count();
        if seen + count > at {
            let inner = at - seen;
            if inner == 0 {
                return nodes.split_off(index);
            }
            let rest_of_node = nodes[index].split_off(inner);
            let mut tail = nodes.split_off(index + 1);
            tail.insert(0, rest_of_node);
            return tail;
        }
        seen += count;
    }
    Vec::new()
}

/// Splits a list of leaf items (spans, log records, data points), each of which counts one.
fn split_leaves<T>(items: &mut Vec<T>, at: usize) -> Vec<T> {
    items.split_off(at.min(items.len()))
}

/// Implements [`Items`] for a node whose `$children` field holds nested nodes or leaves; the
/// header fields are cloned into the second half, the children are moved, never cloned.
macro_rules! tree_node {
    ($node:ty, $children:ident, nodes) => {
        tree_node!(@impl $node, $children, split_nodes,
            |node: &$node| node.$children.iter().map(Items::item_count).sum());
    };
    ($node:ty, $children:ident, leaves) => {
        tree_node!(@impl $node, $children, split_leaves, |node: &$node| node.$children.len());
    };
    (@impl $node:ty, $children:ident, $split:ident, $count:expr) => {
        impl Items for $node {
            fn item_count(&self) -> usize {
                let count: fn(&$node) -> usize = $count;
                count(self)
            }

            fn split_off(&mut self, at: usize) -> Self {
                let tail = $split(&mut self.$children, at);
                let head = std::mem::take(&mut self.$children);
                let mut rest = self.clone();
                self.$children = head;
                rest.$children = tail;
                rest
            }
        }
    };
}

tree_node!(ExportTraceServiceRequest, resource_spans, nodes);
tree_node!(ResourceSpans, scope_spans, nodes);
tree_node!(ScopeSpans, spans, leaves);
tree_node!(ExportLogsServiceRequest, resource_logs, nodes);
tree_node!(ResourceLogs, scope_logs, nodes);
tree_node!(ScopeLogs, log_records, leaves);
tree_node!(ExportMetricsServiceRequest, resource_metrics, nodes);
tree_node!(ResourceMetrics, scope_metrics, nodes);
tree_node!(ScopeMetrics, metrics, nodes);

impl Items for Metric {
    fn item_count(&self) -> usize {
        match &self.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 0,
        }
    }

    fn split_off(&mut self, at: usize) -> Self {
        let data = match &mut self.data {
            Some(Data::Gauge(g)) => Some(Data::Gauge(Gauge {
                data_points: split_leaves(&mut g.data_points, at),
            })),
            Some(Data::Sum(s)) => Some(Data::Sum(Sum {
                data_points: split_leaves(&mut s.data_points, at),
                aggregation_temporality: s.aggregation_temporality,
                is_monotonic: s.is_monotonic,
            })),
            Some(Data::Histogram(h)) => Some(Data::Histogram(Histogram {
                data_points: split_leaves(&mut h.data_points, at),
                aggregation_temporality: h.aggregation_temporality,
            })),
            Some(Data::ExponentialHistogram(h)) => {
                Some(Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: split_leaves(&mut h.data_points, at),
                    aggregation_temporality: h.aggregation_temporality,
                }))
            }
            Some(Data::Summary(s)) => Some(Data::Summary(Summary {
                data_points: split_leaves(&mut s.data_points, at),
            })),
            None => None,
        };
        Metric {
            name: self.name.clone(),
            description: self.description.clone(),
            unit: self.unit.clone(),
            metadata: self.metadata.clone(),
            data,
        }
    }
}
