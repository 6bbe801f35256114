//! The demo's backend: takes obs-lines at `POST /ingest` with the right `x-api-key`, refuses
//! the first requests with 503 (so the retries show), and counts what it stored.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use parking_lot::Mutex;

/// What the backend stored and refused.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub(crate) spans: usize,
    pub(crate) metric_points: usize,
    pub(crate) logs: usize,
    pub(crate) busy: usize,
    pub(crate) unauthorized: usize,
}

#[derive(Clone)]
struct Backend {
    key: String,
    refuse_first: usize,
    counts: Arc<Mutex<Counts>>,
}

async fn ingest(State(backend): State<Backend>, headers: HeaderMap, body: String) -> StatusCode {
    let mut counts = backend.counts.lock();
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(backend.key.as_str()) {
        counts.unauthorized += 1;
        return StatusCode::UNAUTHORIZED;
    }
    if counts.busy < backend.refuse_first {
        counts.busy += 1;
        println!("  backend: 503, busy");
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let (mut spans, mut points, mut logs) = (0, 0, 0);
    for line in body.lines() {
        match line.split_once(' ').map(|(kind, _)| kind) {
            Some("S") => spans += 1,
            Some("M") => points += 1,
            Some("L") => logs += 1,
            _ => {}
        }
    }
    counts.spans += spans;
    counts.metric_points += points;
    counts.logs += logs;
    println!("  backend: stored {spans} spans, {points} metric points, {logs} log records");
    StatusCode::OK
}

/// Starts the backend on 127.0.0.1; returns its ingest URL and its counts.
pub(crate) async fn start(
    key: &str,
    refuse_first: usize,
) -> std::io::Result<(String, Arc<Mutex<Counts>>)> {
    let counts = Arc::new(Mutex::new(Counts::default()));
    let router = Router::new()
        .route("/ingest", post(ingest))
        .with_state(Backend {
            key: key.to_owned(),
            refuse_first,
            counts: Arc::clone(&counts),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/ingest", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok((url, counts))
}
