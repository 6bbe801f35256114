//! [`OtlpPipeline`]: the builder that wires SDK providers, batch processors, the reliability
//! stack and the transports together, and the handle it returns.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::{Instrument, PeriodicReader, SdkMeterProvider, Stream};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData};
use opentelemetry_sdk::Resource;
use otlp_batch::spool::SpoolLayer;
use otlp_batch::{
    BatchConfig, BatchLogProcessor, BatchProcessor, BatchSpanProcessor, FlushReport, LogItem,
    PipelineRuntime,
};
use otlp_core::{InvalidSetting, Signal};
use otlp_reliability::bulkhead::BulkheadLayer;
use otlp_reliability::circuit_breaker::BreakerConfig;
use otlp_reliability::health::http::ServeConfig;
use otlp_reliability::health::{
    CheckConfig, CheckResult, HealthRegistry, HealthReport, HealthStatus,
};
use otlp_reliability::retry::{RetryConfig, RetryStats};
use otlp_transport::balance::{Resolver, Strategy};
use otlp_transport::Compression;
use tower::util::BoxCloneSyncService;
use tower::Layer as _;

use crate::config::{
    BulkheadConfig, ConfigReport, EnvSource, ExporterKind, HistogramAggregation, PipelineConfig,
    ProcessEnv, Propagator, Protocol, SamplerConfig, Secret, Source, TemporalityPreference,
};
use crate::custom::{ConsoleExporter, CustomExporter};
use crate::endpoint_errors::EndpointErrors;
use crate::plaintext::PlaintextCredentials;
use crate::replay::{ReplayRoute, SpoolReplay};
use crate::report::{DeliveryReport, SignalDelivery};
use crate::sinks::{
    ExportCounters, LogSink, MetricDeadline, OtlpLogExporter, OtlpMetricExporter, OtlpSpanExporter,
    Route, SignalSender, SpanSink,
};
use crate::stack::{self, Breakers, SharedLayers};
use crate::stats::{CircuitStats, ExportStats, PipelineStats};
use crate::views::{self, View};

/// Why a pipeline could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// A setting is invalid; the error names it and its value.
    Setting(InvalidSetting),
    /// The pipeline's runtime thread or a listener could not be started.
    Io(std::io::Error),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Setting(e) => write!(f, "{e}"),
            BuildError::Io(e) => write!(f, "cannot start the pipeline: {e}"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Setting(e) => Some(e),
            BuildError::Io(e) => Some(e),
        }
    }
}

impl From<InvalidSetting> for BuildError {
    fn from(e: InvalidSetting) -> Self {
        BuildError::Setting(e)
    }
}

impl From<std::io::Error> for BuildError {
    fn from(e: std::io::Error) -> Self {
        BuildError::Io(e)
    }
}

/// Configures a pipeline. Settings applied later override earlier ones; see
/// [`config`](crate::config) for the recommended order (file, environment, code).
#[derive(Clone, Default)]
pub struct PipelineBuilder {
    config: PipelineConfig,
    custom: Option<Arc<dyn CustomExporter>>,
    self_metrics: bool,
    views: Vec<View>,
    resolver: Option<Arc<dyn Resolver>>,
    health_token: Option<Secret>,
    plaintext_credentials: PlaintextCredentials,
}

impl std::fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("config", &self.config)
            .field("custom_exporter", &self.custom.is_some())
            .field("self_metrics", &self.self_metrics)
            .field("views", &self.views.len())
            .field("resolver", &self.resolver.is_some())
            .field("health_token", &self.health_token)
            .field("plaintext_credentials", &self.plaintext_credentials)
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
    pub fn with_balance(mut self, strategy: Strategy) -> Self {
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
        let mut pipeline = OtlpPipeline::start(
            self.config,
            self.custom,
            self.views,
            self.resolver,
            self.health_token,
        )?;
        pipeline.security_warnings = security_warnings;
        if self.self_metrics {
            crate::self_metrics::register(&pipeline);
        }
        Ok(pipeline)
    }
}

/// The per-signal pieces that exist when the pipeline is enabled.
pub(crate) struct Exporting {
    pub(crate) senders: [SignalSender; 3],
    pub(crate) span_processor: BatchProcessor<SpanData>,
    pub(crate) log_processor: BatchProcessor<LogItem>,
    pub(crate) counters: [Arc<ExportCounters>; 3],
    pub(crate) retry: Arc<RetryStats>,
    pub(crate) breakers: Breakers,
    pub(crate) bulkhead: Option<BulkheadLayer>,
    pub(crate) spool: Option<Arc<otlp_batch::spool::Spool>>,
    pub(crate) endpoint_errors: EndpointErrors,
}

/// A running pipeline: SDK providers wired to batch processors, the reliability stack and the
/// transports, on a runtime of its own.
///
/// Dropping the handle without [`OtlpPipeline::shutdown`] shuts down within
/// [`OtlpPipeline::DROP_DEADLINE`], whoever else still holds the providers (the globals after
/// [`OtlpPipeline::install_global`], a live tracer): what was recorded is flushed, and what
/// could not be delivered is logged through `tracing` with the report. Telemetry recorded
/// through those providers afterwards is counted as dropped at shutdown. Dropping never
/// panics and never waits longer, in a tokio runtime (either flavour) or outside one.
///
/// ```no_run
/// use otlp_exporters::OtlpPipeline;
/// use opentelemetry::trace::Tracer;
/// use std::time::Duration;
///
/// let pipeline = OtlpPipeline::builder()
///     .with_env()?
///     .with_service_name("checkout")
///     .build()?;
/// pipeline.install_global();
/// pipeline.tracer("checkout").in_span("place-order", |_| {});
/// let report = pipeline.shutdown(Duration::from_secs(5));
/// assert!(report.completed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct OtlpPipeline {
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
    logger_provider: SdkLoggerProvider,
    pub(crate) exporting: Option<Exporting>,
    resource: Resource,
    health: HealthRegistry,
    health_addr: Option<SocketAddr>,
    config: PipelineConfig,
    security_warnings: Vec<String>,
    metric_deadline: MetricDeadline,
    shut_down: std::sync::atomic::AtomicBool,
    report: ConfigReport,
    // Declared last: the providers above shut down on drop, and need the runtime to do it.
    runtime: PipelineRuntime,
}

impl std::fmt::Debug for OtlpPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpPipeline")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What [`OtlpPipeline::shutdown`] or [`OtlpPipeline::force_flush`] achieved. Its `Display`
/// is the delivery report's paragraph.
#[derive(Debug, Clone, PartialEq)]
pub struct ShutdownReport {
    /// Everything accepted was delivered or settled in time.
    pub completed: bool,
    /// Spans and log records not delivered since start (rejected, failed, dropped, or still
    /// pending after a flush that ran out of time).
    pub undelivered: u64,
    /// Everything not delivered since start, per signal and cause, and each endpoint's last
    /// error.
    pub delivery: DeliveryReport,
    /// The span processor's report.
    pub spans: Option<FlushReport>,
    /// The log processor's report.
    pub logs: Option<FlushReport>,
    /// The final metrics export's error, if it failed.
    pub metrics_error: Option<String>,
}

impl std::fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.delivery)?;
        if let Some(error) = &self.metrics_error {
            write!(f, " The metrics export failed: {error}.")?;
        }
        Ok(())
    }
}

impl OtlpPipeline {
    /// How long dropping the handle waits for the shutdown it performs.
    pub const DROP_DEADLINE: Duration = Duration::from_secs(5);

    /// A builder with the defaults.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    fn start(
        config: PipelineConfig,
        custom: Option<Arc<dyn CustomExporter>>,
        views: Vec<View>,
        resolver: Option<Arc<dyn Resolver>>,
        health_token: Option<Secret>,
    ) -> Result<Self, BuildError> {
        let config = stack::retry_within_export_timeouts(config);
        let runtime = PipelineRuntime::new("otlp-pipeline")?;
        let resource = resource(&config);
        let health = HealthRegistry::new();
        let report = config.report();
        tracing::info!(target: "otlp_exporters::config", "{report}");
        if config.disabled {
            return Ok(OtlpPipeline {
                tracer_provider: SdkTracerProvider::builder()
                    .with_resource(resource.clone())
                    .build(),
                meter_provider: SdkMeterProvider::builder()
                    .with_resource(resource.clone())
                    .build(),
                logger_provider: SdkLoggerProvider::builder()
                    .with_resource(resource.clone())
                    .build(),
                exporting: None,
                resource,
                health,
                health_addr: None,
                config,
                security_warnings: Vec::new(),
                metric_deadline: MetricDeadline::default(),
                shut_down: Default::default(),
                report,
                runtime,
            });
        }
        let _entered = runtime.handle().enter();
        let shared = SharedLayers::new(&config)?;
        let breakers = Breakers::new(health.clone());
        let spool = match (&config.spool, &custom) {
            (Some(spool_config), None) => Some(Arc::new(otlp_batch::spool::Spool::open(
                spool_config.clone(),
            )?)),
            _ => None,
        };
        let mut senders = Vec::new();
        let mut replay_routes = Vec::new();
        let console: Arc<dyn CustomExporter> = Arc::new(ConsoleExporter::stdout());
        for signal in Signal::ALL {
            let kind = config.exporter_kind(signal);
            let stack = match &custom {
                Some(exporter) => stack::custom(signal, exporter, &config, &shared, &breakers)?,
                None if kind == ExporterKind::Console => {
                    stack::custom(signal, &console, &config, &shared, &breakers)?
                }
                None => stack::build(
                    signal,
                    &config,
                    &shared,
                    &breakers,
                    resolver.clone(),
                    runtime.handle(),
                )?,
            };
            let counters = Arc::new(ExportCounters::default());
            // Only OTLP exports are spooled: a console or `none` exporter has nothing to replay.
            let spool_for = spool.as_ref().filter(|_| kind == ExporterKind::Otlp);
            let (route, replay_route) = spool_route(stack.route, spool_for, &counters);
            replay_routes.push(replay_route);
            senders.push(SignalSender {
                route,
                counters,
                affinity: stack.affinity,
                endpoint_errors: (shared.endpoint_errors.clone(), format!("{signal}:")),
            });
        }
        let [traces, metrics, logs]: [SignalSender; 3] = senders
            .try_into()
            .map_err(|_| InvalidSetting::new("signals", "3", "internal: one stack per signal"))?;
        let counters = [
            Arc::clone(&traces.counters),
            Arc::clone(&metrics.counters),
            Arc::clone(&logs.counters),
        ];

        let span_processor = BatchProcessor::new(
            config.span_batch.clone(),
            SpanSink(traces.clone()),
            runtime.handle(),
        )?;
        let log_processor = BatchProcessor::new(
            config.log_batch.clone(),
            LogSink(logs.clone()),
            runtime.handle(),
        )?;
        // The sampler and limits are always set, so that the SDK's own reading of the
        // environment never overrides a configuration file.
        let mut tracer_builder = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_sampler(config.sampler.build())
            .with_span_limits(config.limits.span_limits());
        if config.exporter_kind(Signal::Traces) != ExporterKind::None {
            tracer_builder = tracer_builder.with_span_processor(BatchSpanProcessor::new(
                span_processor.clone(),
                config.span_batch.export_timeout,
            ));
        }
        let tracer_provider = tracer_builder.build();
        let mut logger_builder = SdkLoggerProvider::builder().with_resource(resource.clone());
        if config.exporter_kind(Signal::Logs) != ExporterKind::None {
            logger_builder = logger_builder.with_log_processor(BatchLogProcessor::new(
                log_processor.clone(),
                config.log_batch.export_timeout,
            ));
        }
        let logger_provider = logger_builder.build();
        let metric_deadline = MetricDeadline::default();
        let mut meter_builder = SdkMeterProvider::builder().with_resource(resource.clone());
        if config.exporter_kind(Signal::Metrics) != ExporterKind::None {
            let reader = PeriodicReader::builder(OtlpMetricExporter {
                sender: metrics.clone(),
                runtime: runtime.handle().clone(),
                temporality: config.temporality.sdk(),
                timeout: config.metric_export_timeout,
                deadline: metric_deadline.clone(),
            })
            .with_interval(config.metric_export_interval)
            .build();
            meter_builder = meter_builder.with_reader(reader);
        }
        let mut all_views: Vec<View> = config
            .views
            .iter()
            .cloned()
            .map(views::from_config)
            .collect();
        all_views.extend(views);
        if let Some(default) =
            views::default_histogram(config.histogram_aggregation, all_views.clone())
        {
            all_views.push(default);
        }
        for view in all_views {
            meter_builder =
                meter_builder.with_view(move |instrument: &Instrument| view(instrument));
        }
        let meter_provider = meter_builder.build();

        register_queue_check(
            &health,
            "span_queue",
            span_processor.clone(),
            config.span_batch.max_queue_size,
        );
        register_queue_check(
            &health,
            "log_queue",
            log_processor.clone(),
            config.log_batch.max_queue_size,
        );
        if let Some(spool) = &spool {
            register_spool_check(&health, Arc::clone(spool));
        }
        runtime.handle().spawn({
            let health = health.clone();
            async move {
                let _checks = health.spawn();
                std::future::pending::<()>().await;
            }
        });
        let mut health_addr = None;
        if let Some(addr) = config.health_endpoint {
            let listener = std::net::TcpListener::bind(addr)?;
            health_addr = Some(listener.local_addr()?);
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let health = health.clone();
            let mut serve_config = ServeConfig::default();
            if let Some(token) = &health_token {
                serve_config = serve_config.with_bearer_token(token.expose());
            }
            runtime.handle().spawn(async move {
                let served =
                    otlp_reliability::health::http::serve_with(health, listener, serve_config);
                if let Err(error) = served.await {
                    tracing::warn!(%error, "health endpoint stopped");
                }
            });
        }
        if let Some(spool) = &spool {
            let mut routes = replay_routes.into_iter();
            let target = SpoolReplay {
                routes: [
                    routes.next().flatten(),
                    routes.next().flatten(),
                    routes.next().flatten(),
                ],
            };
            runtime.handle().spawn(otlp_batch::spool::replay::run(
                Arc::clone(spool),
                Arc::new(target),
                Duration::from_secs(2),
            ));
        }
        let retry = shared.retry.stats();
        Ok(OtlpPipeline {
            tracer_provider,
            meter_provider,
            logger_provider,
            exporting: Some(Exporting {
                senders: [traces, metrics, logs],
                span_processor,
                log_processor,
                counters,
                retry,
                breakers,
                bulkhead: shared.bulkhead,
                spool,
                endpoint_errors: shared.endpoint_errors,
            }),
            resource,
            health,
            health_addr,
            config,
            security_warnings: Vec::new(),
            metric_deadline,
            shut_down: Default::default(),
            report,
            runtime,
        })
    }

    /// Where the health endpoint listens, when one was configured (the bound address, so a
    /// configured port 0 shows the port the system chose).
    pub fn health_endpoint(&self) -> Option<SocketAddr> {
        self.health_addr
    }

    /// The startup report's security warnings: credentials configured for a plaintext
    /// endpoint that is not loopback (each also logged once through `tracing` at build).
    pub fn security_warnings(&self) -> &[String] {
        &self.security_warnings
    }

    /// A tracer of the pipeline's provider.
    pub fn tracer(&self, name: impl Into<Cow<'static, str>>) -> SdkTracer {
        self.tracer_provider.tracer(name)
    }

    /// A meter of the pipeline's provider.
    pub fn meter(&self, name: &'static str) -> opentelemetry::metrics::Meter {
        self.meter_provider.meter(name)
    }

    /// The tracer provider.
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        &self.tracer_provider
    }

    /// The meter provider.
    pub fn meter_provider(&self) -> &SdkMeterProvider {
        &self.meter_provider
    }

    /// The logger provider, for the `tracing` and `log` bridges
    /// (`opentelemetry-appender-tracing`, `opentelemetry-appender-log`).
    pub fn logger_provider(&self) -> &SdkLoggerProvider {
        &self.logger_provider
    }

    /// Installs the tracer and meter providers as the global ones, and the configured
    /// propagators (default W3C TraceContext + Baggage; `OTEL_PROPAGATORS`).
    pub fn install_global(&self) {
        opentelemetry::global::set_tracer_provider(self.tracer_provider.clone());
        opentelemetry::global::set_meter_provider(self.meter_provider.clone());
        opentelemetry::global::set_text_map_propagator(self.propagator());
    }

    /// The configured propagators as one composite propagator.
    pub fn propagator(&self) -> TextMapCompositePropagator {
        TextMapCompositePropagator::new(
            self.config
                .propagators
                .iter()
                .map(
                    |p| -> Box<dyn opentelemetry::propagation::TextMapPropagator + Send + Sync> {
                        match p {
                            Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
                            Propagator::Baggage => Box::new(BaggagePropagator::new()),
                        }
                    },
                )
                .collect(),
        )
    }

    /// The settings the pipeline runs with.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// The configuration in effect, value by value with where each came from, and every
    /// warning; logged once at `info` when the pipeline started. Secrets are redacted.
    pub fn config_report(&self) -> &ConfigReport {
        &self.report
    }

    /// The health registry (breakers, queues); add checks of your own to it.
    pub fn health_registry(&self) -> &HealthRegistry {
        &self.health
    }

    /// The latest health report.
    pub fn health(&self) -> HealthReport {
        self.health.snapshot()
    }

    /// Exports everything recorded so far and collects and exports metrics, the three signals
    /// at once, returning within `timeout` (plus scheduling) whatever the collector does: the
    /// metric export gets `OTEL_METRIC_EXPORT_TIMEOUT`, or what is left of `timeout` when that
    /// is less.
    pub fn force_flush(&self, timeout: Duration) -> ShutdownReport {
        let deadline = Instant::now() + timeout;
        let provider = self.meter_provider.clone();
        let ((spans, logs), metrics_error) = self.with_metrics(
            deadline,
            move || provider.force_flush(),
            || self.on_processors(|p| p.force_flush(timeout), |p| p.force_flush(timeout)),
        );
        self.report(spans, logs, metrics_error)
    }

    /// Flushes and stops everything within `deadline` (the three signals at once); what
    /// could not be delivered is counted in the report. Later telemetry is dropped and
    /// counted. A second call returns the report at once.
    pub fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let again = self
            .shut_down
            .swap(true, std::sync::atomic::Ordering::AcqRel);
        let until = Instant::now() + deadline;
        let processors = || self.on_processors(|p| p.shutdown(deadline), |p| p.shutdown(deadline));
        let ((spans, logs), metrics_error) = if again {
            (processors(), None)
        } else {
            let provider = self.meter_provider.clone();
            self.with_metrics(
                until,
                move || provider.shutdown_with_timeout(deadline),
                processors,
            )
        };
        // The processors are already shut down; this only marks the providers.
        let _ = self.tracer_provider.shutdown_with_timeout(Duration::ZERO);
        let _ = self.logger_provider.shutdown_with_timeout(Duration::ZERO);
        self.report(spans, logs, metrics_error)
    }

    /// Runs `spans` and `logs` on the two processors at once; each returns by its deadline.
    fn on_processors(
        &self,
        spans: impl FnOnce(&BatchProcessor<SpanData>) -> FlushReport + Send,
        logs: impl FnOnce(&BatchProcessor<LogItem>) -> FlushReport + Send,
    ) -> (Option<FlushReport>, Option<FlushReport>) {
        let Some(exporting) = &self.exporting else {
            return (None, None);
        };
        std::thread::scope(|scope| {
            let logs = scope.spawn(|| logs(&exporting.log_processor));
            let spans = spans(&exporting.span_processor);
            (Some(spans), logs.join().ok())
        })
    }

    /// Runs a meter provider call on a thread of its own while `during` runs here, then waits
    /// for the call until `deadline` only: the SDK's reader has fixed waits of its own (5 s at
    /// shutdown, none at all for a flush), and our metric export is bounded by the same
    /// deadline.
    fn with_metrics<R>(
        &self,
        deadline: Instant,
        call: impl FnOnce() -> opentelemetry_sdk::error::OTelSdkResult + Send + 'static,
        during: impl FnOnce() -> R,
    ) -> (R, Option<String>) {
        if self.exporting.is_none() {
            return (during(), call().err().map(|e| e.to_string()));
        }
        self.metric_deadline.set(Some(deadline));
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("otlp-metrics-flush".into())
            .spawn(move || {
                let _ = sender.send(call());
            });
        let result = during();
        let left = deadline.saturating_duration_since(Instant::now());
        let error = match spawned {
            Err(error) => Some(format!("cannot start the metrics flush: {error}")),
            Ok(_) => match receiver.recv_timeout(left + Duration::from_millis(100)) {
                Ok(result) => result.err().map(|e| e.to_string()),
                Err(_) => Some("the metrics export did not finish by the deadline".to_owned()),
            },
        };
        self.metric_deadline.set(None);
        (result, error)
    }

    /// What was not delivered since start, per signal and cause, and each endpoint's last
    /// error.
    pub fn delivery(&self) -> DeliveryReport {
        let Some(exporting) = &self.exporting else {
            return DeliveryReport {
                signals: Vec::new(),
                endpoints: Vec::new(),
            };
        };
        DeliveryReport {
            signals: vec![
                SignalDelivery::from_batch(
                    Signal::Traces,
                    &exporting.span_processor.stats(),
                    exporting.span_processor.last_rejection(),
                ),
                SignalDelivery::from_exports(
                    Signal::Metrics,
                    &ExportStats::read(&exporting.counters[1]),
                ),
                SignalDelivery::from_batch(
                    Signal::Logs,
                    &exporting.log_processor.stats(),
                    exporting.log_processor.last_rejection(),
                ),
            ],
            endpoints: exporting.endpoint_errors.snapshot(),
        }
    }

    fn report(
        &self,
        spans: Option<FlushReport>,
        logs: Option<FlushReport>,
        metrics_error: Option<String>,
    ) -> ShutdownReport {
        let undelivered = spans.as_ref().map_or(0, |r| r.undelivered)
            + logs.as_ref().map_or(0, |r| r.undelivered);
        let completed = spans.as_ref().is_none_or(|r| r.completed)
            && logs.as_ref().is_none_or(|r| r.completed)
            && metrics_error.is_none();
        ShutdownReport {
            completed,
            undelivered,
            delivery: self.delivery(),
            spans,
            logs,
            metrics_error,
        }
    }

    /// The pipeline's own numbers.
    pub fn stats(&self) -> PipelineStats {
        let Some(exporting) = &self.exporting else {
            return PipelineStats {
                spans: Default::default(),
                logs: Default::default(),
                span_exports: Default::default(),
                metric_exports: Default::default(),
                log_exports: Default::default(),
                retry: Default::default(),
                circuits: Vec::new(),
                bulkhead_rejected: 0,
                spool: None,
                delivery: self.delivery(),
            };
        };
        PipelineStats {
            spans: exporting.span_processor.stats(),
            logs: exporting.log_processor.stats(),
            span_exports: ExportStats::read(&exporting.counters[0]),
            metric_exports: ExportStats::read(&exporting.counters[1]),
            log_exports: ExportStats::read(&exporting.counters[2]),
            retry: exporting.retry.snapshot(),
            circuits: exporting
                .breakers
                .all()
                .iter()
                .map(|b| CircuitStats {
                    name: b.name().to_owned(),
                    state: b.state(),
                    stats: b.stats(),
                })
                .collect(),
            bulkhead_rejected: exporting
                .bulkhead
                .as_ref()
                .map_or(0, BulkheadLayer::rejected),
            spool: exporting.spool.as_ref().map(|s| s.stats()),
            delivery: self.delivery(),
        }
    }

    /// A `SpanExporter` sending through this pipeline's traces stack, for use under the SDK's
    /// own span processors. `None` when the SDK is disabled.
    pub fn span_exporter(&self) -> Option<OtlpSpanExporter> {
        self.exporting.as_ref().map(|e| OtlpSpanExporter {
            sender: e.senders[0].clone(),
            runtime: self.runtime.handle().clone(),
            resource: self.resource.clone(),
        })
    }

    /// A `PushMetricExporter` sending through this pipeline's metrics stack, for a
    /// `PeriodicReader` of your own.
    pub fn metric_exporter(&self) -> Option<OtlpMetricExporter> {
        self.exporting.as_ref().map(|e| OtlpMetricExporter {
            sender: e.senders[1].clone(),
            runtime: self.runtime.handle().clone(),
            temporality: self.config.temporality.sdk(),
            timeout: self.config.metric_export_timeout,
            deadline: MetricDeadline::default(),
        })
    }

    /// A `LogExporter` sending through this pipeline's logs stack, for the SDK's own log
    /// processors.
    pub fn log_exporter(&self) -> Option<OtlpLogExporter> {
        self.exporting.as_ref().map(|e| OtlpLogExporter {
            sender: e.senders[2].clone(),
            runtime: self.runtime.handle().clone(),
            resource: self.resource.clone(),
        })
    }

    /// The pipeline's runtime, for work that must run next to the exporters.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }
}

impl Drop for OtlpPipeline {
    /// Shuts down within [`OtlpPipeline::DROP_DEADLINE`] unless `shutdown` ran already, and
    /// logs the report when something was not delivered.
    fn drop(&mut self) {
        if self.shut_down.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        let report = self.shutdown(Self::DROP_DEADLINE);
        if report.undelivered > 0 || report.metrics_error.is_some() {
            tracing::warn!(
                undelivered = report.undelivered,
                "pipeline dropped: {report}"
            );
        }
    }
}

/// With a spool, the route that batches take goes through its layer; the replay task takes
/// the same stack without it (the request is in the spool already).
fn spool_route(
    route: Route,
    spool: Option<&Arc<otlp_batch::spool::Spool>>,
    counters: &Arc<ExportCounters>,
) -> (Route, Option<ReplayRoute>) {
    match (route, spool) {
        (Route::Otlp { service, options }, Some(spool)) => {
            let replay = ReplayRoute {
                service: service.clone(),
                options,
                counters: Arc::clone(counters),
            };
            let service =
                BoxCloneSyncService::new(SpoolLayer::new(Arc::clone(spool)).layer(service));
            (Route::Otlp { service, options }, Some(replay))
        }
        (route, _) => (route, None),
    }
}

fn register_queue_check<T: otlp_batch::BatchItem>(
    health: &HealthRegistry,
    name: &str,
    processor: BatchProcessor<T>,
    capacity: usize,
) {
    health.register(name, CheckConfig::default(), move || {
        let queued = processor.stats().queued;
        async move {
            let fill = queued as f64 / capacity.max(1) as f64;
            if fill >= 0.9 {
                CheckResult::new(
                    HealthStatus::Degraded,
                    format!("queue {:.0} % full", fill * 100.0),
                )
            } else {
                HealthStatus::Healthy.into()
            }
        }
    });
}

/// Records waiting longer than this make the spool check degraded: the collector has not
/// taken them for a minute.
const SPOOL_DEGRADED_AGE: Duration = Duration::from_secs(60);

/// The spool's health: what waits, and for how long the oldest has.
fn register_spool_check(health: &HealthRegistry, spool: Arc<otlp_batch::spool::Spool>) {
    health.register("spool", CheckConfig::default(), move || {
        let stats = spool.stats();
        async move {
            let Some(age) = stats.oldest_pending_age else {
                return HealthStatus::Healthy.into();
            };
            let status = if age > SPOOL_DEGRADED_AGE {
                HealthStatus::Degraded
            } else {
                HealthStatus::Healthy
            };
            CheckResult::new(
                status,
                format!(
                    "{} requests pending, the oldest for {} s",
                    stats.pending,
                    age.as_secs()
                ),
            )
        }
    });
}

fn resource(config: &PipelineConfig) -> Resource {
    let mut attributes = vec![
        KeyValue::new("telemetry.sdk.name", "opentelemetry"),
        KeyValue::new("telemetry.sdk.language", "rust"),
        KeyValue::new("telemetry.sdk.version", "0.33"),
    ];
    if let Some(version) = &config.service_version {
        attributes.push(KeyValue::new("service.version", version.clone()));
    }
    if let Some(environment) = &config.environment {
        attributes.push(KeyValue::new(
            "deployment.environment.name",
            environment.clone(),
        ));
    }
    attributes.extend(config.resource_attributes.iter().cloned());
    Resource::builder_empty()
        .with_service_name(config.service_name.clone())
        .with_attributes(attributes)
        .build()
}
