//! The transport settings of one signal, as the transports take them ([`ClientOptions`]),
//! from the pipeline's settings; and the transport to one URL built with them.

use otlp_core::{InvalidSetting, Signal};
use otlp_transport::client::ClientOptions;
use otlp_transport::endpoint::HttpEndpoints;
use otlp_transport::grpc::{GrpcConfig, GrpcTransport};
use otlp_transport::http::{HttpConfig, HttpTransport};
use otlp_transport::TlsConfig;
use tower::util::BoxCloneSyncService;

use crate::config::{PipelineConfig, Protocol, ResolvedExporter};
use crate::stack::ExportService;

/// The client settings of `resolved`, with the pipeline's connection settings.
pub(crate) fn client_options(
    resolved: &ResolvedExporter,
    config: &PipelineConfig,
    tls: Option<TlsConfig>,
) -> ClientOptions {
    ClientOptions {
        compression: resolved.compression,
        headers: resolved.headers.clone(),
        tls,
        timeout: Some(resolved.timeout),
        connect_timeout: config.connect_timeout,
        connection: config.connection,
        max_response_bytes: config.max_response_bytes,
        proxy: config.proxy.clone(),
    }
}

impl PipelineConfig {
    /// The client settings `signal` is exported with (headers, TLS, timeouts, connection
    /// settings, proxy), for a custom exporter that should talk like the OTLP ones, e.g.
    /// [`JsonHttpExporter::with_options`](crate::custom::JsonHttpExporter::with_options).
    pub fn client_options(&self, signal: Signal) -> Result<ClientOptions, InvalidSetting> {
        let resolved = self.resolve(signal)?;
        let tls = crate::stack::tls(&resolved)?;
        Ok(client_options(&resolved, self, tls))
    }
}

/// The transport to one URL (for HTTP, the signal's full URL), inside the attempt layers.
pub(crate) fn transport(
    resolved: &ResolvedExporter,
    url: &str,
    config: &PipelineConfig,
    tls: Option<TlsConfig>,
) -> Result<ExportService, InvalidSetting> {
    let setting = format!(
        "OTEL_EXPORTER_OTLP_{}_ENDPOINT",
        resolved.signal.as_str().to_ascii_uppercase()
    );
    let options = client_options(resolved, config, tls);
    let transport = match resolved.protocol {
        Protocol::Grpc => BoxCloneSyncService::new(GrpcTransport::new(
            GrpcConfig::new(url).with_options(options),
        )?),
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            let url = otlp_transport::endpoint::parse_url(&setting, url)?;
            let endpoints = HttpEndpoints {
                traces: url.clone(),
                metrics: url.clone(),
                logs: url,
            };
            BoxCloneSyncService::new(HttpTransport::new(
                HttpConfig::new(endpoints).with_options(options),
            )?)
        }
    };
    Ok(config.attempt_layers.wrap(transport))
}
