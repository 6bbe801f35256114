//! What the receiver saw in a session, printed when it stops: requests accepted and refused
//! (by status), balancer probes, spans in how many traces, data points, log records, services.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

use otlp_core::Telemetry;
use otlp_examples::viewer::rows;
use otlp_transport::receiver::{Received, Refused};
use parking_lot::Mutex;
use serde_json::json;

#[derive(Default)]
struct Totals {
    accepted: u64,
    probes: u64,
    spans: u64,
    data_points: u64,
    log_records: u64,
    traces: HashSet<Vec<u8>>,
    services: BTreeSet<String>,
    refused: BTreeMap<String, u64>,
}

/// The session's totals.
pub struct Summary {
    started: Instant,
    totals: Mutex<Totals>,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            started: Instant::now(),
            totals: Mutex::default(),
        }
    }
}

/// A request with nothing in it: the balancer's health probe (or an idle exporter).
pub fn is_probe(received: &Received) -> bool {
    received.payload.items() == 0
}

impl Summary {
    /// Counts an accepted request.
    pub fn received(&self, received: &Received) {
        let mut totals = self.totals.lock();
        totals.accepted += 1;
        if is_probe(received) {
            totals.probes += 1;
            return;
        }
        match &received.payload {
            Telemetry::Traces(request) => {
                for resource in &request.resource_spans {
                    totals
                        .services
                        .insert(rows::service_of(resource.resource.as_ref()));
                    for span in resource.scope_spans.iter().flat_map(|s| &s.spans) {
                        totals.spans += 1;
                        if !totals.traces.contains(&span.trace_id) {
                            totals.traces.insert(span.trace_id.clone());
                        }
                    }
                }
            }
            Telemetry::Metrics(request) => {
                for resource in &request.resource_metrics {
                    totals
                        .services
                        .insert(rows::service_of(resource.resource.as_ref()));
                }
                totals.data_points += received.payload.items() as u64;
            }
            Telemetry::Logs(request) => {
                for resource in &request.resource_logs {
                    totals
                        .services
                        .insert(rows::service_of(resource.resource.as_ref()));
                }
                totals.log_records += received.payload.items() as u64;
            }
        }
    }

    /// Counts a refused request under its status.
    pub fn refused(&self, refused: &Refused) {
        let status = match refused.grpc_code {
            Some(code) => format!("gRPC {code:?}"),
            None => format!("HTTP {}", refused.http_status),
        };
        *self.totals.lock().refused.entry(status).or_default() += 1;
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The readable summary, after `why` (the signal) stopped the receiver.
    pub fn print_text(&self, why: &str) {
        let totals = self.totals.lock();
        let refused: u64 = totals.refused.values().sum();
        println!("\n── summary ({why} after {:.1?})", self.elapsed());
        println!(
            "requests: {} accepted ({} empty probe(s), not shown), {refused} refused{}",
            totals.accepted,
            totals.probes,
            if refused == 0 {
                String::new()
            } else {
                format!(
                    " ({})",
                    totals
                        .refused
                        .iter()
                        .map(|(status, n)| format!("{status} ×{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        println!(
            "spans: {} in {} trace(s) · data points: {} · log records: {}",
            totals.spans,
            totals.traces.len(),
            totals.data_points,
            totals.log_records
        );
        if !totals.services.is_empty() {
            let services: Vec<&str> = totals.services.iter().map(String::as_str).collect();
            println!("services: {}", services.join(", "));
        }
    }

    /// The summary as a JSON line.
    pub fn print_json(&self, why: &str) {
        let totals = self.totals.lock();
        super::json::print(
            "summary",
            json!({
                "stoppedBy": why,
                "seconds": self.elapsed().as_secs_f64(),
                "acceptedRequests": totals.accepted,
                "probes": totals.probes,
                "refusedRequests": totals.refused,
                "spans": totals.spans,
                "traces": totals.traces.len(),
                "dataPoints": totals.data_points,
                "logRecords": totals.log_records,
                "services": totals.services,
            }),
        );
    }
}
