//! The HTTP client both the OTLP/HTTP transport and HTTP custom exporters post with: one
//! reqwest client built from [`ClientOptions`], bounded response reads, failures classified.

use std::path::Path;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use otlp_core::{Error, ErrorKind, InvalidSetting, RequestHeaders};
use reqwest::Url;

use crate::client::ClientOptions;
use crate::endpoint;
use crate::tls::find_tls_failure;
use crate::Compression;

/// A collector's answer: status, headers and at most `max_response_bytes` of the body.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    /// The status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body, cut at the limit.
    pub body: Vec<u8>,
    /// Whether the body was longer than the limit (and was cut).
    pub truncated: bool,
}

impl HttpAnswer {
    /// For a successful answer, an error when the body was cut at the limit: the collector
    /// said something that cannot be read whole. Permanent, since the data may have arrived.
    pub fn check_complete(&self, max_response_bytes: usize) -> Result<(), Error> {
        if self.truncated && self.status.is_success() {
            return Err(Error::new(
                ErrorKind::Encoding,
                format!(
                    "the collector's answer is larger than max_response_bytes \
                     ({max_response_bytes} bytes); raise max_response_bytes to read it"
                ),
            ));
        }
        Ok(())
    }
}

/// A pooled HTTP client. Cheap to clone; clones share connections.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    compression: Compression,
    max_response_bytes: usize,
}

impl HttpClient {
    /// A client with `options`: headers, TLS, timeouts, connection settings, proxy and
    /// compression. With `unix_socket`, every connection goes to that socket.
    pub fn new(
        options: &ClientOptions,
        unix_socket: Option<&Path>,
    ) -> Result<Self, InvalidSetting> {
        let mut default_headers = HeaderMap::new();
        for (name, value) in options.headers.iter() {
            default_headers.insert(name.clone(), value.clone());
        }
        let connection = &options.connection;
        let mut builder = reqwest::Client::builder()
            .default_headers(default_headers)
            .connect_timeout(options.connect_timeout)
            .tcp_keepalive(connection.tcp_keepalive)
            .http2_keep_alive_timeout(connection.http2_keep_alive_timeout)
            .http2_keep_alive_while_idle(false)
            .http2_initial_stream_window_size(connection.http2_initial_stream_window_size)
            .http2_initial_connection_window_size(connection.http2_initial_connection_window_size)
            .pool_max_idle_per_host(connection.pool_max_idle_per_host)
            .pool_idle_timeout(connection.pool_idle_timeout)
            // A redirect would carry the configured headers (API keys, tokens) to wherever the
            // collector, or anything on the path of a plaintext export, points: none is
            // followed, and a 3xx answer is a permanent error naming its `Location`.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(endpoint::USER_AGENT)
            // Proxies are the settings' decision only, never picked up implicitly.
            .no_proxy();
        if let Some(interval) = connection.http2_keep_alive_interval {
            builder = builder.http2_keep_alive_interval(interval);
        }
        if let Some(timeout) = options.timeout {
            builder = builder.timeout(timeout);
        }
        if options.proxy.is_set() {
            let proxy = options.proxy.clone();
            builder = builder.proxy(reqwest::Proxy::custom(move |url| {
                proxy.proxy_for(url).cloned()
            }));
        }
        if let Some(path) = unix_socket {
            builder = builder.unix_socket(path);
        }
        if let Some(tls) = &options.tls {
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
        Ok(HttpClient {
            client,
            compression: options.compression,
            max_response_bytes: options.max_response_bytes,
        })
    }

    /// The largest response body read.
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// Posts `body` (compressed as configured) with `content_type` and the request's own
    /// `headers` (which replace configured ones of the same name); reads the answer up to
    /// the limit.
    pub async fn post(
        &self,
        url: Url,
        content_type: &str,
        body: &Bytes,
        headers: &RequestHeaders,
    ) -> Result<HttpAnswer, Error> {
        let body = self.compression.compress(body)?;
        let mut builder = self
            .client
            .post(url)
            .header(CONTENT_TYPE, content_type)
            .body(body);
        if self.compression != Compression::None {
            builder = builder.header(CONTENT_ENCODING, self.compression.as_str());
        }
        for (name, value) in headers.iter() {
            builder = builder.header(header_name(name)?, header_value(name, value)?);
        }
        let mut response = builder.send().await.map_err(send_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await.map_err(send_error)? {
            let room = self.max_response_bytes.saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpAnswer {
            status,
            headers,
            body,
            truncated,
        })
    }
}

fn header_name(name: &str) -> Result<HeaderName, Error> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        Error::new(
            ErrorKind::Encoding,
            format!("request header name {name:?} is not a valid header name"),
        )
    })
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        // The value is a credential more often than not: only its name is shown.
        Error::new(
            ErrorKind::Encoding,
            format!("the value of request header {name} is not a valid header value"),
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Classifies a failure to send or to read the response.
pub(crate) fn send_error(error: reqwest::Error) -> Error {
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
