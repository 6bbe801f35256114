//! Settings of the concurrency limit: fixed, or adaptive with its AIMD knobs.

use std::time::Duration;

use otlp_core::InvalidSetting;

/// How many attempts may be in flight at once through one
/// [`AdaptiveConcurrency`](super::AdaptiveConcurrency) layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConcurrencyConfig {
    /// Exactly this many, always.
    Fixed(usize),
    /// A limit found by additive increase and multiplicative decrease; the default.
    Adaptive(AdaptiveConfig),
}

impl Default for ConcurrencyConfig {
    fn default() -> Self {
        ConcurrencyConfig::Adaptive(AdaptiveConfig::default())
    }
}

impl ConcurrencyConfig {
    /// Checks every value; the error names the setting and the value.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        match self {
            ConcurrencyConfig::Fixed(0) => Err(InvalidSetting::new(
                "concurrency.fixed",
                "0",
                "must be at least 1",
            )),
            ConcurrencyConfig::Fixed(_) => Ok(()),
            ConcurrencyConfig::Adaptive(adaptive) => adaptive.validate(),
        }
    }
}

/// The knobs of the adaptive limit. The defaults start where a serial exporter is (one attempt
/// at a time) and let the limit grow to 64: doubling per round trip until the first decrease
/// (a slow start), then by one per round trip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveConfig {
    /// The limit before anything was measured. Default 4: against a collector 20 ms away at
    /// 200,000 spans/s, starting at 1 dropped 1.1-1.4 % of 10 s of spans in the first round
    /// trips (the queue holds less than one round trip), starting at 4 dropped 0.3 %
    /// (BENCHMARKS.md, row 7); a collector that cannot take 4 pushes back in the first window.
    pub initial_limit: usize,
    /// The limit never goes above this. Default 64.
    pub max_limit: usize,
    /// On back pressure or a rising round trip the limit is multiplied by this (and goes down
    /// by at least one). Default 0.9.
    pub decrease_ratio: f64,
    /// The weight of each window's mean round trip in the smoothed one, in (0, 1]. Default 0.4.
    pub rtt_smoothing: f64,
    /// How many mean deviations above the smoothed round trip count as rising. Default 2.5.
    pub rtt_deviation_scale: f64,
    /// How far above the baseline (the lowest round trip seen) a window's mean may be before
    /// the limit goes down, as a share of the baseline. Default 0.5: up to 1.5 times the
    /// unloaded round trip, and never less than 1 ms.
    pub rtt_tolerance: f64,
    /// How long a baseline holds before it is measured again (one window at half the limit).
    /// Default 10 s.
    pub baseline_period: Duration,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        AdaptiveConfig {
            initial_limit: 4,
            max_limit: 64,
            decrease_ratio: 0.9,
            rtt_smoothing: 0.4,
            rtt_deviation_scale: 2.5,
            rtt_tolerance: 0.5,
            baseline_period: Duration::from_secs(10),
        }
    }
}

impl AdaptiveConfig {
    /// Sets [`initial_limit`](Self::initial_limit).
    pub fn with_initial_limit(mut self, limit: usize) -> Self {
        self.initial_limit = limit;
        self
    }

    /// Sets [`max_limit`](Self::max_limit).
    pub fn with_max_limit(mut self, limit: usize) -> Self {
        self.max_limit = limit;
        self
    }

    /// Sets [`decrease_ratio`](Self::decrease_ratio).
    pub fn with_decrease_ratio(mut self, ratio: f64) -> Self {
        self.decrease_ratio = ratio;
        self
    }

    /// Sets [`rtt_smoothing`](Self::rtt_smoothing).
    pub fn with_rtt_smoothing(mut self, weight: f64) -> Self {
        self.rtt_smoothing = weight;
        self
    }

    /// Sets [`rtt_deviation_scale`](Self::rtt_deviation_scale).
    pub fn with_rtt_deviation_scale(mut self, scale: f64) -> Self {
        self.rtt_deviation_scale = scale;
        self
    }

    /// Sets [`rtt_tolerance`](Self::rtt_tolerance).
    pub fn with_rtt_tolerance(mut self, share: f64) -> Self {
        self.rtt_tolerance = share;
        self
    }

    /// Sets [`baseline_period`](Self::baseline_period).
    pub fn with_baseline_period(mut self, period: Duration) -> Self {
        self.baseline_period = period;
        self
    }

    /// Checks every value; the error names the setting and the value.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let fail = |setting: &str, value: String, reason: &str| {
            Err(InvalidSetting::new(setting, value, reason))
        };
        if self.max_limit == 0 {
            return fail("concurrency.max_limit", "0".into(), "must be at least 1");
        }
        if self.initial_limit == 0 || self.initial_limit > self.max_limit {
            return fail(
                "concurrency.initial_limit",
                self.initial_limit.to_string(),
                "must be between 1 and concurrency.max_limit",
            );
        }
        if !(self.decrease_ratio > 0.0 && self.decrease_ratio < 1.0) {
            return fail(
                "concurrency.decrease_ratio",
                self.decrease_ratio.to_string(),
                "must be above 0 and below 1",
            );
        }
        if !(self.rtt_smoothing > 0.0 && self.rtt_smoothing <= 1.0) {
            return fail(
                "concurrency.rtt_smoothing",
                self.rtt_smoothing.to_string(),
                "must be above 0 and at most 1",
            );
        }
        if !(self.rtt_deviation_scale.is_finite() && self.rtt_deviation_scale >= 0.0) {
            return fail(
                "concurrency.rtt_deviation_scale",
                self.rtt_deviation_scale.to_string(),
                "must be a finite number, 0 or more",
            );
        }
        if !(self.rtt_tolerance.is_finite() && self.rtt_tolerance > 0.0) {
            return fail(
                "concurrency.rtt_tolerance",
                self.rtt_tolerance.to_string(),
                "must be a finite number above 0",
            );
        }
        if self.baseline_period.is_zero() {
            return fail(
                "concurrency.baseline_period",
                "0s".into(),
                "must be longer than 0",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_value_is_named() {
        let cases = [
            (ConcurrencyConfig::Fixed(0), "concurrency.fixed"),
            (
                ConcurrencyConfig::Adaptive(AdaptiveConfig::default().with_max_limit(0)),
                "concurrency.max_limit",
            ),
            (
                ConcurrencyConfig::Adaptive(AdaptiveConfig::default().with_initial_limit(65)),
                "concurrency.initial_limit",
            ),
            (
                ConcurrencyConfig::Adaptive(AdaptiveConfig::default().with_decrease_ratio(1.0)),
                "concurrency.decrease_ratio",
            ),
            (
                ConcurrencyConfig::Adaptive(AdaptiveConfig::default().with_rtt_smoothing(0.0)),
                "concurrency.rtt_smoothing",
            ),
            (
                ConcurrencyConfig::Adaptive(
                    AdaptiveConfig::default().with_rtt_deviation_scale(f64::NAN),
                ),
                "concurrency.rtt_deviation_scale",
            ),
            (
                ConcurrencyConfig::Adaptive(AdaptiveConfig::default().with_rtt_tolerance(0.0)),
                "concurrency.rtt_tolerance",
            ),
            (
                ConcurrencyConfig::Adaptive(
                    AdaptiveConfig::default().with_baseline_period(Duration::ZERO),
                ),
                "concurrency.baseline_period",
            ),
        ];
        for (config, setting) in cases {
            let error = config.validate().expect_err(setting);
            assert!(error.to_string().contains(setting), "{error}");
        }
        assert!(ConcurrencyConfig::default().validate().is_ok());
    }
}
