//! The [`OtlpPipeline`] handle: its providers, accessors, numbers, and exporters for the SDK's
//! own processors.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData};
use opentelemetry_sdk::Resource;
use otlp_batch::{BatchProcessor, LogItem, PipelineRuntime};
use otlp_core::Signal;
use otlp_reliability::bulkhead::BulkheadLayer;
use otlp_reliability::health::{HealthRegistry, HealthReport};
use otlp_reliability::retry::RetryStats;

use super::{PerSignal, PipelineBuilder};
use crate::config::{ConfigReport, PipelineConfig, Propagator};
use crate::endpoint_errors::EndpointErrors;
use crate::report::{DeliveryReport, SignalDelivery};
use crate::sinks::{
    ExportCounters, LogExporter, MetricDeadline, MetricExporter, SignalSender, SpanExporter,
};
use crate::stack::Breakers;
use crate::stats::{CircuitStats, ExportStats, PipelineStats};

/// The per-signal pieces that exist when the pipeline is enabled.
pub(crate) struct Exporting {
    pub(crate) senders: PerSignal<SignalSender>,
    pub(crate) span_processor: BatchProcessor<SpanData>,
    pub(crate) log_processor: BatchProcessor<LogItem>,
    pub(crate) counters: PerSignal<Arc<ExportCounters>>,
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
    pub(super) tracer_provider: SdkTracerProvider,
    pub(super) meter_provider: SdkMeterProvider,
    pub(super) logger_provider: SdkLoggerProvider,
    pub(crate) exporting: Option<Exporting>,
    pub(super) resource: Resource,
    pub(super) health: HealthRegistry,
    pub(super) health_addr: Option<SocketAddr>,
    pub(super) config: PipelineConfig,
    pub(super) security_warnings: Vec<String>,
    pub(super) metric_deadline: MetricDeadline,
    pub(super) shut_down: std::sync::atomic::AtomicBool,
    pub(super) report: ConfigReport,
    // Declared last: the providers above shut down on drop, and need the runtime to do it.
    pub(super) runtime: PipelineRuntime,
}

impl std::fmt::Debug for OtlpPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpPipeline")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OtlpPipeline {
    /// How long dropping the handle waits for the shutdown it performs.
    pub const DROP_DEADLINE: Duration = Duration::from_secs(5);

    /// A builder with the defaults.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
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
                    &ExportStats::read(&exporting.counters.metrics),
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
            span_exports: ExportStats::read(&exporting.counters.traces),
            metric_exports: ExportStats::read(&exporting.counters.metrics),
            log_exports: ExportStats::read(&exporting.counters.logs),
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
    pub fn span_exporter(&self) -> Option<SpanExporter> {
        self.exporting.as_ref().map(|e| SpanExporter {
            sender: e.senders.traces.clone(),
            runtime: self.runtime.handle().clone(),
            resource: self.resource.clone(),
        })
    }

    /// A `PushMetricExporter` sending through this pipeline's metrics stack, for a
    /// `PeriodicReader` of your own.
    pub fn metric_exporter(&self) -> Option<MetricExporter> {
        self.exporting.as_ref().map(|e| MetricExporter {
            sender: e.senders.metrics.clone(),
            runtime: self.runtime.handle().clone(),
            temporality: self.config.temporality.sdk(),
            timeout: self.config.metric_export_timeout,
            deadline: MetricDeadline::default(),
        })
    }

    /// A `LogExporter` sending through this pipeline's logs stack, for the SDK's own log
    /// processors.
    pub fn log_exporter(&self) -> Option<LogExporter> {
        self.exporting.as_ref().map(|e| LogExporter {
            sender: e.senders.logs.clone(),
            runtime: self.runtime.handle().clone(),
            resource: self.resource.clone(),
        })
    }

    /// The pipeline's runtime, for work that must run next to the exporters.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }
}
