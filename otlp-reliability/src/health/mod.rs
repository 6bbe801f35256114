//! Health checks: a registry of named async checks, each with an interval, a timeout and a
//! retry count; statuses healthy, degraded and unhealthy; the aggregate is the worst.
//!
//! Checks run in the background ([`HealthRegistry::spawn`]) or on demand
//! ([`HealthRegistry::check_now`]); [`HealthRegistry::snapshot`] reads the latest results and
//! `http::router` (feature `health-http`) serves them as JSON (200 for healthy and degraded,
//! 503 for unhealthy).
//! A circuit breaker can feed the registry: open means degraded.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use otlp_reliability::health::{CheckConfig, HealthRegistry, HealthStatus};
//!
//! let registry = HealthRegistry::new();
//! registry.register("queue", CheckConfig::default(), || async { HealthStatus::Healthy.into() });
//! let report = registry.check_now().await;
//! assert_eq!(report.status, HealthStatus::Healthy);
//! # }
//! ```

#[cfg(feature = "health-http")]
pub mod http;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use parking_lot::Mutex;
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::circuit_breaker::{BreakerHandle, CircuitState};

/// How healthy a component is. Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Working as intended.
    Healthy,
    /// Working, with reduced capacity or redundancy (a circuit open, a queue filling).
    Degraded,
    /// Not working.
    Unhealthy,
}

/// What one run of a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// The status.
    pub status: HealthStatus,
    /// Why, when there is something to say.
    pub message: Option<String>,
}

impl From<HealthStatus> for CheckResult {
    fn from(status: HealthStatus) -> Self {
        CheckResult {
            status,
            message: None,
        }
    }
}

impl CheckResult {
    /// A status with an explanation.
    pub fn new(status: HealthStatus, message: impl Into<String>) -> Self {
        CheckResult {
            status,
            message: Some(message.into()),
        }
    }
}

/// How a check is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckConfig {
    /// Time between runs in the background.
    pub interval: Duration,
    /// A run that takes longer is unhealthy.
    pub timeout: Duration,
    /// Extra runs after an unhealthy or degraded one, before reporting it.
    pub retries: u32,
}

impl Default for CheckConfig {
    /// Every 10 s, 2 s timeout, no retries.
    fn default() -> Self {
        CheckConfig {
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(2),
            retries: 0,
        }
    }
}

/// The latest result of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The check's name.
    pub name: String,
    /// Its status.
    pub status: HealthStatus,
    /// Why, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// How long the run took, in milliseconds.
    pub duration_ms: u64,
    /// When it ran, in milliseconds since the Unix epoch.
    pub checked_at_unix_ms: u64,
}

/// Every check's latest result and the aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    /// The worst status of all checks (healthy when there are none).
    pub status: HealthStatus,
    /// One entry per check that has run, by name.
    pub checks: Vec<CheckReport>,
}

type CheckFn = Arc<dyn Fn() -> BoxFuture<'static, CheckResult> + Send + Sync>;

struct Check {
    name: String,
    config: CheckConfig,
    run: CheckFn,
}

#[derive(Default)]
struct Inner {
    checks: Mutex<Vec<Arc<Check>>>,
    results: Mutex<BTreeMap<String, CheckReport>>,
}

/// The registry of health checks. Cheap to clone; clones share checks and results.
#[derive(Clone, Default)]
pub struct HealthRegistry {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HealthRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthRegistry")
            .field("report", &self.snapshot())
            .finish()
    }
}

impl HealthRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check (replacing one of the same name).
    pub fn register<F, Fut>(&self, name: impl Into<String>, config: CheckConfig, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CheckResult> + Send + 'static,
    {
        let name = name.into();
        let run: CheckFn = Arc::new(move || Box::pin(check()));
        let mut checks = self.inner.checks.lock();
        checks.retain(|c| c.name != name);
        checks.push(Arc::new(Check { name, config, run }));
    }

    /// Adds a check that follows a circuit breaker: closed (or disabled) is healthy, anything
    /// else degraded.
    pub fn register_breaker(&self, breaker: BreakerHandle, config: CheckConfig) {
        let name = format!("circuit_breaker:{}", breaker.name());
        self.register(name, config, move || {
            let state = breaker.state();
            async move {
                match state {
                    CircuitState::Closed | CircuitState::Disabled => HealthStatus::Healthy.into(),
                    other => CheckResult::new(HealthStatus::Degraded, format!("circuit {other:?}")),
                }
            }
        });
    }

    /// Runs every check once (concurrently) and returns the new report.
    pub async fn check_now(&self) -> HealthReport {
        let checks = self.inner.checks.lock().clone();
        let runs = checks.into_iter().map(|check| {
            let registry = self.clone();
            async move { registry.run(&check).await }
        });
        futures_util::future::join_all(runs).await;
        self.snapshot()
    }

    /// Runs each check at its interval on the current tokio runtime until the handle is
    /// aborted. Checks registered later are picked up at the next round.
    pub fn spawn(&self) -> JoinHandle<()> {
        let registry = self.clone();
        tokio::spawn(async move {
            let mut next_runs: BTreeMap<String, tokio::time::Instant> = BTreeMap::new();
            loop {
                let now = tokio::time::Instant::now();
                let checks = registry.inner.checks.lock().clone();
                let due: Vec<_> = checks
                    .into_iter()
                    .filter(|c| next_runs.get(&c.name).is_none_or(|at| *at <= now))
                    .collect();
                for check in &due {
                    next_runs.insert(check.name.clone(), now + check.config.interval);
                }
                let runs = due.iter().map(|check| registry.run(check));
                futures_util::future::join_all(runs).await;
                let wake = next_runs
                    .values()
                    .min()
                    .copied()
                    .unwrap_or(now + Duration::from_secs(1));
                tokio::time::sleep_until(wake.min(now + Duration::from_secs(1))).await;
            }
        })
    }

    /// The latest results.
    pub fn snapshot(&self) -> HealthReport {
        let checks: Vec<CheckReport> = self.inner.results.lock().values().cloned().collect();
        let status = checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(HealthStatus::Healthy);
        HealthReport { status, checks }
    }

    async fn run(&self, check: &Check) {
        let started = tokio::time::Instant::now();
        let mut result = CheckResult::from(HealthStatus::Unhealthy);
        for _ in 0..=check.config.retries {
            result = match tokio::time::timeout(check.config.timeout, (check.run)()).await {
                Ok(result) => result,
                Err(_) => CheckResult::new(
                    HealthStatus::Unhealthy,
                    format!("no answer within {:?}", check.config.timeout),
                ),
            };
            if result.status == HealthStatus::Healthy {
                break;
            }
        }
        let report = CheckReport {
            name: check.name.clone(),
            status: result.status,
            message: result.message,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            checked_at_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .unwrap_or(0),
        };
        self.inner.results.lock().insert(check.name.clone(), report);
    }
}
