//! The AIMD controller behind the adaptive limit, free of I/O and clocks: every method takes
//! `now`, so the layer drives it with tokio time and the tests with paused time.
//!
//! Time is cut into windows about one smoothed round trip long. At the end of a window the
//! limit goes down by `decrease_ratio` if any attempt in it met back pressure, if the window's
//! mean round trip rose clearly above the smoothed one (more than `rtt_deviation_scale`
//! deviations, and at least [`MIN_RISE`] of it), or if it is more than `rtt_tolerance` above
//! the baseline (the lowest window mean seen), a rise under [`MIN_QUEUEING`] never counting;
//! it goes up if the limit was reached during the window and the round trip did not rise;
//! otherwise it stays.
//!
//! Going up starts as a slow start, as TCP's does: the limit doubles per window until the
//! first decrease, and from then on it goes up by one. Growing by one from a serial start
//! (limit 1), a collector a long round trip away would need as many round trips as the rate
//! needs attempts in flight, while the queue in front of it holds only a few batches' worth of
//! time and drops the rest.
//!
//! The baseline is what keeps the limit near a collector's knee: past the knee each extra
//! request adds a little queueing delay, too little for one window to look like a rise against
//! a moving average that follows it, but the sum of those delays shows against the unloaded
//! round trip. A baseline older than `baseline_period` is measured again, by halving the limit
//! for one window, so that a collector that became slower for good is learnt.
//!
//! Only answered attempts are measured: a refused connection or a throttled request comes back
//! in microseconds and would teach the controller that the collector is fast.

use std::time::Duration;

use tokio::time::Instant;

use super::config::AdaptiveConfig;

/// A rise of the mean round trip smaller than this share of it never counts as rising, so
/// that a collector with a perfectly steady latency (no deviation) is not throttled by noise.
pub(crate) const MIN_RISE: f64 = 0.05;

/// A rise of the round trip smaller than this never counts as rising nor as queueing: against
/// a collector that answers in well under a millisecond, scheduling noise alone is several
/// times the round trip and would hold the limit at one.
pub(crate) const MIN_QUEUEING: f64 = 0.001;

/// The shortest window: below it a window would end at almost every answer.
const MIN_WINDOW: Duration = Duration::from_millis(1);

/// How an attempt ended, as the controller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The collector answered and took the request (or refused it for good: it is not busy).
    Answered,
    /// The collector pushed back: throttled, unavailable, timed out, or asked for a delay.
    BackPressure,
    /// The attempt says nothing about the collector's load (connection refused, dropped).
    Unmeasured,
}

/// An exponentially weighted mean and mean deviation of round trips, in seconds.
#[derive(Debug, Clone, Copy)]
struct Smoothed {
    mean: f64,
    deviation: f64,
}

/// The lowest window mean round trip seen, and since when: what the collector does unloaded.
#[derive(Debug, Clone, Copy)]
struct Baseline {
    rtt: f64,
    since: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    rtt_sum: f64,
    samples: u32,
    back_pressure: bool,
    reached_limit: bool,
}

impl Window {
    fn new(started: Instant) -> Self {
        Window {
            started,
            rtt_sum: 0.0,
            samples: 0,
            back_pressure: false,
            reached_limit: false,
        }
    }
}

/// The limit, what is in flight, and the round-trip statistics it is decided from.
#[derive(Debug)]
pub(crate) struct Controller {
    config: AdaptiveConfig,
    adaptive: bool,
    limit: usize,
    in_flight: usize,
    past: Option<Smoothed>,
    baseline: Option<Baseline>,
    probing: Option<usize>,
    /// Still in slow start: increases double the limit.
    slow_start: bool,
    window: Window,
    increases: u64,
    decreases: u64,
}

impl Controller {
    pub(crate) fn new(config: AdaptiveConfig, now: Instant) -> Self {
        Controller {
            limit: config.initial_limit.clamp(1, config.max_limit),
            config,
            adaptive: true,
            in_flight: 0,
            past: None,
            baseline: None,
            probing: None,
            slow_start: true,
            window: Window::new(now),
            increases: 0,
            decreases: 0,
        }
    }

    /// A fixed limit: the controller only counts.
    pub(crate) fn fixed(limit: usize, now: Instant) -> Self {
        let config = AdaptiveConfig::default()
            .with_initial_limit(limit)
            .with_max_limit(limit);
        Controller {
            adaptive: false,
            ..Controller::new(config, now)
        }
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }

    pub(crate) fn rtt(&self) -> Option<Duration> {
        self.past.map(|p| Duration::from_secs_f64(p.mean))
    }

    pub(crate) fn adjustments(&self) -> (u64, u64) {
        (self.increases, self.decreases)
    }

    /// Takes a slot if one is free.
    pub(crate) fn try_acquire(&mut self) -> bool {
        if self.in_flight >= self.limit {
            self.window.reached_limit = true;
            return false;
        }
        self.in_flight += 1;
        if self.in_flight >= self.limit {
            self.window.reached_limit = true;
        }
        true
    }

    /// Gives a slot back and learns from how the attempt ended. Returns whether the limit went
    /// up, so that the caller can wake a waiter for the new slot.
    pub(crate) fn release(&mut self, now: Instant, rtt: Duration, outcome: Outcome) -> bool {
        self.in_flight = self.in_flight.saturating_sub(1);
        match outcome {
            Outcome::Answered => self.sample(rtt),
            // A refusal comes back fast; its round trip says nothing about the work load.
            Outcome::BackPressure => self.window.back_pressure = true,
            Outcome::Unmeasured => {}
        }
        let before = self.limit;
        self.end_window_if_due(now);
        self.limit > before
    }

    /// Gives a slot back without a measurement (the attempt was cancelled).
    pub(crate) fn cancel(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    fn sample(&mut self, rtt: Duration) {
        self.window.rtt_sum += rtt.as_secs_f64();
        self.window.samples += 1;
    }

    fn end_window_if_due(&mut self, now: Instant) {
        let length = self
            .past
            .map(|p| Duration::from_secs_f64(p.mean))
            .unwrap_or(Duration::ZERO)
            .max(MIN_WINDOW);
        if now.saturating_duration_since(self.window.started) < length {
            return;
        }
        if self.window.samples == 0 && !self.window.back_pressure {
            return;
        }
        let current =
            (self.window.samples > 0).then(|| self.window.rtt_sum / f64::from(self.window.samples));
        if !self.adaptive {
            // A fixed limit: the round-trip statistics stay fresh, the limit never moves.
            self.roll(now, current);
            return;
        }
        if let Some(saved) = self.probing.take() {
            // The window at a lowered limit is over: what it measured is the new floor.
            if let Some(current) = current {
                self.baseline = Some(Baseline {
                    rtt: current,
                    since: now,
                });
            }
            self.limit = saved;
            if self.window.back_pressure {
                self.decrease();
            }
            self.roll(now, current);
            return;
        }
        if let Some(current) = current {
            match self.baseline {
                Some(b) if current > b.rtt => {}
                _ => {
                    self.baseline = Some(Baseline {
                        rtt: current,
                        since: now,
                    })
                }
            }
        }
        if let Some(b) = self.baseline {
            if now.saturating_duration_since(b.since) >= self.config.baseline_period {
                self.probe(now, current);
                return;
            }
        }
        let rising = match (self.past, current) {
            (Some(past), Some(current)) => {
                let threshold = (past.deviation * self.config.rtt_deviation_scale)
                    .max(past.mean * MIN_RISE)
                    .max(MIN_QUEUEING);
                current > past.mean + threshold
            }
            _ => false,
        };
        let steady = match (self.past, current) {
            (Some(past), Some(current)) => current <= past.mean + past.deviation.max(MIN_QUEUEING),
            _ => true,
        };
        let queued = match (self.baseline, current) {
            (Some(b), Some(current)) => {
                current > b.rtt + (b.rtt * self.config.rtt_tolerance).max(MIN_QUEUEING)
            }
            _ => false,
        };
        if self.window.back_pressure || rising || queued {
            self.decrease();
        } else if self.window.reached_limit && steady && self.limit < self.config.max_limit {
            let step = if self.slow_start { self.limit } else { 1 };
            self.limit = (self.limit + step).min(self.config.max_limit);
            self.increases += 1;
        }
        self.roll(now, current);
    }

    fn decrease(&mut self) {
        self.slow_start = false;
        let lowered = (self.limit as f64 * self.config.decrease_ratio).floor() as usize;
        let lowered = lowered.min(self.limit.saturating_sub(1)).max(1);
        if lowered < self.limit {
            self.limit = lowered;
            self.decreases += 1;
        }
    }

    /// The lowest round trip is older than the baseline period: it may no longer be what the
    /// collector does unloaded. For one window the limit is halved, and what that window
    /// measures becomes the new baseline.
    fn probe(&mut self, now: Instant, current: Option<f64>) {
        if self.limit > 1 {
            self.probing = Some(self.limit);
            self.limit = (self.limit / 2).max(1);
        } else if let Some(current) = current {
            self.baseline = Some(Baseline {
                rtt: current,
                since: now,
            });
        }
        self.roll(now, current);
    }

    /// Folds the window's mean into the smoothed statistics and starts the next window.
    fn roll(&mut self, now: Instant, current: Option<f64>) {
        if let Some(current) = current {
            let alpha = self.config.rtt_smoothing;
            self.past = Some(match self.past {
                None => Smoothed {
                    mean: current,
                    deviation: 0.0,
                },
                Some(past) => Smoothed {
                    mean: past.mean + alpha * (current - past.mean),
                    deviation: past.deviation
                        + alpha * ((current - past.mean).abs() - past.deviation),
                },
            });
        }
        self.window = Window::new(now);
        if self.in_flight >= self.limit {
            self.window.reached_limit = true;
        }
    }
}

#[cfg(test)]
mod tests;
