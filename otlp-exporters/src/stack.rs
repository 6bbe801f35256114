//! The export stack of one signal: transport, per-attempt timeout, circuit breaker, retry and
//! bulkhead, as one boxed tower service.

use otlp_core::encode::{EncodeOptions, GRPC_DEFAULT_MAX_BYTES};
use otlp_core::{BoxError, Encoding, ExportOutcome, ExportRequest, InvalidSetting};
use otlp_reliability::bulkhead::BulkheadLayer;
use otlp_reliability::circuit_breaker::{BreakerHandle, CircuitBreakerLayer};
use otlp_reliability::retry::RetryLayer;
use otlp_reliability::OtlpClassify;
use otlp_transport::endpoint::HttpEndpoints;
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::TlsConfig;
use tower::timeout::TimeoutLayer;
use tower::util::BoxCloneSyncService;
use tower::ServiceBuilder;

use crate::config::{PipelineConfig, Protocol, ResolvedExporter};
use crate::custom::{CustomExporter, CustomService};
use crate::sinks::Route;

/// The boxed export service every sink sends through.
pub(crate) type ExportService = BoxCloneSyncService<ExportRequest, ExportOutcome, BoxError>;

/// The layers shared by every signal: one bulkhead and one retry budget.
pub(crate) struct SharedLayers {
    pub(crate) bulkhead: Option<BulkheadLayer>,
    pub(crate) retry: RetryLayer<OtlpClassify>,
}

impl SharedLayers {
    pub(crate) fn new(config: &PipelineConfig) -> Result<Self, InvalidSetting> {
        Ok(SharedLayers {
            bulkhead: config
                .bulkhead
                .map(|b| BulkheadLayer::new(b.max_concurrent, b.max_wait))
                .transpose()?,
            retry: RetryLayer::new(config.retry.clone(), OtlpClassify)?,
        })
    }
}

/// A signal's route and its circuit breaker.
pub(crate) struct SignalStack {
    pub(crate) route: Route,
    pub(crate) breaker: Option<BreakerHandle>,
}

/// A service with the reliability layers on it, and its circuit breaker.
type Layered<R> = (
    BoxCloneSyncService<R, ExportOutcome, BoxError>,
    Option<BreakerHandle>,
);

/// Puts the reliability layers over `bottom`: bulkhead, retry, circuit breaker named `name`,
/// per-attempt timeout.
fn layered<S, R>(
    bottom: S,
    name: String,
    timeout: std::time::Duration,
    config: &PipelineConfig,
    shared: &SharedLayers,
) -> Result<Layered<R>, InvalidSetting>
where
    S: tower::Service<R, Response = ExportOutcome, Error = BoxError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    R: Clone + Send + Sync + 'static,
{
    let breaker = config
        .circuit_breaker
        .clone()
        .map(|breaker| CircuitBreakerLayer::new(name, breaker, OtlpClassify))
        .transpose()?;
    let handle = breaker.as_ref().map(CircuitBreakerLayer::handle);
    let service = ServiceBuilder::new()
        .option_layer(shared.bulkhead.clone())
        .layer(shared.retry.clone())
        .option_layer(breaker)
        .layer(TimeoutLayer::new(timeout))
        .service(bottom);
    Ok((BoxCloneSyncService::new(service), handle))
}

/// The stack of `signal` when every signal goes to a custom exporter.
pub(crate) fn custom(
    signal: otlp_core::Signal,
    exporter: &std::sync::Arc<dyn CustomExporter>,
    config: &PipelineConfig,
    shared: &SharedLayers,
) -> Result<SignalStack, InvalidSetting> {
    let timeout = config
        .exporter
        .timeout
        .unwrap_or(std::time::Duration::from_secs(10));
    let bottom = CustomService(std::sync::Arc::clone(exporter));
    let (service, breaker) = layered(bottom, format!("{signal}:custom"), timeout, config, shared)?;
    Ok(SignalStack {
        route: Route::Custom { service },
        breaker,
    })
}

/// Builds the stack; must run inside the pipeline runtime (transports spawn their workers).
pub(crate) fn build(
    resolved: &ResolvedExporter,
    config: &PipelineConfig,
    shared: &SharedLayers,
) -> Result<SignalStack, InvalidSetting> {
    let tls = tls(resolved)?;
    let (transport, options): (ExportService, EncodeOptions) = match resolved.protocol {
        Protocol::Grpc => {
            let mut grpc = GrpcConfig::new(&resolved.endpoint)
                .with_compression(resolved.compression)
                .with_headers(resolved.headers.clone())
                .with_connect_timeout(config.connect_timeout)
                .with_timeout(resolved.timeout);
            if let Some(tls) = tls {
                grpc = grpc.with_tls(tls);
            }
            let options = EncodeOptions::default().with_max_request_bytes(GRPC_DEFAULT_MAX_BYTES);
            (BoxCloneSyncService::new(GrpcTransport::new(grpc)?), options)
        }
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            let setting = format!(
                "OTEL_EXPORTER_OTLP_{}_ENDPOINT",
                resolved.signal.as_str().to_ascii_uppercase()
            );
            let url = otlp_transport::endpoint::parse_url(&setting, &resolved.endpoint)?;
            let endpoints = HttpEndpoints {
                traces: url.clone(),
                metrics: url.clone(),
                logs: url,
            };
            let mut http = HttpConfig::new(endpoints)
                .with_compression(resolved.compression)
                .with_headers(resolved.headers.clone())
                .with_timeout(resolved.timeout);
            http.connect_timeout = config.connect_timeout;
            if let Some(tls) = tls {
                http = http.with_tls(tls);
            }
            let encoding = match resolved.protocol {
                Protocol::HttpJson => Encoding::Json,
                _ => Encoding::Protobuf,
            };
            let options = EncodeOptions::default()
                .with_encoding(encoding)
                .with_max_request_bytes(16 * 1024 * 1024);
            (BoxCloneSyncService::new(HttpTransport::new(http)?), options)
        }
    };
    let name = format!("{}:{}", resolved.signal, resolved.endpoint);
    let (service, breaker) = layered(transport, name, resolved.timeout, config, shared)?;
    Ok(SignalStack {
        route: Route::Otlp { service, options },
        breaker,
    })
}

fn tls(resolved: &ResolvedExporter) -> Result<Option<TlsConfig>, InvalidSetting> {
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
