//! The direct encoder for metrics: the SDK's `ResourceMetrics` straight to the protobuf bytes
//! of an `ExportMetricsServiceRequest`, on the same one-pass writer as spans and logs.
//!
//! The output is byte for byte what the reference transform and prost write (property tests
//! compare the bytes): scopes, metrics and points in the SDK's order, each message's fields
//! in field-number order.

use bytes::{Bytes, BytesMut};
use opentelemetry_sdk::metrics::data::{
    AggregatedMetrics, ExponentialHistogram, Gauge, Histogram, Metric, MetricData, ResourceMetrics,
    Sum,
};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::Resource;

use super::metric_points::{ExponentialPointMsg, HistogramPointMsg, Number, NumberPointMsg};
use super::request_writer::RequestWriter;
use super::values::{ResourceMsg, ScopeMsg};
use super::wire::{Encode, Wire, VARINT};

/// `AggregationTemporality`: DELTA is 1, CUMULATIVE 2 (what the reference sends for any other).
fn temporality(temporality: Temporality) -> u64 {
    match temporality {
        Temporality::Delta => 1,
        _ => 2,
    }
}

struct MetricMsg<'a>(&'a Metric);

impl Encode for MetricMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let metric = self.0;
        w.optional_bytes(1, metric.name().as_bytes());
        w.optional_bytes(2, metric.description().as_bytes());
        w.optional_bytes(3, metric.unit().as_bytes());
        match metric.data() {
            AggregatedMetrics::F64(data) => metric_data(w, data),
            AggregatedMetrics::U64(data) => metric_data(w, data),
            AggregatedMetrics::I64(data) => metric_data(w, data),
        }
        // metadata (12) is never set by the SDK.
    }
}

fn metric_data<W: Wire, T: Number>(w: &mut W, data: &MetricData<T>) {
    match data {
        MetricData::Gauge(gauge) => w.large_message(5, &GaugeMsg(gauge)),
        MetricData::Sum(sum) => w.large_message(7, &SumMsg(sum)),
        MetricData::Histogram(histogram) => w.large_message(9, &HistogramMsg(histogram)),
        MetricData::ExponentialHistogram(histogram) => {
            w.large_message(10, &ExponentialHistogramMsg(histogram))
        }
    }
}

struct GaugeMsg<'a, T>(&'a Gauge<T>);

impl<T: Number> Encode for GaugeMsg<'_, T> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let gauge = self.0;
        let times = (gauge.start_time(), gauge.time());
        for point in gauge.data_points() {
            w.message(1, &NumberPointMsg { point, times });
        }
    }
}

struct SumMsg<'a, T>(&'a Sum<T>);

impl<T: Number> Encode for SumMsg<'_, T> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let sum = self.0;
        let times = (Some(sum.start_time()), sum.time());
        for point in sum.data_points() {
            w.message(1, &NumberPointMsg { point, times });
        }
        w.optional_varint(2, temporality(sum.temporality()));
        if sum.is_monotonic() {
            w.key(3, VARINT);
            w.varint(1);
        }
    }
}

struct HistogramMsg<'a, T>(&'a Histogram<T>);

impl<T: Number> Encode for HistogramMsg<'_, T> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let histogram = self.0;
        let times = (histogram.start_time(), histogram.time());
        for point in histogram.data_points() {
            w.large_message(1, &HistogramPointMsg { point, times });
        }
        w.optional_varint(2, temporality(histogram.temporality()));
    }
}

struct ExponentialHistogramMsg<'a, T>(&'a ExponentialHistogram<T>);

impl<T: Number> Encode for ExponentialHistogramMsg<'_, T> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let histogram = self.0;
        let times = (histogram.start_time(), histogram.time());
        for point in histogram.data_points() {
            w.large_message(1, &ExponentialPointMsg { point, times });
        }
        w.optional_varint(2, temporality(histogram.temporality()));
    }
}

/// A `ResourceMetrics` with its resource and no scopes (a collection with nothing in it).
struct ResourceOnly<'a>(&'a Resource);

impl Encode for ResourceOnly<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        w.message(1, &ResourceMsg(self.0));
        w.optional_bytes(3, self.0.schema_url().unwrap_or_default().as_bytes());
    }
}

/// Encodes metric collections straight to protobuf, in one pass over the metrics, reusing its
/// buffer from collection to collection.
#[derive(Debug, Default)]
pub struct MetricEncoder {
    writer: RequestWriter,
}

impl MetricEncoder {
    /// An encoder with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `ExportMetricsServiceRequest` of one collection: the same bytes as the reference
    /// transform's message encoded by prost.
    pub fn encode(&mut self, metrics: &ResourceMetrics) -> Bytes {
        let groups: Vec<(ScopeMsg<'_>, &str, Vec<&Metric>)> = metrics
            .scope_metrics()
            .map(|scope| {
                (
                    ScopeMsg(scope.scope()),
                    scope.scope().schema_url().unwrap_or_default(),
                    scope.metrics().collect(),
                )
            })
            .collect();
        if groups.is_empty() {
            let mut buffer = BytesMut::new();
            buffer.message(1, &ResourceOnly(metrics.resource()));
            return buffer.freeze();
        }
        let count = groups.iter().map(|(_, _, metrics)| metrics.len()).sum();
        self.writer
            .write(metrics.resource(), &groups, count, |metric, buffer| {
                MetricMsg(metric).encode(buffer)
            })
    }
}
