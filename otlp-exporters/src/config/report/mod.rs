//! The startup report: every value in effect, where it came from (default, file,
//! environment, code), and every warning; secrets redacted. The pipeline-wide values are
//! listed in `values.rs`, each signal's exporter settings in `exporter.rs`.

mod exporter;
mod values;

use std::fmt;
use std::time::Duration;

use otlp_core::Signal;
use serde::Serialize;

use super::provenance::Source;
use super::{PipelineConfig, NO_LIMIT};

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

pub(super) fn build(config: &PipelineConfig) -> ConfigReport {
    let mut b = Builder {
        config,
        defaults: values::values(&PipelineConfig::default()),
        entries: Vec::new(),
    };
    for (key, value) in values::values(config) {
        b.add(key, value);
    }
    for attribute in &config.resource_attributes {
        b.add(
            format!("resource.{}", attribute.key),
            attribute.value.to_string(),
        );
    }
    for signal in Signal::ALL {
        exporter::exporter_entries(&mut b, signal);
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
