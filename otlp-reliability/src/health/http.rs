//! The health endpoint: `GET /health` answers the registry's latest report as JSON, with 200
//! for healthy and degraded and 503 for unhealthy, so load balancers take the instance out
//! only when it is down.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::{HealthRegistry, HealthStatus};

/// A router with `GET /health`, to mount in a service's own axum app or serve alone.
pub fn router(registry: HealthRegistry) -> Router {
    Router::new()
        .route("/health", get(health))
        .with_state(registry)
}

/// Serves [`router`] on `listener` until the task is dropped or aborted.
pub async fn serve(
    registry: HealthRegistry,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    axum::serve(listener, router(registry)).await
}

async fn health(State(registry): State<HealthRegistry>) -> Response {
    let report = registry.snapshot();
    let code = match report.status {
        HealthStatus::Healthy | HealthStatus::Degraded => StatusCode::OK,
        HealthStatus::Unhealthy => StatusCode::SERVICE_UNAVAILABLE,
    };
    (code, Json(report)).into_response()
}
