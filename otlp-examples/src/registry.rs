//! A service registry on 127.0.0.1 that speaks the part of Consul's HTTP API the
//! `consul://` resolver and service registration use, so a demo runs without a Consul agent
//! and, with `CONSUL_HTTP_ADDR` set, against a real one unchanged:
//!
//! - `PUT /v1/agent/service/register` with `{"ID", "Name", "Address", "Port"}`;
//! - `PUT /v1/agent/service/deregister/<id>`;
//! - `GET /v1/health/service/<name>?passing[&index=N&wait=Ns]`: the instances, with the
//!   `X-Consul-Index` header; with `index` equal to the current one the answer waits until
//!   the registry changes or `wait` passes (a blocking query).
//!
//! It runs no health checks: every registered instance counts as passing until deregistered.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use parking_lot::Mutex;
use serde::Deserialize;
use tokio::sync::watch;

/// One registration, in Consul's field names.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Registration {
    /// The instance id (`order-service-1`).
    #[serde(rename = "ID")]
    pub id: String,
    /// The service name (`order-service`).
    pub name: String,
    /// The instance's address.
    pub address: String,
    /// The instance's port.
    pub port: u16,
}

#[derive(Clone, Default)]
struct Registry {
    instances: Arc<Mutex<BTreeMap<String, Registration>>>,
    index: Arc<watch::Sender<u64>>,
}

impl Registry {
    fn changed(&self) {
        self.index.send_modify(|index| *index += 1);
    }
}

async fn register(State(registry): State<Registry>, Json(entry): Json<Registration>) -> StatusCode {
    registry.instances.lock().insert(entry.id.clone(), entry);
    registry.changed();
    StatusCode::OK
}

async fn deregister(State(registry): State<Registry>, Path(id): Path<String>) -> StatusCode {
    let removed = registry.instances.lock().remove(&id).is_some();
    if removed {
        registry.changed();
    }
    StatusCode::OK
}

async fn health(
    State(registry): State<Registry>,
    Path(service): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let mut changes = registry.index.subscribe();
    let asked: Option<u64> = query.get("index").and_then(|i| i.parse().ok());
    let wait = query
        .get("wait")
        .and_then(|w| w.trim_end_matches('s').parse().ok())
        .map_or(Duration::from_secs(300), Duration::from_secs);
    // Consul's indexes start at 1; 0 would make a client's blocking query return at once.
    if asked.is_some_and(|i| i == (*changes.borrow_and_update()).max(1)) {
        let _ = tokio::time::timeout(wait, changes.changed()).await;
    }
    let index = (*registry.index.borrow()).max(1);
    let body: Vec<serde_json::Value> = registry
        .instances
        .lock()
        .values()
        .filter(|r| r.name == service)
        .map(|r| {
            serde_json::json!({
                "Node": {"Node": "demo", "Address": "127.0.0.1"},
                "Service": {"ID": r.id, "Service": r.name, "Address": r.address, "Port": r.port},
                "Checks": [{"Status": "passing"}]
            })
        })
        .collect();
    ([("X-Consul-Index", index.to_string())], Json(body))
}

/// Starts the registry on 127.0.0.1 (a free port); returns its address as
/// `http://127.0.0.1:PORT`.
pub async fn start() -> std::io::Result<String> {
    let router = Router::new()
        .route("/v1/agent/service/register", put(register))
        .route("/v1/agent/service/deregister/{id}", put(deregister))
        .route("/v1/health/service/{service}", get(health))
        .with_state(Registry::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            eprintln!("the service registry stopped: {error}");
        }
    });
    Ok(url)
}

/// Registers an instance with the agent at `agent` (this registry or a real Consul).
pub async fn register_instance(agent: &str, entry: &Registration) -> Result<(), String> {
    let url = format!("{}/v1/agent/service/register", agent.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .put(&url)
        .json(entry)
        .send()
        .await
        .map_err(|e| format!("cannot register {} at {url}: {e}", entry.id))?;
    if !response.status().is_success() {
        return Err(format!(
            "registering {} at {url}: HTTP {}",
            entry.id,
            response.status()
        ));
    }
    Ok(())
}

/// Deregisters an instance (best effort: a demo cleaning up after itself).
pub async fn deregister_instance(agent: &str, id: &str) {
    let url = format!(
        "{}/v1/agent/service/deregister/{id}",
        agent.trim_end_matches('/')
    );
    let _ = reqwest::Client::new().put(url).send().await;
}
