//! The pipeline's settings, as plain data with documented defaults.
//!
//! Settings come from four places; a later one overrides an earlier one:
//!
//! 1. the defaults (the OpenTelemetry specification's where it has one: `http/protobuf` to
//!    `http://localhost:4318`, 10 s timeouts, 5 s / 1 s batch delays, 60 s metric interval);
//! 2. the declarative configuration file ([`PipelineConfig::apply_file`]): the
//!    `opentelemetry-configuration` schema, file format 1.x, with project-only settings under
//!    `distribution.otlp-rust` (see [`file`](self#the-configuration-file));
//! 3. the environment ([`PipelineConfig::apply_env`]): every SDK and OTLP exporter variable of
//!    the specification. When `OTEL_CONFIG_FILE` is set, the file it names is applied instead
//!    and every other variable is ignored except through the file's `${VAR}` substitution, as
//!    the specification says;
//! 4. the code, through the builder.
//!
//! A per-signal setting (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) beats the generic one.
//! The environment is forgiving (an invalid value is warned about and ignored); the file and
//! the code are strict (an invalid value is an error naming the setting, or the path in the
//! file, and the value). [`PipelineConfig::report`] says what is in effect and where each
//! value came from.
//!
//! # The configuration file
//!
//! ```yaml
//! file_format: "1.0"
//! resource:
//!   attributes:
//!     - name: service.name
//!       value: checkout
//! tracer_provider:
//!   processors:
//!     - batch:
//!         exporter:
//!           otlp_http:
//!             endpoint: ${OTEL_EXPORTER_OTLP_ENDPOINT:-http://localhost:4318}/v1/traces
//! ```

mod concurrency;
mod connection;
mod discovery;
mod env;
mod exporter;
mod file;
mod parse;
mod provenance;
mod report;
mod sdk;

use std::net::SocketAddr;
use std::time::Duration;

use opentelemetry::KeyValue;
use otlp_batch::BatchConfig;
use otlp_core::{InvalidSetting, Signal};
use otlp_reliability::adaptive_concurrency::ConcurrencyConfig;
use otlp_reliability::circuit_breaker::BreakerConfig;
use otlp_reliability::retry::RetryConfig;

pub use env::{EnvSource, ProcessEnv};
pub use exporter::{ExporterSettings, Protocol, ResolvedExporter};
pub use parse::{parse_headers, parse_protocol};
pub use provenance::{Provenance, Source};
pub use report::{ConfigReport, ReportEntry};
pub use sdk::{
    ExemplarFilter, ExporterKind, HistogramAggregation, Limits, Propagator, SamplerConfig,
    TemporalityPreference, ViewConfig,
};

/// What a timeout of `0` stands for ("no limit", as the specification says): a hundred
/// years, so that deadline arithmetic never overflows.
pub const NO_LIMIT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

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
    /// Further resource attributes (`OTEL_RESOURCE_ATTRIBUTES`, the file's `resource`).
    pub resource_attributes: Vec<KeyValue>,
    /// Settings for all signals.
    pub exporter: ExporterSettings,
    /// Per-signal overrides, in the order traces, metrics, logs.
    pub per_signal: [ExporterSettings; 3],
    /// What each signal is exported with (`OTEL_*_EXPORTER`), traces, metrics, logs.
    pub exporters: [ExporterKind; 3],
    /// How long to wait for a connection (default 10 s).
    pub connect_timeout: Duration,
    /// Keep-alive, idle pool and HTTP/2 window settings of every transport.
    pub connection: otlp_transport::ConnectionSettings,
    /// The largest encoded request; larger batches are split (`None`: 4 MiB for gRPC, 16 MiB
    /// for HTTP).
    pub max_request_bytes: Option<usize>,
    /// The largest collector response read (default 4 MiB).
    pub max_response_bytes: usize,
    /// The HTTP(S) proxy (default none; `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`).
    pub proxy: otlp_transport::ProxyConfig,
    /// The credential hook and the user's layers around each attempt.
    pub attempt_layers: crate::AttemptLayers,
    /// The span batch processor (`OTEL_BSP_*`).
    pub span_batch: BatchConfig,
    /// The log batch processor (`OTEL_BLRP_*`).
    pub log_batch: BatchConfig,
    /// How often metrics are collected and exported (default 60 s).
    pub metric_export_interval: Duration,
    /// How long a metrics export may take (default 30 s; [`NO_LIMIT`] for `0`).
    pub metric_export_timeout: Duration,
    /// The metric exporter's temporality preference (default cumulative).
    pub temporality: TemporalityPreference,
    /// The default histogram aggregation (default explicit buckets).
    pub histogram_aggregation: HistogramAggregation,
    /// The exemplar filter (default `trace_based`; see [`ExemplarFilter`]).
    pub exemplar_filter: ExemplarFilter,
    /// Metrics views from the configuration file.
    pub views: Vec<ViewConfig>,
    /// The propagators `install_global` installs (default tracecontext, baggage).
    pub propagators: Vec<Propagator>,
    /// The trace sampler (default `parentbased_always_on`).
    pub sampler: SamplerConfig,
    /// Attribute, span, event, link and log-record limits.
    pub limits: Limits,
    /// Retries.
    pub retry: RetryConfig,
    /// The circuit breaker per endpoint (`None`: off).
    pub circuit_breaker: Option<BreakerConfig>,
    /// The bulkhead over all exports (`None`: off).
    pub bulkhead: Option<BulkheadConfig>,
    /// Export attempts in flight per collector endpoint: adaptive (the default) or fixed; see
    /// the `concurrency` module for the knobs and their defaults. The batch workers keep as
    /// many exports in flight as the endpoints' limits add up to, at most
    /// `max_concurrent_exports` of their batch settings.
    pub concurrency: ConcurrencyConfig,
    /// A bearer token sent as `authorization: Bearer <token>`.
    pub bearer_token: Option<Secret>,
    /// Where to serve the health endpoint (`None`: not served).
    pub health_endpoint: Option<SocketAddr>,
    /// Several collectors to balance over instead of one endpoint: base URLs for HTTP (the
    /// signal path is appended), server URLs for gRPC.
    pub collectors: Vec<String>,
    /// How requests are spread over `collectors` (or a resolver's endpoints).
    pub balance: otlp_transport::balance::BalanceStrategy,
    /// DNS refresh, health-probe and Consul settings of `collectors`.
    pub discovery: otlp_transport::balance::DiscoveryConfig,
    /// The disk spool (`None`: off): requests survive a crash and are replayed.
    pub spool: Option<otlp_batch::spool::SpoolConfig>,
    /// `OTEL_SDK_DISABLED`: build providers that record nothing and export nothing.
    pub disabled: bool,
    /// The pipeline's own log level filter (`OTEL_LOG_LEVEL`, default `info`).
    pub log_level: String,
    /// The pipeline's own log format.
    pub log_format: LogFormat,
    /// Record the pipeline's own metrics (`otel.sdk.*`, see [`crate::self_metrics`]); the
    /// file's `distribution.otlp-rust.self_metrics`, or the builder's `with_self_metrics`.
    pub self_metrics: bool,
    /// Where the values came from, and the warnings met reading them.
    pub provenance: Provenance,
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
            exporters: [ExporterKind::Otlp; 3],
            connect_timeout: Duration::from_secs(10),
            connection: otlp_transport::ConnectionSettings::default(),
            max_request_bytes: None,
            max_response_bytes: otlp_transport::client::DEFAULT_MAX_RESPONSE_BYTES,
            proxy: otlp_transport::ProxyConfig::default(),
            attempt_layers: crate::AttemptLayers::default(),
            span_batch: BatchConfig::default(),
            log_batch: BatchConfig::logs_default(),
            metric_export_interval: Duration::from_secs(60),
            metric_export_timeout: Duration::from_secs(30),
            temporality: TemporalityPreference::default(),
            histogram_aggregation: HistogramAggregation::default(),
            exemplar_filter: ExemplarFilter::default(),
            views: Vec::new(),
            propagators: vec![Propagator::TraceContext, Propagator::Baggage],
            sampler: SamplerConfig::default(),
            limits: Limits::default(),
            retry: RetryConfig::default(),
            circuit_breaker: Some(BreakerConfig::default()),
            bulkhead: Some(BulkheadConfig::default()),
            concurrency: ConcurrencyConfig::default(),
            bearer_token: None,
            health_endpoint: None,
            collectors: Vec::new(),
            balance: otlp_transport::balance::BalanceStrategy::RoundRobin,
            discovery: Default::default(),
            spool: None,
            disabled: false,
            log_level: "info".to_owned(),
            log_format: LogFormat::Text,
            self_metrics: false,
            provenance: Provenance::default(),
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

pub(crate) fn index(signal: Signal) -> usize {
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

    /// What `signal` is exported with.
    pub fn exporter_kind(&self, signal: Signal) -> ExporterKind {
        self.exporters[index(signal)]
    }

    /// Sets a resource attribute (`service.name`, `service.version` and
    /// `deployment.environment.name` go to their own fields), replacing an earlier value of
    /// the same key.
    pub fn set_resource_attribute(&mut self, attribute: KeyValue, source: Source) {
        let key = attribute.key.as_str().to_owned();
        match key.as_str() {
            "service.name" => self.service_name = attribute.value.to_string(),
            "service.version" => self.service_version = Some(attribute.value.to_string()),
            "deployment.environment.name" => self.environment = Some(attribute.value.to_string()),
            _ => {
                self.resource_attributes
                    .retain(|kv| kv.key != attribute.key);
                self.resource_attributes.push(attribute);
                self.provenance.set(format!("resource.{key}"), source);
                return;
            }
        }
        self.provenance.set(key, source);
    }

    /// Applies the environment, read through `source`. Invalid variables are warned about
    /// and ignored. When `OTEL_CONFIG_FILE` is set, the file is applied instead (its `${VAR}`
    /// references read from `source`); only a bad file is an error.
    pub fn apply_env(&mut self, source: &dyn EnvSource) -> Result<(), InvalidSetting> {
        if let Some(path) = source.get("OTEL_CONFIG_FILE") {
            return self.apply_file_with_env(path.trim(), source);
        }
        env::apply(self, source);
        Ok(())
    }

    /// Applies a declarative configuration file (YAML), substituting `${VAR}` from the
    /// process environment.
    pub fn apply_file(&mut self, path: impl AsRef<std::path::Path>) -> Result<(), InvalidSetting> {
        self.apply_file_with_env(path, &ProcessEnv)
    }

    /// Applies a declarative configuration file, substituting `${VAR}` from `env`.
    pub fn apply_file_with_env(
        &mut self,
        path: impl AsRef<std::path::Path>,
        env: &dyn EnvSource,
    ) -> Result<(), InvalidSetting> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            InvalidSetting::new(
                "OTEL_CONFIG_FILE",
                path.display().to_string(),
                format!("cannot read it: {e}"),
            )
        })?;
        self.apply_yaml(&text, &path.display().to_string(), env)
    }

    /// Applies the text of a declarative configuration file; `origin` names it in errors.
    pub fn apply_yaml(
        &mut self,
        text: &str,
        origin: &str,
        env: &dyn EnvSource,
    ) -> Result<(), InvalidSetting> {
        file::apply(self, text, origin, env)?;
        self.provenance.set_file(origin);
        Ok(())
    }

    /// What is in effect, value by value, with where each came from, and every warning.
    /// Secrets (header values, the bearer token, passwords in URLs) are redacted.
    pub fn report(&self) -> ConfigReport {
        report::build(self)
    }
}
