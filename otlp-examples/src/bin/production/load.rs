//! The load run: requests that each take 50-150 ms (a downstream call), `concurrency` at a
//! time, each a server span with a child span, log records through the `tracing` bridge, a
//! request counter, a response-time histogram and, for the 5 % that fail, an error counter.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use opentelemetry::metrics::{Counter, Histogram as OtelHistogram};
use opentelemetry::KeyValue;
use otlp_exporters::OtlpPipeline;
use tokio::task::JoinSet;
use tracing::Instrument as _;

/// What the load run did, as measured.
pub struct Load {
    /// Requests made.
    pub requests: usize,
    /// Requests that failed (on purpose, 5 %).
    pub failed: usize,
    /// Log records emitted through the bridge.
    pub log_records: usize,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Response times, microseconds.
    pub response_micros: Histogram<u64>,
}

impl Load {
    /// Spans made: each request's server span and its child.
    pub fn spans(&self) -> usize {
        self.requests * 2
    }

    /// The response-time quantile `q`, in milliseconds.
    pub fn response_ms(&self, q: f64) -> f64 {
        self.response_micros.value_at_quantile(q) as f64 / 1000.0
    }
}

#[derive(Clone)]
struct Instruments {
    requests: Counter<u64>,
    errors: Counter<u64>,
    response_time: OtelHistogram<f64>,
}

/// Runs `requests` requests, `concurrency` in flight.
pub async fn run(
    pipeline: &OtlpPipeline,
    requests: usize,
    concurrency: usize,
) -> Result<Load, Box<dyn std::error::Error>> {
    let meter = pipeline.meter("production-metrics");
    let instruments = Instruments {
        requests: meter.u64_counter("requests_total").build(),
        errors: meter.u64_counter("errors_total").build(),
        response_time: meter
            .f64_histogram("response_time_seconds")
            .with_unit("s")
            .with_boundaries(vec![0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.5])
            .build(),
    };
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0..requests {
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let instruments = instruments.clone();
        tasks.spawn(async move {
            let outcome = request(i, &instruments).await;
            drop(permit);
            outcome
        });
    }
    let mut response_micros =
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).map_err(|e| e.to_string())?;
    let mut failed = 0;
    while let Some(outcome) = tasks.join_next().await {
        let (elapsed, did_fail) = outcome?;
        failed += usize::from(did_fail);
        let _ = response_micros.record(
            u64::try_from(elapsed.as_micros())
                .unwrap_or(u64::MAX)
                .max(1),
        );
    }
    Ok(Load {
        requests,
        failed,
        // "request received" and "request handled" / "operation failed" for each.
        log_records: requests * 2,
        elapsed: started.elapsed(),
        response_micros,
    })
}

/// One request: a server span, a downstream call of 50-150 ms in a child span, two log
/// records correlated with the server span. Returns its response time and whether it failed.
async fn request(i: usize, instruments: &Instruments) -> (Duration, bool) {
    let id = i64::try_from(i).unwrap_or(i64::MAX);
    let span = tracing::info_span!(
        target: "production::request",
        "POST /api/v1/data",
        otel.kind = "server",
        request.id = id,
        user.id = format!("user-{}", i % 100),
        otel.status_code = tracing::field::Empty,
        otel.status_message = tracing::field::Empty,
    );
    async {
        let begun = Instant::now();
        tracing::info!(target: "production::request", request_id = id, "request received");
        let downstream = Duration::from_millis(50 + fastrand::u64(0..=100));
        tokio::time::sleep(downstream)
            .instrument(tracing::info_span!(
                target: "production::request",
                "SELECT data",
                otel.kind = "client",
                db.system = "postgresql",
            ))
            .await;
        let failed = fastrand::f64() < 0.05;
        let attributes = [
            KeyValue::new("method", "POST"),
            KeyValue::new("endpoint", "/api/v1/data"),
        ];
        let elapsed = begun.elapsed();
        instruments.requests.add(1, &attributes);
        instruments
            .response_time
            .record(elapsed.as_secs_f64(), &attributes);
        if failed {
            instruments.errors.add(1, &attributes);
            let current = tracing::Span::current();
            current.record("otel.status_code", "ERROR");
            current.record("otel.status_message", "operation failed");
            tracing::error!(target: "production::request", request_id = id, "operation failed");
        } else {
            tracing::info!(
                target: "production::request",
                request_id = id,
                duration_ms = elapsed.as_secs_f64() * 1000.0,
                "request handled"
            );
        }
        (elapsed, failed)
    }
    .instrument(span)
    .await
}
