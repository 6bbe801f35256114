//! Criterion micro-benchmarks: each signal's direct encoder against the reference path
//! (`opentelemetry-proto`'s transform, then prost), side by side in one run: a batch of 512
//! spans (8 attributes, 2 events each), a batch of 512 log records, and one metric collection
//! of every instrument kind.

#![allow(missing_docs)] // criterion_group! generates an undocumented function

mod common;

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::logs::tonic::group_logs_by_resource_and_scope;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, SdkLogRecord, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    Aggregation, Instrument, PeriodicReader, SdkMeterProvider, Stream, Temporality,
};
use otlp_core::encode::{LogEncoder, MetricEncoder, SpanEncoder};
use prost::Message;

fn spans(c: &mut Criterion) {
    let spans = common::spans(512);
    let resource = common::resource();
    let mut group = c.benchmark_group("encode 512 spans");
    group.throughput(Throughput::Elements(512));
    short(&mut group);
    let mut encoder = SpanEncoder::new();
    group.bench_function("otlp-rust direct", |b| {
        b.iter(|| encoder.encode(&spans, &resource))
    });
    group.bench_function("reference transform + prost", |b| {
        b.iter_batched(
            || spans.clone(),
            |spans| {
                let attributes = ResourceAttributesWithSchema::from(&resource);
                let request = ExportTraceServiceRequest {
                    resource_spans: group_spans_by_resource_and_scope(spans, &attributes),
                };
                request.encode_to_vec()
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// 512 records as a `tracing` bridge makes them: a message body, a severity, a target, four
/// attributes, a trace context and both timestamps.
fn log_records() -> Vec<(SdkLogRecord, InstrumentationScope)> {
    let provider = SdkLoggerProvider::builder().build();
    let logger = provider.logger("bench");
    let scope = InstrumentationScope::builder("checkout")
        .with_version("1.4.2")
        .build();
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    (0..512u64)
        .map(|i| {
            let mut record = logger.create_log_record();
            record.set_body(AnyValue::from(format!("order {i} accepted for payment")));
            record.set_severity_number(Severity::Info);
            record.set_severity_text("INFO");
            record.set_target("checkout::orders");
            record.set_timestamp(time + Duration::from_micros(i));
            record.set_observed_timestamp(time + Duration::from_micros(i + 3));
            record.add_attribute("order.id", AnyValue::Int(i as i64));
            record.add_attribute("customer.tier", AnyValue::from("gold"));
            record.add_attribute("amount", AnyValue::Double(12.5 + i as f64));
            record.add_attribute("retry", AnyValue::Boolean(false));
            record.set_trace_context(
                TraceId::from(u128::from(i) + 1),
                SpanId::from(i + 1),
                Some(TraceFlags::SAMPLED),
            );
            (record, scope.clone())
        })
        .collect()
}

fn logs(c: &mut Criterion) {
    let records = log_records();
    let pairs: Vec<_> = records.iter().map(|(r, s)| (r, s)).collect();
    let resource = common::resource();
    let mut group = c.benchmark_group("encode 512 log records");
    group.throughput(Throughput::Elements(512));
    short(&mut group);
    let mut encoder = LogEncoder::new();
    group.bench_function("otlp-rust direct", |b| {
        b.iter(|| encoder.encode(&pairs, &resource))
    });
    // The transform borrows the batch: nothing to clone per iteration.
    group.bench_function("reference transform + prost", |b| {
        b.iter(|| {
            let attributes = ResourceAttributesWithSchema::from(&resource);
            let request = ExportLogsServiceRequest {
                resource_logs: group_logs_by_resource_and_scope(
                    &LogBatch::new(&pairs),
                    &attributes,
                ),
            };
            request.encode_to_vec()
        })
    });
    group.finish();
}

fn short<M: criterion::measurement::Measurement>(group: &mut criterion::BenchmarkGroup<'_, M>) {
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
}

/// Work to run against the collection the reader hands out.
type Job = Box<dyn FnOnce(&ResourceMetrics) + Send>;

/// The SDK hands a collection only to an exporter, by reference, on its reader's thread (its
/// data types cannot be built or kept elsewhere), so the exporter runs the benchmark's jobs
/// there until the job channel closes.
struct JobRunner(Mutex<mpsc::Receiver<Job>>);

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobRunner")
    }
}

impl JobRunner {
    fn run(&self, metrics: &ResourceMetrics) {
        let Ok(jobs) = self.0.lock() else { return };
        while let Ok(job) = jobs.recv() {
            job(metrics);
        }
    }
}

impl PushMetricExporter for JobRunner {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        self.run(metrics);
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// One collection: 16 counters, 8 histograms (default buckets), 8 gauges and one exponential
/// histogram, each with 8 attribute sets of 3 attributes: 264 data points.
fn record_metrics(provider: &SdkMeterProvider) {
    let meter = provider.meter("checkout");
    let sets: Vec<Vec<KeyValue>> = (0..8)
        .map(|i| {
            vec![
                KeyValue::new("http.request.method", ["GET", "POST"][i % 2]),
                KeyValue::new("http.route", format!("/api/v1/orders/{i}")),
                KeyValue::new("http.response.status_code", 200 + i as i64),
            ]
        })
        .collect();
    for m in 0..16 {
        let counter = meter.u64_counter(format!("requests.{m}")).build();
        sets.iter().for_each(|set| counter.add(m + 1, set));
    }
    for m in 0..8 {
        let histogram = meter
            .f64_histogram(format!("duration.{m}"))
            .with_unit("ms")
            .build();
        for (i, set) in sets.iter().enumerate() {
            (0..20).for_each(|v| histogram.record(f64::from(v * 37 + i as u32), set));
        }
    }
    for m in 0..8 {
        let gauge = meter.f64_gauge(format!("utilization.{m}")).build();
        sets.iter()
            .for_each(|set| gauge.record(0.25 * f64::from(m), set));
    }
    let exponential = meter.f64_histogram("exponential.size").build();
    for set in &sets {
        (1..50).for_each(|v| exponential.record(f64::from(v) * 1.7, set));
    }
}

fn metrics(c: &mut Criterion) {
    let (jobs, receiver) = mpsc::channel::<Job>();
    let provider = SdkMeterProvider::builder()
        .with_resource(common::resource())
        .with_reader(PeriodicReader::builder(JobRunner(Mutex::new(receiver))).build())
        .with_view(|instrument: &Instrument| {
            instrument.name().starts_with("exponential").then(|| {
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
        .build();
    record_metrics(&provider);
    // The flush waits 5 s at most; the reader keeps running the jobs after it gave up.
    let flusher = provider.clone();
    let flush = std::thread::spawn(move || flusher.force_flush());

    // Runs `iters` encodes on the reader's thread and returns the time they took.
    let timed = |encode: fn(&ResourceMetrics, &mut MetricEncoder) -> usize| {
        let jobs = jobs.clone();
        move |iters: u64| {
            let (done, elapsed) = mpsc::channel();
            let job: Job = Box::new(move |metrics| {
                let mut encoder = MetricEncoder::new();
                let start = Instant::now();
                for _ in 0..iters {
                    std::hint::black_box(encode(metrics, &mut encoder));
                }
                let _ = done.send(start.elapsed());
            });
            if jobs.send(job).is_err() {
                return Duration::ZERO;
            }
            elapsed.recv().unwrap_or(Duration::ZERO)
        }
    };
    let mut group = c.benchmark_group("encode a collection of 33 metrics, 264 points");
    group.throughput(Throughput::Elements(264));
    short(&mut group);
    let direct = timed(|metrics, encoder| encoder.encode(metrics).len());
    group.bench_function("otlp-rust direct", |b| b.iter_custom(&direct));
    let reference = timed(|metrics, _| {
        ExportMetricsServiceRequest::from(metrics)
            .encode_to_vec()
            .len()
    });
    group.bench_function("reference transform + prost", |b| b.iter_custom(&reference));
    group.finish();
    drop((direct, reference, jobs));
    let _ = flush.join();
    let _ = provider.shutdown();
}

criterion_group!(benches, spans, logs, metrics);
criterion_main!(benches);
