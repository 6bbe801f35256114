//! The health endpoint: `GET /health` answers the registry's latest report as JSON, with 200
//! for healthy and degraded and 503 for unhealthy, so load balancers take the instance out
//! only when it is down.
//!
//! It runs inside the application, so [`serve_with`] bounds what a client can hold: a
//! header-read timeout, a lifetime per connection, a connection limit, and optionally the same
//! bearer-token check as the receiver ([`ServeConfig`]). Bind it to 127.0.0.1 unless a load
//! balancer elsewhere must reach it.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header::AUTHORIZATION, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

use super::{HealthRegistry, HealthStatus};

/// How the health endpoint is served.
#[derive(Clone)]
pub struct ServeConfig {
    /// When set, requests must carry `authorization: Bearer <token>` (scheme in any case).
    pub bearer_token: Option<String>,
    /// How long a client may take to send its request headers (default 5 s).
    pub header_read_timeout: Duration,
    /// A connection is closed this long after it was accepted, busy or not (default 10 s).
    pub connection_timeout: Duration,
    /// Open connections at most; one more is closed at once (default 16).
    pub max_connections: usize,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("header_read_timeout", &self.header_read_timeout)
            .field("connection_timeout", &self.connection_timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            bearer_token: None,
            header_read_timeout: Duration::from_secs(5),
            connection_timeout: Duration::from_secs(10),
            max_connections: 16,
        }
    }
}

impl ServeConfig {
    /// Requires `authorization: Bearer <token>`.
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Sets the header-read timeout and the connection lifetime.
    pub fn with_timeouts(mut self, header_read: Duration, connection: Duration) -> Self {
        self.header_read_timeout = header_read;
        self.connection_timeout = connection;
        self
    }

    /// Sets the connection limit.
    pub fn with_max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }
}

/// A router with `GET /health`, to mount in a service's own axum app or serve alone.
pub fn router(registry: HealthRegistry) -> Router {
    Router::new()
        .route("/health", get(health))
        .with_state(registry)
}

/// Serves [`router`] on `listener` with the default [`ServeConfig`] until the task is dropped
/// or aborted.
pub async fn serve(
    registry: HealthRegistry,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    serve_with(registry, listener, ServeConfig::default()).await
}

/// Serves [`router`] on `listener` under `config` until the task is dropped or aborted.
pub async fn serve_with(
    registry: HealthRegistry,
    listener: tokio::net::TcpListener,
    config: ServeConfig,
) -> std::io::Result<()> {
    let mut app = router(registry);
    if let Some(token) = config.bearer_token.clone() {
        let token: Arc<str> = token.into();
        app = app.layer(axum::middleware::from_fn(move |request, next| {
            require_token(Arc::clone(&token), request, next)
        }));
    }
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let builder = Arc::new(builder);
    let mut pause = Duration::from_millis(5);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                pause = Duration::from_millis(5);
                stream
            }
            Err(error) => {
                // Out of descriptors: accepting again at once would spin.
                tracing::debug!(%error, "health endpoint: accept failed");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let builder = Arc::clone(&builder);
        let lifetime = config.connection_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(lifetime, connection).await;
        });
    }
}

async fn require_token(token: Arc<str>, request: Request, next: Next) -> Response {
    let allowed = request
        .headers()
        .get(AUTHORIZATION)
        .is_some_and(|v| otlp_core::bearer::matches(v.as_bytes(), token.as_bytes()));
    if allowed {
        next.run(request).await
    } else {
        (StatusCode::UNAUTHORIZED, "missing or wrong bearer token").into_response()
    }
}

async fn health(State(registry): State<HealthRegistry>) -> Response {
    let report = registry.snapshot();
    let code = match report.status {
        HealthStatus::Healthy | HealthStatus::Degraded => StatusCode::OK,
        HealthStatus::Unhealthy => StatusCode::SERVICE_UNAVAILABLE,
    };
    (code, Json(report)).into_response()
}
