//! OTLP data points written straight from the SDK's aggregated metrics: number points (gauges
//! and sums), histogram and exponential histogram points, and their exemplars.
//!
//! Fields go out in field-number order, a oneof where its lowest number is, zero scalars left
//! out: the order and the rules prost follows, so the bytes are the reference's bytes.

use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{
    Exemplar, ExponentialBucket, ExponentialHistogramDataPoint, GaugeDataPoint, HistogramDataPoint,
    SumDataPoint,
};

use super::values::attributes;
use super::wire::{varint_len, Encode, Wire, FIXED64, LENGTH};

/// A number as OTLP holds it in a `NumberDataPoint` or an `Exemplar`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum PointValue {
    Double(f64),
    Int(i64),
}

/// The SDK's measurement types (`f64`, `u64`, `i64`).
pub(super) trait Number: Copy {
    fn point_value(self) -> PointValue;
    /// Histogram sums, minimums and maximums are doubles whatever the instrument's type.
    fn as_f64(self) -> f64;
}

impl Number for f64 {
    fn point_value(self) -> PointValue {
        PointValue::Double(self)
    }
    fn as_f64(self) -> f64 {
        self
    }
}

impl Number for i64 {
    fn point_value(self) -> PointValue {
        PointValue::Int(self)
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Number for u64 {
    /// A value past `i64::MAX` goes out as 0, as the reference transform sends it.
    fn point_value(self) -> PointValue {
        PointValue::Int(i64::try_from(self).unwrap_or_default())
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

/// A oneof of a double (field `double`) and an `sfixed64` (field `int`).
fn point_value<W: Wire>(w: &mut W, double: u32, int: u32, value: PointValue) {
    match value {
        PointValue::Double(v) => {
            w.key(double, FIXED64);
            w.fixed64(v.to_bits());
        }
        PointValue::Int(v) => {
            w.key(int, FIXED64);
            w.fixed64(v as u64);
        }
    }
}

fn optional_fixed64<W: Wire>(w: &mut W, field: u32, value: u64) {
    if value != 0 {
        w.key(field, FIXED64);
        w.fixed64(value);
    }
}

/// A packed repeated `fixed64` or `double` field, left out when empty.
fn packed_fixed64<W: Wire, I: Iterator<Item = u64>>(w: &mut W, field: u32, values: impl Fn() -> I) {
    let count = values().count();
    if count > 0 {
        w.key(field, LENGTH);
        w.varint(count as u64 * 8);
        values().for_each(|v| w.fixed64(v));
    }
}

/// `sint32`: zigzag, then a varint; left out when 0.
fn sint32<W: Wire>(w: &mut W, field: u32, value: i32) {
    w.optional_varint(field, u64::from(((value << 1) ^ (value >> 31)) as u32));
}

/// The fields of an `Exemplar`.
pub(super) fn exemplar_fields<'a, W: Wire>(
    w: &mut W,
    time: SystemTime,
    value: PointValue,
    span_id: &[u8; 8],
    trace_id: &[u8; 16],
    filtered_attributes: impl Iterator<Item = &'a KeyValue>,
) {
    w.timestamp(2, time);
    point_value(w, 3, 6, value);
    w.bytes_field(4, span_id);
    w.bytes_field(5, trace_id);
    attributes(w, 7, filtered_attributes);
}

struct ExemplarMsg<'a, T>(&'a Exemplar<T>);

impl<T: Number> Encode for ExemplarMsg<'_, T> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let e = self.0;
        let value = e.value.point_value();
        exemplar_fields(
            w,
            e.time(),
            value,
            e.span_id(),
            e.trace_id(),
            e.filtered_attributes(),
        );
    }
}

/// The fields of a `NumberDataPoint`.
pub(super) fn number_point_fields<'a, 'e, W: Wire, T: Number + 'e>(
    w: &mut W,
    (start, time): (Option<SystemTime>, SystemTime),
    value: PointValue,
    exemplars: impl Iterator<Item = &'e Exemplar<T>>,
    point_attributes: impl Iterator<Item = &'a KeyValue>,
) {
    if let Some(start) = start {
        w.timestamp(2, start);
    }
    w.timestamp(3, time);
    point_value(w, 4, 6, value);
    exemplars.for_each(|e| w.message(5, &ExemplarMsg(e)));
    attributes(w, 7, point_attributes);
    // flags (8) are 0: left out.
}

/// A gauge's or a sum's data point, with the start and end times its metric holds.
pub(super) struct NumberPointMsg<'a, P> {
    pub(super) point: &'a P,
    pub(super) times: (Option<SystemTime>, SystemTime),
}

impl<T: Number> Encode for NumberPointMsg<'_, GaugeDataPoint<T>> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let p = self.point;
        let value = p.value().point_value();
        number_point_fields(w, self.times, value, p.exemplars(), p.attributes());
    }
}

impl<T: Number> Encode for NumberPointMsg<'_, SumDataPoint<T>> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let p = self.point;
        let value = p.value().point_value();
        number_point_fields(w, self.times, value, p.exemplars(), p.attributes());
    }
}

/// A `HistogramDataPoint`.
pub(super) struct HistogramPointMsg<'a, T> {
    pub(super) point: &'a HistogramDataPoint<T>,
    pub(super) times: (SystemTime, SystemTime),
}

impl<T: Number> Encode for HistogramPointMsg<'_, T> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let p = self.point;
        w.timestamp(2, self.times.0);
        w.timestamp(3, self.times.1);
        optional_fixed64(w, 4, p.count());
        w.optional_double(5, Some(p.sum().as_f64()));
        packed_fixed64(w, 6, || p.bucket_counts());
        packed_fixed64(w, 7, || p.bounds().map(f64::to_bits));
        p.exemplars().for_each(|e| w.message(8, &ExemplarMsg(e)));
        attributes(w, 9, p.attributes());
        // flags (10) are 0: left out.
        w.optional_double(11, p.min().map(Number::as_f64));
        w.optional_double(12, p.max().map(Number::as_f64));
    }
}

/// An `ExponentialHistogramDataPoint`.
pub(super) struct ExponentialPointMsg<'a, T> {
    pub(super) point: &'a ExponentialHistogramDataPoint<T>,
    pub(super) times: (SystemTime, SystemTime),
}

impl<T: Number> Encode for ExponentialPointMsg<'_, T> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let p = self.point;
        attributes(w, 1, p.attributes());
        w.timestamp(2, self.times.0);
        w.timestamp(3, self.times.1);
        optional_fixed64(w, 4, p.count() as u64);
        w.optional_double(5, Some(p.sum().as_f64()));
        sint32(w, 6, i32::from(p.scale()));
        optional_fixed64(w, 7, p.zero_count());
        // Both bucket messages are always present in the reference, even when empty.
        w.large_message(8, &BucketsMsg(p.positive_bucket()));
        w.large_message(9, &BucketsMsg(p.negative_bucket()));
        // flags (10) are 0: left out.
        p.exemplars().for_each(|e| w.message(11, &ExemplarMsg(e)));
        w.optional_double(12, p.min().map(Number::as_f64));
        w.optional_double(13, p.max().map(Number::as_f64));
        w.double(14, p.zero_threshold());
    }
}

struct BucketsMsg<'a>(&'a ExponentialBucket);

impl Encode for BucketsMsg<'_> {
    fn encode<W: Wire>(&self, w: &mut W) {
        let buckets = self.0;
        sint32(w, 1, buckets.offset());
        let length: usize = buckets.counts().map(varint_len).sum();
        if length > 0 {
            w.key(2, LENGTH);
            w.varint(length as u64);
            buckets.counts().for_each(|count| w.varint(count));
        }
    }
}

#[cfg(test)]
mod tests {
    //! The SDK never hands out exemplars nor NaN (its aggregators drop non-finite measurements,
    //! and its data types cannot be built outside it), so these fields are held to prost here,
    //! written from their parts.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use bytes::BytesMut;
    use opentelemetry_proto::tonic::common::v1::KeyValue as ProtoKeyValue;
    use opentelemetry_proto::tonic::metrics::v1::{
        exemplar, number_data_point, Exemplar as ProtoExemplar, NumberDataPoint,
    };
    use prost::Message;
    use std::time::{Duration, UNIX_EPOCH};

    fn proto_attributes(attributes: &[KeyValue]) -> Vec<ProtoKeyValue> {
        attributes
            .iter()
            .map(|kv| (&kv.key, &kv.value).into())
            .collect()
    }

    fn values() -> Vec<PointValue> {
        vec![
            PointValue::Double(f64::NAN),
            PointValue::Double(f64::INFINITY),
            PointValue::Double(f64::NEG_INFINITY),
            PointValue::Double(-0.0),
            PointValue::Double(0.0),
            PointValue::Int(0),
            PointValue::Int(-1),
            PointValue::Int(i64::MIN),
            u64::MAX.point_value(),
        ]
    }

    struct TestExemplar {
        time: SystemTime,
        value: PointValue,
        attributes: Vec<KeyValue>,
    }

    impl Encode for TestExemplar {
        fn encode<W: Wire>(&self, w: &mut W) {
            let (span, trace) = ([0; 8], [7; 16]);
            exemplar_fields(
                w,
                self.time,
                self.value,
                &span,
                &trace,
                self.attributes.iter(),
            );
        }
    }

    #[test]
    fn exemplars_are_the_bytes_prost_writes() {
        let attributes = vec![KeyValue::new("user", "u-1"), KeyValue::new("n", 3)];
        for value in values() {
            for time in [
                UNIX_EPOCH,
                UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123),
            ] {
                let ours = TestExemplar {
                    time,
                    value,
                    attributes: attributes.clone(),
                };
                let mut direct = BytesMut::new();
                ours.encode(&mut direct);
                let reference = ProtoExemplar {
                    filtered_attributes: proto_attributes(&attributes),
                    time_unix_nano: time.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64,
                    span_id: vec![0; 8],
                    trace_id: vec![7; 16],
                    value: Some(match value {
                        PointValue::Double(v) => exemplar::Value::AsDouble(v),
                        PointValue::Int(v) => exemplar::Value::AsInt(v),
                    }),
                };
                assert_eq!(
                    &direct[..],
                    &reference.encode_to_vec()[..],
                    "{value:?} at {time:?}"
                );
            }
        }
    }

    struct TestPoint(PointValue);

    impl Encode for TestPoint {
        fn encode<W: Wire>(&self, w: &mut W) {
            let times = (Some(UNIX_EPOCH + Duration::from_secs(1)), UNIX_EPOCH);
            let attributes = [KeyValue::new("host", "a")];
            let exemplars = std::iter::empty::<&Exemplar<f64>>();
            number_point_fields(w, times, self.0, exemplars, attributes.iter());
        }
    }

    #[test]
    fn number_points_with_nan_infinity_and_zeros_are_the_bytes_prost_writes() {
        for value in values() {
            let mut direct = BytesMut::new();
            TestPoint(value).encode(&mut direct);
            let reference = NumberDataPoint {
                attributes: proto_attributes(&[KeyValue::new("host", "a")]),
                start_time_unix_nano: 1_000_000_000,
                value: Some(match value {
                    PointValue::Double(v) => number_data_point::Value::AsDouble(v),
                    PointValue::Int(v) => number_data_point::Value::AsInt(v),
                }),
                ..Default::default()
            };
            assert_eq!(&direct[..], &reference.encode_to_vec()[..], "{value:?}");
        }
    }

    #[test]
    fn plain_doubles_are_left_out_at_zero_as_prost_does_and_kept_for_nan() {
        for (value, written) in [(0.0, false), (-0.0, false), (f64::NAN, true), (1.5, true)] {
            let mut direct = BytesMut::new();
            direct.double(14, value);
            assert_eq!(!direct.is_empty(), written, "{value}");
        }
    }
}
