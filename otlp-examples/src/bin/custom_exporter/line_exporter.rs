//! The demo's own exporter: `CustomExporter` implemented here, writing a small text format of
//! its own ("obs-lines") and posting it to the backend with an API key.
//!
//! ```text
//! # obs-lines v1
//! S <trace id> <span id> <duration µs> <ok|error|unset> <name>
//! M <metric name> <sum|gauge|histogram|exponential_histogram|summary> <value or count>
//! L <severity> <trace id or -> <body>
//! ```
//!
//! One line per span, metric data point and log record. A refusal becomes an error of the
//! workspace's kinds, so the pipeline's retry and breaker layers treat it as they would a
//! collector's: 401 is permanent, 503 and an unreachable backend are retried.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_core::proto::common::v1::any_value::Value;
use otlp_core::proto::metrics::v1::metric::Data;
use otlp_core::{BoxError, Error, ErrorKind, ExportOutcome, Telemetry};
use otlp_exporters::custom::CustomExporter;

/// Posts obs-lines to `<url>` with `x-api-key`.
pub(crate) struct LineExporter {
    url: String,
    key: String,
    client: reqwest::Client,
}

impl LineExporter {
    pub(crate) fn new(url: &str, key: &str) -> Result<Self, reqwest::Error> {
        Ok(LineExporter {
            url: url.to_owned(),
            key: key.to_owned(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()?,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "-".to_owned();
    }
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The batch in obs-lines, and how many items it holds.
pub(crate) fn encode(batch: &Telemetry) -> (String, usize) {
    let mut text = String::from("# obs-lines v1\n");
    let mut items = 0;
    match batch {
        Telemetry::Traces(request) => {
            let spans = request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans);
            for span in spans {
                let micros = span
                    .end_time_unix_nano
                    .saturating_sub(span.start_time_unix_nano)
                    / 1000;
                let status = match span.status.as_ref().map(|s| s.code) {
                    Some(1) => "ok",
                    Some(2) => "error",
                    _ => "unset",
                };
                let _ = writeln!(
                    text,
                    "S {} {} {micros} {status} {}",
                    hex(&span.trace_id),
                    hex(&span.span_id),
                    span.name
                );
                items += 1;
            }
        }
        Telemetry::Metrics(request) => {
            let metrics = request
                .resource_metrics
                .iter()
                .flat_map(|r| &r.scope_metrics)
                .flat_map(|s| &s.metrics);
            for metric in metrics {
                let points: Vec<(&str, String)> = match &metric.data {
                    Some(Data::Sum(sum)) => sum
                        .data_points
                        .iter()
                        .map(|p| ("sum", format!("{:?}", p.value)))
                        .collect(),
                    Some(Data::Gauge(gauge)) => gauge
                        .data_points
                        .iter()
                        .map(|p| ("gauge", format!("{:?}", p.value)))
                        .collect(),
                    Some(Data::Histogram(h)) => h
                        .data_points
                        .iter()
                        .map(|p| ("histogram", p.count.to_string()))
                        .collect(),
                    Some(Data::ExponentialHistogram(h)) => h
                        .data_points
                        .iter()
                        .map(|p| ("exponential_histogram", p.count.to_string()))
                        .collect(),
                    Some(Data::Summary(s)) => s
                        .data_points
                        .iter()
                        .map(|p| ("summary", p.count.to_string()))
                        .collect(),
                    None => Vec::new(),
                };
                for (kind, value) in points {
                    let value: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                    let _ = writeln!(text, "M {} {kind} {value}", metric.name);
                    items += 1;
                }
            }
        }
        Telemetry::Logs(request) => {
            let records = request
                .resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .flat_map(|s| &s.log_records);
            for record in records {
                let body = match record.body.as_ref().and_then(|b| b.value.as_ref()) {
                    Some(Value::StringValue(s)) => s.replace('\n', " "),
                    Some(other) => format!("{other:?}"),
                    None => String::new(),
                };
                let severity = if record.severity_text.is_empty() {
                    "-"
                } else {
                    record.severity_text.as_str()
                };
                let _ = writeln!(text, "L {severity} {} {body}", hex(&record.trace_id));
                items += 1;
            }
        }
    }
    (text, items)
}

impl CustomExporter for LineExporter {
    fn export(&self, batch: Arc<Telemetry>) -> BoxFuture<'static, Result<ExportOutcome, BoxError>> {
        let (text, items) = encode(&batch);
        let signal = batch.signal();
        let request = self
            .client
            .post(&self.url)
            .header("x-api-key", &self.key)
            .header("content-type", "text/plain; charset=utf-8")
            .body(text);
        let url = self.url.clone();
        Box::pin(async move {
            let response = match request.send().await {
                Ok(response) => response,
                Err(error) => {
                    let reason = if error.is_connect() {
                        format!("connection refused by {url}")
                    } else {
                        format!("no answer from {url}: {error}")
                    };
                    println!(
                        "  exporter: {signal} batch not sent: {reason} (the pipeline retries)"
                    );
                    return Err(Error::new(ErrorKind::Connect, reason)
                        .with_source(error)
                        .into());
                }
            };
            let status = response.status().as_u16();
            match status {
                200..=299 => Ok(ExportOutcome::accepted(items)),
                401 | 403 => {
                    let reason = format!("the backend refused the API key (HTTP {status})");
                    println!("  exporter: {signal} batch refused: {reason}; not retried");
                    Err(Error::new(ErrorKind::Rejected, reason).into())
                }
                _ => {
                    let reason = format!("the backend answered HTTP {status}");
                    println!("  exporter: {signal} batch refused: {reason} (the pipeline retries)");
                    Err(Error::from_http_status(status, reason, None).into())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
    use otlp_core::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

    use super::*;

    #[test]
    fn a_span_becomes_one_line() {
        let span = Span {
            trace_id: vec![0xab; 16],
            span_id: vec![1; 8],
            name: "charge card".into(),
            start_time_unix_nano: 1_000_000,
            end_time_unix_nano: 3_500_000,
            ..Default::default()
        };
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let (text, items) = encode(&Telemetry::Traces(request));
        assert_eq!(items, 1);
        assert_eq!(
            text.lines().nth(1),
            Some(
                format!(
                    "S {} 0101010101010101 2500 unset charge card",
                    "ab".repeat(16)
                )
                .as_str()
            )
        );
    }
}
