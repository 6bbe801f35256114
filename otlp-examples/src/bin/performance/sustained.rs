//! `--duration`: a sustained load at a steady rate for a while, on one thread, measuring the
//! cost of every span's end; the bar shows the time elapsed and the rate achieved.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use otlp_exporters::OtlpPipeline;

use super::burst::nanos;
use super::progress;
use super::report::histogram;

/// What the sustained run measured.
pub struct Sustained {
    /// Spans made.
    pub spans: u64,
    /// Rows for the table.
    pub rows: Vec<(String, String)>,
    /// The cost of `span.end()`, nanoseconds.
    pub end_cost: Histogram<u64>,
}

/// Makes `rate` spans a second for `duration` (in 10 ms steps; a step that falls behind is
/// caught up in the next, so the rate is the target, unless one thread cannot make it).
pub fn run(pipeline: &OtlpPipeline, duration: Duration, rate: u64) -> Sustained {
    let bar = progress::bar(rate.saturating_mul(duration.as_secs().max(1)), "spans");
    bar.set_message(format!(
        "sustained {} spans/s",
        progress::human(rate as f64)
    ));
    let tracer = pipeline.tracer("sustained-test");
    let mut end_cost = histogram();
    let started = Instant::now();
    let mut made: u64 = 0;
    while started.elapsed() < duration {
        let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
        while made < due {
            let mut span = tracer.start("sustained-operation");
            span.set_attribute(KeyValue::new("iteration", made as i64));
            let begun = Instant::now();
            span.end();
            let _ = end_cost.record(nanos(begun.elapsed()));
            made += 1;
        }
        bar.set_position(made);
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    Sustained {
        spans: made,
        rows: vec![
            (
                format!("sustained: {:.1} s, target spans/s", elapsed.as_secs_f64()),
                progress::human(rate as f64),
            ),
            (
                "sustained: spans/s achieved".to_owned(),
                progress::human(made as f64 / elapsed.as_secs_f64().max(1e-9)),
            ),
        ],
        end_cost,
    }
}
