//! Metric points as the page shows them: a number, a histogram with percentiles estimated from
//! its buckets, or a count and sum.

use otlp_core::proto::metrics::v1::{number_data_point, HistogramDataPoint, NumberDataPoint};
use serde::Serialize;

/// A histogram point, with percentiles estimated from its buckets.
#[derive(Debug, Clone, Serialize)]
pub struct HistogramPoint {
    /// When, Unix nanoseconds.
    pub time_unix_nano: u64,
    /// Values recorded.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
    /// The buckets' upper bounds (the last bucket has none).
    pub bounds: Vec<f64>,
    /// The count in each bucket.
    pub bucket_counts: Vec<u64>,
    /// The median, estimated by linear interpolation within its bucket.
    pub p50: Option<f64>,
    /// The 95th percentile, estimated likewise.
    pub p95: Option<f64>,
    /// The 99th percentile, estimated likewise.
    pub p99: Option<f64>,
}

impl HistogramPoint {
    pub(crate) fn new(point: &HistogramDataPoint) -> Self {
        let quantile = |q| {
            quantile(
                q,
                &point.explicit_bounds,
                &point.bucket_counts,
                point.min,
                point.max,
            )
        };
        HistogramPoint {
            time_unix_nano: point.time_unix_nano,
            count: point.count,
            sum: point.sum.unwrap_or(0.0),
            bounds: point.explicit_bounds.clone(),
            bucket_counts: point.bucket_counts.clone(),
            p50: quantile(0.5),
            p95: quantile(0.95),
            p99: quantile(0.99),
        }
    }
}

/// The `q` quantile of a bucketed distribution: the bucket holding the rank, and a linear
/// position in it. The first bucket starts at `min` (or 0), the last ends at `max` (or its
/// lower bound).
pub fn quantile(
    q: f64,
    bounds: &[f64],
    counts: &[u64],
    min: Option<f64>,
    max: Option<f64>,
) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 || counts.len() != bounds.len() + 1 {
        return None;
    }
    let rank = q * total as f64;
    let mut below = 0u64;
    for (i, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        if (below + count) as f64 >= rank {
            let lower = if i == 0 {
                min.unwrap_or(0.0)
                    .min(bounds.first().copied().unwrap_or(0.0))
            } else {
                bounds[i - 1]
            };
            let upper = match bounds.get(i) {
                Some(&b) => b,
                None => max.unwrap_or(lower).max(lower),
            };
            let within = ((rank - below as f64) / count as f64).clamp(0.0, 1.0);
            return Some(lower + (upper - lower) * within);
        }
        below += count;
    }
    None
}

/// One metric point.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MetricPoint {
    /// A sum or gauge value.
    Number {
        /// When, Unix nanoseconds.
        time_unix_nano: u64,
        /// The value.
        value: f64,
    },
    /// A histogram with buckets.
    Histogram(HistogramPoint),
    /// A count and sum only (exponential histograms, summaries).
    Summary {
        /// When, Unix nanoseconds.
        time_unix_nano: u64,
        /// Values recorded.
        count: u64,
        /// Their sum.
        sum: f64,
    },
}

impl MetricPoint {
    pub(crate) fn number(point: &NumberDataPoint) -> Self {
        let value = match point.value {
            Some(number_data_point::Value::AsDouble(v)) => v,
            Some(number_data_point::Value::AsInt(v)) => v as f64,
            None => 0.0,
        };
        MetricPoint::Number {
            time_unix_nano: point.time_unix_nano,
            value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_within_the_bucket() {
        // 10 values in (0, 10], 10 in (10, 20]: the median is the top of the first bucket.
        let bounds = [10.0, 20.0];
        let counts = [10, 10, 0];
        assert_eq!(
            quantile(0.5, &bounds, &counts, Some(0.0), Some(20.0)),
            Some(10.0)
        );
        assert_eq!(
            quantile(0.75, &bounds, &counts, Some(0.0), Some(20.0)),
            Some(15.0)
        );
        assert_eq!(quantile(0.5, &bounds, &[0, 0, 0], None, None), None);
        // Everything past the last bound: between it and the maximum.
        assert_eq!(quantile(0.5, &[1.0], &[0, 4], None, Some(3.0)), Some(2.0));
    }
}
