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

use super::parse::{parse_headers, parse_protocol};
use super::provenance::Source;
use super::sdk::{
    ExemplarFilter, ExporterKind, HistogramAggregation, Propagator, SamplerConfig,
    TemporalityPreference,
};
use super::{ExporterSettings, PipelineConfig, NO_LIMIT};

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

fn limit(value: &str) -> Result<u32, String> {
    value
        .parse::<u32>()
        .map_err(|_| "expected a whole number (0 or more)".to_owned())
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

pub(super) fn parse_histogram_aggregation(value: &str) -> Result<HistogramAggregation, String> {
    match value.to_ascii_lowercase().as_str() {
        "explicit_bucket_histogram" => Ok(HistogramAggregation::ExplicitBucket),
        "base2_exponential_bucket_histogram" => Ok(HistogramAggregation::Base2Exponential),
        _ => Err(
            "expected explicit_bucket_histogram or base2_exponential_bucket_histogram".to_owned(),
        ),
    }
}

pub(super) fn parse_exemplar_filter(value: &str) -> Result<ExemplarFilter, String> {
    match value.to_ascii_lowercase().as_str() {
        "trace_based" => Ok(ExemplarFilter::TraceBased),
        "always_on" => Ok(ExemplarFilter::AlwaysOn),
        "always_off" => Ok(ExemplarFilter::AlwaysOff),
        _ => Err("expected trace_based, always_on or always_off".to_owned()),
    }
}

/// `otlp`, `console` or `none` (a list: the first one this SDK has is used).
fn parse_exporters(value: &str) -> Result<ExporterKind, String> {
    let names: Vec<String> = value
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    if names.len() > 1 {
        return Err("one exporter per signal (otlp, console or none)".to_owned());
    }
    match names.first().map(String::as_str) {
        Some("otlp") => Ok(ExporterKind::Otlp),
        Some("console") => Ok(ExporterKind::Console),
        Some("none") => Ok(ExporterKind::None),
        Some("zipkin" | "prometheus" | "logging") => {
            Err("not available in this SDK (otlp, console and none are)".to_owned())
        }
        _ => Err("expected otlp, console or none".to_owned()),
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

fn read_propagators(r: &mut Reader<'_>) {
    let Some(value) = r.get("OTEL_PROPAGATORS") else {
        return;
    };
    let mut propagators = Vec::new();
    let mut understood = false;
    for name in value.split(',').filter(|n| !n.trim().is_empty()) {
        match Propagator::parse(name) {
            Ok(Some(p)) if !propagators.contains(&p) => propagators.push(p),
            Ok(_) => {}
            Err(reason) => {
                r.ignore("OTEL_PROPAGATORS", Some(name.trim()), reason);
                continue;
            }
        }
        understood = true;
    }
    if !understood {
        // Nothing usable (and not `none`): the default stays.
        return;
    }
    r.mark("propagators");
    r.config.propagators = propagators;
}

fn read_sampler(r: &mut Reader<'_>) {
    let Some(name) = r.get("OTEL_TRACES_SAMPLER") else {
        return;
    };
    let ratio = || -> Result<f64, String> {
        let Some(arg) = r.get("OTEL_TRACES_SAMPLER_ARG") else {
            return Err("OTEL_TRACES_SAMPLER_ARG is not set; using 1.0".to_owned());
        };
        match arg.parse::<f64>() {
            Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
            _ => Err(format!(
                "OTEL_TRACES_SAMPLER_ARG={arg:?} is not a number from 0 to 1; using 1.0"
            )),
        }
    };
    let sampler = match name.to_ascii_lowercase().as_str() {
        "always_on" => Ok(SamplerConfig::AlwaysOn),
        "always_off" => Ok(SamplerConfig::AlwaysOff),
        "parentbased_always_on" => Ok(SamplerConfig::parent_based(SamplerConfig::AlwaysOn)),
        "parentbased_always_off" => Ok(SamplerConfig::parent_based(SamplerConfig::AlwaysOff)),
        "traceidratio" => Ok(SamplerConfig::TraceIdRatio(ratio().unwrap_or_else(|w| {
            r.config.provenance.warn(w.clone());
            tracing::warn!(warning = %w, "OTEL_TRACES_SAMPLER_ARG");
            1.0
        }))),
        "parentbased_traceidratio" => Ok(SamplerConfig::parent_based(
            SamplerConfig::TraceIdRatio(ratio().unwrap_or_else(|w| {
                r.config.provenance.warn(w.clone());
                tracing::warn!(warning = %w, "OTEL_TRACES_SAMPLER_ARG");
                1.0
            })),
        )),
        "jaeger_remote" | "parentbased_jaeger_remote" | "xray" => {
            Err("not available in this SDK")
        }
        _ => Err("expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"),
    };
    match sampler {
        Ok(sampler) => {
            r.mark("sampler");
            r.config.sampler = sampler;
        }
        Err(reason) => r.ignore("OTEL_TRACES_SAMPLER", Some(&name), reason),
    }
}

/// A field of [`Limits`](super::Limits).
type LimitField = fn(&mut super::Limits) -> &mut Option<u32>;

fn read_limits(r: &mut Reader<'_>) {
    let fields: [(&str, &str, LimitField); 10] = [
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "attribute_count", |l| {
            &mut l.attribute_count
        }),
        (
            "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "attribute_value_length",
            |l| &mut l.attribute_value_length,
        ),
        (
            "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
            "span_attribute_count",
            |l| &mut l.span_attribute_count,
        ),
        (
            "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "span_attribute_value_length",
            |l| &mut l.span_attribute_value_length,
        ),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "span_event_count", |l| {
            &mut l.span_event_count
        }),
        ("OTEL_SPAN_LINK_COUNT_LIMIT", "span_link_count", |l| {
            &mut l.span_link_count
        }),
        (
            "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
            "event_attribute_count",
            |l| &mut l.event_attribute_count,
        ),
        (
            "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
            "link_attribute_count",
            |l| &mut l.link_attribute_count,
        ),
        (
            "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
            "log_record_attribute_count",
            |l| &mut l.log_record_attribute_count,
        ),
        (
            "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "log_record_attribute_value_length",
            |l| &mut l.log_record_attribute_value_length,
        ),
    ];
    for (variable, field, target) in fields {
        if let Some(n) = r.read(variable, &format!("limits.{field}"), limit) {
            *target(&mut r.config.limits) = Some(n);
        }
    }
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
