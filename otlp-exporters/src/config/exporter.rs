//! The OTLP exporter settings: the protocol, settings shared by all signals and overridden
//! per signal, and their resolution into the URL, headers and timeouts one signal uses.

use std::path::PathBuf;
use std::time::Duration;

use otlp_core::{InvalidSetting, Signal};
use otlp_transport::{Compression, Headers};

use super::{index, PipelineConfig};

/// The wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// OTLP/gRPC (default port 4317).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (default port 4318); the specification's default.
    #[default]
    HttpProtobuf,
    /// OTLP/HTTP with OTLP/JSON bodies (default port 4318).
    HttpJson,
}

impl Protocol {
    /// [`Protocol::HttpProtobuf`] under the name `opentelemetry-otlp` gives it.
    #[allow(non_upper_case_globals)]
    pub const HttpBinary: Protocol = Protocol::HttpProtobuf;

    /// The name used by `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }

    /// The default endpoint of the protocol.
    pub fn default_endpoint(self) -> &'static str {
        match self {
            Protocol::Grpc => otlp_transport::endpoint::DEFAULT_GRPC_ENDPOINT,
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                otlp_transport::endpoint::DEFAULT_HTTP_ENDPOINT
            }
        }
    }
}

/// Exporter settings that can be set for all signals and overridden per signal. `Debug` shows
/// the endpoint redacted (see `redacted_debug.rs`).
#[derive(Clone, Default, PartialEq)]
pub struct ExporterSettings {
    /// The collector endpoint. Generic: a base URL (`/v1/<signal>` is appended for HTTP).
    /// Per signal: used as is.
    pub endpoint: Option<String>,
    /// The protocol.
    pub protocol: Option<Protocol>,
    /// Extra headers (API keys, tenant ids). Values are kept out of `Debug` output.
    pub headers: Option<Headers>,
    /// The time one export attempt may take (default 10 s).
    pub timeout: Option<Duration>,
    /// Request compression (default none).
    pub compression: Option<Compression>,
    /// For gRPC endpoints written without a scheme: plaintext when true (default false).
    pub insecure: Option<bool>,
    /// A PEM file of CA certificates to trust instead of the system's.
    pub certificate: Option<PathBuf>,
    /// The client certificate (PEM) for mutual TLS.
    pub client_certificate: Option<PathBuf>,
    /// The client key (PEM) for mutual TLS.
    pub client_key: Option<PathBuf>,
}

impl ExporterSettings {
    /// `self` with every setting that `other` has replaced by `other`'s.
    pub fn overridden_by(&self, other: &ExporterSettings) -> ExporterSettings {
        ExporterSettings {
            endpoint: other.endpoint.clone().or_else(|| self.endpoint.clone()),
            protocol: other.protocol.or(self.protocol),
            headers: other.headers.clone().or_else(|| self.headers.clone()),
            timeout: other.timeout.or(self.timeout),
            compression: other.compression.or(self.compression),
            insecure: other.insecure.or(self.insecure),
            certificate: other
                .certificate
                .clone()
                .or_else(|| self.certificate.clone()),
            client_certificate: other
                .client_certificate
                .clone()
                .or_else(|| self.client_certificate.clone()),
            client_key: other.client_key.clone().or_else(|| self.client_key.clone()),
        }
    }
}

/// The exporter settings of one signal, with defaults filled in.
#[derive(Clone, PartialEq)]
pub struct ResolvedExporter {
    /// The signal.
    pub signal: Signal,
    /// The protocol.
    pub protocol: Protocol,
    /// The URL to send to: for HTTP the full signal URL, for gRPC the server.
    pub endpoint: String,
    /// Extra headers.
    pub headers: Headers,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Compression.
    pub compression: Compression,
    /// The TLS files.
    pub certificate: Option<PathBuf>,
    /// The client certificate file.
    pub client_certificate: Option<PathBuf>,
    /// The client key file.
    pub client_key: Option<PathBuf>,
}

impl PipelineConfig {
    /// The settings of one signal, with per-signal overrides and defaults applied.
    ///
    /// Endpoint rules: a per-signal endpoint is used as is; the generic endpoint gets
    /// `/v1/<signal>` appended for HTTP; a gRPC endpoint without a scheme gets `http://` when
    /// `insecure` is set and `https://` otherwise.
    pub fn resolve(&self, signal: Signal) -> Result<ResolvedExporter, InvalidSetting> {
        let own = &self.per_signal[index(signal)];
        let merged = self.exporter.overridden_by(own);
        let protocol = merged.protocol.unwrap_or_default();
        let signal_setting = format!(
            "OTEL_EXPORTER_OTLP_{}_ENDPOINT",
            signal.as_str().to_ascii_uppercase()
        );
        let (setting, raw, per_signal) = match (&own.endpoint, &self.exporter.endpoint) {
            (Some(url), _) => (signal_setting.as_str(), url.clone(), true),
            (None, Some(url)) => ("OTEL_EXPORTER_OTLP_ENDPOINT", url.clone(), false),
            (None, None) => (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                protocol.default_endpoint().to_owned(),
                false,
            ),
        };
        let endpoint = match protocol {
            Protocol::Grpc => {
                let with_scheme = if raw.contains("://") {
                    raw.clone()
                } else if merged.insecure.unwrap_or(false) {
                    format!("http://{raw}")
                } else {
                    format!("https://{raw}")
                };
                otlp_transport::endpoint::parse_url(setting, &with_scheme)?;
                with_scheme
            }
            Protocol::HttpProtobuf | Protocol::HttpJson if per_signal => {
                otlp_transport::endpoint::parse_url(setting, &raw)?.to_string()
            }
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                otlp_transport::endpoint::http_signal_url(setting, &raw, signal)?.to_string()
            }
        };
        let mut headers = merged.headers.unwrap_or_default();
        if let Some(token) = &self.bearer_token {
            headers.insert_bearer_token("security.bearer_token", token.expose())?;
        }
        Ok(ResolvedExporter {
            signal,
            protocol,
            endpoint,
            headers,
            timeout: merged.timeout.unwrap_or(Duration::from_secs(10)),
            compression: merged.compression.unwrap_or_default(),
            certificate: merged.certificate,
            client_certificate: merged.client_certificate,
            client_key: merged.client_key,
        })
    }
}
