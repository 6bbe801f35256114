//! The OpenTelemetry environment variables. An empty variable counts as unset, as the
//! specification says.

use std::collections::HashMap;
use std::path::PathBuf;

use otlp_core::{InvalidSetting, Signal};
use otlp_transport::Compression;
use percent_encoding::percent_decode_str;

use super::parse::{parse_bool, parse_count, parse_headers, parse_millis, parse_protocol};
use super::{ExporterSettings, PipelineConfig};
use otlp_batch::BatchConfig;

/// Where environment variables are read from: the process, or a map in tests.
pub trait EnvSource {
    /// The variable's value, `None` when unset or empty.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl EnvSource for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name)
            .filter(|v| !v.trim().is_empty())
            .cloned()
    }
}

impl EnvSource for HashMap<&str, &str> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*v).to_owned())
    }
}

pub(super) fn apply(
    config: &mut PipelineConfig,
    env: &dyn EnvSource,
) -> Result<(), InvalidSetting> {
    if let Some(value) = env.get("OTEL_SDK_DISABLED") {
        config.disabled = parse_bool("OTEL_SDK_DISABLED", &value)?;
    }
    if let Some(value) = env.get("OTEL_RESOURCE_ATTRIBUTES") {
        for pair in value.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((key, raw)) = pair.split_once('=') else {
                return Err(InvalidSetting::new(
                    "OTEL_RESOURCE_ATTRIBUTES",
                    &value,
                    format!("{pair:?} is not key=value"),
                ));
            };
            let decoded = percent_decode_str(raw.trim()).decode_utf8().map_err(|_| {
                InvalidSetting::new(
                    "OTEL_RESOURCE_ATTRIBUTES",
                    &value,
                    "invalid percent-encoding",
                )
            })?;
            let key = key.trim().to_owned();
            match key.as_str() {
                "service.name" => config.service_name = decoded.into_owned(),
                "service.version" => config.service_version = Some(decoded.into_owned()),
                "deployment.environment.name" => config.environment = Some(decoded.into_owned()),
                _ => config.resource_attributes.push((key, decoded.into_owned())),
            }
        }
    }
    if let Some(name) = env.get("OTEL_SERVICE_NAME") {
        config.service_name = name;
    }
    read_exporter(env, "OTEL_EXPORTER_OTLP", &mut config.exporter)?;
    for signal in Signal::ALL {
        let prefix = format!(
            "OTEL_EXPORTER_OTLP_{}",
            signal.as_str().to_ascii_uppercase()
        );
        read_exporter(env, &prefix, config.signal_mut(signal))?;
    }
    read_batch(env, "OTEL_BSP", &mut config.span_batch)?;
    read_batch(env, "OTEL_BLRP", &mut config.log_batch)?;
    if let Some(value) = env.get("OTEL_METRIC_EXPORT_INTERVAL") {
        config.metric_export_interval = positive_millis("OTEL_METRIC_EXPORT_INTERVAL", &value)?;
    }
    if let Some(value) = env.get("OTEL_METRIC_EXPORT_TIMEOUT") {
        config.metric_export_timeout = positive_millis("OTEL_METRIC_EXPORT_TIMEOUT", &value)?;
    }
    Ok(())
}

fn positive_millis(setting: &str, value: &str) -> Result<std::time::Duration, InvalidSetting> {
    let duration = parse_millis(setting, value)?;
    if duration.is_zero() {
        return Err(InvalidSetting::new(setting, value, "must be positive"));
    }
    Ok(duration)
}

fn read_exporter(
    env: &dyn EnvSource,
    prefix: &str,
    settings: &mut ExporterSettings,
) -> Result<(), InvalidSetting> {
    let name = |suffix: &str| format!("{prefix}_{suffix}");
    let get = |suffix: &str| env.get(&name(suffix)).map(|v| (name(suffix), v));
    if let Some((_, value)) = get("ENDPOINT") {
        settings.endpoint = Some(value.trim().to_owned());
    }
    if let Some((setting, value)) = get("PROTOCOL") {
        settings.protocol = Some(parse_protocol(&setting, &value)?);
    }
    if let Some((setting, value)) = get("HEADERS") {
        settings.headers = Some(parse_headers(&setting, &value)?);
    }
    if let Some((setting, value)) = get("TIMEOUT") {
        settings.timeout = Some(positive_millis(&setting, &value)?);
    }
    if let Some((setting, value)) = get("COMPRESSION") {
        settings.compression = Some(Compression::parse(&setting, &value)?);
    }
    if let Some((setting, value)) = get("INSECURE") {
        settings.insecure = Some(parse_bool(&setting, &value)?);
    }
    let file = |suffix: &str| -> Result<Option<PathBuf>, InvalidSetting> {
        match get(suffix) {
            None => Ok(None),
            Some((setting, value)) => {
                let path = PathBuf::from(value.trim());
                if !path.is_file() {
                    return Err(InvalidSetting::new(setting, value, "no such file"));
                }
                Ok(Some(path))
            }
        }
    };
    if let Some(path) = file("CERTIFICATE")? {
        settings.certificate = Some(path);
    }
    if let Some(path) = file("CLIENT_CERTIFICATE")? {
        settings.client_certificate = Some(path);
    }
    if let Some(path) = file("CLIENT_KEY")? {
        settings.client_key = Some(path);
    }
    Ok(())
}

fn read_batch(
    env: &dyn EnvSource,
    prefix: &str,
    batch: &mut BatchConfig,
) -> Result<(), InvalidSetting> {
    let name = |suffix: &str| format!("{prefix}_{suffix}");
    if let Some(value) = env.get(&name("SCHEDULE_DELAY")) {
        batch.scheduled_delay = positive_millis(&name("SCHEDULE_DELAY"), &value)?;
    }
    if let Some(value) = env.get(&name("EXPORT_TIMEOUT")) {
        batch.export_timeout = positive_millis(&name("EXPORT_TIMEOUT"), &value)?;
    }
    if let Some(value) = env.get(&name("MAX_QUEUE_SIZE")) {
        batch.max_queue_size = parse_count(&name("MAX_QUEUE_SIZE"), &value)?;
    }
    if let Some(value) = env.get(&name("MAX_EXPORT_BATCH_SIZE")) {
        batch.max_batch_size = parse_count(&name("MAX_EXPORT_BATCH_SIZE"), &value)?;
    }
    // The specification caps the batch at the queue size rather than refusing the pair.
    batch.max_batch_size = batch.max_batch_size.min(batch.max_queue_size);
    Ok(())
}
