//! Circuit breaker settings.

use std::time::Duration;

use otlp_core::InvalidSetting;

/// Which recent calls the failure rate is computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last N calls.
    Count(usize),
    /// The calls of the last period.
    Time(Duration),
}

/// Settings of a circuit breaker. The defaults follow resilience4j's: a 100-call window, open at
/// a 50 % failure rate over at least 10 calls, 30 s open at first.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// The sliding window.
    pub window: Window,
    /// Open when at least this share of the window's calls failed (0.0 to 1.0).
    pub failure_rate_threshold: f64,
    /// The window must hold at least this many calls before a rate can open the circuit.
    pub minimum_calls: usize,
    /// Open after this many failures in a row, whatever the rate (`None`: off).
    pub consecutive_failures: Option<u32>,
    /// Calls slower than this count as slow (`None`: off).
    pub slow_call_duration: Option<Duration>,
    /// Open when at least this share of the window's calls were slow.
    pub slow_call_rate_threshold: f64,
    /// How long the circuit stays open the first time.
    pub open_duration: Duration,
    /// Each re-opening without a successful recovery multiplies the open time by this.
    pub open_duration_multiplier: f64,
    /// The longest open time.
    pub max_open_duration: Duration,
    /// Random spread of the open time, as a share of it (0.1: up to 10 % shorter or longer).
    pub open_duration_jitter: f64,
    /// Calls let through while half-open; all must succeed to close the circuit.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            window: Window::Count(100),
            failure_rate_threshold: 0.5,
            minimum_calls: 10,
            consecutive_failures: None,
            slow_call_duration: None,
            slow_call_rate_threshold: 1.0,
            open_duration: Duration::from_secs(30),
            open_duration_multiplier: 2.0,
            max_open_duration: Duration::from_secs(300),
            open_duration_jitter: 0.1,
            half_open_probes: 1,
        }
    }
}

impl BreakerConfig {
    /// Sets the window.
    pub fn with_window(mut self, window: Window) -> Self {
        self.window = window;
        self
    }

    /// Sets the failure-rate threshold and the minimum number of calls.
    pub fn with_failure_rate(mut self, threshold: f64, minimum_calls: usize) -> Self {
        self.failure_rate_threshold = threshold;
        self.minimum_calls = minimum_calls;
        self
    }

    /// Opens after `n` failures in a row.
    pub fn with_consecutive_failures(mut self, n: u32) -> Self {
        self.consecutive_failures = Some(n);
        self
    }

    /// Counts calls slower than `duration` as slow; opens at `rate` slow calls.
    pub fn with_slow_calls(mut self, duration: Duration, rate: f64) -> Self {
        self.slow_call_duration = Some(duration);
        self.slow_call_rate_threshold = rate;
        self
    }

    /// Sets the open time, its growth on re-opening, its cap and its jitter.
    pub fn with_open_duration(
        mut self,
        first: Duration,
        multiplier: f64,
        max: Duration,
        jitter: f64,
    ) -> Self {
        self.open_duration = first;
        self.open_duration_multiplier = multiplier;
        self.max_open_duration = max;
        self.open_duration_jitter = jitter;
        self
    }

    /// Sets the number of half-open probes.
    pub fn with_half_open_probes(mut self, probes: u32) -> Self {
        self.half_open_probes = probes;
        self
    }

    /// Checks the settings; each error names the setting and the value.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let share = |name: &str, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(InvalidSetting::new(
                    name,
                    value.to_string(),
                    "must be between 0.0 and 1.0",
                ))
            }
        };
        share(
            "circuit_breaker.failure_rate_threshold",
            self.failure_rate_threshold,
        )?;
        share(
            "circuit_breaker.slow_call_rate_threshold",
            self.slow_call_rate_threshold,
        )?;
        share(
            "circuit_breaker.open_duration_jitter",
            self.open_duration_jitter,
        )?;
        match self.window {
            Window::Count(0) => Err(InvalidSetting::new(
                "circuit_breaker.window",
                "0 calls",
                "must be positive",
            )),
            Window::Time(d) if d.is_zero() => Err(InvalidSetting::new(
                "circuit_breaker.window",
                "0s",
                "must be positive",
            )),
            _ => Ok(()),
        }?;
        if self.half_open_probes == 0 {
            return Err(InvalidSetting::new(
                "circuit_breaker.half_open_probes",
                "0",
                "at least 1 probe is needed",
            ));
        }
        if !(self.open_duration_multiplier.is_finite() && self.open_duration_multiplier >= 1.0) {
            return Err(InvalidSetting::new(
                "circuit_breaker.open_duration_multiplier",
                self.open_duration_multiplier.to_string(),
                "must be a finite number of at least 1.0",
            ));
        }
        if self.open_duration > self.max_open_duration {
            return Err(InvalidSetting::new(
                "circuit_breaker.open_duration",
                format!("{:?}", self.open_duration),
                format!(
                    "must not exceed circuit_breaker.max_open_duration ({:?})",
                    self.max_open_duration
                ),
            ));
        }
        Ok(())
    }
}
