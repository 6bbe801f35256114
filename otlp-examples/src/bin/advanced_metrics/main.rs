//! Advanced metrics (the guide's section "📊 高级指标收集"): counters, an up-down counter, histograms with
//! explicit and exponential buckets, gauges and observable instruments, recorded by the guide's
//! metrics collector. The aggregates are read back from what the receiver got: totals, averages
//! and p50/p95 estimated from the buckets, checked against what was recorded. Sent to a
//! collector, the demo prints the same aggregates from what it recorded (kept on the side).
// tidy: long-file the guide's metrics collector and its checks read top to bottom; a few lines over

mod recorded;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter, UpDownCounter};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::{Aggregation, Instrument, Stream};
use otlp_core::proto::metrics::v1::metric::Data;
use otlp_core::proto::metrics::v1::number_data_point::Value;
use otlp_core::proto::metrics::v1::Metric;
use otlp_core::Telemetry;
use otlp_examples::cli::Args;
use otlp_examples::target::{deliver, Expect, Target};

const USAGE: &str =
    "advanced_metrics: every instrument kind with its aggregates, read back from the
receiver (the guide's section \"📊 高级指标收集\", custom metrics and aggregation); sent to a
collector, the aggregates of what was recorded

usage: cargo run -p otlp-examples --bin advanced_metrics -- [--quick] [--iterations N]

  --quick          50 iterations
  --iterations N   iterations of the guide's recording loop (default 500)";

/// The guide's metrics collector.
struct MetricsCollector {
    user_actions: Counter<u64>,
    user_sessions: Counter<u64>,
    sessions_in_progress: UpDownCounter<i64>,
    transactions: Counter<u64>,
    transaction_amount: Histogram<f64>,
    transaction_volume: Gauge<f64>,
    api_requests: Counter<u64>,
    api_response_time: Histogram<f64>,
    api_error_rate: Gauge<f64>,
    active_users: Gauge<u64>,
    revenue_cents: Arc<AtomicU64>,
    api_calls: Arc<AtomicU64>,
    api_errors: Arc<AtomicU64>,
    recorded: recorded::Recorded,
}

impl MetricsCollector {
    fn new(meter: &Meter) -> Self {
        let api_calls = Arc::new(AtomicU64::new(0));
        let api_errors = Arc::new(AtomicU64::new(0));
        let (calls, errors) = (Arc::clone(&api_calls), Arc::clone(&api_errors));
        // An observable gauge: the health score is computed when the reader collects.
        meter
            .f64_observable_gauge("system_health_score")
            .with_description("100 minus the API error rate in percent")
            .with_callback(move |observer| {
                let calls = calls.load(Ordering::Relaxed).max(1) as f64;
                let errors = errors.load(Ordering::Relaxed) as f64;
                observer.observe(100.0 - 100.0 * errors / calls, &[]);
            })
            .build();
        MetricsCollector {
            user_actions: meter.u64_counter("user_actions_total").build(),
            user_sessions: meter.u64_counter("user_sessions_total").build(),
            sessions_in_progress: meter.i64_up_down_counter("user_sessions_active").build(),
            transactions: meter.u64_counter("transactions_total").build(),
            transaction_amount: meter
                .f64_histogram("transaction_amount")
                .with_unit("USD")
                .with_boundaries(vec![50.0, 100.0, 150.0, 200.0, 300.0, 500.0, 1000.0])
                .build(),
            transaction_volume: meter
                .f64_gauge("transaction_volume_total")
                .with_unit("USD")
                .build(),
            api_requests: meter.u64_counter("api_requests_total").build(),
            api_response_time: meter
                .f64_histogram("api_response_time_seconds")
                .with_unit("s")
                .build(),
            api_error_rate: meter.f64_gauge("api_error_rate").build(),
            active_users: meter.u64_gauge("active_users").build(),
            revenue_cents: Arc::new(AtomicU64::new(0)),
            api_calls,
            api_errors,
            recorded: recorded::Recorded::default(),
        }
    }

    fn record_user_action(&self, action: &str, platform: &str) {
        let attributes = [
            KeyValue::new("action", action.to_owned()),
            KeyValue::new("platform", platform.to_owned()),
        ];
        self.user_actions.add(1, &attributes);
        if action == "login" {
            self.user_sessions.add(1, &attributes[1..]);
            self.sessions_in_progress.add(1, &[]);
        } else if action == "logout" {
            self.sessions_in_progress.add(-1, &[]);
        }
        let active = 100 + fastrand::u64(0..50);
        self.active_users.record(active, &[]);
        self.recorded
            .user_action(action == "login", action == "logout", active);
    }

    fn record_transaction(&self, amount: f64, method: &str) {
        let attributes = [KeyValue::new("payment.method", method.to_owned())];
        self.transactions.add(1, &attributes);
        self.transaction_amount.record(amount, &attributes);
        let cents = (amount * 100.0).round() as u64;
        let total = self.revenue_cents.fetch_add(cents, Ordering::Relaxed) + cents;
        self.transaction_volume.record(total as f64 / 100.0, &[]);
        self.recorded.transaction(amount, total as f64 / 100.0);
    }

    fn record_api_call(&self, endpoint: &str, status: u16, response_time: Duration) {
        let attributes = [
            KeyValue::new("http.route", endpoint.to_owned()),
            KeyValue::new("http.response.status_code", i64::from(status)),
        ];
        self.api_requests.add(1, &attributes);
        self.api_response_time
            .record(response_time.as_secs_f64(), &attributes[..1]);
        let calls = self.api_calls.fetch_add(1, Ordering::Relaxed) + 1;
        let errors = self
            .api_errors
            .fetch_add(u64::from(status >= 500), Ordering::Relaxed)
            + u64::from(status >= 500);
        self.api_error_rate
            .record(errors as f64 / calls as f64, &[]);
        self.recorded
            .api_call(response_time.as_secs_f64(), errors as f64 / calls as f64);
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse(USAGE, &["iterations"]);
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("advanced_metrics: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let iterations = args.number("iterations", if args.quick { 50 } else { 500 });
    let target = Target::from_env().await?;
    println!(
        "📊 advanced metrics: {iterations} iterations of the guide's loop\n   telemetry → {}\n",
        target.describe()
    );
    let pipeline = target
        .pipeline("advanced-metrics-demo")?
        .with_metric_export_interval(Duration::from_secs(3600))
        // Exponential buckets for response times: a view, as a user would configure it.
        .with_view(|instrument: &Instrument| {
            (instrument.name() == "api_response_time_seconds").then(|| {
                Stream::builder()
                    .with_aggregation(Aggregation::Base2ExponentialHistogram {
                        max_size: 160,
                        max_scale: 20,
                        record_min_max: true,
                    })
                    .build()
                    .ok()
            })?
        })
        .build()?;
    if args.print_config(&pipeline) {
        return Ok(());
    }
    let collector = MetricsCollector::new(&pipeline.meter("advanced-metrics"));

    let mut expected_amount = 0.0;
    for i in 0..iterations {
        let action = ["login", "view", "purchase", "logout"][i % 4];
        collector.record_user_action(action, if i % 3 == 0 { "mobile" } else { "web" });
        let amount = 150.0 + (i % 100) as f64;
        expected_amount += amount;
        collector.record_transaction(amount, if i % 2 == 0 { "credit_card" } else { "paypal" });
        let status = if i % 20 == 19 { 500 } else { 200 };
        collector.record_api_call(
            "/api/users",
            status,
            Duration::from_millis(50 + (i % 100) as u64),
        );
    }

    let Some(received) = deliver(
        &target,
        &[&pipeline],
        Expect {
            data_points: 1,
            ..Expect::default()
        },
    )
    .await?
    else {
        collector.recorded.print();
        let exported = pipeline.stats().metric_exports.exported;
        println!("\n✅ {exported} metric data points delivered to the collector; the aggregates above are of what was recorded");
        return Ok(());
    };
    // Cumulative temporality: the last collection holds the totals.
    let mut latest: BTreeMap<String, Metric> = BTreeMap::new();
    for request in received {
        let Telemetry::Metrics(metrics) = request.payload else {
            continue;
        };
        for metric in metrics
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
        {
            latest.insert(metric.name.clone(), metric.clone());
        }
    }
    println!(
        "{:<28} {:<22} {:>7} {:>14} {:>10} {:>10} {:>10}",
        "metric", "kind", "series", "total/value", "average", "p50", "p95"
    );
    for metric in latest.values() {
        print_row(metric);
    }
    let total = |name: &str| -> f64 {
        match latest.get(name).and_then(|m| m.data.as_ref()) {
            Some(Data::Sum(sum)) => sum.data_points.iter().map(|p| number(p.value)).sum(),
            Some(Data::Histogram(h)) => h.data_points.iter().map(|p| p.count as f64).sum(),
            _ => f64::NAN,
        }
    };
    let n = iterations as f64;
    let checks = [
        ("user_actions_total", total("user_actions_total"), n),
        ("transactions_total", total("transactions_total"), n),
        ("api_requests_total", total("api_requests_total"), n),
        ("transaction_amount count", total("transaction_amount"), n),
    ];
    for (what, got, want) in checks {
        if (got - want).abs() > 1e-9 {
            return Err(format!("{what}: the receiver has {got}, {want} were recorded").into());
        }
    }
    let amount_sum: f64 = match latest
        .get("transaction_amount")
        .and_then(|m| m.data.as_ref())
    {
        Some(Data::Histogram(h)) => h.data_points.iter().filter_map(|p| p.sum).sum(),
        _ => 0.0,
    };
    if (amount_sum - expected_amount).abs() > 1e-6 {
        return Err(
            format!("transaction_amount sum {amount_sum} != recorded {expected_amount}").into(),
        );
    }
    println!(
        "\n✅ {} metrics read back; counts and sums match the {iterations} iterations recorded",
        latest.len()
    );
    Ok(())
}

fn number(value: Option<Value>) -> f64 {
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

fn print_row(metric: &Metric) {
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
