//! The pipeline's health checks: queue fill, spool age, and the endpoint serving them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use otlp_batch::spool::Spool;
use otlp_batch::BatchProcessor;
use otlp_reliability::health::http::ServeConfig;
use otlp_reliability::health::{CheckConfig, CheckResult, HealthRegistry, HealthStatus};

use crate::config::Secret;

/// Runs the registry's checks on the pipeline runtime, and serves them on `addr` when one is
/// configured; returns the bound address.
pub(super) fn start(
    health: &HealthRegistry,
    addr: Option<SocketAddr>,
    token: Option<&Secret>,
    runtime: &tokio::runtime::Handle,
) -> Result<Option<SocketAddr>, std::io::Error> {
    runtime.spawn({
        let health = health.clone();
        async move {
            let _checks = health.spawn();
            std::future::pending::<()>().await;
        }
    });
    let Some(addr) = addr else {
        return Ok(None);
    };
    let listener = std::net::TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let health = health.clone();
    let mut serve_config = ServeConfig::default();
    if let Some(token) = token {
        serve_config = serve_config.with_bearer_token(token.expose());
    }
    runtime.spawn(async move {
        let served = otlp_reliability::health::http::serve_with(health, listener, serve_config);
        if let Err(error) = served.await {
            tracing::warn!(%error, "health endpoint stopped");
        }
    });
    Ok(Some(bound))
}

pub(super) fn register_queue_check<T: otlp_batch::BatchItem>(
    health: &HealthRegistry,
    name: &str,
    processor: BatchProcessor<T>,
    capacity: usize,
) {
    health.register(name, CheckConfig::default(), move || {
        let queued = processor.stats().queued;
        async move {
            let fill = queued as f64 / capacity.max(1) as f64;
            if fill >= 0.9 {
                CheckResult::new(
                    HealthStatus::Degraded,
                    format!("queue {:.0} % full", fill * 100.0),
                )
            } else {
                HealthStatus::Healthy.into()
            }
        }
    });
}

/// Records waiting longer than this make the spool check degraded: the collector has not
/// taken them for a minute.
const SPOOL_DEGRADED_AGE: Duration = Duration::from_secs(60);

/// The spool's health: what waits, and for how long the oldest has.
pub(super) fn register_spool_check(health: &HealthRegistry, spool: Arc<Spool>) {
    health.register("spool", CheckConfig::default(), move || {
        let stats = spool.stats();
        async move {
            let Some(age) = stats.oldest_pending_age else {
                return HealthStatus::Healthy.into();
            };
            let status = if age > SPOOL_DEGRADED_AGE {
                HealthStatus::Degraded
            } else {
                HealthStatus::Healthy
            };
            CheckResult::new(
                status,
                format!(
                    "{} requests pending, the oldest for {} s",
                    stats.pending,
                    age.as_secs()
                ),
            )
        }
    });
}
