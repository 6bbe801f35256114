//! OTLP over HTTP (reqwest) as a `tower::Service<ExportRequest>`.
//!
//! Posts the encoded body (protobuf or OTLP/JSON, optionally gzip or zstd) to the signal's
//! URL; connections are pooled and reused across requests and clones. The settings it shares
//! with the gRPC transport are [`ClientOptions`]; [`HttpClient`] is the client it posts with,
//! public so that custom HTTP exporters get the same TLS, headers, proxy and limits. Redirects are not
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

mod client;

use std::path::PathBuf;
use std::task::{Context, Poll};
use std::time::SystemTime;

use futures_util::future::BoxFuture;
use http::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};
use otlp_core::{BoxError, Encoding, Error, ExportOutcome, ExportRequest, InvalidSetting, Signal};
use reqwest::Url;
use tower::Service;

pub use client::{HttpAnswer, HttpClient};

use crate::client::{client_option_setters, ClientOptions};
use crate::endpoint::{unix_socket_path, HttpEndpoints};
use crate::response::{error_message, outcome, parse_retry_after};

/// Settings of the HTTP transport.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The URL of each signal (`unix:///path` for a Unix socket).
    pub endpoints: HttpEndpoints,
    /// The settings shared with the gRPC transport.
    pub options: ClientOptions,
}

impl HttpConfig {
    /// Settings with the three signal URLs derived from a base endpoint (`v1/<signal>` appended).
    pub fn from_base_endpoint(base: &str) -> Result<Self, InvalidSetting> {
        Ok(HttpConfig::new(HttpEndpoints::from_base(
            "http endpoint",
            base,
        )?))
    }

    /// Settings for explicit signal URLs, with the default [`ClientOptions`].
    pub fn new(endpoints: HttpEndpoints) -> Self {
        HttpConfig {
            endpoints,
            options: ClientOptions::default(),
        }
    }

    client_option_setters!();
}

/// The HTTP transport. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    tcp: HttpClient,
    /// The client of the Unix socket some signals' endpoints name.
    unix: Option<HttpClient>,
    endpoints: HttpEndpoints,
}

impl HttpTransport {
    /// Builds the transport; no connection is made until the first request.
    pub fn new(config: HttpConfig) -> Result<Self, InvalidSetting> {
        let mut socket: Option<PathBuf> = None;
        for signal in Signal::ALL {
            if let Some(path) = unix_socket_path(config.endpoints.get(signal)) {
                match &socket {
                    Some(other) if *other != path => {
                        return Err(InvalidSetting::new(
                            "http endpoint",
                            path.display().to_string(),
                            format!(
                                "one transport talks to one Unix socket; {} is already in use",
                                other.display()
                            ),
                        ))
                    }
                    _ => socket = Some(path),
                }
            }
        }
        let unix = socket
            .map(|path| HttpClient::new(&config.options, Some(&path)))
            .transpose()?;
        Ok(HttpTransport {
            tcp: HttpClient::new(&config.options, None)?,
            unix,
            endpoints: config.endpoints,
        })
    }

    /// The client and URL a request of `signal` goes to.
    fn target(&self, signal: Signal) -> Result<(&HttpClient, Url), Error> {
        let url = self.endpoints.get(signal);
        match (&self.unix, unix_socket_path(url)) {
            (Some(unix), Some(_)) => {
                let url = Url::parse(&format!("http://localhost/{}", signal.http_path()))
                    .map_err(|e| Error::new(otlp_core::ErrorKind::Encoding, e.to_string()))?;
                Ok((unix, url))
            }
            _ => Ok((&self.tcp, url.clone())),
        }
    }

    async fn export(self, request: ExportRequest) -> Result<ExportOutcome, Error> {
        let (client, url) = self.target(request.signal)?;
        let answer = client
            .post(
                url,
                request.encoding.content_type(),
                &request.body,
                &request.headers,
            )
            .await?;
        let status = answer.status;
        let retry_after = answer
            .headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let response_encoding = match answer
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        {
            Some(t) if t.starts_with("application/json") => Encoding::Json,
            Some(t) if t.starts_with("application/x-protobuf") => Encoding::Protobuf,
            _ => request.encoding,
        };
        answer.check_complete(client.max_response_bytes())?;
        if status.is_success() {
            outcome(
                request.signal,
                response_encoding,
                request.items,
                &answer.body,
            )
        } else if status.is_redirection() {
            let location = response_location(&answer.headers);
            Err(Error::from_http_status(
                status.as_u16(),
                format!(
                    "the collector redirects to {location}; redirects are not followed \
                     (set the endpoint to the new address)"
                ),
                None,
            ))
        } else {
            let message = error_message(response_encoding, &answer.body);
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
