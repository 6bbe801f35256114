//! The viewer's HTTP server: the page (three embedded static files) and the JSON API it reads.
//!
//! | path | what |
//! |---|---|
//! | `GET /` | the page |
//! | `GET /api/stats` | totals, a version that grows with every change, what retention evicted |
//! | `GET /api/traces?service=&name=&error=&limit=` | trace summaries, newest first |
//! | `GET /api/traces/{id}` | a trace's spans by start time and its critical path |
//! | `GET /api/logs?severity=&text=&trace_id=&span_id=&service=&limit=` | log records, newest first |
//! | `GET /api/metrics` | every metric: name, kind, unit, series and point counts |
//! | `GET /api/metrics/{name}` | one metric with its series and points |

use std::net::SocketAddr;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::page;
use super::rows::severity_floor;
use super::store::{critical_path, Store};

/// The most rows one list answer holds, whatever `limit` asks.
const MAX_ROWS: usize = 5_000;

/// A running viewer.
#[derive(Debug)]
pub struct Viewer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Viewer {
    /// Serves `store` on `addr` (use `127.0.0.1:0` for any free port on loopback).
    pub async fn start(addr: SocketAddr, store: Store) -> std::io::Result<Viewer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = router(store);
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "the viewer's server stopped");
            }
        });
        Ok(Viewer { addr, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The page and the API over `store`.
pub fn router(store: Store) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { file("text/html; charset=utf-8", page::INDEX) }),
        )
        .route(
            "/app.js",
            get(|| async { file("text/javascript; charset=utf-8", page::SCRIPT) }),
        )
        .route(
            "/style.css",
            get(|| async { file("text/css; charset=utf-8", page::STYLE) }),
        )
        .route("/api/stats", get(stats))
        .route("/api/traces", get(traces))
        .route("/api/traces/{id}", get(trace))
        .route("/api/logs", get(logs))
        .route("/api/metrics", get(metrics))
        .route("/api/metrics/{name}", get(metric))
        .with_state(store)
}

fn file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn stats(State(store): State<Store>) -> Response {
    Json(store.stats()).into_response()
}

#[derive(Debug, Deserialize)]
struct TraceQuery {
    service: Option<String>,
    name: Option<String>,
    error: Option<bool>,
    limit: Option<usize>,
}

async fn traces(State(store): State<Store>, Query(query): Query<TraceQuery>) -> Response {
    let limit = query.limit.unwrap_or(1_000).min(MAX_ROWS);
    let service = query.service.filter(|s| !s.is_empty());
    let name = query.name.filter(|s| !s.is_empty());
    let list = store.list_traces(service.as_deref(), name.as_deref(), query.error, limit);
    let services = store.services();
    Json(json!({ "traces": list, "services": services })).into_response()
}

async fn trace(State(store): State<Store>, Path(id): Path<String>) -> Response {
    match store.trace(&id.to_lowercase()) {
        Some(spans) => {
            let path = critical_path(&spans);
            Json(json!({ "trace_id": id, "spans": spans, "critical_path": path })).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no trace {id} is held (it may have been evicted)") })),
        )
            .into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    severity: Option<String>,
    text: Option<String>,
    trace_id: Option<String>,
    span_id: Option<String>,
    service: Option<String>,
    limit: Option<usize>,
}

async fn logs(State(store): State<Store>, Query(query): Query<LogQuery>) -> Response {
    let floor = match query.severity.as_deref().filter(|s| !s.is_empty()) {
        None => 0,
        Some(name) => match severity_floor(name) {
            Some(floor) => floor,
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({ "error": format!("unknown severity {name:?}: use TRACE, DEBUG, INFO, WARN, ERROR or FATAL") })),
                )
                    .into_response()
            }
        },
    };
    let text = query
        .text
        .filter(|t| !t.is_empty())
        .map(|t| t.to_lowercase());
    let limit = query.limit.unwrap_or(1_000).min(MAX_ROWS);
    let rows = store.logs(limit, |row| {
        row.severity_number >= floor
            && query
                .trace_id
                .as_ref()
                .is_none_or(|t| row.trace_id.as_ref() == Some(t))
            && query
                .span_id
                .as_ref()
                .is_none_or(|s| row.span_id.as_ref() == Some(s))
            && query.service.as_ref().is_none_or(|s| &row.service == s)
            && text.as_ref().is_none_or(|t| {
                row.body.to_lowercase().contains(t)
                    || row.attributes.iter().any(|a| {
                        a.key.to_lowercase().contains(t)
                            || a.value.to_string().to_lowercase().contains(t)
                    })
            })
    });
    Json(json!({ "logs": rows })).into_response()
}

async fn metrics(State(store): State<Store>) -> Response {
    let list: Vec<_> = store
        .metrics()
        .into_iter()
        .map(|(name, kind, unit, description, series, points)| {
            json!({ "name": name, "kind": kind, "unit": unit, "description": description, "series": series, "points": points })
        })
        .collect();
    Json(json!({ "metrics": list })).into_response()
}

async fn metric(State(store): State<Store>, Path(name): Path<String>) -> Response {
    match store.metric(&name) {
        Some(entry) => Json(entry).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no metric {name:?} is held") })),
        )
            .into_response(),
    }
}
