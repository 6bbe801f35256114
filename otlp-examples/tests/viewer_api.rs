//! The viewer's JSON API against a running receiver and viewer on 127.0.0.1: what was sent
//! comes back as traces, a waterfall's spans with their critical path, logs linked to spans,
//! metrics with series and points; filters; retention evicting the oldest and saying so.

mod support;

use otlp_core::Signal;
use otlp_examples::viewer::Retention;
use support::{Running, CHARGE, CLIENT, ROOT, STOCK, TRACE_ID};

#[tokio::test]
async fn traces_come_back_with_their_summary_and_filters() {
    let run = Running::start(Retention::default()).await;
    run.send_shop().await;

    let (status, body) = run.get("/api/traces").await;
    assert_eq!(status, 200);
    let traces = body["traces"].as_array().expect("a list");
    assert_eq!(traces.len(), 1, "{body}");
    let t = &traces[0];
    assert_eq!(t["trace_id"], TRACE_ID);
    assert_eq!(t["root_name"], "GET /checkout");
    assert_eq!(t["root_service"], "frontend");
    assert_eq!(t["services"], serde_json::json!(["checkout", "frontend"]));
    assert_eq!(t["span_count"], 4);
    assert_eq!(t["duration_nano"], 100_000_000);
    assert_eq!(t["error"], true);
    assert_eq!(
        body["services"],
        serde_json::json!(["checkout", "frontend"])
    );

    for (query, expected) in [
        ("service=checkout", 1),
        ("service=inventory", 0),
        ("name=CHARGE", 1),
        ("name=refund", 0),
        ("error=true", 1),
        ("error=false", 0),
    ] {
        let (_, body) = run.get(&format!("/api/traces?{query}")).await;
        assert_eq!(
            body["traces"].as_array().map(Vec::len),
            Some(expected),
            "{query}"
        );
    }
}

#[tokio::test]
async fn a_trace_has_its_spans_in_order_and_its_critical_path() {
    let run = Running::start(Retention::default()).await;
    run.send_shop().await;

    let (status, body) = run.get(&format!("/api/traces/{TRACE_ID}")).await;
    assert_eq!(status, 200);
    let spans = body["spans"].as_array().expect("spans");
    let ids: Vec<&str> = spans.iter().filter_map(|s| s["span_id"].as_str()).collect();
    assert_eq!(ids, [ROOT, STOCK, CLIENT, CHARGE], "by start time");
    // The root waited for POST /charge (ends at 90 ms, after reserve stock at 30 ms), which
    // waited for charge card.
    assert_eq!(
        body["critical_path"],
        serde_json::json!([ROOT, CLIENT, CHARGE])
    );

    let charge = &spans[3];
    assert_eq!(charge["service"], "checkout");
    assert_eq!(charge["kind"], "server");
    assert_eq!(charge["status_code"], "error");
    assert_eq!(charge["status_message"], "card declined");
    assert_eq!(charge["parent_span_id"], CLIENT);
    let attributes = charge["attributes"].as_array().expect("attributes");
    assert!(attributes.contains(&serde_json::json!({ "key": "payment.amount", "value": 42.5 })));
    assert!(attributes
        .contains(&serde_json::json!({ "key": "http.response.status_code", "value": 502 })));
    assert_eq!(charge["events"][0]["name"], "retry budget exhausted");
    assert!(charge["resource"].as_array().is_some_and(
        |r| r.contains(&serde_json::json!({ "key": "service.name", "value": "checkout" }))
    ));

    let (status, body) = run
        .get("/api/traces/00000000000000000000000000000001")
        .await;
    assert_eq!(status, 404);
    assert!(body["error"]
        .as_str()
        .is_some_and(|e| e.contains("evicted")));
}

#[tokio::test]
async fn logs_link_to_their_span_and_filter_by_severity_and_text() {
    let run = Running::start(Retention::default()).await;
    run.send_shop().await;

    let (_, body) = run
        .get(&format!("/api/logs?trace_id={TRACE_ID}&span_id={CHARGE}"))
        .await;
    let of_span: Vec<&str> = body["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["body"].as_str())
        .collect();
    assert_eq!(of_span.len(), 2, "{body}");
    assert!(of_span.contains(&"card declined by the issuer"));

    let (_, body) = run.get("/api/logs?severity=error").await;
    assert_eq!(body["logs"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["logs"][0]["severity"], "ERROR");
    assert_eq!(body["logs"][0]["span_id"], CHARGE);

    let (_, body) = run.get("/api/logs?text=CACHE").await;
    assert_eq!(body["logs"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["logs"][0]["trace_id"], serde_json::Value::Null);

    let (_, body) = run.get("/api/logs?text=A-17").await;
    assert_eq!(
        body["logs"].as_array().map(Vec::len),
        Some(3),
        "attribute values match"
    );

    let (status, body) = run.get("/api/logs?severity=loud").await;
    assert_eq!(status, 400);
    assert!(body["error"]
        .as_str()
        .is_some_and(|e| e.contains("\"loud\"")));
}

#[tokio::test]
async fn metrics_have_series_points_and_percentiles() {
    let run = Running::start(Retention::default()).await;
    run.send_shop().await;

    let (_, body) = run.get("/api/metrics").await;
    let list = body["metrics"].as_array().expect("metrics");
    assert_eq!(list.len(), 2, "{body}");
    let orders = list
        .iter()
        .find(|m| m["name"] == "orders_total")
        .expect("orders");
    assert_eq!(orders["kind"], "sum");
    assert_eq!(orders["series"], 2);
    assert_eq!(orders["points"], 4);

    let (_, orders) = run.get("/api/metrics/orders_total").await;
    let ok = &orders["series"]["status=\"ok\""];
    let values: Vec<f64> = ok["points"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["value"].as_f64())
        .collect();
    assert_eq!(values, [3.0, 7.0], "{orders}");

    let (_, histogram) = run.get("/api/metrics/checkout.duration").await;
    assert_eq!(histogram["kind"], "histogram");
    let series = histogram["series"].as_object().expect("series");
    let point = &series.values().next().expect("one series")["points"][1];
    // 2 of 10 below 50, 6 in (50, 100]: the median is 3/6 into that bucket.
    assert_eq!(point["p50"], 75.0);
    assert_eq!(point["count"], 10);

    let (status, _) = run.get("/api/metrics/nothing").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn retention_evicts_the_oldest_trace_and_counts_it() {
    let retention = Retention {
        max_spans: 6,
        max_log_records: 2,
        max_points: 4,
    };
    let run = Running::start(retention).await;
    let old = "0123456789abcdef0123456789abcdef";
    run.send(Signal::Traces, support::trace(old, support::now()), 4)
        .await;
    run.send_shop().await;

    let (_, stats) = run.get("/api/stats").await;
    assert_eq!(stats["spans"], 4, "{stats}");
    assert_eq!(stats["evicted"]["traces"], 1);
    assert_eq!(stats["evicted"]["spans"], 4);
    assert_eq!(stats["log_records"], 2);
    assert_eq!(stats["evicted"]["log_records"], 1);
    assert_eq!(stats["points"], 4);
    assert_eq!(stats["evicted"]["points"], 2);
    let (status, _) = run.get(&format!("/api/traces/{old}")).await;
    assert_eq!(status, 404);
    let (status, _) = run.get(&format!("/api/traces/{TRACE_ID}")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_page_and_its_files_are_served() {
    let run = Running::start(Retention::default()).await;
    for (path, kind, marker) in [
        ("/", "text/html", "otlp-rust viewer"),
        ("/app.js", "text/javascript", "renderTrace"),
        ("/style.css", "text/css", ".wf-bar"),
    ] {
        let response = run
            .http
            .get(format!(
                "{}{}",
                run.viewer.url().trim_end_matches('/'),
                path
            ))
            .send()
            .await
            .expect("served");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        assert!(response.text().await.unwrap_or_default().contains(marker));
    }
}
