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
use opentelemetry_sdk::metrics::{
    Instrument, PeriodicReader, SdkMeterProvider, Stream, Temporality,
};
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
use otlp_reliability::health::{
    CheckConfig, CheckResult, HealthRegistry, HealthReport, HealthStatus,
};
use otlp_reliability::retry::{RetryConfig, RetryStats};
use otlp_transport::balance::{Resolver, Strategy};
use otlp_transport::Compression;
use tower::util::BoxCloneSyncService;
use tower::Layer as _;

use crate::config::{BulkheadConfig, EnvSource, PipelineConfig, ProcessEnv, Protocol, Secret};
use crate::custom::CustomExporter;
use crate::replay::{ReplayRoute, SpoolReplay};
use crate::sinks::{
    ExportCounters, LogSink, OtlpLogExporter, OtlpMetricExporter, OtlpSpanExporter, Route,
    SignalSender, SpanSink,
};
use crate::stack::{self, Breakers, SharedLayers};
use crate::stats::{CircuitStats, ExportStats, PipelineStats};

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
}

/// A metrics view: how an instrument's stream is named and aggregated.
type View = Arc<dyn Fn(&Instrument) -> Option<Stream> + Send + Sync>;

impl std::fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("config", &self.config)
            .field("custom_exporter", &self.custom.is_some())
            .field("self_metrics", &self.self_metrics)
            .field("views", &self.views.len())
            .field("resolver", &self.resolver.is_some())
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

    /// Balances over several collectors (base URLs for HTTP, server URLs for gRPC).
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

    /// Applies a TOML configuration file.
    pub fn with_config_file(
        mut self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Self, InvalidSetting> {
        self.config.apply_file(path)?;
        Ok(self)
    }

    /// Applies the process environment (`OTEL_*`).
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
        self
    }

    /// Sets the protocol.
    pub fn with_protocol(mut self, protocol: Protocol) -> Self {
        self.config.exporter.protocol = Some(protocol);
        self
    }

    /// Sets `service.name`.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.config.service_name = name.into();
        self
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
            .resource_attributes
            .push((key.into(), value.into()));
        self
    }

    /// Sets the compression.
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.config.exporter.compression = Some(compression);
        self
    }

    /// Adds a header to every export request.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self, InvalidSetting> {
        let mut headers = self.config.exporter.headers.take().unwrap_or_default();
        headers.insert("builder header", name, value)?;
        self.config.exporter.headers = Some(headers);
        Ok(self)
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
        self
    }

    /// Sets the batch settings of both spans and logs.
    pub fn with_batch(mut self, batch: BatchConfig) -> Self {
        self.config.span_batch = batch.clone();
        self.config.log_batch = batch;
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
        self
    }

    /// Serves the health endpoint on `addr`.
    pub fn with_health_endpoint(mut self, addr: SocketAddr) -> Self {
        self.config.health_endpoint = Some(addr);
        self
    }

    /// Any other setting.
    pub fn config_mut(&mut self) -> &mut PipelineConfig {
        &mut self.config
    }

    /// Builds the pipeline: starts its runtime, its transports (connections are made lazily),
    /// the batch workers, the metric reader, and the health endpoint if configured.
    pub fn build(self) -> Result<OtlpPipeline, BuildError> {
        let pipeline = OtlpPipeline::start(self.config, self.custom, self.views, self.resolver)?;
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
}

/// A running pipeline: SDK providers wired to batch processors, the reliability stack and the
/// transports, on a runtime of its own.
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

/// What [`OtlpPipeline::shutdown`] achieved.
#[derive(Debug, Clone, PartialEq)]
pub struct ShutdownReport {
    /// Everything accepted was delivered or settled in time.
    pub completed: bool,
    /// Spans and log records not delivered (left behind, failed, or abandoned).
    pub undelivered: u64,
    /// The span processor's report.
    pub spans: Option<FlushReport>,
    /// The log processor's report.
    pub logs: Option<FlushReport>,
    /// The final metrics export's error, if it failed.
    pub metrics_error: Option<String>,
}

impl OtlpPipeline {
    /// A builder with the defaults.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    fn start(
        config: PipelineConfig,
        custom: Option<Arc<dyn CustomExporter>>,
        views: Vec<View>,
        resolver: Option<Arc<dyn Resolver>>,
    ) -> Result<Self, BuildError> {
        let config = stack::retry_within_export_timeouts(config);
        let runtime = PipelineRuntime::new("otlp-pipeline")?;
        let resource = resource(&config);
        let health = HealthRegistry::new();
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
        for signal in Signal::ALL {
            let stack = match &custom {
                Some(exporter) => stack::custom(signal, exporter, &config, &shared, &breakers)?,
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
            let (route, replay_route) = spool_route(stack.route, spool.as_ref(), &counters);
            replay_routes.push(replay_route);
            senders.push(SignalSender {
                route,
                counters,
                affinity: stack.affinity,
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
        let tracer_provider = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_span_processor(BatchSpanProcessor::new(
                span_processor.clone(),
                config.span_batch.export_timeout,
            ))
            .build();
        let logger_provider = SdkLoggerProvider::builder()
            .with_resource(resource.clone())
            .with_log_processor(BatchLogProcessor::new(
                log_processor.clone(),
                config.log_batch.export_timeout,
            ))
            .build();
        let reader = PeriodicReader::builder(OtlpMetricExporter {
            sender: metrics.clone(),
            runtime: runtime.handle().clone(),
            temporality: Temporality::Cumulative,
        })
        .with_interval(config.metric_export_interval)
        .build();
        let mut meter_builder = SdkMeterProvider::builder()
            .with_resource(resource.clone())
            .with_reader(reader);
        for view in views {
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
            runtime.handle().spawn(async move {
                if let Err(error) = otlp_reliability::health::http::serve(health, listener).await {
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
            }),
            resource,
            health,
            health_addr,
            config,
            runtime,
        })
    }

    /// Where the health endpoint listens, when one was configured (the bound address, so a
    /// configured port 0 shows the port the system chose).
    pub fn health_endpoint(&self) -> Option<SocketAddr> {
        self.health_addr
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

    /// Installs the tracer and meter providers as the global ones, and the W3C TraceContext +
    /// Baggage propagator.
    pub fn install_global(&self) {
        opentelemetry::global::set_tracer_provider(self.tracer_provider.clone());
        opentelemetry::global::set_meter_provider(self.meter_provider.clone());
        opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ]));
    }

    /// The settings the pipeline runs with.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// The health registry (breakers, queues); add checks of your own to it.
    pub fn health_registry(&self) -> &HealthRegistry {
        &self.health
    }

    /// The latest health report.
    pub fn health(&self) -> HealthReport {
        self.health.snapshot()
    }

    /// Exports everything recorded so far, waiting at most `timeout` for spans and for logs,
    /// and collects and exports metrics.
    pub fn force_flush(&self, timeout: Duration) -> ShutdownReport {
        let started = Instant::now();
        let spans = self
            .exporting
            .as_ref()
            .map(|e| e.span_processor.force_flush(timeout));
        let logs = self.exporting.as_ref().map(|e| {
            e.log_processor
                .force_flush(timeout.saturating_sub(started.elapsed()))
        });
        let metrics_error = self
            .meter_provider
            .force_flush()
            .err()
            .map(|e| e.to_string());
        report(spans, logs, metrics_error)
    }

    /// Flushes and stops everything within `deadline`; what could not be delivered is
    /// counted in the report. Later telemetry is dropped and counted.
    pub fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let started = Instant::now();
        let left = || deadline.saturating_sub(started.elapsed());
        let spans = self
            .exporting
            .as_ref()
            .map(|e| e.span_processor.shutdown(left()));
        let logs = self
            .exporting
            .as_ref()
            .map(|e| e.log_processor.shutdown(left()));
        let metrics_error = self
            .meter_provider
            .shutdown_with_timeout(left())
            .err()
            .map(|e| e.to_string());
        // The processors are already shut down; this only marks the providers.
        let _ = self.tracer_provider.shutdown_with_timeout(left());
        let _ = self.logger_provider.shutdown_with_timeout(left());
        report(spans, logs, metrics_error)
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
            temporality: Temporality::Cumulative,
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

fn report(
    spans: Option<FlushReport>,
    logs: Option<FlushReport>,
    metrics_error: Option<String>,
) -> ShutdownReport {
    let undelivered = spans.map_or(0, |r| r.undelivered) + logs.map_or(0, |r| r.undelivered);
    let completed = spans.is_none_or(|r| r.completed)
        && logs.is_none_or(|r| r.completed)
        && metrics_error.is_none();
    ShutdownReport {
        completed,
        undelivered,
        spans,
        logs,
        metrics_error,
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
    attributes.extend(
        config
            .resource_attributes
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
    );
    Resource::builder_empty()
        .with_service_name(config.service_name.clone())
        .with_attributes(attributes)
        .build()
}
