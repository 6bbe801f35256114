//! Retry with the OTLP classification, server delay hints, full jitter, a total deadline and a
// tidy: long-file the retry layer's config, stats and service; the backoff, budget and errors are files of their own
//! shared retry budget.
//!
//! Each call is a retry session: it owns its random source (so concurrent sessions do not
//! retry in lockstep), sends clones of the same request (an `ExportRequest` clone shares its
//! encoded bytes), and stops at the first of: success, a failure that is not retryable,
//! `max_attempts`, or a next attempt that could not finish before the total deadline (its
//! start plus `attempt_timeout` past the deadline). A server-given delay (RetryInfo,
//! Retry-After) replaces the computed backoff; it is cut to [`otlp_core::MAX_RETRY_AFTER`], and
//! time arithmetic on it is checked, so no value from the network can overflow the clock. When
//! the shared retry budget denies a retry, the session waits another backoff interval and asks
//! again, as long as the deadline allows; a session that runs out of time this way fails with
//! [`BudgetExhausted`] (its source is the last attempt's error). Otherwise the error returned
//! is the last attempt's, so callers see the real cause; an attempt still running at the
//! deadline is abandoned, and the session returns the previous attempt's error, or
//! `DeadlineExceeded` when there was none.
//!
//! ```
//! use otlp_reliability::retry::{RetryConfig, RetryLayer};
//! use otlp_reliability::OtlpClassify;
//! use std::time::Duration;
//! use tower::ServiceBuilder;
//!
//! let retry = RetryLayer::new(
//!     RetryConfig::default().with_max_attempts(4).with_total_timeout(Duration::from_secs(30)),
//!     OtlpClassify,
//! )?;
//! let stats = retry.stats();
//! let service = ServiceBuilder::new()
//!     .layer(retry)
//!     .timeout(Duration::from_secs(5)) // per attempt
//!     .service_fn(|request: u32| async move { Ok::<_, otlp_core::BoxError>(request) });
//! # let _ = (service, stats);
//! # Ok::<(), otlp_core::InvalidSetting>(())
//! ```

mod backoff;
mod error;
mod layer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, Error, ErrorKind, InvalidSetting, MAX_RETRY_AFTER};
use tokio::time::Instant;
use tower::retry::budget::{Budget, TpsBudget};
use tower::{Service, ServiceExt};

pub use backoff::Backoff;
pub use error::BudgetExhausted;
pub use layer::RetryLayer;

use crate::Classify;

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

/// Counters of a retry layer, shared by every service it made.
#[derive(Debug, Default)]
pub struct RetryStats {
    sessions: AtomicU64,
    attempts: AtomicU64,
    retries: AtomicU64,
    budget_denied: AtomicU64,
    budget_exhausted: AtomicU64,
    deadline_exceeded: AtomicU64,
    attempts_exhausted: AtomicU64,
}

/// A snapshot of [`RetryStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetrySnapshot {
    /// Calls made through the layer.
    pub sessions: u64,
    /// Attempts sent to the inner service.
    pub attempts: u64,
    /// Attempts after the first.
    pub retries: u64,
    /// Retries the budget denied (each was waited for and asked again while time allowed).
    pub budget_denied: u64,
    /// Sessions that ran out of time waiting for the retry budget.
    pub budget_exhausted: u64,
    /// Sessions that stopped at the total deadline.
    pub deadline_exceeded: u64,
    /// Sessions that used every attempt and still failed.
    pub attempts_exhausted: u64,
}

impl RetryStats {
    /// The current counts.
    pub fn snapshot(&self) -> RetrySnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RetrySnapshot {
            sessions: get(&self.sessions),
            attempts: get(&self.attempts),
            retries: get(&self.retries),
            budget_denied: get(&self.budget_denied),
            budget_exhausted: get(&self.budget_exhausted),
            deadline_exceeded: get(&self.deadline_exceeded),
            attempts_exhausted: get(&self.attempts_exhausted),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What a retry session shares with its siblings.
pub(crate) struct Shared<C> {
    pub(crate) config: RetryConfig,
    pub(crate) classify: C,
    pub(crate) budget: Option<TpsBudget>,
    pub(crate) stats: Arc<RetryStats>,
}

/// Retries failed calls of the inner service; see the module docs.
pub struct Retry<S, C> {
    inner: S,
    shared: Arc<Shared<C>>,
}

impl<S: Clone, C> Clone for Retry<S, C> {
    fn clone(&self) -> Self {
        Retry {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S, C> std::fmt::Debug for Retry<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retry")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl<S, C> Retry<S, C> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The counters shared by the layer's services.
    pub fn stats(&self) -> Arc<RetryStats> {
        Arc::clone(&self.shared.stats)
    }
}

/// The future of a [`Retry`] call.
pub type ResponseFuture<T> = BoxFuture<'static, Result<T, BoxError>>;

impl<S, C, Request> Service<Request> for Retry<S, C>
where
    S: Service<Request, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send,
    Request: Clone + Send + 'static,
    C: Classify,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Response>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Each attempt waits for the inner service's readiness on its own clone.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let inner = self.inner.clone();
        let shared = Arc::clone(&self.shared);
        Box::pin(session(inner, shared, request))
    }
}

async fn session<S, C, Request>(
    inner: S,
    shared: Arc<Shared<C>>,
    request: Request,
) -> Result<S::Response, BoxError>
where
    S: Service<Request, Error = BoxError> + Clone,
    Request: Clone,
    C: Classify,
{
    let stats = &shared.stats;
    let config = &shared.config;
    bump(&stats.sessions);
    if let Some(budget) = &shared.budget {
        budget.deposit();
    }
    let started = Instant::now();
    let deadline = config.total_timeout.and_then(|t| started.checked_add(t));
    // An attempt timeout as long as the whole session would forbid every retry: it then only
    // bounds nothing, and attempts start until the deadline.
    let attempt_timeout = config
        .attempt_timeout
        .filter(|t| config.total_timeout.is_none_or(|total| *t < total))
        .unwrap_or(Duration::ZERO);
    // Whether an attempt starting after `delay` could finish before the deadline. The delay may
    // come from the network (a custom `Classify` need not cap it), so the sums are checked: a
    // time past the end of the clock is past any deadline too.
    let fits = |delay: Duration| {
        deadline.is_none_or(|deadline| {
            Instant::now()
                .checked_add(delay)
                .and_then(|start| start.checked_add(attempt_timeout))
                .is_some_and(|end| end <= deadline)
        })
    };
    let mut rng = fastrand::Rng::new();
    let mut attempt = 1;
    let mut last: Option<BoxError> = None;
    loop {
        bump(&stats.attempts);
        let call = inner.clone().oneshot(request.clone());
        let result = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, call).await {
                Ok(result) => result,
                Err(_) => {
                    bump(&stats.deadline_exceeded);
                    return Err(last.unwrap_or_else(|| {
                        let elapsed = started.elapsed();
                        let message = format!(
                            "no answer within the total timeout ({elapsed:?}, attempt {attempt})"
                        );
                        Error::new(ErrorKind::DeadlineExceeded, message).into()
                    }));
                }
            },
            None => call.await,
        };
        let error = match result {
            Ok(response) => return Ok(response),
            Err(error) => error,
        };
        let failure = shared.classify.classify(&error);
        if !failure.retryable {
            return Err(error);
        }
        if attempt >= config.max_attempts {
            bump(&stats.attempts_exhausted);
            return Err(error);
        }
        let mut delay = failure
            .retry_after
            .map(|delay| delay.min(MAX_RETRY_AFTER))
            .unwrap_or_else(|| config.backoff.delay(attempt, &mut rng));
        let mut denied = 0u32;
        loop {
            if !fits(delay) {
                if denied > 0 {
                    bump(&stats.budget_exhausted);
                    return Err(BudgetExhausted::new(attempt, error).into());
                }
                bump(&stats.deadline_exceeded);
                return Err(error);
            }
            tracing::debug!(attempt, ?delay, %error, "retrying export");
            tokio::time::sleep(delay).await;
            let Some(budget) = &shared.budget else { break };
            if budget.withdraw() {
                break;
            }
            bump(&stats.budget_denied);
            denied += 1;
            // Without a deadline, waiting is bounded by the attempts the session had left.
            if deadline.is_none() && denied >= config.max_attempts {
                bump(&stats.budget_exhausted);
                return Err(BudgetExhausted::new(attempt, error).into());
            }
            delay = config
                .backoff
                .delay(attempt + denied, &mut rng)
                .max(Duration::from_millis(10));
        }
        last = Some(error);
        attempt += 1;
        bump(&stats.retries);
    }
}
