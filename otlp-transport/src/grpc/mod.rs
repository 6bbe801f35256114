//! OTLP over gRPC (tonic) as a `tower::Service<ExportRequest>`.
//!
//! The request body is sent as is through a pass-through codec: the batch was encoded once by
//! otlp-core and a retry sends the same bytes. One HTTP/2 connection is shared by all clones.
//! The settings it shares with the HTTP transport are [`ClientOptions`]; a `unix://` endpoint
//! and a proxy (HTTP `CONNECT`) go through the transport's own connector.
//!
//! ```no_run
//! # async fn run() -> Result<(), otlp_core::BoxError> {
//! use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
//! use otlp_transport::Compression;
//! use tower::ServiceExt;
//!
//! let transport = GrpcTransport::new(
//!     GrpcConfig::new("http://127.0.0.1:4317").with_compression(Compression::Gzip),
//! )?;
//! # let request: otlp_core::ExportRequest = unimplemented!();
//! let outcome = transport.oneshot(request).await?;
//! println!("{} accepted, {} rejected", outcome.accepted, outcome.rejected);
//! # Ok(()) }
//! ```

mod codec;
mod connector;
mod status;

use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use http::uri::PathAndQuery;
use otlp_core::{
    BoxError, Encoding, Error, ErrorKind, ExportOutcome, ExportRequest, InvalidSetting,
};
use tonic::codec::CompressionEncoding;
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tower::Service;

use crate::client::{client_option_setters, ClientOptions};
use crate::response::outcome;
use crate::{endpoint, Compression};
use codec::BytesCodec;

/// Settings of the gRPC transport. `Debug` shows the endpoint
/// [redacted](otlp_core::redact) and no header value.
#[derive(Clone)]
pub struct GrpcConfig {
    /// The collector, e.g. `http://127.0.0.1:4317`, `https://collector:4317` or
    /// `unix:///run/otel/otlp.sock`.
    pub endpoint: String,
    /// The settings shared with the HTTP transport. The pool settings do not apply: every
    /// request is multiplexed over one HTTP/2 connection.
    pub options: ClientOptions,
}

impl std::fmt::Debug for GrpcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcConfig")
            .field("endpoint", &otlp_core::redact::url(&self.endpoint))
            .field("options", &self.options)
            .finish()
    }
}

impl GrpcConfig {
    /// Settings for `endpoint` with the default [`ClientOptions`].
    pub fn new(endpoint: impl Into<String>) -> Self {
        GrpcConfig {
            endpoint: endpoint.into(),
            options: ClientOptions::default(),
        }
    }

    client_option_setters!();
}

/// The gRPC transport. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct GrpcTransport {
    grpc: tonic::client::Grpc<Channel>,
    metadata: Vec<(
        MetadataKey<tonic::metadata::Ascii>,
        MetadataValue<tonic::metadata::Ascii>,
    )>,
    timeout: Option<Duration>,
    max_response_bytes: usize,
}

impl std::fmt::Debug for GrpcTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcTransport")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl GrpcTransport {
    /// Builds the transport. The connection is made lazily, on the first request; this must be
    /// called inside a tokio runtime.
    pub fn new(config: GrpcConfig) -> Result<Self, InvalidSetting> {
        const SETTING: &str = "grpc endpoint";
        let options = &config.options;
        let url = endpoint::parse_url(SETTING, &config.endpoint)?;
        let route = connector::Route::for_endpoint(&url, &options.proxy)?;
        // A Unix socket endpoint has no authority of its own; the requests name `localhost`.
        let uri = match route {
            connector::Route::Unix(_) => "http://localhost".to_owned(),
            _ => config.endpoint.trim().to_owned(),
        };
        let connection = &options.connection;
        let mut builder = Endpoint::from_shared(uri)
            .map_err(|e| {
                InvalidSetting::new(
                    SETTING,
                    otlp_core::redact::url(&config.endpoint),
                    e.to_string(),
                )
            })?
            .connect_timeout(options.connect_timeout)
            .tcp_keepalive(connection.tcp_keepalive)
            .keep_alive_while_idle(false)
            .keep_alive_timeout(connection.http2_keep_alive_timeout)
            .initial_stream_window_size(connection.http2_initial_stream_window_size)
            .initial_connection_window_size(connection.http2_initial_connection_window_size)
            .user_agent(endpoint::USER_AGENT)
            .map_err(|e| InvalidSetting::new(SETTING, endpoint::USER_AGENT, e.to_string()))?;
        if let Some(interval) = connection.http2_keep_alive_interval {
            builder = builder.http2_keep_alive_interval(interval);
        }
        if url.scheme() == "https" {
            let tls = options.tls.clone().unwrap_or_default();
            let mut tls_config = ClientTlsConfig::new();
            tls_config = match tls.ca_pem() {
                Some(ca) => tls_config.ca_certificate(Certificate::from_pem(ca)),
                None => tls_config.with_native_roots(),
            };
            if let Some((certificate, key)) = tls.client_identity_pem() {
                tls_config = tls_config.identity(Identity::from_pem(certificate, key));
            }
            if let Some(domain) = tls.domain() {
                tls_config = tls_config.domain_name(domain);
            }
            builder = builder.tls_config(tls_config).map_err(|e| {
                InvalidSetting::new(
                    "grpc TLS",
                    otlp_core::redact::url(&config.endpoint),
                    e.to_string(),
                )
            })?;
        }
        let channel = match route {
            connector::Route::Direct => builder.connect_lazy(),
            route => builder.connect_with_connector_lazy(route.connector()),
        };
        // grpc-go servers (the OpenTelemetry Collector among them) answer a compressed request
        // with a response compressed the same way; without these, tonic refuses that answer
        // with UNIMPLEMENTED although the collector accepted the data.
        let mut grpc = tonic::client::Grpc::new(channel)
            .max_decoding_message_size(options.max_response_bytes)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd);
        grpc = match options.compression {
            Compression::None => grpc,
            Compression::Gzip => grpc.send_compressed(CompressionEncoding::Gzip),
            Compression::Zstd => grpc.send_compressed(CompressionEncoding::Zstd),
        };
        let metadata = options
            .headers
            .iter()
            .map(|(name, value)| {
                let key = MetadataKey::from_bytes(name.as_str().as_bytes()).map_err(|_| {
                    InvalidSetting::new("grpc headers", name.as_str(), "not a valid metadata key")
                })?;
                let value = MetadataValue::try_from(value.as_bytes()).map_err(|_| {
                    InvalidSetting::secret("grpc headers", "not a valid metadata value")
                })?;
                Ok((key, value))
            })
            .collect::<Result<_, InvalidSetting>>()?;
        Ok(GrpcTransport {
            grpc,
            metadata,
            timeout: options.timeout,
            max_response_bytes: options.max_response_bytes,
        })
    }

    async fn export(mut self, request: ExportRequest) -> Result<ExportOutcome, Error> {
        if request.encoding != Encoding::Protobuf {
            return Err(Error::new(
                ErrorKind::Encoding,
                "gRPC carries protobuf only, not OTLP/JSON",
            ));
        }
        self.grpc.ready().await.map_err(|e| {
            Error::new(
                ErrorKind::Connect,
                format!("cannot reach the collector: {e}"),
            )
            .with_source(e)
        })?;
        let mut grpc_request = tonic::Request::new(request.body.clone());
        for (key, value) in &self.metadata {
            grpc_request
                .metadata_mut()
                .insert(key.clone(), value.clone());
        }
        for (name, value) in request.headers.iter() {
            let (key, value) = request_metadata(name, value)?;
            grpc_request.metadata_mut().insert(key, value);
        }
        if let Some(timeout) = self.timeout {
            grpc_request.set_timeout(timeout);
        }
        let path = PathAndQuery::from_static(request.signal.grpc_path());
        match self.grpc.unary(grpc_request, path, BytesCodec).await {
            Ok(response) => outcome(
                request.signal,
                Encoding::Protobuf,
                request.items,
                response.get_ref(),
            ),
            Err(status) => Err(status::error_from_status(status, self.max_response_bytes)),
        }
    }
}

/// A request header set by a layer, as gRPC metadata; the value is never shown.
fn request_metadata(
    name: &str,
    value: &str,
) -> Result<
    (
        MetadataKey<tonic::metadata::Ascii>,
        MetadataValue<tonic::metadata::Ascii>,
    ),
    Error,
> {
    let key = MetadataKey::from_bytes(name.as_bytes()).map_err(|_| {
        Error::new(
            ErrorKind::Encoding,
            format!("request header name {name:?} is not a valid metadata key"),
        )
    })?;
    let value = MetadataValue::try_from(value).map_err(|_| {
        Error::new(
            ErrorKind::Encoding,
            format!("the value of request header {name} is not a valid metadata value"),
        )
    })?;
    Ok((key, value))
}

impl Service<ExportRequest> for GrpcTransport {
    type Response = ExportOutcome;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<ExportOutcome, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness of the shared channel is awaited inside `call`, on a clone.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ExportRequest) -> Self::Future {
        let transport = self.clone();
        Box::pin(async move { transport.export(request).await.map_err(BoxError::from) })
    }
}
