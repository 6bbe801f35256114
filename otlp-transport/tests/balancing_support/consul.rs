//! A server that answers like Consul's health API, blocking queries included.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// The index and the registered instances (address, port).
type Registry = (u64, Vec<(String, u16)>);

#[derive(Clone, Default)]
pub struct Consul {
    pub state: Arc<Mutex<Registry>>,
    pub changed: Arc<Notify>,
    /// Blocking queries the server is holding now.
    pub held: Arc<AtomicUsize>,
}

impl Consul {
    pub fn set(&self, instances: Vec<(String, u16)>) {
        let mut state = self.state.lock();
        state.0 += 1;
        state.1 = instances;
        self.changed.notify_waiters();
    }
}

async fn health(
    State(consul): State<Consul>,
    Path(service): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    assert_eq!(service, "otel-collector");
    assert!(
        query.contains_key("passing"),
        "only passing instances are asked for"
    );
    let index: Option<u64> = query.get("index").and_then(|i| i.parse().ok());
    let wait = query
        .get("wait")
        .and_then(|w| w.trim_end_matches('s').parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(300));
    if index.is_some_and(|i| i == consul.state.lock().0) {
        // Registered before the count is raised, so a change right after is not missed.
        let changed = consul.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        consul.held.fetch_add(1, Ordering::SeqCst);
        let _ = tokio::time::timeout(wait, changed).await;
        consul.held.fetch_sub(1, Ordering::SeqCst);
    }
    let (index, instances) = consul.state.lock().clone();
    let body: Vec<serde_json::Value> = instances
        .iter()
        .map(|(address, port)| {
            serde_json::json!({
                "Node": {"Node": "node-1", "Address": "127.0.0.1"},
                "Service": {"ID": format!("otel-{port}"), "Service": "otel-collector", "Address": address, "Port": port},
                "Checks": [{"Status": "passing"}]
            })
        })
        .collect();
    ([("X-Consul-Index", index.to_string())], axum::Json(body))
}

pub async fn start(consul: Consul) -> String {
    let router = Router::new()
        .route("/v1/health/service/{service}", get(health))
        .with_state(consul);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}
