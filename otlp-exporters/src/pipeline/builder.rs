//! [`PipelineBuilder`]: every setting of a pipeline, from code, the configuration file and the
//! environment.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::{Instrument, Stream};
use otlp_batch::spool::storage::Storage;
use otlp_batch::BatchConfig;
use otlp_core::{InvalidSetting, Signal};
use otlp_reliability::circuit_breaker::BreakerConfig;
use otlp_reliability::retry::RetryConfig;
use otlp_transport::balance::{BalanceStrategy, Resolver};
use otlp_transport::Compression;

use super::{BuildError, OtlpPipeline};
use crate::config::{
    BulkheadConfig, EnvSource, ExporterKind, HistogramAggregation, PipelineConfig, ProcessEnv,
    Propagator, Protocol, SamplerConfig, Secret, Source, TemporalityPreference,
};
use crate::custom::CustomExporter;
use crate::plaintext::PlaintextCredentials;
use crate::views::View;

/// Configures a pipeline. Settings applied later override earlier ones; see
/// [`config`](crate::config) for the recommended order (file, environment, code).
#[derive(Clone, Default)]
pub struct PipelineBuilder {
    config: PipelineConfig,
    custom: Option<Arc<dyn CustomExporter>>,
    self_metrics: bool,
    views: Vec<View>,
    resolver: Option<Arc<dyn Resolver>>,
    spool_storage: Option<Arc<dyn Storage>>,
    health_token: Option<Secret>,
    plaintext_credentials: PlaintextCredentials,
    paused_clock: bool,
}

impl std::fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("config", &self.config)
            .field("custom_exporter", &self.custom.is_some())
            .field("self_metrics", &self.self_metrics)
            .field("views", &self.views.len())
            .field("resolver", &self.resolver.is_some())
            .field("spool_storage", &self.spool_storage)
            .field("health_token", &self.health_token)
            .field("plaintext_credentials", &self.plaintext_credentials)
            .field("paused_clock", &self.paused_clock)
            .finish()
    }
}

impl PipelineBuilder {
    /// Starts from a complete configuration.
    pub fn from_config(config: PipelineConfig) -> Self {
        PipelineBuilder {
            config,
            ..Default::default()
        }
    }

    /// Sends every signal to `exporter` instead of an OTLP collector, through the same
    /// batching, retry, circuit breaker, timeout and bulkhead.
    pub fn with_custom_exporter(mut self, exporter: impl CustomExporter) -> Self {
        self.custom = Some(Arc::new(exporter));
        self
    }

    /// Appends every request to a disk spool in `dir` before sending it (at-least-once across
    /// crashes; replayed on start and while running).
    pub fn with_spool(mut self, spool: otlp_batch::spool::SpoolConfig) -> Self {
        self.config.spool = Some(spool);
        self
    }

    /// The file layer the spool writes through (default: the operating system's files), for
    /// a spool on storage of your own or, in tests, one that injects a disk's faults.
    pub fn with_spool_storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.spool_storage = Some(storage);
        self
    }

    /// Balances over several collectors (base URLs for HTTP, server URLs for gRPC), or over
    /// the ones that `dns:///host:port` or `consul://service` discovers.
    pub fn with_collectors(
        mut self,
        collectors: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.config.collectors = collectors.into_iter().map(Into::into).collect();
        self
    }

    /// How requests are spread over the collectors.
    pub fn with_balance(mut self, strategy: BalanceStrategy) -> Self {
        self.config.balance = strategy;
        self
    }

    /// DNS refresh, health-probe and Consul agent settings for `collectors`.
    pub fn with_discovery(mut self, discovery: otlp_transport::balance::DiscoveryConfig) -> Self {
        self.config.discovery = discovery;
        self
    }

    /// Discovers the collectors with `resolver` (DNS, Consul, your own) instead of a list.
    pub fn with_resolver(mut self, resolver: impl Resolver) -> Self {
        self.resolver = Some(Arc::new(resolver));
        self
    }

    /// Adds a metrics view (the SDK's `MeterProviderBuilder::with_view`), for example to give a
    /// histogram exponential buckets.
    pub fn with_view(
        mut self,
        view: impl Fn(&Instrument) -> Option<Stream> + Send + Sync + 'static,
    ) -> Self {
        self.views.push(Arc::new(view));
        self
    }

    /// Reports the pipeline's own numbers as metrics named after the OpenTelemetry semantic
    /// conventions for SDK self-metrics (`otel.sdk.*`); see [`crate::self_metrics`].
    pub fn with_self_metrics(mut self, enabled: bool) -> Self {
        self.self_metrics = enabled;
        self
    }

    /// Applies a declarative configuration file (the `opentelemetry-configuration` YAML
    /// schema; `${VAR}` substituted from the process environment).
    pub fn with_config_file(
        mut self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Self, InvalidSetting> {
        self.config.apply_file(path)?;
        Ok(self)
    }

    /// Applies the process environment (`OTEL_*`), or the file `OTEL_CONFIG_FILE` names.
    /// Invalid variables are warned about and ignored; only a bad file is an error.
    pub fn with_env(self) -> Result<Self, InvalidSetting> {
        self.with_env_from(&ProcessEnv)
    }

    /// Applies environment variables read from `source`.
    pub fn with_env_from(mut self, source: &dyn EnvSource) -> Result<Self, InvalidSetting> {
        self.config.apply_env(source)?;
        Ok(self)
    }

    /// Sets the generic endpoint.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.config.exporter.endpoint = Some(endpoint.into());
        self.code("exporter.endpoint")
    }

    /// Sets the protocol.
    pub fn with_protocol(mut self, protocol: Protocol) -> Self {
        self.config.exporter.protocol = Some(protocol);
        self.code("exporter.protocol")
    }

    /// What `signal` is exported with: OTLP (the default), the console, or nothing.
    pub fn with_exporter_kind(mut self, signal: Signal, kind: ExporterKind) -> Self {
        self.config.exporters[crate::config::index(signal)] = kind;
        self.code(&format!("{signal}.exporter"))
    }

    /// The metric exporter's temporality preference (cumulative, delta, low memory).
    pub fn with_temporality(mut self, temporality: TemporalityPreference) -> Self {
        self.config.temporality = temporality;
        self.code("metrics.temporality_preference")
    }

    /// The default aggregation of histograms.
    pub fn with_histogram_aggregation(mut self, aggregation: HistogramAggregation) -> Self {
        self.config.histogram_aggregation = aggregation;
        self.code("metrics.default_histogram_aggregation")
    }

    /// The trace sampler.
    pub fn with_sampler(mut self, sampler: SamplerConfig) -> Self {
        self.config.sampler = sampler;
        self.code("sampler")
    }

    /// The propagators [`OtlpPipeline::install_global`] installs.
    pub fn with_propagators(mut self, propagators: Vec<Propagator>) -> Self {
        self.config.propagators = propagators;
        self.code("propagators")
    }

    fn code(mut self, key: &str) -> Self {
        self.config.provenance.set(key, Source::Code);
        self
    }

    /// Sets `service.name`.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.config.service_name = name.into();
        self.code("service.name")
    }

    /// Sets `service.version`.
    pub fn with_service_version(mut self, version: impl Into<String>) -> Self {
        self.config.service_version = Some(version.into());
        self
    }

    /// Sets `deployment.environment.name`.
    pub fn with_environment(mut self, environment: impl Into<String>) -> Self {
        self.config.environment = Some(environment.into());
        self
    }

    /// Adds a resource attribute.
    pub fn with_resource_attribute(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.config
            .set_resource_attribute(KeyValue::new(key.into(), value.into()), Source::Code);
        self
    }

    /// Sets the compression.
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.config.exporter.compression = Some(compression);
        self.code("exporter.compression")
    }

    /// Adds a header to every export request.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self, InvalidSetting> {
        let mut headers = self.config.exporter.headers.take().unwrap_or_default();
        headers.insert("builder header", name, value)?;
        self.config.exporter.headers = Some(headers);
        Ok(self.code("exporter.headers"))
    }

    /// Sends `authorization: Bearer <token>`.
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.config.bearer_token = Some(Secret::new(token));
        self
    }

    /// Trusts the CA certificates in `ca_file` instead of the system's.
    pub fn with_ca_file(mut self, ca_file: impl Into<std::path::PathBuf>) -> Self {
        self.config.exporter.certificate = Some(ca_file.into());
        self
    }

    /// Presents a client certificate for mutual TLS.
    pub fn with_client_identity_files(
        mut self,
        certificate: impl Into<std::path::PathBuf>,
        key: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.config.exporter.client_certificate = Some(certificate.into());
        self.config.exporter.client_key = Some(key.into());
        self
    }

    /// Sets the per-attempt export timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.config.exporter.timeout = Some(timeout);
        self.code("exporter.timeout")
    }

    /// Sets the batch settings of both spans and logs.
    pub fn with_batch(mut self, batch: BatchConfig) -> Self {
        self.config.span_batch = batch.clone();
        self.config.log_batch = batch;
        for prefix in ["span_batch", "log_batch"] {
            for field in [
                "scheduled_delay",
                "export_timeout",
                "max_queue_size",
                "max_batch_size",
            ] {
                self.config
                    .provenance
                    .set(format!("{prefix}.{field}"), Source::Code);
            }
        }
        self
    }

    /// Sets the retry settings.
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.config.retry = retry;
        self
    }

    /// Sets (or turns off) the circuit breaker.
    pub fn with_circuit_breaker(mut self, breaker: Option<BreakerConfig>) -> Self {
        self.config.circuit_breaker = breaker;
        self
    }

    /// Sets (or turns off) the bulkhead.
    pub fn with_bulkhead(mut self, bulkhead: Option<BulkheadConfig>) -> Self {
        self.config.bulkhead = bulkhead;
        self
    }

    /// Sets the export attempts in flight per collector endpoint (adaptive by default); the
    /// batch workers keep as many exports in flight as their endpoints' limits add up to.
    pub fn with_concurrency(
        mut self,
        concurrency: otlp_reliability::adaptive_concurrency::ConcurrencyConfig,
    ) -> Self {
        self.config.concurrency = concurrency;
        self.config.provenance.set("concurrency", Source::Code);
        self
    }

    /// Sets the metric export interval.
    pub fn with_metric_export_interval(mut self, interval: Duration) -> Self {
        self.config.metric_export_interval = interval;
        self.code("metrics.export_interval")
    }

    /// Serves the health endpoint on `addr` (any address: prefer
    /// [`with_health_port`](Self::with_health_port) unless a load balancer elsewhere must reach
    /// it).
    pub fn with_health_endpoint(mut self, addr: SocketAddr) -> Self {
        self.config.health_endpoint = Some(addr);
        self
    }

    /// Serves the health endpoint on `127.0.0.1:port` (0: a free port).
    pub fn with_health_port(self, port: u16) -> Self {
        self.with_health_endpoint(SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)))
    }

    /// Requires `authorization: Bearer <token>` on the health endpoint.
    pub fn with_health_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.health_token = Some(Secret::new(token));
        self
    }

    /// What to do when TLS files, a bearer token or a credential header are set for a
    /// plaintext endpoint that is not loopback: warn (default) or refuse to build.
    pub fn with_plaintext_credentials(mut self, policy: PlaintextCredentials) -> Self {
        self.plaintext_credentials = policy;
        self
    }

    /// Starts the pipeline's runtime with its clock paused (feature `test-util`, for tests): it
    /// moves only when every task waits on a timer, straight to the next one, so batch delays,
    /// timeouts, retries and flush or shutdown deadlines pass without waiting. Only for
    /// pipelines that do no I/O, such as one over a [`CustomExporter`] that never answers or
    /// answers after a `tokio::time::sleep`: while a task waits on a socket the clock still
    /// jumps, and timers fire early.
    #[cfg(feature = "test-util")]
    pub fn with_paused_clock(mut self) -> Self {
        self.paused_clock = true;
        self
    }

    /// Any other setting.
    pub fn config_mut(&mut self) -> &mut PipelineConfig {
        &mut self.config
    }

    /// Builds the pipeline: starts its runtime, its transports (connections are made lazily),
    /// the batch workers, the metric reader, and the health endpoint if configured.
    pub fn build(self) -> Result<OtlpPipeline, BuildError> {
        let security_warnings = if self.config.disabled || self.custom.is_some() {
            Vec::new()
        } else {
            crate::plaintext::check(&self.config, self.plaintext_credentials)?
        };
        let self_metrics = self.self_metrics || self.config.self_metrics;
        let mut pipeline = OtlpPipeline::start(
            self.config,
            self.custom,
            self.views,
            self.resolver,
            self.spool_storage,
            self.health_token,
            self.paused_clock,
        )?;
        pipeline.security_warnings = security_warnings;
        if self_metrics {
            crate::self_metrics::register(&pipeline);
        }
        Ok(pipeline)
    }
}
