//! One side of the comparison (our pipeline, or the SDK's batch processor in front of the
//! upstream exporter), a producer at a fixed offered rate, and what each side loses at it.

use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{BatchConfigBuilder, SdkTracerProvider};
use otlp_exporters::OtlpPipeline;
use otlp_reliability::adaptive_concurrency::ConcurrencyConfig;

use super::common;

/// After a stall of the producer thread itself (descheduled for a few milliseconds on a busy
/// 2-core machine), it makes up at most 1 ms of spans at once and lets the rest of the
/// backlog go: a catch-up burst of several thousand spans would overflow any 2,048-span
/// queue and measure the scheduler, not the pipeline. So the rate actually offered can be a
/// little below `rate`; callers report `made / duration`.
pub fn produce_at(
    tracer: &impl opentelemetry::trace::Tracer,
    rate: u64,
    duration: Duration,
) -> u64 {
    let attributes = common::attributes();
    let most_at_once = (rate / 1000).max(1);
    let started = Instant::now();
    let (mut made, mut skipped) = (0, 0);
    while started.elapsed() < duration {
        let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
        let behind = due.saturating_sub(made + skipped);
        skipped += behind.saturating_sub(most_at_once);
        for _ in 0..behind.min(most_at_once) {
            let mut span = tracer.start("POST /api/v1/orders");
            span.set_attributes(attributes.iter().cloned());
            span.add_event("cache.miss", vec![]);
            span.add_event("db.query", vec![]);
            span.end();
            made += 1;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    made
}

/// One side of the comparison: our pipeline, or the SDK's batch processor in front of the
/// upstream exporter; same batch size (512) and queue size (2048), both to `endpoint`.
pub enum Side {
    Ours(Box<OtlpPipeline>),
    Reference(SdkTracerProvider),
}

impl Side {
    /// Our side with its defaults (`OTLP_BENCH_EXPORTS=N`: `fixed N` concurrency), or the
    /// reference.
    pub fn start(reference: bool, endpoint: &str) -> Side {
        let fixed = std::env::var("OTLP_BENCH_EXPORTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(ConcurrencyConfig::Fixed);
        Side::start_with(reference, endpoint, fixed)
    }

    /// Like [`Side::start`], our side with `concurrency` instead of its default.
    pub fn start_with(
        reference: bool,
        endpoint: &str,
        concurrency: Option<ConcurrencyConfig>,
    ) -> Side {
        use opentelemetry_otlp::WithExportConfig;
        if !reference {
            // The counting collector speaks gRPC; the pipeline's default is http/protobuf.
            let mut builder = OtlpPipeline::builder()
                .with_endpoint(endpoint)
                .with_protocol(otlp_exporters::Protocol::Grpc)
                .with_service_name("bench");
            if let Some(concurrency) = concurrency {
                builder = builder.with_concurrency(concurrency);
            }
            return Side::Ours(Box::new(builder.build().expect("pipeline")));
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
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

    pub fn tracer(&self) -> opentelemetry_sdk::trace::SdkTracer {
        match self {
            Side::Ours(pipeline) => pipeline.tracer("bench"),
            Side::Reference(provider) => provider.tracer("bench"),
        }
    }

    /// Sends one span and waits for it, so that the connection is up before a measurement:
    /// both exporters connect on first use.
    pub fn warm_up(&self) {
        let mut span = self.tracer().start("warm-up");
        span.end();
        tokio::task::block_in_place(|| match self {
            Side::Ours(pipeline) => {
                pipeline.force_flush(Duration::from_secs(10));
            }
            Side::Reference(provider) => {
                let _ = provider.force_flush();
            }
        });
    }

    /// Flushes and stops (blocking, so it runs off the async workers).
    pub fn shutdown(&self) {
        tokio::task::block_in_place(|| match self {
            Side::Ours(pipeline) => {
                pipeline.shutdown(Duration::from_secs(30));
            }
            Side::Reference(provider) => {
                let _ = provider.shutdown();
            }
        });
    }
}

/// Spans made and spans lost at a fixed offered `rate`.
pub async fn lost_at(rate: u64, duration: Duration, reference: bool) -> (u64, u64) {
    let collector = common::counting::CountingCollector::start().await;
    let side = Side::start(reference, &collector.endpoint());
    lost_by(&side, &collector, rate, duration)
}

/// Spans `side` made and lost at `rate` into `collector`.
pub fn lost_by(
    side: &Side,
    collector: &common::counting::CountingCollector,
    rate: u64,
    duration: Duration,
) -> (u64, u64) {
    side.warm_up();
    let before = collector.spans();
    let tracer = side.tracer();
    let made = tokio::task::block_in_place(|| produce_at(&tracer, rate, duration));
    side.shutdown();
    (made, made.saturating_sub(collector.spans() - before))
}

/// The rate actually offered (spans/s) if `rate` is kept up with: one of two runs loses
/// nothing. The second run keeps one scheduling hiccup of a shared 2-core machine (the worker
/// off the CPU for a few milliseconds) from deciding the result; both sides get the same two
/// chances.
pub async fn keeps_up(rate: u64, duration: Duration, reference: bool) -> Option<f64> {
    for _ in 0..2 {
        let (made, lost) = lost_at(rate, duration, reference).await;
        if lost == 0 {
            return Some(made as f64 / duration.as_secs_f64());
        }
    }
    None
}

/// The highest rate offered without loss (spans/s), found by doubling then bisecting the
/// target rate.
pub async fn sustained(duration: Duration, reference: bool) -> f64 {
    let (mut good, mut bad, mut offered) = (0u64, 0u64, 0.0);
    let mut rate = 25_000;
    while rate <= 3_200_000 {
        match keeps_up(rate, duration, reference).await {
            Some(made) => {
                (good, offered) = (rate, made);
                rate *= 2;
            }
            None => {
                bad = rate;
                break;
            }
        }
    }
    if bad == 0 {
        return offered;
    }
    for _ in 0..3 {
        let middle = (good + bad) / 2;
        match keeps_up(middle, duration, reference).await {
            Some(made) => (good, offered) = (middle, made),
            None => bad = middle,
        }
    }
    offered
}
