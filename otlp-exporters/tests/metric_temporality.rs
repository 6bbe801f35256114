//! Temporality preference and the default histogram aggregation, from code, environment and
//! file, as the receiver sees them: delta counters arrive as delta, up-down counters stay
//! cumulative, base-2 exponential histograms arrive as exponential histograms.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::KeyValue;
use otlp_core::proto::metrics::v1::{metric, number_data_point, AggregationTemporality};
use otlp_core::Telemetry;
use otlp_exporters::config::{PipelineConfig, TemporalityPreference};
use otlp_exporters::{OtlpPipeline, PipelineBuilder};
use otlp_transport::receiver::{Receiver, ReceiverConfig};

/// What arrived for the metric `name`: (temporality, value) of each data point, in order.
fn sums(receiver: &Receiver, name: &str) -> Vec<(i32, i64)> {
    let mut out = Vec::new();
    for received in receiver.received() {
        let Telemetry::Metrics(request) = received.payload else {
            continue;
        };
        for metric in request
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .filter(|m| m.name == name)
        {
            if let Some(metric::Data::Sum(sum)) = &metric.data {
                for point in &sum.data_points {
                    if let Some(number_data_point::Value::AsInt(v)) = point.value {
                        out.push((sum.aggregation_temporality, v));
                    }
                }
            }
        }
    }
    out
}

/// Records 5 twice, flushing after each, on a counter and an up-down counter.
fn record_twice(pipeline: &OtlpPipeline) {
    let meter = pipeline.meter("temporality");
    let counter = meter.u64_counter("orders").build();
    let level = meter.i64_up_down_counter("queue_depth").build();
    for _ in 0..2 {
        counter.add(5, &[KeyValue::new("region", "eu")]);
        level.add(5, &[]);
        assert!(pipeline.force_flush(Duration::from_secs(10)).completed);
    }
}

fn start(receiver: &Receiver, builder: PipelineBuilder) -> OtlpPipeline {
    builder
        .with_endpoint(receiver.http_endpoint())
        .with_metric_export_interval(Duration::from_secs(3600))
        .build()
        .unwrap()
}

const DELTA: i32 = AggregationTemporality::Delta as i32;
const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_arrives_as_delta_from_code_environment_and_file() {
    let env: HashMap<&str, &str> = [("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta")]
        .into_iter()
        .collect();
    let mut from_file = PipelineConfig::default();
    from_file
        .apply_yaml(
            "file_format: \"1.0\"\nmeter_provider:\n  readers:\n    - periodic:\n        exporter:\n          otlp_http:\n            temporality_preference: delta\n",
            "delta.yaml",
            &HashMap::<&str, &str>::new(),
        )
        .unwrap();
    let builders = [
        (
            "code",
            OtlpPipeline::builder().with_temporality(TemporalityPreference::Delta),
        ),
        (
            "environment",
            OtlpPipeline::builder().with_env_from(&env).unwrap(),
        ),
        ("file", PipelineBuilder::from_config(from_file)),
    ];
    for (source, builder) in builders {
        let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
        let pipeline = start(&receiver, builder);
        record_twice(&pipeline);
        assert_eq!(
            sums(&receiver, "orders"),
            vec![(DELTA, 5), (DELTA, 5)],
            "{source}: each export carries only its own interval"
        );
        assert_eq!(
            sums(&receiver, "queue_depth"),
            vec![(CUMULATIVE, 5), (CUMULATIVE, 10)],
            "{source}: up-down counters stay cumulative, as the specification says"
        );
        pipeline.shutdown(Duration::from_secs(5));
        receiver.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cumulative_is_the_default_and_low_memory_keeps_counters_delta() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let pipeline = start(&receiver, OtlpPipeline::builder());
    record_twice(&pipeline);
    assert_eq!(
        sums(&receiver, "orders"),
        vec![(CUMULATIVE, 5), (CUMULATIVE, 10)]
    );
    pipeline.shutdown(Duration::from_secs(5));

    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let env: HashMap<&str, &str> = [(
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
        "LowMemory",
    )]
    .into_iter()
    .collect();
    let pipeline = start(
        &receiver,
        OtlpPipeline::builder().with_env_from(&env).unwrap(),
    );
    record_twice(&pipeline);
    assert_eq!(sums(&receiver, "orders"), vec![(DELTA, 5), (DELTA, 5)]);
    assert_eq!(
        sums(&receiver, "queue_depth"),
        vec![(CUMULATIVE, 5), (CUMULATIVE, 10)]
    );
    pipeline.shutdown(Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base2_exponential_histograms_when_asked() {
    for (value, exponential) in [
        ("base2_exponential_bucket_histogram", true),
        ("explicit_bucket_histogram", false),
    ] {
        let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
        let env: HashMap<&str, &str> = [(
            "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
            value,
        )]
        .into_iter()
        .collect();
        let pipeline = start(
            &receiver,
            OtlpPipeline::builder().with_env_from(&env).unwrap(),
        );
        let histogram = pipeline.meter("latency").f64_histogram("latency").build();
        for ms in [1.0, 5.0, 250.0] {
            histogram.record(ms, &[]);
        }
        assert!(pipeline.force_flush(Duration::from_secs(10)).completed);
        let kinds: Vec<&str> = receiver
            .received()
            .iter()
            .filter_map(|r| match &r.payload {
                Telemetry::Metrics(request) => Some(request.clone()),
                _ => None,
            })
            .flat_map(|request| request.resource_metrics)
            .flat_map(|r| r.scope_metrics)
            .flat_map(|s| s.metrics)
            .filter(|m| m.name == "latency")
            .map(|m| match m.data {
                Some(metric::Data::ExponentialHistogram(_)) => "exponential",
                Some(metric::Data::Histogram(_)) => "explicit",
                _ => "other",
            })
            .collect();
        let expected = if exponential {
            "exponential"
        } else {
            "explicit"
        };
        assert_eq!(kinds, vec![expected], "{value}");
        pipeline.shutdown(Duration::from_secs(5));
    }
}
