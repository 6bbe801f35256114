//! The pipeline's exporters under the SDK's own processors and reader, and its self-metrics.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};
use opentelemetry_sdk::Resource;
use otlp_core::proto::metrics::v1::metric::Data;
use otlp_core::Signal;
use otlp_core::Telemetry;
use otlp_exporters::OtlpPipeline;
use otlp_reliability::adaptive_concurrency::ConcurrencyConfig;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporters_work_under_the_sdks_own_processor_and_reader() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .build()
        .unwrap();
    let resource = Resource::builder_empty()
        .with_service_name("sdk-owned")
        .build();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_span_processor(SimpleSpanProcessor::new(pipeline.span_exporter().unwrap()))
        .build();
    provider.tracer("sdk").in_span("simple", |_| {});
    let meters = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(PeriodicReader::builder(pipeline.metric_exporter().unwrap()).build())
        .build();
    meters.meter("sdk").u64_counter("ticks").build().add(1, &[]);
    meters.force_flush().unwrap();
    provider.shutdown().unwrap();
    assert!(
        receiver
            .wait_for_items(Signal::Traces, 1, Duration::from_secs(5))
            .await
    );
    assert!(receiver.counts().data_points >= 1);
    let resource_name = receiver.received().iter().find_map(|r| match &r.payload {
        Telemetry::Traces(t) => t.resource_spans[0].resource.clone(),
        _ => None,
    });
    assert!(
        format!("{resource_name:?}").contains("sdk-owned"),
        "the SDK's resource is used"
    );
    pipeline.shutdown(Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_metrics_report_what_the_pipeline_did() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_self_metrics(true)
        .with_concurrency(ConcurrencyConfig::Fixed(3))
        .build()
        .unwrap();
    for i in 0..7 {
        pipeline.tracer("work").in_span(format!("op-{i}"), |_| {});
    }
    pipeline.force_flush(Duration::from_secs(5));
    pipeline.force_flush(Duration::from_secs(5));
    let mut exported = None;
    let mut capacity = None;
    let mut limits = Vec::new();
    let mut round_trips = Vec::new();
    for received in receiver.received() {
        let Telemetry::Metrics(request) = received.payload else {
            continue;
        };
        for metric in request
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
        {
            let point = |data: &Option<Data>| match data {
                Some(Data::Sum(s)) => s
                    .data_points
                    .iter()
                    .find(|p| p.attributes.is_empty())
                    .and_then(|p| p.value),
                Some(Data::Gauge(g)) => g.data_points.first().and_then(|p| p.value),
                _ => None,
            };
            match metric.name.as_str() {
                "otel.sdk.exporter.span.exported" => exported = point(&metric.data),
                "otel.sdk.processor.span.queue.capacity" => capacity = point(&metric.data),
                "otlp.exporter.concurrency.limit" | "otlp.exporter.concurrency.rtt" => {
                    let Some(Data::Gauge(gauge)) = &metric.data else {
                        continue;
                    };
                    for p in &gauge.data_points {
                        let endpoint = format!("{:?}", p.attributes);
                        if metric.name.ends_with("limit") {
                            limits.push((endpoint, p.value));
                        } else {
                            round_trips.push(endpoint);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    use otlp_core::proto::metrics::v1::number_data_point::Value::AsInt;
    assert_eq!(exported, Some(AsInt(7)));
    assert_eq!(capacity, Some(AsInt(2048)));
    // One limit per signal's endpoint, each the fixed 3; the traces endpoint has answered.
    assert!(
        limits.len() >= 3 && limits.iter().all(|(_, v)| *v == Some(AsInt(3))),
        "{limits:?}"
    );
    assert!(
        round_trips.iter().any(|e| e.contains("traces:")),
        "{round_trips:?}"
    );
    let traces = pipeline.stats().concurrency;
    let traces = traces
        .iter()
        .find(|e| e.name.starts_with("traces:"))
        .unwrap();
    assert_eq!((traces.stats.limit, traces.stats.in_flight), (3, 0));
    assert!(traces.stats.rtt.is_some(), "{traces:?}");
    pipeline.shutdown(Duration::from_secs(5));
}
