//! The pipeline's settings, as plain data with documented defaults.
//!
//! Settings come from three places, applied in this order, each overriding the one before:
//!
//! 1. the defaults below (the OpenTelemetry specification's where it has one);
//! 2. a TOML file ([`PipelineConfig::apply_file`]), with the sections of the production guide:
//!    `transport`, `connection`, `batch`, `retry`, `monitoring`, `security`, `logging`;
//! 3. the environment ([`PipelineConfig::apply_env`]): every `OTEL_EXPORTER_OTLP_*` variable,
//!    generic and per signal, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_*`,
//!    `OTEL_BLRP_*`, `OTEL_METRIC_EXPORT_*`, `OTEL_SDK_DISABLED`;
//!
//! and then whatever the code sets on the builder. A per-signal setting
//! (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `[transport.traces]`) beats the generic one.

mod env;
mod file;
mod parse;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use otlp_batch::BatchConfig;
use otlp_core::{InvalidSetting, Signal};
use otlp_reliability::circuit_breaker::BreakerConfig;
use otlp_reliability::retry::RetryConfig;
use otlp_transport::{Compression, Headers};

pub use env::{EnvSource, ProcessEnv};
pub use parse::{parse_headers, parse_protocol};

/// The wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// OTLP/gRPC (default port 4317).
    #[default]
    Grpc,
    /// OTLP/HTTP with protobuf bodies (default port 4318).
    HttpProtobuf,
    /// OTLP/HTTP with OTLP/JSON bodies (default port 4318).
    HttpJson,
}

impl Protocol {
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

/// The exporter settings of one signal, with defaults filled in. `Debug` shows the endpoint
/// redacted.
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

/// How the pipeline logs about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Bulkhead settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkheadConfig {
    /// Exports in flight at most, over all signals.
    pub max_concurrent: usize,
    /// How long an export waits for a slot before it fails as `BulkheadFull`.
    pub max_wait: Duration,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        BulkheadConfig {
            max_concurrent: 16,
            max_wait: Duration::from_secs(5),
        }
    }
}

/// Everything the pipeline can be told. `Debug` shows endpoints redacted, secrets as
/// `<redacted>`.
#[derive(Clone, PartialEq)]
pub struct PipelineConfig {
    /// `service.name` (default `unknown_service`, as the specification says).
    pub service_name: String,
    /// `service.version`.
    pub service_version: Option<String>,
    /// `deployment.environment.name`.
    pub environment: Option<String>,
    /// Further resource attributes (`OTEL_RESOURCE_ATTRIBUTES`).
    pub resource_attributes: Vec<(String, String)>,
    /// Settings for all signals.
    pub exporter: ExporterSettings,
    /// Per-signal overrides, in the order traces, metrics, logs.
    pub per_signal: [ExporterSettings; 3],
    /// How long to wait for a connection (default 10 s).
    pub connect_timeout: Duration,
    /// The span batch processor (`OTEL_BSP_*`).
    pub span_batch: BatchConfig,
    /// The log batch processor (`OTEL_BLRP_*`).
    pub log_batch: BatchConfig,
    /// How often metrics are collected and exported (default 60 s).
    pub metric_export_interval: Duration,
    /// How long a metrics export may take (default 30 s).
    pub metric_export_timeout: Duration,
    /// Retries.
    pub retry: RetryConfig,
    /// The circuit breaker per endpoint (`None`: off).
    pub circuit_breaker: Option<BreakerConfig>,
    /// The bulkhead over all exports (`None`: off).
    pub bulkhead: Option<BulkheadConfig>,
    /// A bearer token sent as `authorization: Bearer <token>`.
    pub bearer_token: Option<Secret>,
    /// Where to serve the health endpoint (`None`: not served).
    pub health_endpoint: Option<SocketAddr>,
    /// Several collectors to balance over instead of one endpoint: base URLs for HTTP (the
    /// signal path is appended), server URLs for gRPC.
    pub collectors: Vec<String>,
    /// How requests are spread over `collectors` (or a resolver's endpoints).
    pub balance: otlp_transport::balance::Strategy,
    /// The disk spool (`None`: off): requests survive a crash and are replayed.
    pub spool: Option<otlp_batch::spool::SpoolConfig>,
    /// `OTEL_SDK_DISABLED`: build providers that record nothing and export nothing.
    pub disabled: bool,
    /// The pipeline's own log level filter (default `info`).
    pub log_level: String,
    /// The pipeline's own log format.
    pub log_format: LogFormat,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            service_name: "unknown_service".to_owned(),
            service_version: None,
            environment: None,
            resource_attributes: Vec::new(),
            exporter: ExporterSettings::default(),
            per_signal: Default::default(),
            connect_timeout: Duration::from_secs(10),
            span_batch: BatchConfig::default(),
            log_batch: BatchConfig::logs_default(),
            metric_export_interval: Duration::from_secs(60),
            metric_export_timeout: Duration::from_secs(30),
            retry: RetryConfig::default(),
            circuit_breaker: Some(BreakerConfig::default()),
            bulkhead: Some(BulkheadConfig::default()),
            bearer_token: None,
            health_endpoint: None,
            collectors: Vec::new(),
            balance: otlp_transport::balance::Strategy::RoundRobin,
            spool: None,
            disabled: false,
            log_level: "info".to_owned(),
            log_format: LogFormat::Text,
        }
    }
}

/// A secret string: shown as `<redacted>` by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

fn index(signal: Signal) -> usize {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

impl PipelineConfig {
    /// The per-signal overrides of `signal`.
    pub fn signal_mut(&mut self, signal: Signal) -> &mut ExporterSettings {
        &mut self.per_signal[index(signal)]
    }

    /// Applies the environment, read through `source`.
    pub fn apply_env(&mut self, source: &dyn EnvSource) -> Result<(), InvalidSetting> {
        env::apply(self, source)
    }

    /// Applies a TOML configuration file.
    pub fn apply_file(&mut self, path: impl AsRef<std::path::Path>) -> Result<(), InvalidSetting> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            InvalidSetting::new(
                "config file",
                path.display().to_string(),
                format!("cannot read it: {e}"),
            )
        })?;
        self.apply_toml(&text, &path.display().to_string())
    }

    /// Applies TOML text; `origin` names it in errors.
    pub fn apply_toml(&mut self, text: &str, origin: &str) -> Result<(), InvalidSetting> {
        file::apply(self, text, origin)
    }

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
