//! The builder's transport settings: connection settings, request and response limits, the
//! proxy, the credential hook and the user's layers around each attempt.

use otlp_core::{BoxError, ExportOutcome, ExportRequest};
use otlp_transport::client::{ConnectionSettings, ProxyConfig};
use otlp_transport::credentials::CredentialSource;
use tower::{Layer, Service};

use crate::attempt_layers::AttemptService;
use crate::PipelineBuilder;

impl PipelineBuilder {
    /// Sets how long a transport waits for a connection (default 10 s).
    pub fn with_connect_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.config_mut().connect_timeout = timeout;
        self
    }

    /// Sets the keep-alive, pool and HTTP/2 settings of every transport.
    pub fn with_connection(mut self, connection: ConnectionSettings) -> Self {
        self.config_mut().connection = connection;
        self
    }

    /// Sets the largest encoded request: larger batches are split into several requests
    /// (default 4 MiB for gRPC, 16 MiB for HTTP).
    pub fn with_max_request_bytes(mut self, max_request_bytes: usize) -> Self {
        self.config_mut().max_request_bytes = Some(max_request_bytes);
        self
    }

    /// Sets the largest collector response read (default 4 MiB).
    pub fn with_max_response_bytes(mut self, max_response_bytes: usize) -> Self {
        self.config_mut().max_response_bytes = max_response_bytes;
        self
    }

    /// Sets the HTTP(S) proxy, replacing what `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` said.
    pub fn with_proxy(mut self, proxy: ProxyConfig) -> Self {
        self.config_mut().proxy = proxy;
        self
    }

    /// Asks `source` for headers before every attempt (tokens that expire); see
    /// [`otlp_transport::credentials`].
    pub fn with_credentials(mut self, source: impl CredentialSource) -> Self {
        self.config_mut().attempt_layers.set_credentials(source);
        self
    }

    /// Puts `layer` around each attempt (retries included), inside the layers added before.
    pub fn with_attempt_layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<AttemptService> + Send + Sync + 'static,
        L::Service: Service<ExportRequest, Response = ExportOutcome, Error = BoxError>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<ExportRequest>>::Future: Send + 'static,
    {
        self.config_mut().attempt_layers.push(layer);
        self
    }
}
