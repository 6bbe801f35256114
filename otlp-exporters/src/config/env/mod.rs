//! The OpenTelemetry environment variables, parsed as the specification says: an empty
//! variable counts as unset, enum values are case-insensitive, a timeout of `0` means no
//! limit, and an invalid value is warned about (naming the variable and the value) and
//! ignored, so that a typo in the environment never takes a service down.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use opentelemetry::KeyValue;
use otlp_core::Signal;
use otlp_transport::Compression;
use percent_encoding::percent_decode_str;

mod concurrency;
mod proxy;
mod sdk;

use super::parse::{parse_headers, parse_protocol};
use super::provenance::Source;
use super::sdk::TemporalityPreference;
use super::{ExporterSettings, PipelineConfig, NO_LIMIT};
use sdk::{
    parse_exemplar_filter, parse_exporters, parse_histogram_aggregation, read_limits,
    read_propagators, read_sampler,
};

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

/// Reads variables and records what it set and what it ignored.
struct Reader<'a> {
    env: &'a dyn EnvSource,
    config: &'a mut PipelineConfig,
}

impl Reader<'_> {
    /// The value of `variable`, trimmed.
    fn get(&self, variable: &str) -> Option<String> {
        self.env.get(variable).map(|v| v.trim().to_owned())
    }

    /// Warns about an ignored value; `value: None` for secrets.
    fn ignore(&mut self, variable: &str, value: Option<&str>, reason: &str) {
        let shown = value.unwrap_or("<redacted>");
        tracing::warn!(
            variable,
            value = shown,
            reason,
            "invalid environment variable ignored"
        );
        self.config
            .provenance
            .warn(format!("{variable}={shown:?} ignored: {reason}"));
    }

    fn mark(&mut self, key: &str) {
        self.config.provenance.set(key, Source::Environment);
    }

    /// Parses `variable` with `parse`; on success records `key` and returns the value.
    fn read<T>(
        &mut self,
        variable: &str,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.get(variable)?;
        match parse(&value) {
            Ok(parsed) => {
                self.mark(key);
                Some(parsed)
            }
            Err(reason) => {
                self.ignore(variable, Some(&value), &reason);
                None
            }
        }
    }
}

/// A whole number of milliseconds; `0` means no limit when `zero_is_no_limit`.
fn millis(zero_is_no_limit: bool) -> impl Fn(&str) -> Result<Duration, String> {
    move |value| match value.parse::<u64>() {
        Ok(0) if zero_is_no_limit => Ok(NO_LIMIT),
        Ok(0) => Err("must be positive".to_owned()),
        Ok(ms) => Ok(Duration::from_millis(ms)),
        Err(_) => Err("expected a whole number of milliseconds".to_owned()),
    }
}

fn positive(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err("expected a positive whole number".to_owned()),
    }
}

/// `true` or `false`, any case. The specification reads anything else as `false`, with a
/// warning: the value is ignored, and every boolean defaults to `false`.
fn boolean(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("expected true or false; read as false".to_owned()),
    }
}

pub(super) fn apply(config: &mut PipelineConfig, env: &dyn EnvSource) {
    let mut r = Reader { env, config };
    if let Some(disabled) = r.read("OTEL_SDK_DISABLED", "disabled", boolean) {
        r.config.disabled = disabled;
    }
    if let Some(level) = r.read("OTEL_LOG_LEVEL", "log_level", parse_log_level) {
        r.config.log_level = level;
    }
    read_resource(&mut r);
    read_exporter(&mut r, "OTEL_EXPORTER_OTLP", "exporter", None);
    for signal in Signal::ALL {
        let upper = signal.as_str().to_ascii_uppercase();
        read_exporter(
            &mut r,
            &format!("OTEL_EXPORTER_OTLP_{upper}"),
            signal.as_str(),
            Some(signal),
        );
        let variable = format!("OTEL_{upper}_EXPORTER");
        if let Some(kind) = r.read(&variable, &format!("{signal}.exporter"), parse_exporters) {
            r.config.exporters[super::index(signal)] = kind;
        }
    }
    concurrency::read_concurrency(&mut r);
    read_batch(&mut r, "OTEL_BSP", "span_batch", |c| &mut c.span_batch);
    read_batch(&mut r, "OTEL_BLRP", "log_batch", |c| &mut c.log_batch);
    if let Some(d) = r.read(
        "OTEL_METRIC_EXPORT_INTERVAL",
        "metrics.export_interval",
        millis(false),
    ) {
        r.config.metric_export_interval = d;
    }
    if let Some(d) = r.read(
        "OTEL_METRIC_EXPORT_TIMEOUT",
        "metrics.export_timeout",
        millis(true),
    ) {
        r.config.metric_export_timeout = d;
    }
    if let Some(t) = r.read(
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
        "metrics.temporality_preference",
        |v| match v.to_ascii_lowercase().as_str() {
            "cumulative" => Ok(TemporalityPreference::Cumulative),
            "delta" => Ok(TemporalityPreference::Delta),
            "lowmemory" => Ok(TemporalityPreference::LowMemory),
            _ => Err("expected cumulative, delta or lowmemory".to_owned()),
        },
    ) {
        r.config.temporality = t;
    }
    if let Some(a) = r.read(
        "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
        "metrics.default_histogram_aggregation",
        parse_histogram_aggregation,
    ) {
        r.config.histogram_aggregation = a;
    }
    if let Some(f) = r.read(
        "OTEL_METRICS_EXEMPLAR_FILTER",
        "metrics.exemplar_filter",
        parse_exemplar_filter,
    ) {
        r.config.exemplar_filter = f;
    }
    read_propagators(&mut r);
    read_sampler(&mut r);
    read_limits(&mut r);
    proxy::read(&mut r);
    super::discovery::apply_env(r.config, r.env);
    drop_unusable_endpoints(&mut r);
}

pub(super) fn parse_log_level(value: &str) -> Result<String, String> {
    let level = value.to_ascii_lowercase();
    match level.as_str() {
        "trace" | "debug" | "info" | "warn" | "error" => Ok(level),
        "warning" => Ok("warn".to_owned()),
        _ => Err("expected trace, debug, info, warn or error".to_owned()),
    }
}

/// `key=value,...` percent-decoded, as `OTEL_RESOURCE_ATTRIBUTES` and the file's
/// `attributes_list` write them.
pub(super) fn parse_attributes(value: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for pair in value.split(',').filter(|p| !p.trim().is_empty()) {
        let Some((key, raw)) = pair.split_once('=') else {
            return Err(format!("{pair:?} is not key=value"));
        };
        let decoded = percent_decode_str(raw.trim())
            .decode_utf8()
            .map_err(|_| "invalid percent-encoding".to_owned())?;
        pairs.push((key.trim().to_owned(), decoded.into_owned()));
    }
    Ok(pairs)
}

fn read_resource(r: &mut Reader<'_>) {
    if let Some(pairs) = r.read(
        "OTEL_RESOURCE_ATTRIBUTES",
        "resource.attributes",
        parse_attributes,
    ) {
        for (key, value) in pairs {
            r.config
                .set_resource_attribute(KeyValue::new(key, value), Source::Environment);
        }
    }
    if let Some(name) = r.get("OTEL_SERVICE_NAME") {
        r.mark("service.name");
        r.config.service_name = name;
    }
}

fn read_exporter(r: &mut Reader<'_>, prefix: &str, key: &str, signal: Option<Signal>) {
    let name = |suffix: &str| format!("{prefix}_{suffix}");
    let key = |field: &str| format!("{key}.{field}");
    let mut settings = ExporterSettings::default();
    if let Some(value) = r.read(&name("ENDPOINT"), &key("endpoint"), |v| {
        if v.contains("://") {
            otlp_transport::endpoint::parse_url("endpoint", v)
                .map(|_| v.to_owned())
                .map_err(|e| e.reason().to_owned())
        } else {
            Ok(v.to_owned())
        }
    }) {
        settings.endpoint = Some(value);
    }
    settings.protocol = r.read(&name("PROTOCOL"), &key("protocol"), |v| {
        parse_protocol("", v).map_err(|_| "expected grpc, http/protobuf or http/json".to_owned())
    });
    if let Some(value) = r.get(&name("HEADERS")) {
        match parse_headers(&name("HEADERS"), &value) {
            Ok(headers) => {
                r.mark(&key("headers"));
                settings.headers = Some(headers);
            }
            Err(error) => r.ignore(&name("HEADERS"), None, error.reason()),
        }
    }
    settings.timeout = r.read(&name("TIMEOUT"), &key("timeout"), millis(true));
    settings.compression = r.read(&name("COMPRESSION"), &key("compression"), |v| {
        Compression::parse("", v).map_err(|_| "expected none, gzip or zstd".to_owned())
    });
    settings.insecure = r.read(&name("INSECURE"), &key("insecure"), boolean);
    let file = |v: &str| {
        let path = PathBuf::from(v);
        if path.is_file() {
            Ok(path)
        } else {
            Err("no such file".to_owned())
        }
    };
    settings.certificate = r.read(&name("CERTIFICATE"), &key("certificate"), file);
    settings.client_certificate = r.read(
        &name("CLIENT_CERTIFICATE"),
        &key("client_certificate"),
        file,
    );
    settings.client_key = r.read(&name("CLIENT_KEY"), &key("client_key"), file);
    let target = match signal {
        None => &mut r.config.exporter,
        Some(signal) => r.config.signal_mut(signal),
    };
    *target = target.overridden_by(&settings);
}

fn read_batch(
    r: &mut Reader<'_>,
    prefix: &str,
    key: &str,
    batch: fn(&mut PipelineConfig) -> &mut otlp_batch::BatchConfig,
) {
    let name = |suffix: &str| format!("{prefix}_{suffix}");
    let key = |field: &str| format!("{key}.{field}");
    if let Some(d) = r.read(
        &name("SCHEDULE_DELAY"),
        &key("scheduled_delay"),
        millis(false),
    ) {
        batch(r.config).scheduled_delay = d;
    }
    if let Some(d) = r.read(
        &name("EXPORT_TIMEOUT"),
        &key("export_timeout"),
        millis(true),
    ) {
        batch(r.config).export_timeout = d;
    }
    if let Some(n) = r.read(&name("MAX_QUEUE_SIZE"), &key("max_queue_size"), positive) {
        batch(r.config).max_queue_size = n;
    }
    if let Some(n) = r.read(
        &name("MAX_EXPORT_BATCH_SIZE"),
        &key("max_batch_size"),
        positive,
    ) {
        batch(r.config).max_batch_size = n;
    }
    // The specification caps the batch at the queue size rather than refusing the pair.
    let batch = batch(r.config);
    batch.max_batch_size = batch.max_batch_size.min(batch.max_queue_size);
}

/// An endpoint from the environment that parsed but cannot be used with the protocol in
/// effect (a URL without a scheme for HTTP) is dropped with a warning, like any other invalid
/// variable.
fn drop_unusable_endpoints(r: &mut Reader<'_>) {
    for signal in Signal::ALL {
        let Err(error) = r.config.resolve(signal) else {
            continue;
        };
        let from_env =
            |r: &Reader<'_>, key: &str| r.config.provenance.get(key) == Some(Source::Environment);
        let (variable, url) = if r.config.signal_mut(signal).endpoint.is_some() {
            if !from_env(r, &format!("{signal}.endpoint")) {
                continue;
            }
            let url = r.config.signal_mut(signal).endpoint.take();
            let upper = signal.as_str().to_ascii_uppercase();
            (format!("OTEL_EXPORTER_OTLP_{upper}_ENDPOINT"), url)
        } else if from_env(r, "exporter.endpoint") {
            let url = r.config.exporter.endpoint.take();
            ("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), url)
        } else {
            continue;
        };
        r.ignore(&variable, url.as_deref(), error.reason());
    }
}
