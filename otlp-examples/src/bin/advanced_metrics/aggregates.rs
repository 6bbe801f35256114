//! The aggregates read back from what the receiver got: a metric's total or last value, its
//! average, and p50/p95 estimated from its explicit or exponential buckets, one table row each.

use otlp_core::proto::metrics::v1::metric::Data;
use otlp_core::proto::metrics::v1::number_data_point::Value;
use otlp_core::proto::metrics::v1::Metric;

/// A number point's value as a float.
pub(crate) fn number(value: Option<Value>) -> f64 {
    match value {
        Some(Value::AsInt(i)) => i as f64,
        Some(Value::AsDouble(d)) => d,
        None => 0.0,
    }
}

/// A quantile estimated from explicit buckets: the upper bound of the bucket holding it.
fn explicit_quantile(bounds: &[f64], counts: &[u64], q: f64) -> f64 {
    let total: u64 = counts.iter().sum();
    let rank = (q * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, count) in counts.iter().enumerate() {
        seen += count;
        if seen >= rank {
            return bounds.get(i).copied().unwrap_or(f64::INFINITY);
        }
    }
    f64::NAN
}

/// A quantile estimated from exponential buckets: the upper bound of the bucket holding it,
/// `base^(offset + index + 1)` with `base = 2^(2^-scale)` (positive values only).
fn exponential_quantile(
    point: &otlp_core::proto::metrics::v1::ExponentialHistogramDataPoint,
    q: f64,
) -> f64 {
    let Some(positive) = &point.positive else {
        return f64::NAN;
    };
    let base = 2f64.powf(2f64.powi(-point.scale));
    let total: u64 = positive.bucket_counts.iter().sum::<u64>() + point.zero_count;
    let rank = (q * total as f64).ceil().max(1.0) as u64;
    let mut seen = point.zero_count;
    if seen >= rank {
        return 0.0;
    }
    for (i, count) in positive.bucket_counts.iter().enumerate() {
        seen += count;
        if seen >= rank {
            return base.powi(positive.offset + i as i32 + 1);
        }
    }
    f64::NAN
}

/// Prints one row of the aggregates table.
pub(crate) fn print_row(metric: &Metric) {
    let (kind, series, value, average, p50, p95) = match &metric.data {
        Some(Data::Sum(sum)) => {
            let kind = if sum.is_monotonic {
                "counter"
            } else {
                "up-down counter"
            };
            let total: f64 = sum.data_points.iter().map(|p| number(p.value)).sum();
            (
                kind,
                sum.data_points.len(),
                format!("{total}"),
                String::new(),
                String::new(),
                String::new(),
            )
        }
        Some(Data::Gauge(gauge)) => {
            let last = gauge
                .data_points
                .last()
                .map(|p| number(p.value))
                .unwrap_or(0.0);
            (
                "gauge",
                gauge.data_points.len(),
                format!("{last:.2}"),
                String::new(),
                String::new(),
                String::new(),
            )
        }
        Some(Data::Histogram(h)) => {
            let count: u64 = h.data_points.iter().map(|p| p.count).sum();
            let sum: f64 = h.data_points.iter().filter_map(|p| p.sum).sum();
            let (p50, p95) = h
                .data_points
                .first()
                .map(|p| {
                    (
                        explicit_quantile(&p.explicit_bounds, &p.bucket_counts, 0.5),
                        explicit_quantile(&p.explicit_bounds, &p.bucket_counts, 0.95),
                    )
                })
                .unwrap_or((f64::NAN, f64::NAN));
            (
                "histogram (explicit)",
                h.data_points.len(),
                format!("n={count}"),
                format!("{:.3}", sum / count.max(1) as f64),
                format!("≤{p50}"),
                format!("≤{p95}"),
            )
        }
        Some(Data::ExponentialHistogram(h)) => {
            let count: u64 = h.data_points.iter().map(|p| p.count).sum();
            let sum: f64 = h.data_points.iter().filter_map(|p| p.sum).sum();
            let quantile = |q: f64| {
                h.data_points
                    .first()
                    .map_or(f64::NAN, |p| exponential_quantile(p, q))
            };
            (
                "histogram (exponential)",
                h.data_points.len(),
                format!("n={count}"),
                format!("{:.3}", sum / count.max(1) as f64),
                format!("≈{:.3}", quantile(0.5)),
                format!("≈{:.3}", quantile(0.95)),
            )
        }
        Some(Data::Summary(_)) | None => (
            "other",
            0,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ),
    };
    println!(
        "{:<28} {kind:<22} {series:>7} {value:>14} {average:>10} {p50:>10} {p95:>10}",
        metric.name
    );
}
