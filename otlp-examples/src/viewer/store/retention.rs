//! The store's limits, what they have evicted, and the eviction itself: whole traces by when
//! their first span arrived, metric points oldest first.

use serde::Serialize;

use super::Inner;

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

impl Inner {
    pub(super) fn evict_spans(&mut self, max_spans: usize) {
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

    pub(super) fn evict_points(&mut self, max_points: usize) {
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
