//! [`RetryConfig`] and [`BudgetConfig`]: the retry layer's settings, plain data, and their
//! checks.

use std::time::Duration;

use otlp_core::InvalidSetting;

use super::Backoff;

/// Settings of the retry budget: retries may add at most `retry_ratio` of the recent request
/// rate, plus `min_retries_per_second`, so an outage cannot multiply the load on a collector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetConfig {
    /// How long a deposit counts (1 to 60 seconds).
    pub window: Duration,
    /// Retries always allowed per second.
    pub min_retries_per_second: u32,
    /// Retries allowed per request, on top of the minimum (0.0 to 1000.0).
    pub retry_ratio: f32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            window: Duration::from_secs(10),
            min_retries_per_second: 10,
            retry_ratio: 0.2,
        }
    }
}

/// Settings of the retry layer.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Attempts in all, the first included (1 turns retries off).
    pub max_attempts: u32,
    /// The backoff schedule.
    pub backoff: Backoff,
    /// The deadline of the whole session, from the first attempt's start.
    pub total_timeout: Option<Duration>,
    /// The shared retry budget, `None` for unlimited retries.
    pub budget: Option<BudgetConfig>,
    /// The timeout of one attempt (the layer below): no attempt starts with less than this
    /// left before the total deadline. `None`, or not shorter than `total_timeout`: attempts
    /// start until the deadline.
    pub attempt_timeout: Option<Duration>,
}

impl Default for RetryConfig {
    /// 5 attempts, backoff from 1 s doubling to at most 30 s, 60 s in all, the default budget.
    fn default() -> Self {
        RetryConfig {
            max_attempts: 5,
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(30),
                multiplier: 2.0,
            },
            total_timeout: Some(Duration::from_secs(60)),
            budget: Some(BudgetConfig::default()),
            attempt_timeout: None,
        }
    }
}

impl RetryConfig {
    /// Sets the number of attempts.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets the backoff schedule.
    pub fn with_backoff(mut self, initial: Duration, max: Duration, multiplier: f64) -> Self {
        self.backoff = Backoff {
            initial,
            max,
            multiplier,
        };
        self
    }

    /// Sets the session deadline.
    pub fn with_total_timeout(mut self, timeout: Duration) -> Self {
        self.total_timeout = Some(timeout);
        self
    }

    /// Sets the timeout of one attempt, so that no attempt starts that could not finish before
    /// the total deadline.
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Sets (or removes) the retry budget.
    pub fn with_budget(mut self, budget: Option<BudgetConfig>) -> Self {
        self.budget = budget;
        self
    }

    /// Checks the settings; each error names the setting and the value.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if self.max_attempts == 0 {
            return Err(InvalidSetting::new(
                "retry.max_attempts",
                "0",
                "at least 1 attempt is needed",
            ));
        }
        let backoff = &self.backoff;
        if !(backoff.multiplier.is_finite() && backoff.multiplier >= 1.0) {
            return Err(InvalidSetting::new(
                "retry.multiplier",
                backoff.multiplier.to_string(),
                "must be a finite number of at least 1.0",
            ));
        }
        if backoff.initial > backoff.max {
            return Err(InvalidSetting::new(
                "retry.initial_backoff",
                format!("{:?}", backoff.initial),
                format!("must not exceed retry.max_backoff ({:?})", backoff.max),
            ));
        }
        if self.total_timeout == Some(Duration::ZERO) {
            return Err(InvalidSetting::new(
                "retry.total_timeout",
                "0s",
                "must be positive",
            ));
        }
        if let Some(budget) = &self.budget {
            if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&budget.window) {
                return Err(InvalidSetting::new(
                    "retry.budget.window",
                    format!("{:?}", budget.window),
                    "must be between 1 s and 60 s",
                ));
            }
            if !(0.0..=1000.0).contains(&budget.retry_ratio) {
                return Err(InvalidSetting::new(
                    "retry.budget.retry_ratio",
                    budget.retry_ratio.to_string(),
                    "must be between 0.0 and 1000.0",
                ));
            }
        }
        Ok(())
    }
}
