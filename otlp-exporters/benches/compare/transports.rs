//! Row 8: the HTTP/protobuf path and gzip end to end. Each side sends at a fixed offered rate
//! (`OTLP_BENCH_TRANSPORT_RATE`, default 200,000 spans/s) either OTLP/HTTP protobuf to the
//! counting collector's HTTP port, or gRPC with gzip to its gRPC port, into the counting
//! collector and into the decoding one (`common/counting.rs`, `Behaviour`); the row gives the
//! share delivered and the CPU per delivered span. Ours runs its defaults apart from the
//! protocol and compression; upstream is `opentelemetry-otlp` (its default blocking reqwest
//! client for HTTP, tonic for gRPC) under the SDK's `BatchSpanProcessor`, queue 2048 and batch
//! 512 on both sides, as in `side.rs`. `--transports` runs only this row.
//!
//! A side that delivered nothing (a protocol sent to a port that does not speak it, a
//! compression the collector does not accept) gets no ratio: the table says why instead.

use std::time::Duration;

use opentelemetry_sdk::trace::{BatchConfigBuilder, SdkTracerProvider};
use otlp_exporters::{Compression, OtlpPipeline, Protocol};

use super::common;
use super::common::counting::{Behaviour, CountingCollector};
use super::common::cpu::{cpu_seconds, thread_cpu_seconds};
use super::side::{produce_at, Side};
use super::table::{row, Row};

/// How both sides send in one part of the row.
#[derive(Clone, Copy)]
enum Transport {
    /// OTLP/HTTP with protobuf bodies, uncompressed, to the collector's HTTP port.
    HttpProtobuf,
    /// OTLP/gRPC with gzip, to the collector's gRPC port.
    GrpcGzip,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::HttpProtobuf => "http/protobuf",
            Transport::GrpcGzip => "gRPC + gzip",
        }
    }

    /// The endpoint as each side's builder takes it: ours a base URL (it appends
    /// `/v1/traces` for HTTP), upstream's HTTP exporter the full URL.
    fn endpoint(self, collector: &CountingCollector, reference: bool) -> String {
        match self {
            Transport::HttpProtobuf if reference => {
                format!("{}/v1/traces", collector.http_endpoint())
            }
            Transport::HttpProtobuf => collector.http_endpoint(),
            Transport::GrpcGzip => collector.endpoint(),
        }
    }
}

/// One side started for `transport` to `collector`.
fn start(reference: bool, transport: Transport, collector: &CountingCollector) -> Side {
    use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
    let endpoint = transport.endpoint(collector, reference);
    if !reference {
        let builder = OtlpPipeline::builder()
            .with_endpoint(endpoint)
            .with_service_name("bench");
        let builder = match transport {
            Transport::HttpProtobuf => builder.with_protocol(Protocol::HttpProtobuf),
            Transport::GrpcGzip => builder
                .with_protocol(Protocol::Grpc)
                .with_compression(Compression::Gzip),
        };
        return Side::Ours(Box::new(builder.build().expect("pipeline")));
    }
    let exporter = match transport {
        Transport::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .build(),
        Transport::GrpcGzip => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_compression(opentelemetry_otlp::Compression::Gzip)
            .build(),
    }
    .expect("upstream exporter");
    let batch = BatchConfigBuilder::default()
        .with_max_queue_size(2048)
        .with_max_export_batch_size(512)
        .build();
    let processor = opentelemetry_sdk::trace::BatchSpanProcessor::builder(exporter)
        .with_batch_config(batch)
        .build();
    Side::Reference(
        SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_resource(common::resource())
            .build(),
    )
}

/// What one side did in one run.
struct Run {
    made: u64,
    delivered: u64,
    /// Process CPU seconds per million delivered spans, with and without the producer thread.
    cpu_per_million: f64,
    pipeline_cpu_per_million: f64,
    /// Why nothing arrived, when nothing did.
    why_empty: Option<String>,
}

impl Run {
    fn share(&self) -> f64 {
        self.delivered as f64 / self.made.max(1) as f64
    }
}

/// One side sending at `rate` for `duration` over `transport` to a fresh collector.
async fn run(
    reference: bool,
    transport: Transport,
    behaviour: Behaviour,
    rate: u64,
    duration: Duration,
) -> Run {
    let collector = CountingCollector::start_with(behaviour).await;
    let side = start(reference, transport, &collector);
    side.warm_up();
    let before = collector.spans();
    let tracer = side.tracer();
    let cpu = cpu_seconds();
    let (made, producer_cpu) = tokio::task::block_in_place(|| {
        let started = thread_cpu_seconds();
        let made = produce_at(&tracer, rate, duration);
        (made, thread_cpu_seconds() - started)
    });
    side.shutdown();
    let cpu = cpu_seconds() - cpu;
    let delivered = collector.spans() - before;
    let why_empty = (delivered == 0).then(|| {
        let said = match &side {
            Side::Ours(pipeline) => format!("the pipeline says: {}", pipeline.stats().delivery),
            Side::Reference(_) => "the upstream exporter reports no error to the harness".into(),
        };
        format!(
            "{} sent {} to {}, the collector counted 0 of {made} spans; {said}",
            if reference { "reference" } else { "ours" },
            transport.name(),
            transport.endpoint(&collector, reference),
        )
    });
    let per_million = |seconds: f64| seconds / delivered.max(1) as f64 * 1e6;
    Run {
        made,
        delivered,
        cpu_per_million: per_million(cpu),
        pipeline_cpu_per_million: per_million(cpu - producer_cpu),
        why_empty,
    }
}

/// Row 8 of the table: per transport and collector, the share delivered and the CPU per
/// delivered span, ours against upstream.
pub fn rows(runtime: &tokio::runtime::Runtime, quick: bool) -> Vec<Row> {
    let rate = std::env::var("OTLP_BENCH_TRANSPORT_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200_000);
    let duration = Duration::from_secs(if quick { 2 } else { 5 });
    let mut rows = Vec::new();
    for transport in [Transport::HttpProtobuf, Transport::GrpcGzip] {
        for (collector, decode) in [("counting", false), ("decoding", true)] {
            let behaviour = Behaviour {
                latency: Duration::ZERO,
                decode,
            };
            let (ours, reference) = runtime.block_on(async {
                (
                    run(false, transport, behaviour, rate, duration).await,
                    run(true, transport, behaviour, rate, duration).await,
                )
            });
            eprintln!(
                "{} to the {collector} collector: ours {}/{} delivered, reference {}/{}",
                transport.name(),
                ours.delivered,
                ours.made,
                reference.delivered,
                reference.made
            );
            let why = match (&ours.why_empty, &reference.why_empty) {
                (None, None) => None,
                (Some(a), Some(b)) => Some(format!("{a}. {b}")),
                (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            };
            let name = format!(
                "8. {}, {collector} collector, {}k/s",
                transport.name(),
                rate / 1000
            );
            rows.push(
                row(
                    format!("{name}: % delivered"),
                    ours.share() * 100.0,
                    Some(reference.share() * 100.0),
                    "%",
                    true,
                )
                .unless_nothing_delivered(why.clone()),
            );
            // The reason once per group is enough.
            let why = why.map(|_| "see the row above".to_owned());
            rows.push(
                row(
                    format!("{name}: CPU s per million spans (process)"),
                    ours.cpu_per_million,
                    Some(reference.cpu_per_million),
                    "s",
                    false,
                )
                .unless_nothing_delivered(why.clone()),
            );
            rows.push(
                row(
                    format!("{name}: CPU s per million (all but the producer)"),
                    ours.pipeline_cpu_per_million,
                    Some(reference.pipeline_cpu_per_million),
                    "s",
                    false,
                )
                .unless_nothing_delivered(why),
            );
        }
    }
    rows
}
