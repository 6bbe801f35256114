//! The startup report: every value in effect, where it came from (default, file,
// tidy: long-file one table of every reported value, read top to bottom, with unit tests
//! environment, code), and every warning; secrets redacted.

use std::fmt;
use std::time::Duration;

use otlp_core::Signal;
use serde::Serialize;

use super::provenance::Source;
use super::{index, PipelineConfig, NO_LIMIT};

/// One value in effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportEntry {
    /// The setting, dotted (`traces.endpoint`, `span_batch.max_queue_size`).
    pub key: String,
    /// The value as text; secrets are `<redacted>`.
    pub value: String,
    /// Where it came from.
    pub source: Source,
}

/// The configuration in effect, logged once at `info` when a pipeline starts and returned by
/// [`OtlpPipeline::config_report`](crate::OtlpPipeline::config_report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigReport {
    /// The configuration file read, if any.
    pub file: Option<String>,
    /// Every setting, in a stable order.
    pub entries: Vec<ReportEntry>,
    /// Every warning met while reading the environment and the file.
    pub warnings: Vec<String>,
}

impl ConfigReport {
    /// The entry of `key`.
    pub fn get(&self, key: &str) -> Option<&ReportEntry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

impl fmt::Display for ConfigReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "configuration in effect")?;
        if let Some(file) = &self.file {
            writeln!(f, "  (file: {file})")?;
        }
        let width = self.entries.iter().map(|e| e.key.len()).max().unwrap_or(0);
        for entry in &self.entries {
            writeln!(
                f,
                "  {:<width$}  {}  [{}]",
                entry.key, entry.value, entry.source
            )?;
        }
        if self.warnings.is_empty() {
            write!(f, "warnings: none")
        } else {
            write!(f, "warnings:")?;
            for warning in &self.warnings {
                write!(f, "\n  {warning}")?;
            }
            Ok(())
        }
    }
}

/// A duration as the report shows it.
pub(crate) fn duration(d: Duration) -> String {
    if d >= NO_LIMIT {
        "no limit".to_owned()
    } else {
        humantime::format_duration(d).to_string()
    }
}

/// A URL as the workspace shows it (`otlp_core::redact::url`).
pub(crate) fn redact_url(url: &str) -> String {
    // The one rule of the workspace: no userinfo, no query values.
    otlp_core::redact::url(url)
}

struct Builder<'a> {
    config: &'a PipelineConfig,
    defaults: Vec<(String, String)>,
    entries: Vec<ReportEntry>,
}

impl Builder<'_> {
    /// Adds `key`; its source is what was recorded, else `code` when it differs from the
    /// default (the builder and `config_mut` record nothing), else `default`.
    fn add(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        let recorded = self.config.provenance.get(&key);
        self.add_from(key, value, recorded);
    }

    fn add_from(&mut self, key: String, value: String, recorded: Option<Source>) {
        let source = recorded.unwrap_or_else(|| {
            let default = self.defaults.iter().find(|(k, _)| *k == key);
            match default {
                Some((_, v)) if *v == value => Source::Default,
                _ => Source::Code,
            }
        });
        self.entries.push(ReportEntry { key, value, source });
    }
}

fn values(config: &PipelineConfig) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: String| out.push((k.to_owned(), v));
    add("service.name", config.service_name.clone());
    add(
        "service.version",
        config.service_version.clone().unwrap_or_default(),
    );
    add(
        "deployment.environment.name",
        config.environment.clone().unwrap_or_default(),
    );
    add("disabled", config.disabled.to_string());
    add("log_level", config.log_level.clone());
    add(
        "propagators",
        config
            .propagators
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    add("sampler", config.sampler.to_string());
    for (key, batch) in [
        ("span_batch", &config.span_batch),
        ("log_batch", &config.log_batch),
    ] {
        add(
            &format!("{key}.scheduled_delay"),
            duration(batch.scheduled_delay),
        );
        add(
            &format!("{key}.export_timeout"),
            duration(batch.export_timeout),
        );
        add(
            &format!("{key}.max_queue_size"),
            batch.max_queue_size.to_string(),
        );
        add(
            &format!("{key}.max_batch_size"),
            batch.max_batch_size.to_string(),
        );
    }
    add(
        "metrics.export_interval",
        duration(config.metric_export_interval),
    );
    add(
        "metrics.export_timeout",
        duration(config.metric_export_timeout),
    );
    add(
        "metrics.temporality_preference",
        config.temporality.as_str().to_owned(),
    );
    add(
        "metrics.default_histogram_aggregation",
        config.histogram_aggregation.as_str().to_owned(),
    );
    add(
        "metrics.exemplar_filter",
        config.exemplar_filter.as_str().to_owned(),
    );
    add("metrics.views", config.views.len().to_string());
    let limits = &config.limits;
    let show = |l: Option<u32>| l.map_or_else(|| "default".to_owned(), |n| n.to_string());
    for (key, value) in [
        ("limits.attribute_count", limits.attribute_count),
        (
            "limits.attribute_value_length",
            limits.attribute_value_length,
        ),
        ("limits.span_attribute_count", limits.span_attribute_count),
        (
            "limits.span_attribute_value_length",
            limits.span_attribute_value_length,
        ),
        ("limits.span_event_count", limits.span_event_count),
        ("limits.span_link_count", limits.span_link_count),
        ("limits.event_attribute_count", limits.event_attribute_count),
        ("limits.link_attribute_count", limits.link_attribute_count),
        (
            "limits.log_record_attribute_count",
            limits.log_record_attribute_count,
        ),
        (
            "limits.log_record_attribute_value_length",
            limits.log_record_attribute_value_length,
        ),
    ] {
        add(key, show(value));
    }
    add("connect_timeout", duration(config.connect_timeout));
    super::connection::report(config, &mut add);
    add(
        "balance",
        match config.balance {
            otlp_transport::balance::BalanceStrategy::RoundRobin => "round-robin",
            otlp_transport::balance::BalanceStrategy::LeastLoaded => "least-loaded",
            otlp_transport::balance::BalanceStrategy::TraceId => "trace-id",
        }
        .to_owned(),
    );
    add(
        "log_format",
        format!("{:?}", config.log_format).to_ascii_lowercase(),
    );
    add(
        "self_metrics",
        if config.self_metrics { "on" } else { "off" }.to_owned(),
    );
    add("retry.max_attempts", config.retry.max_attempts.to_string());
    add(
        "concurrency",
        super::concurrency::describe(&config.concurrency),
    );
    add(
        "circuit_breaker",
        if config.circuit_breaker.is_some() {
            "on"
        } else {
            "off"
        }
        .to_owned(),
    );
    add(
        "bulkhead",
        config.bulkhead.map_or_else(
            || "off".to_owned(),
            |b| {
                format!(
                    "{} in flight, wait {}",
                    b.max_concurrent,
                    duration(b.max_wait)
                )
            },
        ),
    );
    add(
        "bearer_token",
        if config.bearer_token.is_some() {
            "<redacted>"
        } else {
            ""
        }
        .to_owned(),
    );
    add(
        "health_endpoint",
        config
            .health_endpoint
            .map(|a| a.to_string())
            .unwrap_or_default(),
    );
    add(
        "collectors",
        config
            .collectors
            .iter()
            .map(|u| redact_url(u))
            .collect::<Vec<_>>()
            .join(","),
    );
    super::discovery::report(config)
        .into_iter()
        .for_each(|(k, v)| add(k, v));
    add(
        "spool",
        config
            .spool
            .as_ref()
            .map(|s| format!("{s:?}"))
            .unwrap_or_else(|| "off".to_owned()),
    );
    out
}

/// The exporter settings of one signal: the value in effect and its source (per-signal
/// setting, else generic setting, else default).
fn exporter_entries(b: &mut Builder<'_>, signal: Signal) {
    let config = b.config;
    let kind = config.exporters[index(signal)];
    b.add(format!("{signal}.exporter"), kind.as_str());
    let own = &config.per_signal[index(signal)];
    let generic = &config.exporter;
    let source = |field: &str, own_set: bool, generic_set: bool| -> Option<Source> {
        if own_set {
            Some(
                config
                    .provenance
                    .get(&format!("{signal}.{field}"))
                    .unwrap_or(Source::Code),
            )
        } else if generic_set {
            Some(
                config
                    .provenance
                    .get(&format!("exporter.{field}"))
                    .unwrap_or(Source::Code),
            )
        } else {
            Some(Source::Default)
        }
    };
    let resolved = match config.resolve(signal) {
        Ok(resolved) => resolved,
        Err(error) => {
            let value = format!("invalid: {error}");
            b.add_from(format!("{signal}.endpoint"), value, Some(Source::Code));
            return;
        }
    };
    let fields: [(&str, String, bool, bool); 8] = [
        (
            "protocol",
            resolved.protocol.as_str().to_owned(),
            own.protocol.is_some(),
            generic.protocol.is_some(),
        ),
        (
            "endpoint",
            redact_url(&resolved.endpoint),
            own.endpoint.is_some(),
            generic.endpoint.is_some(),
        ),
        (
            "headers",
            resolved
                .headers
                .iter()
                .map(|(name, _)| format!("{name}=<redacted>"))
                .collect::<Vec<_>>()
                .join(","),
            own.headers.is_some(),
            generic.headers.is_some(),
        ),
        (
            "timeout",
            duration(resolved.timeout),
            own.timeout.is_some(),
            generic.timeout.is_some(),
        ),
        (
            "compression",
            resolved.compression.as_str().to_owned(),
            own.compression.is_some(),
            generic.compression.is_some(),
        ),
        (
            "certificate",
            path(&resolved.certificate),
            own.certificate.is_some(),
            generic.certificate.is_some(),
        ),
        (
            "client_certificate",
            path(&resolved.client_certificate),
            own.client_certificate.is_some(),
            generic.client_certificate.is_some(),
        ),
        (
            "client_key",
            path(&resolved.client_key),
            own.client_key.is_some(),
            generic.client_key.is_some(),
        ),
    ];
    for (field, value, own_set, generic_set) in fields {
        let mut recorded = source(field, own_set, generic_set);
        if field == "headers" && !own_set && !generic_set && config.bearer_token.is_some() {
            // Only the bearer token's header: it comes from where the token came from.
            recorded = Some(
                config
                    .provenance
                    .get("bearer_token")
                    .unwrap_or(Source::Code),
            );
        }
        b.add_from(format!("{signal}.{field}"), value, recorded);
    }
}

fn path(p: &Option<std::path::PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

pub(super) fn build(config: &PipelineConfig) -> ConfigReport {
    let mut b = Builder {
        config,
        defaults: values(&PipelineConfig::default()),
        entries: Vec::new(),
    };
    for (key, value) in values(config) {
        b.add(key, value);
    }
    for attribute in &config.resource_attributes {
        b.add(
            format!("resource.{}", attribute.key),
            attribute.value.to_string(),
        );
    }
    for signal in Signal::ALL {
        exporter_entries(&mut b, signal);
    }
    let mut warnings = config.provenance.warnings().to_vec();
    let limits = &config.limits;
    if limits.attribute_value_length.is_some() || limits.span_attribute_value_length.is_some() {
        warnings.push(
            "attribute value length limits are read but not enforced: the SDK (0.33) has no such limit"
                .to_owned(),
        );
    }
    if limits.log_record_attribute_count.is_some()
        || limits.log_record_attribute_value_length.is_some()
    {
        warnings.push(
            "log record limits are read but not enforced: the SDK (0.33) has no log record limits"
                .to_owned(),
        );
    }
    if config.exemplar_filter != super::ExemplarFilter::TraceBased {
        warnings.push(format!(
            "metrics.exemplar_filter {} is read but has no effect: the SDK (0.33) records no exemplars",
            config.exemplar_filter.as_str()
        ));
    }
    ConfigReport {
        file: config.provenance.file().map(str::to_owned),
        entries: b.entries,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact_url("https://user:hunter2@collector:4318/v1/traces"),
            "https://<redacted>@collector:4318/v1/traces"
        );
        assert!(!redact_url("https://collector:4318/v1/traces?api_key=s3cret").contains("s3cret"));
        assert_eq!(redact_url("http://collector:4318"), "http://collector:4318");
    }
}
