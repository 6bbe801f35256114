//! OTLP over HTTP (reqwest) as a `tower::Service<ExportRequest>`.
//!
//! Posts the encoded body (protobuf or OTLP/JSON, optionally gzip or zstd) to the signal's
//! URL; connections are pooled and reused across requests and clones. Redirects are not
//! followed (a 3xx is a permanent error naming the `Location`), so the configured headers only
//! ever go to the configured endpoint; no error text carries the URL.
//!
//! ```no_run
//! # async fn run() -> Result<(), otlp_core::BoxError> {
//! use otlp_transport::http::{HttpConfig, HttpTransport};
//! use tower::ServiceExt;
//!
//! let transport = HttpTransport::new(HttpConfig::from_base_endpoint("http://127.0.0.1:4318")?)?;
//! # let request: otlp_core::ExportRequest = unimplemented!();
//! let outcome = transport.oneshot(request).await?;
//! # Ok(()) }
//! ```

use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use otlp_core::{
    BoxError, Encoding, Error, ErrorKind, ExportOutcome, ExportRequest, InvalidSetting,
};
use tower::Service;

use crate::endpoint::{self, HttpEndpoints};
use crate::response::{error_message, outcome, parse_retry_after};
use crate::tls::find_tls_failure;
use crate::{Compression, Headers, TlsConfig};

/// The largest collector response body read; the rest is ignored.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Settings of the HTTP transport.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The URL of each signal.
    pub endpoints: HttpEndpoints,
    /// Request compression.
    pub compression: Compression,
    /// Headers sent with every request.
    pub headers: Headers,
    /// TLS settings for `https://` URLs (system roots when `None`).
    pub tls: Option<TlsConfig>,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// The per-request timeout, response included.
    pub timeout: Duration,
}

impl HttpConfig {
    /// Settings with the three signal URLs derived from a base endpoint (`v1/<signal>` appended).
    pub fn from_base_endpoint(base: &str) -> Result<Self, InvalidSetting> {
        Ok(HttpConfig::new(HttpEndpoints::from_base(
            "http endpoint",
            base,
        )?))
    }

    /// Settings for explicit signal URLs.
    pub fn new(endpoints: HttpEndpoints) -> Self {
        HttpConfig {
            endpoints,
            compression: Compression::None,
            headers: Headers::new(),
            tls: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
        }
    }

    /// Sets the compression.
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Sets the headers.
    pub fn with_headers(mut self, headers: Headers) -> Self {
        self.headers = headers;
        self
    }

    /// Sets the TLS settings.
    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// The HTTP transport. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    endpoints: HttpEndpoints,
    compression: Compression,
}

impl HttpTransport {
    /// Builds the transport; no connection is made until the first request.
    pub fn new(config: HttpConfig) -> Result<Self, InvalidSetting> {
        let mut default_headers = http::HeaderMap::new();
        for (name, value) in config.headers.iter() {
            default_headers.insert(name.clone(), value.clone());
        }
        let mut builder = reqwest::Client::builder()
            .default_headers(default_headers)
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            // A redirect would carry the configured headers (API keys, tokens) to wherever the
            // collector, or anything on the path of a plaintext export, points: none is
            // followed, and a 3xx answer is a permanent error naming its `Location`.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(endpoint::USER_AGENT);
        if let Some(tls) = &config.tls {
            if let Some(ca) = tls.ca_pem() {
                let certificates = reqwest::Certificate::from_pem_bundle(ca)
                    .map_err(|e| InvalidSetting::new("http TLS CA", "PEM bundle", e.to_string()))?;
                builder = builder.tls_built_in_root_certs(false);
                for certificate in certificates {
                    builder = builder.add_root_certificate(certificate);
                }
            }
            if let Some((certificate, key)) = tls.client_identity_pem() {
                let mut pem = certificate.to_vec();
                pem.push(b'\n');
                pem.extend_from_slice(key);
                let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                    InvalidSetting::secret("http TLS client identity", e.to_string())
                })?;
                builder = builder.identity(identity);
            }
        }
        let client = builder
            .build()
            .map_err(|e| InvalidSetting::new("http client", "settings", e.to_string()))?;
        Ok(HttpTransport {
            client,
            endpoints: config.endpoints,
            compression: config.compression,
        })
    }

    async fn export(self, request: ExportRequest) -> Result<ExportOutcome, Error> {
        let url = self.endpoints.get(request.signal).clone();
        let body = self.compression.compress(&request.body)?;
        let mut builder = self
            .client
            .post(url)
            .header(CONTENT_TYPE, request.encoding.content_type())
            .body(body);
        if self.compression != Compression::None {
            builder = builder.header(CONTENT_ENCODING, self.compression.as_str());
        }
        let mut response = builder.send().await.map_err(send_error)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let response_encoding = match response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        {
            Some(t) if t.starts_with("application/json") => Encoding::Json,
            Some(t) if t.starts_with("application/x-protobuf") => Encoding::Protobuf,
            _ => request.encoding,
        };
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(send_error)? {
            let room = MAX_RESPONSE_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        if status.is_success() {
            outcome(request.signal, response_encoding, request.items, &body)
        } else if status.is_redirection() {
            let location = response_location(response.headers());
            Err(Error::from_http_status(
                status.as_u16(),
                format!(
                    "the collector redirects to {location}; redirects are not followed \
                     (set the endpoint to the new address)"
                ),
                None,
            ))
        } else {
            let message = error_message(response_encoding, &body);
            Err(Error::from_http_status(
                status.as_u16(),
                message,
                retry_after,
            ))
        }
    }
}

/// The `Location` of a redirect, redacted (it may carry credentials of its own).
fn response_location(headers: &http::HeaderMap) -> String {
    match headers.get(LOCATION).map(|v| v.to_str()) {
        Some(Ok(location)) => format!("{:?}", otlp_core::redact::url(location)),
        Some(Err(_)) => "a Location that is not text".to_owned(),
        None => "no Location".to_owned(),
    }
}

/// Classifies a failure to send or to read the response.
fn send_error(error: reqwest::Error) -> Error {
    // reqwest's text names the URL, userinfo and query (API keys) included.
    let error = error.without_url();
    if let Some(tls) = find_tls_failure(&error) {
        return Error::new(ErrorKind::Tls, format!("TLS handshake failed: {tls}"))
            .with_source(error);
    }
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else if error.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Transport
    };
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::new(kind, message).with_source(error)
}

impl Service<ExportRequest> for HttpTransport {
    type Response = ExportOutcome;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<ExportOutcome, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ExportRequest) -> Self::Future {
        let transport = self.clone();
        Box::pin(async move { transport.export(request).await.map_err(BoxError::from) })
    }
}
