//! What a standalone exporter builder collected, and how it becomes a signal's sender: the
//! environment (`OTEL_EXPORTER_OTLP_*`, per-signal variants, or `OTEL_CONFIG_FILE`) first,
//! then the builder's settings, then the same stack the pipeline builds, on a shared
//! background runtime.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use otlp_batch::PipelineRuntime;
use otlp_core::{InvalidSetting, Signal};
use otlp_reliability::health::HealthRegistry;
use otlp_transport::{Compression, Headers};
use tokio::runtime::Handle;

use crate::config::{PipelineConfig, ProcessEnv, Protocol};
use crate::pipeline::BuildError;
use crate::sinks::{ExportCounters, SignalSender};
use crate::stack::{self, Breakers, SharedLayers};

/// The transport a builder chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// gRPC (`with_tonic`).
    Grpc,
    /// HTTP (`with_http`).
    Http,
}

/// The settings set in code; each overrides its environment variable.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub(crate) endpoint: Option<String>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) compression: Option<Compression>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) client_identity: Option<(PathBuf, PathBuf)>,
    /// A setting refused while building, reported by `build`: (setting, value, reason).
    pub(crate) refused: Option<(String, String, String)>,
}

/// What a standalone exporter runs with.
pub(crate) struct Parts {
    pub(crate) sender: SignalSender,
    pub(crate) runtime: Handle,
    pub(crate) config: PipelineConfig,
}

impl Settings {
    /// The environment, then these settings, for `signal` over `transport` (`None`: the
    /// protocol the environment names).
    pub(crate) fn config(
        &self,
        signal: Signal,
        transport: Option<Transport>,
    ) -> Result<PipelineConfig, InvalidSetting> {
        if let Some((setting, value, reason)) = &self.refused {
            return Err(InvalidSetting::new(setting, value, reason));
        }
        let mut config = PipelineConfig::default();
        config.apply_env(&ProcessEnv)?;
        let from_env = config
            .signal_mut(signal)
            .protocol
            .or(config.exporter.protocol);
        let protocol = match (transport, self.protocol) {
            (None, _) => from_env.unwrap_or_default(),
            (Some(Transport::Grpc), None | Some(Protocol::Grpc)) => Protocol::Grpc,
            (Some(Transport::Http), Some(p @ (Protocol::HttpProtobuf | Protocol::HttpJson))) => p,
            (Some(Transport::Http), None) => match from_env {
                Some(Protocol::HttpJson) => Protocol::HttpJson,
                _ => Protocol::HttpProtobuf,
            },
            (Some(transport), Some(protocol)) => {
                return Err(InvalidSetting::new(
                    "with_protocol",
                    protocol.as_str(),
                    format!("not a protocol of the {transport:?} transport this builder chose"),
                ))
            }
        };
        let own = config.signal_mut(signal);
        own.protocol = Some(protocol);
        if let Some(endpoint) = &self.endpoint {
            own.endpoint = Some(endpoint.clone());
        }
        if let Some(timeout) = self.timeout {
            own.timeout = Some(timeout);
        }
        if let Some(compression) = self.compression {
            own.compression = Some(compression);
        }
        if !self.headers.is_empty() {
            let mut headers = own.headers.take().unwrap_or_else(Headers::new);
            for (name, value) in &self.headers {
                headers.insert("with_headers", name, value)?;
            }
            own.headers = Some(headers);
        }
        if let Some(ca_file) = &self.ca_file {
            own.certificate = Some(ca_file.clone());
        }
        if let Some((certificate, key)) = &self.client_identity {
            own.client_certificate = Some(certificate.clone());
            own.client_key = Some(key.clone());
        }
        Ok(config)
    }

    /// The sender of `signal`: the pipeline's stack for it (retry, breaker, bulkhead,
    /// per-attempt timeout, transport), on the shared runtime.
    pub(crate) fn build(
        &self,
        signal: Signal,
        transport: Option<Transport>,
    ) -> Result<Parts, BuildError> {
        let config = stack::retry_within_export_timeouts(self.config(signal, transport)?);
        let runtime = shared_runtime()?.clone();
        let _entered = runtime.enter();
        let shared = SharedLayers::new(&config)?;
        let breakers = Breakers::new(HealthRegistry::new());
        let stack = stack::build(signal, &config, &shared, &breakers, None, &runtime)?;
        let sender = SignalSender {
            route: stack.route,
            counters: Arc::new(ExportCounters::default()),
            affinity: stack.affinity,
            endpoint_errors: (shared.endpoint_errors.clone(), format!("{signal}:")),
            export_limit: shared.limits.export_limit(signal, shared.retry.stats()),
        };
        Ok(Parts {
            sender,
            runtime,
            config,
        })
    }
}

/// The runtime every standalone exporter sends on: one thread for the process, started by
/// the first exporter built, so that exports work whether or not the caller runs in a tokio
/// runtime (and the SDK's processors call `export` on threads of their own).
fn shared_runtime() -> Result<&'static Handle, std::io::Error> {
    static RUNTIME: OnceLock<PipelineRuntime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime.handle());
    }
    let started = PipelineRuntime::new("otlp-exporters")?;
    // Two first exporters at once: one runtime is kept, the other stops on drop.
    Ok(RUNTIME.get_or_init(|| started).handle())
}
