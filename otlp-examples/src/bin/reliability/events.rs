//! What the reliability demo reports as it happens, and counts for the final table. Frequent
//! events (rejections, timeouts, retries) are printed the first few times in each phase and
//! then summed up when the phase ends, so the output stays readable under load.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Lines printed per kind of frequent event in one phase.
const SHOWN_PER_PHASE: u64 = 3;

/// Something the layers did.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// The breaker opened.
    Opened,
    /// The breaker went half-open: probe calls go through.
    HalfOpen,
    /// The breaker closed again.
    Closed,
    /// The bulkhead refused a call: no slot within its wait bound.
    BulkheadRejected,
    /// The open circuit refused a call without sending it.
    CircuitRefused,
    /// One attempt ran past the per-attempt timeout.
    AttemptTimeout { call: u64, attempt: u32 },
    /// The retry layer sent an attempt again after `delay`.
    Retry {
        call: u64,
        attempt: u32,
        delay: Duration,
    },
    /// The health endpoint's answer changed.
    Health { code: u16, status: String },
}

impl Event {
    /// The row of the final table.
    fn row(&self) -> &'static str {
        match self {
            Event::Opened => "breaker opened",
            Event::HalfOpen => "breaker half-open (probe calls let through)",
            Event::Closed => "breaker closed again",
            Event::BulkheadRejected => "bulkhead rejections",
            Event::CircuitRefused => "calls refused by the open breaker",
            Event::AttemptTimeout { .. } => "per-attempt timeouts",
            Event::Retry { .. } => "retries that reached the service",
            Event::Health { .. } => "health endpoint changes",
        }
    }

    fn frequent(&self) -> bool {
        matches!(
            self,
            Event::BulkheadRejected
                | Event::CircuitRefused
                | Event::AttemptTimeout { .. }
                | Event::Retry { .. }
        )
    }

    fn line(&self) -> String {
        match self {
            Event::Opened => {
                "⚡ breaker OPEN: calls are refused without reaching the service".into()
            }
            Event::HalfOpen => "🔎 breaker HALF-OPEN: probe calls go through".into(),
            Event::Closed => "✅ breaker CLOSED: the probes succeeded".into(),
            Event::BulkheadRejected => "🚧 bulkhead full: a call was rejected".into(),
            Event::CircuitRefused => "⛔ a call was refused by the open breaker".into(),
            Event::AttemptTimeout { call, attempt } => {
                format!("⏱️  call {call}, attempt {attempt}: timed out after 200 ms")
            }
            Event::Retry {
                call,
                attempt,
                delay,
            } => format!(
                "↻ call {call}: attempt {attempt} after a {} ms delay",
                delay.as_millis()
            ),
            Event::Health { code, status } => format!("🩺 GET /health → {code} ({status})"),
        }
    }
}

#[derive(Default)]
struct State {
    total: BTreeMap<&'static str, u64>,
    in_phase: BTreeMap<&'static str, u64>,
    retry_delays: Vec<Duration>,
}

/// The event log of one run.
pub(crate) struct Events {
    start: Instant,
    state: Mutex<State>,
}

impl Events {
    pub(crate) fn new() -> Self {
        Events {
            start: Instant::now(),
            state: Mutex::new(State::default()),
        }
    }

    /// Counts `event` and prints it (frequent ones only the first few times in a phase).
    pub(crate) fn record(&self, event: Event) {
        let row = event.row();
        let mut state = self.state.lock();
        *state.total.entry(row).or_default() += 1;
        let seen = state.in_phase.entry(row).or_default();
        *seen += 1;
        let show = !event.frequent() || *seen <= SHOWN_PER_PHASE;
        if let Event::Retry { delay, .. } = &event {
            state.retry_delays.push(*delay);
        }
        drop(state);
        if show {
            println!(
                "  {:>6.2}s  {}",
                self.start.elapsed().as_secs_f64(),
                event.line()
            );
        }
    }

    /// Prints how many frequent events were not shown, and starts a new phase.
    pub(crate) fn phase(&self, title: &str) {
        let mut state = self.state.lock();
        for (row, count) in std::mem::take(&mut state.in_phase) {
            if count > SHOWN_PER_PHASE {
                println!("           … {row}: {count} in that phase");
            }
        }
        drop(state);
        println!(
            "\n  {:>6.2}s  ── {title}",
            self.start.elapsed().as_secs_f64()
        );
    }

    /// How many of the events of `row` happened.
    pub(crate) fn count(&self, event: &Event) -> u64 {
        self.state
            .lock()
            .total
            .get(event.row())
            .copied()
            .unwrap_or(0)
    }

    /// The final table: every kind of event, counted, and the retry delays measured.
    pub(crate) fn print_table(&self) {
        let state = self.state.lock();
        let rows = [
            Event::Opened,
            Event::HalfOpen,
            Event::Closed,
            Event::CircuitRefused,
            Event::BulkheadRejected,
            Event::AttemptTimeout {
                call: 0,
                attempt: 0,
            },
            Event::Retry {
                call: 0,
                attempt: 0,
                delay: Duration::ZERO,
            },
            Event::Health {
                code: 0,
                status: String::new(),
            },
        ];
        for event in rows {
            let row = event.row();
            println!(
                "{row:<46} {:>6}",
                state.total.get(row).copied().unwrap_or(0)
            );
        }
        let delays = &state.retry_delays;
        if let (Some(min), Some(max)) = (delays.iter().min(), delays.iter().max()) {
            println!(
                "{:<46} {:>6}",
                "retry delay measured, min–max (ms)",
                format!("{}–{}", min.as_millis(), max.as_millis())
            );
        }
    }
}
