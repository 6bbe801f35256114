//! Advanced metrics (the guide's section "📊 高级指标收集"): counters, an up-down counter, histograms with
//! explicit and exponential buckets, gauges and observable instruments, recorded by the guide's
//! metrics collector. The aggregates are read back from what the receiver got: totals, averages
//! and p50/p95 estimated from the buckets, checked against what was recorded. Sent to a
//! collector, the demo prints the same aggregates from what it recorded (kept on the side).

mod aggregates;
mod collector;
mod recorded;

use std::collections::BTreeMap;
use std::time::Duration;

use opentelemetry_sdk::metrics::{Aggregation, Instrument, Stream};
use otlp_core::proto::metrics::v1::metric::Data;
use otlp_core::proto::metrics::v1::Metric;
use otlp_core::Telemetry;
use otlp_examples::cli::Args;
use otlp_examples::target::{deliver, Expect, Target};

use aggregates::{number, print_row};
use collector::MetricsCollector;

const USAGE: &str =
    "advanced_metrics: every instrument kind with its aggregates, read back from the
receiver (the guide's section \"📊 高级指标收集\", custom metrics and aggregation); sent to a
collector, the aggregates of what was recorded

usage: cargo run -p otlp-examples --bin advanced_metrics -- [--quick] [--iterations N]

  --quick          50 iterations
  --iterations N   iterations of the guide's recording loop (default 500)";

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
