//! Row 3: the cost of making and ending a span at 1 and 2 producer threads, our batch
//! processor against the SDK's `BatchSpanProcessor`, both in front of an exporter that drops
//! everything at once.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchConfigBuilder, SdkTracerProvider, SpanData, SpanExporter};
use otlp_batch::{Batch, BatchConfig, BatchProcessor, BatchSpanProcessor, PipelineRuntime};
use otlp_core::{BoxError, ExportOutcome};

use super::table::{row, Row};

/// An exporter that drops everything at once, for measuring the processors alone.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

/// Nanoseconds per span made and ended on each of `threads` threads.
fn end_cost(provider: &SdkTracerProvider, threads: usize, spans_per_thread: u64) -> f64 {
    let go = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let tracer = provider.tracer("bench");
            let (go, total) = (Arc::clone(&go), Arc::clone(&total));
            std::thread::spawn(move || {
                while !go.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
                let started = Instant::now();
                for _ in 0..spans_per_thread {
                    let mut span = tracer.start("op");
                    span.set_attribute(opentelemetry::KeyValue::new("k", 1));
                    span.end();
                }
                total.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            })
        })
        .collect();
    go.store(true, Ordering::Release);
    for handle in handles {
        let _ = handle.join();
    }
    total.load(Ordering::Relaxed) as f64 / (threads as u64 * spans_per_thread) as f64
}

/// The median of `rounds` alternating runs of each side, so that both see the same noise:
/// (threads, ours, SDK's) per thread count.
pub fn end_costs(
    spans_per_thread: u64,
    rounds: usize,
    thread_counts: &[usize],
) -> Vec<(usize, f64, f64)> {
    let runtime = PipelineRuntime::new("bench").expect("runtime");
    let mut out = Vec::new();
    for &threads in thread_counts {
        let (mut ours, mut sdk) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            ours.push(end_cost_ours(&runtime, threads, spans_per_thread));
            sdk.push(end_cost_sdk(threads, spans_per_thread));
        }
        out.push((threads, median(&mut ours), median(&mut sdk)));
    }
    out
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn end_cost_ours(runtime: &PipelineRuntime, threads: usize, spans_per_thread: u64) -> f64 {
    let sink = tower::service_fn(|batch: Batch<SpanData>| async move {
        Ok::<_, BoxError>(ExportOutcome::accepted(batch.items.len()))
    });
    let config = BatchConfig::default().with_max_queue_size(1 << 16);
    let processor = BatchProcessor::new(config, sink, runtime.handle()).expect("processor");
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::new(processor, Duration::from_secs(5)))
        .build();
    let cost = end_cost(&provider, threads, spans_per_thread);
    let _ = provider.shutdown();
    cost
}

fn end_cost_sdk(threads: usize, spans_per_thread: u64) -> f64 {
    let processor = opentelemetry_sdk::trace::BatchSpanProcessor::builder(Discard)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(1 << 16)
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let cost = end_cost(&provider, threads, spans_per_thread);
    let _ = provider.shutdown();
    cost
}

/// Row 3 of the table.
pub fn rows(quick: bool) -> Vec<Row> {
    end_costs(
        if quick { 100_000 } else { 500_000 },
        if quick { 3 } else { 7 },
        &[1, 2],
    )
    .into_iter()
    .map(|(threads, ours, sdk)| {
        row(
            format!("3. span end, ns per span, {threads} thread(s)"),
            ours,
            Some(sdk),
            "ns",
            false,
        )
    })
    .collect()
}
