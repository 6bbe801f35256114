//! Starting a pipeline: its runtime, one sender per signal (stack, spool layer, counters),
//! the batch processors, the providers, health, and the spool's replay task.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use otlp_batch::spool::storage::{OsStorage, Storage};
use otlp_batch::spool::{Spool, SpoolLayer};
use otlp_batch::PipelineRuntime;
use otlp_reliability::health::HealthRegistry;
use otlp_transport::balance::Resolver;
use tower::util::BoxCloneSyncService;
use tower::Layer as _;

use super::{health, providers, BuildError, Exporting, OtlpPipeline, PerSignal};
use crate::config::{ConfigReport, ExporterKind, PipelineConfig, Secret};
use crate::custom::{ConsoleExporter, CustomExporter};
use crate::processors::batch_processor;
use crate::replay::{ReplayRoute, SpoolReplay};
use crate::sinks::{ExportCounters, MetricDeadline, MetricExporter, Route, SignalSender};
use crate::stack::{self, Breakers, SharedLayers};
use crate::views::View;

/// What a pipeline's signals share, and where their exports go.
pub(crate) struct Wiring {
    pub(crate) shared: SharedLayers,
    pub(crate) breakers: Breakers,
    pub(crate) spool: Option<Arc<Spool>>,
    pub(crate) senders: PerSignal<SignalSender>,
    /// The spool's way out per signal, without its layer.
    pub(crate) replay: PerSignal<Option<ReplayRoute>>,
}

impl Wiring {
    /// One stack per signal (a custom exporter's, the console's, or OTLP's), the spool layer
    /// on those that export OTLP; must run inside the pipeline runtime.
    pub(crate) fn new(
        config: &PipelineConfig,
        custom: Option<&Arc<dyn CustomExporter>>,
        resolver: Option<Arc<dyn Resolver>>,
        spool_storage: Option<Arc<dyn Storage>>,
        health: &HealthRegistry,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Self, BuildError> {
        let shared = SharedLayers::new(config)?;
        let breakers = Breakers::new(health.clone());
        let spool = match (&config.spool, custom) {
            (Some(spool_config), None) => {
                let storage = spool_storage.unwrap_or_else(|| Arc::new(OsStorage));
                Some(Arc::new(Spool::open_with(spool_config.clone(), storage)?))
            }
            _ => None,
        };
        let console: Arc<dyn CustomExporter> = Arc::new(ConsoleExporter::stdout());
        let both = PerSignal::try_from_fn(|signal| -> Result<_, BuildError> {
            let kind = config.exporter_kind(signal);
            let stack = match custom {
                Some(exporter) => stack::custom(signal, exporter, config, &shared, &breakers)?,
                None if kind == ExporterKind::Console => {
                    stack::custom(signal, &console, config, &shared, &breakers)?
                }
                None => stack::build(
                    signal,
                    config,
                    &shared,
                    &breakers,
                    resolver.clone(),
                    runtime,
                )?,
            };
            let counters = Arc::new(ExportCounters::default());
            // Only OTLP exports are spooled: a console or `none` exporter has nothing to replay.
            let spool_for = spool.as_ref().filter(|_| kind == ExporterKind::Otlp);
            let (route, replay) = spool_route(stack.route, spool_for, &counters);
            let sender = SignalSender {
                route,
                counters,
                affinity: stack.affinity,
                endpoint_errors: (shared.endpoint_errors.clone(), format!("{signal}:")),
                export_limit: shared.limits.export_limit(signal, shared.retry.stats()),
            };
            Ok((sender, replay))
        })?;
        let senders = both.as_ref().map(|(sender, _)| sender.clone());
        let replay = both.map(|(_, replay)| replay);
        Ok(Wiring {
            shared,
            breakers,
            spool,
            senders,
            replay,
        })
    }
}

impl OtlpPipeline {
    pub(super) fn start(
        config: PipelineConfig,
        custom: Option<Arc<dyn CustomExporter>>,
        views: Vec<View>,
        resolver: Option<Arc<dyn Resolver>>,
        spool_storage: Option<Arc<dyn Storage>>,
        health_token: Option<Secret>,
        paused_clock: bool,
    ) -> Result<Self, BuildError> {
        let config = stack::retry_within_export_timeouts(config);
        let runtime = runtime(paused_clock)?;
        let resource = resource(&config);
        let health = HealthRegistry::new();
        let report = config.report();
        tracing::info!(target: "otlp_exporters::config", "{report}");
        if config.disabled {
            return Ok(Self::disabled(config, resource, health, report, runtime));
        }
        let _entered = runtime.handle().enter();
        let wiring = Wiring::new(
            &config,
            custom.as_ref(),
            resolver,
            spool_storage,
            &health,
            runtime.handle(),
        )?;
        let senders = &wiring.senders;
        let span_processor =
            batch_processor(&senders.traces, config.span_batch.clone(), runtime.handle())?;
        let log_processor =
            batch_processor(&senders.logs, config.log_batch.clone(), runtime.handle())?;
        let metric_deadline = MetricDeadline::default();
        let metric_exporter = MetricExporter {
            sender: senders.metrics.clone(),
            runtime: runtime.handle().clone(),
            temporality: config.temporality.sdk(),
            timeout: config.metric_export_timeout,
            deadline: metric_deadline.clone(),
        };
        let tracer_provider = providers::tracer(&config, &resource, &span_processor);
        let logger_provider = providers::logger(&config, &resource, &log_processor);
        let meter_provider = providers::meter(&config, &resource, metric_exporter, views);

        health::register_queue_check(
            &health,
            "span_queue",
            span_processor.clone(),
            config.span_batch.max_queue_size,
        );
        health::register_queue_check(
            &health,
            "log_queue",
            log_processor.clone(),
            config.log_batch.max_queue_size,
        );
        if let Some(spool) = &wiring.spool {
            health::register_spool_check(&health, Arc::clone(spool));
        }
        let health_addr = health::start(
            &health,
            config.health_endpoint,
            health_token.as_ref(),
            runtime.handle(),
        )?;
        if let Some(spool) = &wiring.spool {
            let target = SpoolReplay {
                routes: wiring.replay,
            };
            runtime.handle().spawn(otlp_batch::spool::replay::run(
                Arc::clone(spool),
                Arc::new(target),
                Duration::from_secs(2),
            ));
        }
        let counters = wiring.senders.as_ref().map(|s| Arc::clone(&s.counters));
        Ok(OtlpPipeline {
            tracer_provider,
            meter_provider,
            logger_provider,
            exporting: Some(Exporting {
                senders: wiring.senders,
                span_processor,
                log_processor,
                counters,
                retry: wiring.shared.retry.stats(),
                breakers: wiring.breakers,
                bulkhead: wiring.shared.bulkhead,
                spool: wiring.spool,
                endpoint_errors: wiring.shared.endpoint_errors,
                limits: wiring.shared.limits,
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

    /// A pipeline whose providers export nothing (`OTEL_SDK_DISABLED`).
    fn disabled(
        config: PipelineConfig,
        resource: Resource,
        health: HealthRegistry,
        report: ConfigReport,
        runtime: PipelineRuntime,
    ) -> Self {
        OtlpPipeline {
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
        }
    }
}

/// With a spool, the route that batches take goes through its layer; the replay task takes
/// the same stack without it (the request is in the spool already).
fn spool_route(
    route: Route,
    spool: Option<&Arc<Spool>>,
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

pub(crate) fn resource(config: &PipelineConfig) -> Resource {
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

/// The pipeline's own runtime; its clock paused when the builder asked (feature `test-util`).
fn runtime(paused_clock: bool) -> std::io::Result<PipelineRuntime> {
    #[cfg(feature = "test-util")]
    if paused_clock {
        return PipelineRuntime::with_paused_clock("otlp-pipeline");
    }
    let _ = paused_clock;
    PipelineRuntime::new("otlp-pipeline")
}
