//! The guide's custom backend: JSON arrays posted to `<base>/spans`, `<base>/metrics` and
//! `<base>/logs` with a bearer token.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use otlp_core::{
    BoxError, Error, ErrorKind, ExportOutcome, InvalidSetting, RequestHeaders, Signal, Telemetry,
};
use otlp_transport::client::ClientOptions;
use otlp_transport::http::HttpClient;

use super::records;
use super::CustomExporter;

/// Posts flat JSON records (see [`records`](super::records)) to a custom backend.
///
/// It posts with the OTLP/HTTP transport's [`HttpClient`], so the [`ClientOptions`] it is
/// given (TLS and mTLS, headers, timeouts, compression, connection settings, proxy, the
/// response limit) mean what they mean for OTLP; [`PipelineConfig::client_options`]
/// gives those the pipeline's OTLP exporters use. A 2xx answer accepts the whole batch; other
/// statuses map like OTLP/HTTP ones (429, 502, 503 and 504 are retried by the pipeline, with
/// `Retry-After`), and connection failures are retryable. Redirects are not followed.
///
/// [`PipelineConfig::client_options`]: crate::PipelineConfig::client_options
#[derive(Clone)]
pub struct JsonHttpExporter {
    base: reqwest::Url,
    token: Option<String>,
    client: HttpClient,
}

impl std::fmt::Debug for JsonHttpExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonHttpExporter")
            .field("base", &otlp_core::redact::url(self.base.as_str()))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl JsonHttpExporter {
    /// An exporter to the backend at `base` (e.g. `http://127.0.0.1:8080/api/v1/telemetry`)
    /// with the default client settings (30 s timeout).
    pub fn new(base: &str) -> Result<Self, InvalidSetting> {
        let options = ClientOptions {
            timeout: Some(std::time::Duration::from_secs(30)),
            ..ClientOptions::default()
        };
        Self::with_options(base, options)
    }

    /// An exporter to the backend at `base` with the given client settings.
    pub fn with_options(base: &str, options: ClientOptions) -> Result<Self, InvalidSetting> {
        let base = otlp_transport::endpoint::parse_url("custom exporter endpoint", base)?;
        if otlp_transport::endpoint::unix_socket_path(&base).is_some() {
            return Err(InvalidSetting::new(
                "custom exporter endpoint",
                base.as_str(),
                "the JSON backend is reached over http:// or https://",
            ));
        }
        let client = HttpClient::new(&options, None)?;
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

    fn url(&self, signal: Signal) -> Result<reqwest::Url, Error> {
        let base = self.base.as_str().trim_end_matches('/');
        let path = match signal {
            Signal::Traces => "spans",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        };
        reqwest::Url::parse(&format!("{base}/{path}"))
            .map_err(|e| Error::new(ErrorKind::Encoding, format!("custom backend URL: {e}")))
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
            let mut headers = RequestHeaders::new();
            if let Some(token) = &this.token {
                headers.insert("authorization", format!("Bearer {}", token.trim()));
            }
            let answer = this
                .client
                .post(
                    this.url(batch.signal())?,
                    "application/json",
                    &Bytes::from(body),
                    &headers,
                )
                .await?;
            answer.check_complete(this.client.max_response_bytes())?;
            let status = answer.status;
            if status.is_success() {
                return Ok(ExportOutcome::accepted(items));
            }
            let retry_after = answer
                .headers
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| otlp_transport::parse_retry_after(v, std::time::SystemTime::now()));
            let text = String::from_utf8_lossy(&answer.body);
            let message: String = text.chars().take(200).collect();
            Err(Error::from_http_status(status.as_u16(), message, retry_after).into())
        })
    }
}
