//! The TOML configuration file, with the sections of the production guide.
//!
//! ```toml
//! service_name = "production-app"
//! service_version = "1.0.0"
//! environment = "production"
//!
//! [transport]
//! protocol = "grpc"            # grpc | http/protobuf | http/json
//! endpoint = "https://otel-collector:4317"
//! compression = "gzip"         # none | gzip | zstd
//! timeout = "10s"              # per attempt
//! headers = { x-tenant = "acme" }
//! collectors = ["http://collector-a:4317", "http://collector-b:4317"]   # instead of endpoint
//! balance = "trace-id"         # round-robin | least-loaded | trace-id
//!
//! [transport.traces]           # per-signal overrides: traces, metrics, logs
//! endpoint = "https://traces-gateway:4317"
//!
//! [connection]
//! connect_timeout = "10s"
//!
//! [batch]
//! max_batch_size = 1000
//! max_queue_size = 50000
//! scheduled_delay = "200ms"
//! max_batch_bytes = 4194304
//! max_concurrent_exports = 4
//! strategy = "hybrid"          # size | time | hybrid
//! overflow = "drop_newest"     # drop_newest | drop_oldest | block
//! block_timeout = "50ms"
//!
//! [retry]
//! max_attempts = 3
//! initial_backoff = "100ms"
//! max_backoff = "5s"
//! multiplier = 2.0
//! total_timeout = "30s"
//!
//! [monitoring]
//! health_endpoint = "127.0.0.1:8080"
//! metrics_export_interval = "10s"
//!
//! [security]
//! ca_file = "/etc/ssl/certs/ca.crt"
//! cert_file = "/etc/ssl/certs/client.crt"
//! key_file = "/etc/ssl/private/client.key"
//! bearer_token = "..."
//!
//! [logging]
//! level = "info"
//! format = "json"              # json | text
//!
//! [spool]                      # optional: at-least-once across crashes
//! dir = "/var/lib/myapp/otlp-spool"
//! max_bytes = 268435456
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use otlp_batch::{Overflow, Strategy};
use otlp_core::{InvalidSetting, Signal};
use otlp_transport::{Compression, Headers};
use serde::Deserialize;

use super::parse::{parse_duration, parse_protocol};
use super::{ExporterSettings, LogFormat, PipelineConfig, Secret};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    service_name: Option<String>,
    service_version: Option<String>,
    environment: Option<String>,
    #[serde(default)]
    transport: Transport,
    #[serde(default)]
    connection: Connection,
    #[serde(default)]
    batch: Batch,
    #[serde(default)]
    retry: Retry,
    #[serde(default)]
    monitoring: Monitoring,
    #[serde(default)]
    security: Security,
    #[serde(default)]
    logging: Logging,
    spool: Option<SpoolSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpoolSection {
    dir: PathBuf,
    max_bytes: Option<u64>,
    segment_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Transport {
    protocol: Option<String>,
    endpoint: Option<String>,
    compression: Option<String>,
    timeout: Option<String>,
    insecure: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
    collectors: Option<Vec<String>>,
    balance: Option<String>,
    traces: Option<Exporter>,
    metrics: Option<Exporter>,
    logs: Option<Exporter>,
}

impl Transport {
    /// The settings for all signals (serde cannot combine `flatten` with unknown-key checks).
    fn all(&self) -> Exporter {
        Exporter {
            protocol: self.protocol.clone(),
            endpoint: self.endpoint.clone(),
            compression: self.compression.clone(),
            timeout: self.timeout.clone(),
            insecure: self.insecure,
            headers: self.headers.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Exporter {
    protocol: Option<String>,
    endpoint: Option<String>,
    compression: Option<String>,
    timeout: Option<String>,
    insecure: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Connection {
    connect_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    max_batch_size: Option<usize>,
    max_queue_size: Option<usize>,
    scheduled_delay: Option<String>,
    max_batch_bytes: Option<usize>,
    max_concurrent_exports: Option<usize>,
    export_timeout: Option<String>,
    strategy: Option<String>,
    overflow: Option<String>,
    block_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Retry {
    max_attempts: Option<u32>,
    initial_backoff: Option<String>,
    max_backoff: Option<String>,
    multiplier: Option<f64>,
    total_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Monitoring {
    health_endpoint: Option<String>,
    metrics_export_interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Security {
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    bearer_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Logging {
    level: Option<String>,
    format: Option<String>,
}

pub(super) fn apply(
    config: &mut PipelineConfig,
    text: &str,
    origin: &str,
) -> Result<(), InvalidSetting> {
    let file: File = toml::from_str(text).map_err(|e| {
        InvalidSetting::new("config file", origin, format!("not valid: {}", e.message()))
    })?;
    let key = |name: &str| format!("{origin}: {name}");
    if let Some(name) = file.service_name {
        config.service_name = name;
    }
    config.service_version = file.service_version.or(config.service_version.take());
    config.environment = file.environment.or(config.environment.take());

    if let Some(collectors) = &file.transport.collectors {
        config.collectors = collectors.clone();
    }
    if let Some(balance) = &file.transport.balance {
        config.balance =
            otlp_transport::balance::Strategy::parse(&key("transport.balance"), balance)?;
    }
    apply_exporter(
        &file.transport.all(),
        &key("transport"),
        &mut config.exporter,
    )?;
    for (signal, section) in [
        (Signal::Traces, &file.transport.traces),
        (Signal::Metrics, &file.transport.metrics),
        (Signal::Logs, &file.transport.logs),
    ] {
        if let Some(section) = section {
            apply_exporter(
                section,
                &key(&format!("transport.{signal}")),
                config.signal_mut(signal),
            )?;
        }
    }
    if let Some(value) = &file.connection.connect_timeout {
        config.connect_timeout = parse_duration(&key("connection.connect_timeout"), value)?;
    }

    let batch = &file.batch;
    for target in [&mut config.span_batch, &mut config.log_batch] {
        if let Some(n) = batch.max_batch_size {
            target.max_batch_size = n;
        }
        if let Some(n) = batch.max_queue_size {
            target.max_queue_size = n;
        }
        if let Some(n) = batch.max_batch_bytes {
            target.max_batch_bytes = Some(n);
        }
        if let Some(n) = batch.max_concurrent_exports {
            target.max_concurrent_exports = n;
        }
        if let Some(value) = &batch.scheduled_delay {
            target.scheduled_delay = parse_duration(&key("batch.scheduled_delay"), value)?;
        }
        if let Some(value) = &batch.export_timeout {
            target.export_timeout = parse_duration(&key("batch.export_timeout"), value)?;
        }
        if let Some(value) = &batch.strategy {
            target.strategy = match value.as_str() {
                "size" => Strategy::Size,
                "time" => Strategy::Time,
                "hybrid" => Strategy::Hybrid,
                _ => {
                    return Err(InvalidSetting::new(
                        key("batch.strategy"),
                        value,
                        "expected size, time or hybrid",
                    ))
                }
            };
        }
        if let Some(value) = &batch.overflow {
            let wait = match &batch.block_timeout {
                Some(wait) => parse_duration(&key("batch.block_timeout"), wait)?,
                None => std::time::Duration::from_millis(50),
            };
            target.overflow = match value.as_str() {
                "drop_newest" => Overflow::DropNewest,
                "drop_oldest" => Overflow::DropOldest,
                "block" => Overflow::Block(wait),
                _ => {
                    return Err(InvalidSetting::new(
                        key("batch.overflow"),
                        value,
                        "expected drop_newest, drop_oldest or block",
                    ))
                }
            };
        }
        target.validate().map_err(|e| {
            InvalidSetting::new(key("batch"), e.to_string(), "inconsistent batch settings")
        })?;
    }

    let retry = &file.retry;
    if let Some(n) = retry.max_attempts {
        config.retry.max_attempts = n;
    }
    if let Some(value) = &retry.initial_backoff {
        config.retry.backoff.initial = parse_duration(&key("retry.initial_backoff"), value)?;
    }
    if let Some(value) = &retry.max_backoff {
        config.retry.backoff.max = parse_duration(&key("retry.max_backoff"), value)?;
    }
    if let Some(multiplier) = retry.multiplier {
        config.retry.backoff.multiplier = multiplier;
    }
    if let Some(value) = &retry.total_timeout {
        config.retry.total_timeout = Some(parse_duration(&key("retry.total_timeout"), value)?);
    }
    config.retry.validate()?;

    if let Some(value) = &file.monitoring.health_endpoint {
        config.health_endpoint = Some(value.parse().map_err(|_| {
            InvalidSetting::new(
                key("monitoring.health_endpoint"),
                value,
                "expected an address such as 127.0.0.1:8080",
            )
        })?);
    }
    if let Some(value) = &file.monitoring.metrics_export_interval {
        config.metric_export_interval =
            parse_duration(&key("monitoring.metrics_export_interval"), value)?;
    }

    let security = file.security;
    config.exporter.certificate = security.ca_file.or(config.exporter.certificate.take());
    config.exporter.client_certificate = security
        .cert_file
        .or(config.exporter.client_certificate.take());
    config.exporter.client_key = security.key_file.or(config.exporter.client_key.take());
    if let Some(token) = security.bearer_token {
        config.bearer_token = Some(Secret::new(token));
    }

    if let Some(spool) = &file.spool {
        let mut spool_config = otlp_batch::spool::SpoolConfig::new(&spool.dir);
        if let Some(bytes) = spool.max_bytes {
            if bytes == 0 {
                return Err(InvalidSetting::new(
                    key("spool.max_bytes"),
                    "0",
                    "must be positive",
                ));
            }
            spool_config = spool_config.with_max_bytes(bytes);
        }
        if let Some(bytes) = spool.segment_bytes {
            if bytes == 0 {
                return Err(InvalidSetting::new(
                    key("spool.segment_bytes"),
                    "0",
                    "must be positive",
                ));
            }
            spool_config = spool_config.with_segment_bytes(bytes);
        }
        config.spool = Some(spool_config);
    }
    if let Some(level) = file.logging.level {
        config.log_level = level;
    }
    if let Some(format) = &file.logging.format {
        config.log_format = match format.as_str() {
            "json" => LogFormat::Json,
            "text" => LogFormat::Text,
            _ => {
                return Err(InvalidSetting::new(
                    key("logging.format"),
                    format,
                    "expected json or text",
                ))
            }
        };
    }
    Ok(())
}

fn apply_exporter(
    section: &Exporter,
    key: &str,
    settings: &mut ExporterSettings,
) -> Result<(), InvalidSetting> {
    if let Some(value) = &section.protocol {
        settings.protocol = Some(parse_protocol(&format!("{key}.protocol"), value)?);
    }
    if let Some(value) = &section.endpoint {
        settings.endpoint = Some(value.clone());
    }
    if let Some(value) = &section.compression {
        settings.compression = Some(Compression::parse(&format!("{key}.compression"), value)?);
    }
    if let Some(value) = &section.timeout {
        settings.timeout = Some(parse_duration(&format!("{key}.timeout"), value)?);
    }
    if let Some(insecure) = section.insecure {
        settings.insecure = Some(insecure);
    }
    if let Some(map) = &section.headers {
        let mut headers = Headers::new();
        for (name, value) in map {
            headers.insert(&format!("{key}.headers"), name, value)?;
        }
        settings.headers = Some(headers);
    }
    Ok(())
}
