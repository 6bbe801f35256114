//! A receiver feeding a viewer, and a small shop's telemetry to send to it: one trace across
//! two services with a failed span, log records inside and outside it, a counter and a
//! histogram at two points in time.

#![allow(dead_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use otlp_core::Signal;
use otlp_examples::viewer::{Retention, Store, Viewer};
use otlp_transport::receiver::{Receiver, ReceiverConfig};
use serde_json::{json, Value};

pub const TRACE_ID: &str = "5b8efff798038103d269b633813fc60c";
pub const ROOT: &str = "eee19b7ec3c1b174";
pub const CLIENT: &str = "eee19b7ec3c1b175";
pub const CHARGE: &str = "eee19b7ec3c1b176";
pub const STOCK: &str = "eee19b7ec3c1b177";

pub struct Running {
    pub receiver: Receiver,
    pub viewer: Viewer,
    pub store: Store,
    pub http: reqwest::Client,
}

impl Running {
    pub async fn start(retention: Retention) -> Running {
        let store = Store::new(retention);
        let config = ReceiverConfig {
            on_receive: Some(store.on_receive()),
            ..ReceiverConfig::default()
        }
        .with_keep_requests(false);
        let receiver = Receiver::start(config).await.expect("receiver starts");
        let viewer = Viewer::start("127.0.0.1:0".parse().expect("address"), store.clone())
            .await
            .expect("viewer starts");
        Running {
            receiver,
            viewer,
            store,
            http: reqwest::Client::new(),
        }
    }

    /// Posts an OTLP/JSON body and waits until the receiver counted `items` of `signal`.
    pub async fn send(&self, signal: Signal, body: Value, items: usize) {
        let path = match signal {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        };
        let response = self
            .http
            .post(format!("{}{path}", self.receiver.http_endpoint()))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the receiver answers");
        assert!(
            response.status().is_success(),
            "{:?}",
            response.text().await
        );
        assert!(
            self.receiver
                .wait_for_items(signal, items, Duration::from_secs(5))
                .await,
            "{signal:?} did not arrive"
        );
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("http://{}{path}", self.viewer.addr()))
            .send()
            .await
            .expect("the viewer answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }

    /// The shop's trace, logs and metrics.
    pub async fn send_shop(&self) {
        self.send(Signal::Traces, trace(TRACE_ID, now()), 4).await;
        self.send(Signal::Logs, logs(now()), 3).await;
        self.send(Signal::Metrics, metrics(now() - 2_000_000_000, 3), 3)
            .await;
        self.send(Signal::Metrics, metrics(now(), 7), 6).await;
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn resource(service: &str) -> Value {
    json!({ "attributes": [
        { "key": "service.name", "value": { "stringValue": service } },
        { "key": "deployment.environment", "value": { "stringValue": "test" } },
    ]})
}

fn span(id: &str, parent: &str, name: &str, kind: u8, start: u64, end: u64) -> Value {
    json!({
        "traceId": TRACE_ID, "spanId": id, "parentSpanId": parent, "name": name, "kind": kind,
        "startTimeUnixNano": start.to_string(), "endTimeUnixNano": end.to_string(),
    })
}

/// GET /checkout (frontend, 100 ms) calls POST /charge (frontend client, 10-90 ms), served by
/// charge card (checkout, 15-85 ms, failed); reserve stock (checkout, 2-30 ms) runs first.
pub fn trace(trace_id: &str, t0: u64) -> Value {
    let ms = 1_000_000;
    let mut root = span(ROOT, "", "GET /checkout", 2, t0, t0 + 100 * ms);
    root["attributes"] = json!([{ "key": "http.route", "value": { "stringValue": "/checkout" } }]);
    let client = span(CLIENT, ROOT, "POST /charge", 3, t0 + 10 * ms, t0 + 90 * ms);
    let mut charge = span(CHARGE, CLIENT, "charge card", 2, t0 + 15 * ms, t0 + 85 * ms);
    charge["status"] = json!({ "code": 2, "message": "card declined" });
    charge["attributes"] = json!([
        { "key": "payment.amount", "value": { "doubleValue": 42.5 } },
        { "key": "http.response.status_code", "value": { "intValue": "502" } },
    ]);
    charge["events"] = json!([{ "timeUnixNano": (t0 + 80 * ms).to_string(), "name": "retry budget exhausted",
        "attributes": [{ "key": "attempts", "value": { "intValue": "3" } }] }]);
    let stock = span(STOCK, ROOT, "reserve stock", 1, t0 + 2 * ms, t0 + 30 * ms);
    let mut all = json!({ "resourceSpans": [
        { "resource": resource("frontend"), "scopeSpans": [{ "scope": { "name": "shop" }, "spans": [root, client] }] },
        { "resource": resource("checkout"), "scopeSpans": [{ "scope": { "name": "shop" }, "spans": [charge, stock] }] },
    ]});
    if trace_id != TRACE_ID {
        for rs in all["resourceSpans"].as_array_mut().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array_mut().into_iter().flatten() {
                for s in ss["spans"].as_array_mut().into_iter().flatten() {
                    s["traceId"] = json!(trace_id);
                }
            }
        }
    }
    all
}

pub fn logs(t: u64) -> Value {
    let record = |severity: u8, text: &str, body: &str, span: Option<&str>| {
        let mut r = json!({ "timeUnixNano": t.to_string(), "severityNumber": severity, "severityText": text,
            "body": { "stringValue": body },
            "attributes": [{ "key": "order.id", "value": { "stringValue": "A-17" } }] });
        if let Some(span) = span {
            r["traceId"] = json!(TRACE_ID);
            r["spanId"] = json!(span);
        }
        r
    };
    json!({ "resourceLogs": [{ "resource": resource("checkout"), "scopeLogs": [{ "logRecords": [
        record(9, "INFO", "charging card", Some(CHARGE)),
        record(17, "ERROR", "card declined by the issuer", Some(CHARGE)),
        record(9, "INFO", "cache warmed", None),
    ]}]}]})
}

/// `orders_total` (a sum, one series per status) and `checkout.duration` (a histogram).
pub fn metrics(t: u64, orders: i64) -> Value {
    json!({ "resourceMetrics": [{ "resource": resource("checkout"), "scopeMetrics": [{ "metrics": [
        { "name": "orders_total", "unit": "{order}", "description": "Orders placed",
          "sum": { "aggregationTemporality": 2, "isMonotonic": true, "dataPoints": [
            { "timeUnixNano": t.to_string(), "asInt": orders.to_string(),
              "attributes": [{ "key": "status", "value": { "stringValue": "ok" } }] },
            { "timeUnixNano": t.to_string(), "asInt": "1",
              "attributes": [{ "key": "status", "value": { "stringValue": "declined" } }] } ] } },
        { "name": "checkout.duration", "unit": "ms",
          "histogram": { "aggregationTemporality": 2, "dataPoints": [
            { "timeUnixNano": t.to_string(), "count": "10", "sum": 700.0, "min": 20.0, "max": 150.0,
              "explicitBounds": [50.0, 100.0, 200.0], "bucketCounts": ["2", "6", "2", "0"] } ] } },
    ]}]}]})
}
