//! The breaker's state machine, free of I/O and clocks: every method takes `now`, so it can be
//! driven by paused tokio time in the layer and by a model in property tests.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::config::{BreakerConfig, Window};

/// The state a circuit is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Calls go through; outcomes are counted.
    Closed,
    /// Calls fail at once until the open time is over.
    Open,
    /// A few probe calls go through to test the backend.
    HalfOpen,
    /// Opened by hand; stays open until reset.
    ForcedOpen,
    /// Switched off by hand: calls go through and nothing is counted, until reset.
    Disabled,
}

/// How a call ended, as far as the breaker is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The backend answered (success, or a failure that says it is up).
    Success,
    /// The backend failed in a way that says it is unhealthy.
    Failure,
    /// The failure was local; it says nothing about the backend.
    Ignored,
}

/// The answer to "may this call go through?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Yes; report the outcome with this generation.
    Permit {
        /// The transition count when the permit was given.
        generation: u64,
        /// Whether the call is a half-open probe.
        probe: bool,
    },
    /// No; `retry_after` is the time until the next probe, when known.
    Reject {
        /// Time until the circuit admits a probe.
        retry_after: Option<Duration>,
    },
}

/// A change of state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The state before.
    pub from: CircuitState,
    /// The state after.
    pub to: CircuitState,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { in_flight: u32, succeeded: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Normal,
    ForcedOpen,
    Disabled,
}

#[derive(Debug, Clone, Copy)]
struct Call {
    at: Instant,
    failed: bool,
    slow: bool,
}

/// The circuit breaker state machine.
#[derive(Debug)]
pub struct Machine {
    config: BreakerConfig,
    phase: Phase,
    mode: Mode,
    calls: VecDeque<Call>,
    consecutive_failures: u32,
    reopenings: u32,
    generation: u64,
    rng: fastrand::Rng,
}

impl Machine {
    /// A closed circuit with `config` (already validated).
    pub fn new(config: BreakerConfig) -> Self {
        Machine {
            config,
            phase: Phase::Closed,
            mode: Mode::Normal,
            calls: VecDeque::new(),
            consecutive_failures: 0,
            reopenings: 0,
            generation: 0,
            rng: fastrand::Rng::new(),
        }
    }

    /// The current state (an elapsed open time shows as half-open).
    pub fn state(&self, now: Instant) -> CircuitState {
        match (self.mode, self.phase) {
            (Mode::ForcedOpen, _) => CircuitState::ForcedOpen,
            (Mode::Disabled, _) => CircuitState::Disabled,
            (Mode::Normal, Phase::Closed) => CircuitState::Closed,
            (Mode::Normal, Phase::Open { until }) if now < until => CircuitState::Open,
            (Mode::Normal, Phase::Open { .. } | Phase::HalfOpen { .. }) => CircuitState::HalfOpen,
        }
    }

    /// Decides whether a call may go through now.
    pub fn admit(&mut self, now: Instant) -> (Admission, Option<Transition>) {
        let generation = self.generation;
        match self.mode {
            Mode::ForcedOpen => return (Admission::Reject { retry_after: None }, None),
            Mode::Disabled => {
                return (
                    Admission::Permit {
                        generation,
                        probe: false,
                    },
                    None,
                )
            }
            Mode::Normal => {}
        }
        let mut transition = None;
        if let Phase::Open { until } = self.phase {
            if now < until {
                return (
                    Admission::Reject {
                        retry_after: Some(until - now),
                    },
                    None,
                );
            }
            transition = self.enter(Phase::HalfOpen {
                in_flight: 0,
                succeeded: 0,
            });
        }
        let generation = self.generation;
        let admission = match self.phase {
            Phase::Closed => Admission::Permit {
                generation,
                probe: false,
            },
            Phase::HalfOpen {
                in_flight,
                succeeded,
            } if in_flight + succeeded < self.config.half_open_probes => {
                self.phase = Phase::HalfOpen {
                    in_flight: in_flight + 1,
                    succeeded,
                };
                Admission::Permit {
                    generation,
                    probe: true,
                }
            }
            Phase::HalfOpen { .. } | Phase::Open { .. } => Admission::Reject { retry_after: None },
        };
        (admission, transition)
    }

    /// Records the outcome of a call admitted with `generation`. Results from before the last
    /// transition change nothing.
    pub fn record(
        &mut self,
        generation: u64,
        probe: bool,
        outcome: Outcome,
        duration: Duration,
        now: Instant,
    ) -> Option<Transition> {
        if generation != self.generation || self.mode != Mode::Normal {
            return None;
        }
        match self.phase {
            Phase::HalfOpen {
                in_flight,
                succeeded,
            } if probe => {
                let in_flight = in_flight.saturating_sub(1);
                match outcome {
                    Outcome::Failure => {
                        self.reopenings += 1;
                        self.open(now)
                    }
                    Outcome::Success if succeeded + 1 >= self.config.half_open_probes => {
                        self.reopenings = 0;
                        self.enter(Phase::Closed)
                    }
                    Outcome::Success => {
                        self.phase = Phase::HalfOpen {
                            in_flight,
                            succeeded: succeeded + 1,
                        };
                        None
                    }
                    Outcome::Ignored => {
                        self.phase = Phase::HalfOpen {
                            in_flight,
                            succeeded,
                        };
                        None
                    }
                }
            }
            Phase::Closed if outcome != Outcome::Ignored => {
                let failed = outcome == Outcome::Failure;
                let slow = self
                    .config
                    .slow_call_duration
                    .is_some_and(|limit| duration >= limit);
                self.calls.push_back(Call {
                    at: now,
                    failed,
                    slow,
                });
                self.consecutive_failures = if failed {
                    self.consecutive_failures + 1
                } else {
                    0
                };
                self.prune(now);
                if self.should_open() {
                    self.open(now)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// A permitted call ended without an outcome (dropped or cancelled): frees its probe slot.
    pub fn release(&mut self, generation: u64, probe: bool) {
        if generation != self.generation || !probe {
            return;
        }
        if let Phase::HalfOpen {
            in_flight,
            succeeded,
        } = self.phase
        {
            self.phase = Phase::HalfOpen {
                in_flight: in_flight.saturating_sub(1),
                succeeded,
            };
        }
    }

    /// Opens the circuit until [`Machine::reset`].
    pub fn force_open(&mut self, now: Instant) -> Option<Transition> {
        self.set_mode(Mode::ForcedOpen, now)
    }

    /// Lets every call through and counts nothing until [`Machine::reset`].
    pub fn disable(&mut self, now: Instant) -> Option<Transition> {
        self.set_mode(Mode::Disabled, now)
    }

    /// Back to closed with empty counts.
    pub fn reset(&mut self, now: Instant) -> Option<Transition> {
        let from = self.state(now);
        self.mode = Mode::Normal;
        self.reopenings = 0;
        self.phase = Phase::Closed;
        self.clear_counts();
        self.generation += 1;
        (from != CircuitState::Closed).then_some(Transition {
            from,
            to: CircuitState::Closed,
        })
    }

    fn set_mode(&mut self, mode: Mode, now: Instant) -> Option<Transition> {
        let from = self.state(now);
        self.mode = mode;
        self.generation += 1;
        let to = self.state(now);
        (from != to).then_some(Transition { from, to })
    }

    fn should_open(&self) -> bool {
        if self
            .config
            .consecutive_failures
            .is_some_and(|n| self.consecutive_failures >= n)
        {
            return true;
        }
        let calls = self.calls.len();
        if calls == 0 || calls < self.config.minimum_calls {
            return false;
        }
        let rate = |count: usize| count as f64 / calls as f64;
        let failures = self.calls.iter().filter(|c| c.failed).count();
        let slow = self.calls.iter().filter(|c| c.slow).count();
        rate(failures) >= self.config.failure_rate_threshold
            || (self.config.slow_call_duration.is_some()
                && rate(slow) >= self.config.slow_call_rate_threshold)
    }

    fn prune(&mut self, now: Instant) {
        match self.config.window {
            Window::Count(n) => {
                while self.calls.len() > n {
                    self.calls.pop_front();
                }
            }
            Window::Time(period) => {
                while self
                    .calls
                    .front()
                    .is_some_and(|c| now.saturating_duration_since(c.at) >= period)
                {
                    self.calls.pop_front();
                }
            }
        }
    }

    /// The open time after `reopenings` failed recoveries: grown, capped, jittered.
    fn open_duration(&mut self) -> Duration {
        let config = &self.config;
        let exponent = i32::try_from(self.reopenings).unwrap_or(i32::MAX);
        let grown =
            config.open_duration.as_secs_f64() * config.open_duration_multiplier.powi(exponent);
        let capped = grown.min(config.max_open_duration.as_secs_f64());
        let spread = config.open_duration_jitter * (self.rng.f64() * 2.0 - 1.0);
        Duration::from_secs_f64((capped * (1.0 + spread)).max(0.0))
    }

    fn open(&mut self, now: Instant) -> Option<Transition> {
        let until = now + self.open_duration();
        self.enter(Phase::Open { until })
    }

    fn enter(&mut self, phase: Phase) -> Option<Transition> {
        let from = Self::phase_state(self.phase);
        self.phase = phase;
        self.generation += 1;
        if matches!(phase, Phase::Closed | Phase::Open { .. }) {
            self.clear_counts();
        }
        let to = Self::phase_state(phase);
        (from != to).then_some(Transition { from, to })
    }

    /// The state a phase stands for, without looking at the clock.
    fn phase_state(phase: Phase) -> CircuitState {
        match phase {
            Phase::Closed => CircuitState::Closed,
            Phase::Open { .. } => CircuitState::Open,
            Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    fn clear_counts(&mut self) {
        self.calls.clear();
        self.consecutive_failures = 0;
    }
}
