//! The end of a run: delivery with a progress bar, the table (always printed, whatever
//! happened), and the checks: every span made was offered, and every span offered is
//! accounted for as delivered, dropped (with why) or rejected; with the embedded receiver,
//! what it got is what the pipeline counts as delivered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use otlp_batch::{BatchConfig, Overflow};
use otlp_core::encode::{encode_message, EncodeOptions};
use otlp_core::Telemetry;
use otlp_exporters::{OtlpPipeline, ShutdownReport};
use otlp_transport::receiver::Receiver;
use otlp_transport::Compression;
use parking_lot::Mutex;

use super::progress;

/// A histogram of nanoseconds from 1 ns to 60 s.
pub fn histogram() -> Histogram<u64> {
    // tidy: allow-unwrap constant bounds that new_with_bounds accepts (1 <= low, high >= 2 * low, 3 figures)
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("constant, valid bounds")
}

/// What the embedded receiver measured: delivery latency (span end to arrival) and one large
/// request, to weigh bytes per span.
#[derive(Default)]
pub struct Arrivals {
    /// Nanoseconds from a span's end to its arrival.
    pub delivery: Mutex<Option<Histogram<u64>>>,
    /// A request of at least 500 spans.
    pub sample: Mutex<Option<Telemetry>>,
}

/// Shuts the pipeline down (see `otlp_examples::target::shutdown`) with a bar of what has
/// been delivered or dropped so far.
pub fn deliver(pipeline: &Arc<OtlpPipeline>) -> ShutdownReport {
    let offered = pipeline.stats().spans.offered;
    let bar = progress::bar(offered, "spans");
    bar.set_message("delivering");
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (pipeline, bar, done) = (Arc::clone(pipeline), bar.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let s = pipeline.stats().spans;
                bar.set_position(s.exported + s.dropped() + s.rejected);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let report = otlp_examples::target::shutdown(pipeline);
    done.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    bar.finish_and_clear();
    report
}

fn policy(batch: &BatchConfig) -> String {
    let overflow = match batch.overflow {
        Overflow::DropNewest => "drop-newest".to_owned(),
        Overflow::DropOldest => "drop-oldest".to_owned(),
        Overflow::Block(wait) => format!("block up to {wait:?}"),
    };
    format!("queue {} spans, {overflow}", batch.max_queue_size)
}

fn quantiles(h: &Histogram<u64>, divisor: f64, unit: &str) -> String {
    format!(
        "{:.2} / {:.2} / {:.2} {unit}",
        h.value_at_quantile(0.5) as f64 / divisor,
        h.value_at_quantile(0.95) as f64 / divisor,
        h.value_at_quantile(0.99) as f64 / divisor
    )
}

/// What the load measured, for the table.
pub struct Measured {
    /// Spans made.
    pub made: u64,
    /// The load's own rows (rates).
    pub rows: Vec<(String, String)>,
    /// The cost of `span.end()`, nanoseconds.
    pub end_cost: Histogram<u64>,
}

/// Prints the table and checks the books; the success line, or what is wrong.
pub fn finish(
    pipeline: &OtlpPipeline,
    receiver: Option<&Receiver>,
    arrivals: &Arrivals,
    batch: &BatchConfig,
    measured: Measured,
    report: &ShutdownReport,
) -> Result<String, String> {
    let Measured {
        made,
        mut rows,
        end_cost,
    } = measured;
    let end_cost = &end_cost;
    let s = pipeline.stats().spans;
    rows.push((
        "span end cost p50 / p95 / p99".to_owned(),
        quantiles(end_cost, 1e3, "µs"),
    ));
    let delivery = arrivals.delivery.lock().clone();
    rows.push((
        "delivery latency p50 / p95 / p99".to_owned(),
        match (&delivery, receiver) {
            (Some(h), Some(_)) => quantiles(h, 1e6, "ms"),
            (_, None) => "n/a (measured at the embedded receiver only)".to_owned(),
            (None, Some(_)) => "nothing arrived".to_owned(),
        },
    ));
    if let Some(Telemetry::Traces(message)) = arrivals.sample.lock().clone() {
        let items = Telemetry::Traces(message.clone()).items().max(1);
        if let Ok(mut encoded) = encode_message(message, &EncodeOptions::default()) {
            if !encoded.requests.is_empty() {
                let body = encoded.requests.remove(0).body;
                for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
                    if let Ok(bytes) = compression.compress(&body) {
                        rows.push((
                            format!("bytes per span on the wire, {compression}"),
                            format!("{:.1}", bytes.len() as f64 / items as f64),
                        ));
                    }
                }
            }
        }
    }
    rows.push(("spans made".to_owned(), made.to_string()));
    rows.push(("spans delivered".to_owned(), s.exported.to_string()));
    rows.push((
        format!("spans dropped: queue full ({})", policy(batch)),
        s.dropped_queue_full.to_string(),
    ));
    rows.push((
        "spans dropped: export failed or cut at shutdown".to_owned(),
        (s.failed + s.dropped_at_shutdown).to_string(),
    ));
    rows.push((
        "spans rejected by the collector".to_owned(),
        s.rejected.to_string(),
    ));
    println!("\n{:<62} {:>24}", "test", "result");
    for (label, value) in &rows {
        println!("{label:<62} {value:>24}");
    }
    if s.dropped_queue_full > 0 {
        println!(
            "\n⚠ {} spans were dropped because the queue was full ({}): make it larger (--queue) or the spans fewer",
            s.dropped_queue_full,
            policy(batch)
        );
    }
    if s.offered != made {
        return Err(format!(
            "the pipeline was offered {} of the {made} spans made",
            s.offered
        ));
    }
    if !s.balanced() {
        return Err(format!("the books do not balance: {s:?}"));
    }
    if s.exported == 0 {
        return Err(format!("nothing was delivered\n{report}"));
    }
    if let Some(receiver) = receiver {
        let arrived = receiver.counts().spans as u64;
        if arrived != s.exported {
            return Err(format!(
                "the receiver got {arrived} spans, the pipeline counts {} delivered",
                s.exported
            ));
        }
    }
    let dropped = s.dropped();
    Ok(format!(
        "{made} spans made: {} delivered, {dropped} dropped, {} rejected, every one accounted for; span end p99 {:.2} µs{}",
        s.exported,
        s.rejected,
        end_cost.value_at_quantile(0.99) as f64 / 1e3,
        match (delivery, receiver) {
            (Some(h), Some(_)) => format!(", delivery p99 {:.1} ms", h.value_at_quantile(0.99) as f64 / 1e6),
            _ => String::new(),
        }
    ))
}
