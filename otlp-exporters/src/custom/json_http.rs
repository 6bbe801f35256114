//! The guide's custom backend: JSON arrays posted to `<base>/spans`, `<base>/metrics` and
//! `<base>/logs` with a bearer token.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, Error, ErrorKind, ExportOutcome, InvalidSetting, Signal, Telemetry};

use super::records;
use super::CustomExporter;

/// Posts flat JSON records (see [`records`](super::records)) to a custom backend.
///
/// A 2xx answer accepts the whole batch; other statuses map like OTLP/HTTP ones (429, 502,
/// 503 and 504 are retried by the pipeline, with `Retry-After`), and connection failures are
/// retryable.
#[derive(Clone)]
pub struct JsonHttpExporter {
    base: reqwest::Url,
    token: Option<String>,
    client: reqwest::Client,
}

impl std::fmt::Debug for JsonHttpExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonHttpExporter")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl JsonHttpExporter {
    /// An exporter to the backend at `base` (e.g. `http://127.0.0.1:8080/api/v1/telemetry`).
    pub fn new(base: &str) -> Result<Self, InvalidSetting> {
        let base = otlp_transport::endpoint::parse_url("custom exporter endpoint", base)?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| InvalidSetting::new("custom exporter", "http client", e.to_string()))?;
        Ok(JsonHttpExporter {
            base,
            token: None,
            client,
        })
    }

    /// Sends `authorization: Bearer <token>`.
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    fn url(&self, signal: Signal) -> String {
        let base = self.base.as_str().trim_end_matches('/');
        let path = match signal {
            Signal::Traces => "spans",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        };
        format!("{base}/{path}")
    }
}

impl CustomExporter for JsonHttpExporter {
    fn export(&self, batch: Arc<Telemetry>) -> BoxFuture<'static, Result<ExportOutcome, BoxError>> {
        let this = self.clone();
        Box::pin(async move {
            let items = batch.items();
            let body = match batch.as_ref() {
                Telemetry::Traces(_) => serde_json::to_vec(&records::spans(&batch)),
                Telemetry::Metrics(_) => serde_json::to_vec(&records::metrics(&batch)),
                Telemetry::Logs(_) => serde_json::to_vec(&records::logs(&batch)),
            }
            .map_err(|e| {
                Error::new(ErrorKind::Encoding, "cannot encode the batch as JSON").with_source(e)
            })?;
            let mut request = this
                .client
                .post(this.url(batch.signal()))
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body);
            if let Some(token) = &this.token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.map_err(|e| {
                let kind = if e.is_timeout() {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Connect
                };
                Error::new(kind, format!("custom backend unreachable: {e}")).with_source(e)
            })?;
            let status = response.status();
            if status.is_success() {
                return Ok(ExportOutcome::accepted(items));
            }
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| otlp_transport::parse_retry_after(v, std::time::SystemTime::now()));
            let text = response.text().await.unwrap_or_default();
            let message: String = text.chars().take(200).collect();
            Err(Error::from_http_status(status.as_u16(), message, retry_after).into())
        })
    }
}
