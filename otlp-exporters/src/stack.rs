//! The export stack of one signal, built with [`ReliabilityBuilderExt`]: bulkhead, retry, and
//! per collector endpoint (several behind a balancer) circuit breaker, concurrency limit and
//! per-attempt timeout over the transport. The limit is inside the retry layer, so each attempt
//! is measured on its own (no backoff sleep in a round trip; a throttled attempt counts).

use std::sync::Arc;
use std::time::Duration;

use otlp_core::encode::{EncodeOptions, GRPC_DEFAULT_MAX_BYTES};
use otlp_core::{BoxError, Encoding, ExportOutcome, ExportRequest, InvalidSetting, Signal};
use otlp_reliability::adaptive_concurrency::AdaptiveConcurrencyLayer;
use otlp_reliability::bulkhead::BulkheadLayer;
use otlp_reliability::circuit_breaker::{BreakerHandle, CircuitBreakerLayer, CircuitState};
use otlp_reliability::health::{CheckConfig, HealthRegistry};
use otlp_reliability::retry::RetryLayer;
use otlp_reliability::timeout::AttemptTimeoutLayer;
use otlp_reliability::{OtlpClassify, ReliabilityBuilderExt};
use otlp_transport::balance::{
    resolver_for, BalanceStrategy, Balancer, BalancerConfig, EndpointFactory, EndpointParts,
    Resolver,
};
use otlp_transport::TlsConfig;
use parking_lot::Mutex;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceBuilder};

use crate::config::{PipelineConfig, Protocol, ResolvedExporter};
use crate::custom::{CustomExporter, CustomService};
use crate::endpoint_errors::EndpointErrors;
use crate::limits::Limits;
use crate::sinks::Route;
use crate::transport_options::transport;

/// The boxed export service every sink sends through.
pub(crate) type ExportService = BoxCloneSyncService<ExportRequest, ExportOutcome, BoxError>;

/// The layers shared by every signal: one bulkhead and one retry budget; the record of every
/// endpoint's last error, and every endpoint's concurrency limit.
pub(crate) struct SharedLayers {
    pub(crate) bulkhead: Option<BulkheadLayer>,
    pub(crate) retry: RetryLayer<OtlpClassify>,
    pub(crate) endpoint_errors: EndpointErrors,
    pub(crate) limits: Limits,
}

impl SharedLayers {
    pub(crate) fn new(config: &PipelineConfig) -> Result<Self, InvalidSetting> {
        let mut retry = config.retry.clone();
        // No retry starts that the per-attempt timeout could not let finish in time.
        if retry.attempt_timeout.is_none() {
            retry.attempt_timeout =
                Some(config.exporter.timeout.unwrap_or(Duration::from_secs(10)));
        }
        Ok(SharedLayers {
            bulkhead: config
                .bulkhead
                .map(|b| BulkheadLayer::new(b.max_concurrent, b.max_wait))
                .transpose()?,
            retry: RetryLayer::new(retry, OtlpClassify)?,
            endpoint_errors: EndpointErrors::default(),
            limits: Limits::default(),
        })
    }
}

/// The retry session never outlasts the export it runs under: `retry.total_timeout` is capped
/// at the shortest export timeout (`batch.export_timeout` of spans and logs, the metric export
/// timeout), so a batch export is not cut short while its retries still had time to deliver.
/// (Should one be cut short anyway, the spool layer releases its request for a replay.)
pub(crate) fn retry_within_export_timeouts(mut config: PipelineConfig) -> PipelineConfig {
    let shortest = config
        .span_batch
        .export_timeout
        .min(config.log_batch.export_timeout)
        .min(config.metric_export_timeout);
    if config.retry.total_timeout.is_none_or(|t| t > shortest) {
        tracing::info!(
            retry_total_timeout = ?config.retry.total_timeout,
            export_timeout = ?shortest,
            "retry.total_timeout capped at batch.export_timeout, the export it runs under"
        );
        config.retry.total_timeout = Some(shortest);
    }
    config
}

/// Every circuit breaker of the pipeline, also those of endpoints discovered later; each is a
/// health check too (open = degraded).
#[derive(Clone)]
pub(crate) struct Breakers {
    handles: Arc<Mutex<Vec<BreakerHandle>>>,
    health: HealthRegistry,
}

impl Breakers {
    pub(crate) fn new(health: HealthRegistry) -> Self {
        Breakers {
            handles: Arc::default(),
            health,
        }
    }

    fn add(&self, handle: BreakerHandle) {
        self.health
            .register_breaker(handle.clone(), CheckConfig::default());
        self.handles.lock().push(handle);
    }

    pub(crate) fn all(&self) -> Vec<BreakerHandle> {
        self.handles.lock().clone()
    }
}

/// A signal's route, and the balancer to group spans by when trace-id affinity is on.
pub(crate) struct SignalStack {
    pub(crate) route: Route,
    pub(crate) affinity: Option<Balancer>,
}

/// Retry and bulkhead over `bottom`.
fn outer<S, R>(bottom: S, shared: &SharedLayers) -> BoxCloneSyncService<R, ExportOutcome, BoxError>
where
    S: tower::Service<R, Response = ExportOutcome, Error = BoxError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    R: Clone + Send + Sync + 'static,
{
    BoxCloneSyncService::new(
        ServiceBuilder::new()
            .option_layer(shared.bulkhead.clone())
            .layer(shared.retry.clone())
            .service(bottom),
    )
}

/// A guarded service and its circuit breaker, if it has one.
type Guarded<R> = (
    BoxCloneSyncService<R, ExportOutcome, BoxError>,
    Option<BreakerHandle>,
);

/// A circuit breaker (when configured), the endpoint's concurrency limit and the per-attempt
/// timeout over `bottom`, each attempt's result recorded for the endpoint's last error.
fn guarded<S, R>(
    bottom: S,
    name: String,
    timeout: Duration,
    config: &PipelineConfig,
    breakers: &Breakers,
    (errors, limits): (&EndpointErrors, &Limits),
) -> Result<Guarded<R>, InvalidSetting>
where
    S: tower::Service<R, Response = ExportOutcome, Error = BoxError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    R: Clone + Send + Sync + 'static,
{
    let limit = AdaptiveConcurrencyLayer::new(config.concurrency, OtlpClassify)?;
    // Counted in the signal's export limit while the endpoint's service lives.
    let registration = limits.add(name.clone(), limit.clone());
    let breaker = config
        .circuit_breaker
        .clone()
        .map(|breaker| CircuitBreakerLayer::new(name.clone(), breaker, OtlpClassify))
        .transpose()?;
    let handle = breaker.as_ref().map(CircuitBreakerLayer::handle);
    handle
        .iter()
        .for_each(|handle| breakers.add(handle.clone()));
    let service = ServiceBuilder::new()
        .option_layer(breaker)
        .layer(limit)
        .attempt_timeout(timeout)
        .service(bottom);
    let service = registration.held_by(service);
    Ok((errors.wrap(name, BoxCloneSyncService::new(service)), handle))
}

/// The stack of `signal` when every signal goes to a custom exporter.
pub(crate) fn custom(
    signal: Signal,
    exporter: &Arc<dyn CustomExporter>,
    config: &PipelineConfig,
    shared: &SharedLayers,
    breakers: &Breakers,
) -> Result<SignalStack, InvalidSetting> {
    let timeout = config.exporter.timeout.unwrap_or(Duration::from_secs(10));
    let bottom = CustomService(Arc::clone(exporter));
    let (guarded, _) = guarded(
        bottom,
        format!("{signal}:custom"),
        timeout,
        config,
        breakers,
        (&shared.endpoint_errors, &shared.limits),
    )?;
    Ok(SignalStack {
        route: Route::Custom {
            service: outer(guarded, shared),
        },
        affinity: None,
    })
}

fn encode_options(protocol: Protocol, max_request_bytes: Option<usize>) -> EncodeOptions {
    let options = match protocol {
        Protocol::Grpc => EncodeOptions::default().with_max_request_bytes(GRPC_DEFAULT_MAX_BYTES),
        Protocol::HttpProtobuf => EncodeOptions::default().with_max_request_bytes(16 * 1024 * 1024),
        Protocol::HttpJson => EncodeOptions::default()
            .with_encoding(Encoding::Json)
            .with_max_request_bytes(16 * 1024 * 1024),
    };
    match max_request_bytes {
        Some(limit) => options.with_max_request_bytes(limit),
        None => options,
    }
}

/// Builds the stack of `signal`; must run inside the pipeline runtime (transports spawn their
/// workers there).
pub(crate) fn build(
    signal: Signal,
    config: &PipelineConfig,
    shared: &SharedLayers,
    breakers: &Breakers,
    resolver: Option<Arc<dyn Resolver>>,
    runtime: &tokio::runtime::Handle,
) -> Result<SignalStack, InvalidSetting> {
    let resolved = config.resolve(signal)?;
    let tls = tls(&resolved)?;
    let options = encode_options(resolved.protocol, config.max_request_bytes);
    if config.collectors.is_empty() && resolver.is_none() {
        let bottom = transport(&resolved, &resolved.endpoint, config, tls)?;
        // The name shows up in health check names, logs and metrics: host and port only.
        let name = format!(
            "{}:{}",
            resolved.signal,
            otlp_core::redact::host(&resolved.endpoint)
        );
        let (guarded, _) = guarded(
            bottom,
            name,
            resolved.timeout,
            config,
            breakers,
            (&shared.endpoint_errors, &shared.limits),
        )?;
        return Ok(SignalStack {
            route: Route::Otlp {
                service: outer(guarded, shared),
                options,
            },
            affinity: None,
        });
    }

    // `dns:///host:port` and `consul://service` discover endpoints; URLs are a fixed list.
    let scheme = if resolved.endpoint.starts_with("https:") {
        "https"
    } else {
        "http"
    };
    let resolver = match resolver {
        Some(resolver) => resolver,
        None => resolver_for("collectors", &config.collectors, scheme, &config.discovery)?,
    };
    let factory: EndpointFactory = {
        let (resolved, config, breakers) = (resolved.clone(), config.clone(), breakers.clone());
        let (errors, limits) = (shared.endpoint_errors.clone(), shared.limits.clone());
        Arc::new(move |base: &str| {
            let url = match resolved.protocol {
                Protocol::Grpc => base.to_owned(),
                _ => otlp_transport::endpoint::http_signal_url("collectors", base, signal)?
                    .to_string(),
            };
            let bottom = transport(&resolved, &url, &config, tls.clone())?;
            let probe = BoxCloneSyncService::new(
                AttemptTimeoutLayer::new(resolved.timeout).layer(bottom.clone()),
            );
            let (service, breaker) = guarded(
                bottom,
                format!("{signal}:{}", otlp_core::redact::host(&url)),
                resolved.timeout,
                &config,
                &breakers,
                (&errors, &limits),
            )?;
            Ok(EndpointParts {
                service,
                probe,
                circuit_open: breaker.map(|handle| {
                    Arc::new(move || handle.state() == CircuitState::Open)
                        as Arc<dyn Fn() -> bool + Send + Sync>
                }),
            })
        })
    };
    let balancer_config = BalancerConfig {
        strategy: config.balance,
        probe_interval: config.discovery.probe_interval,
        probe_timeout: config.discovery.probe_timeout,
        ..BalancerConfig::default()
    };
    // The balancer resolves once before it is returned; start it on the pipeline runtime and
    // wait here, which works whether or not the caller runs inside a runtime of its own.
    let (sender, receiver) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = sender.send(Balancer::start(balancer_config, resolver, factory).await);
    });
    let balancer = receiver
        .recv_timeout(Duration::from_secs(15))
        .map_err(|_| {
            InvalidSetting::new(
                "collectors",
                "discovery",
                "the balancer did not start within 15 s",
            )
        })?;
    let affinity = (config.balance == BalanceStrategy::TraceId && signal == Signal::Traces)
        .then(|| balancer.clone());
    Ok(SignalStack {
        route: Route::Otlp {
            service: outer(balancer, shared),
            options,
        },
        affinity,
    })
}

pub(crate) fn tls(resolved: &ResolvedExporter) -> Result<Option<TlsConfig>, InvalidSetting> {
    let signal = resolved.signal.as_str().to_ascii_uppercase();
    let mut tls = None;
    if let Some(ca) = &resolved.certificate {
        tls = Some(
            TlsConfig::new()
                .with_ca_file(&format!("OTEL_EXPORTER_OTLP_{signal}_CERTIFICATE"), ca)?,
        );
    }
    match (&resolved.client_certificate, &resolved.client_key) {
        (Some(certificate), Some(key)) => {
            tls = Some(tls.unwrap_or_default().with_client_identity_files(
                &format!("OTEL_EXPORTER_OTLP_{signal}_CLIENT_CERTIFICATE"),
                certificate,
                &format!("OTEL_EXPORTER_OTLP_{signal}_CLIENT_KEY"),
                key,
            )?);
        }
        (Some(path), None) => {
            return Err(InvalidSetting::new(
                format!("OTEL_EXPORTER_OTLP_{signal}_CLIENT_KEY"),
                "",
                format!("a client certificate ({}) needs its key", path.display()),
            ))
        }
        (None, Some(path)) => {
            return Err(InvalidSetting::new(
                format!("OTEL_EXPORTER_OTLP_{signal}_CLIENT_CERTIFICATE"),
                "",
                format!("a client key ({}) needs its certificate", path.display()),
            ))
        }
        (None, None) => {}
    }
    Ok(tls)
}
