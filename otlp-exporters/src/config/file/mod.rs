//! The OpenTelemetry declarative configuration file (the `opentelemetry-configuration`
//! schema, file format 1.0 and 1.1), read into a [`PipelineConfig`].
//!
//! Read: `file_format`, `disabled`, `log_level`, `resource`, `attribute_limits`, `propagator`,
//! `tracer_provider`, `meter_provider`, `logger_provider`, and this project's settings under
//! `distribution.otlp-rust`. A provider that is absent exports nothing, as the schema says.
//! Keys ending in `/development` that this SDK does not have are warned about and skipped;
//! any other unknown key, and any invalid value, is an error naming the path in the file and
//! the value.

mod concurrency;
mod connection;
mod distribution;
mod exporter;
pub(super) mod node;
mod propagator;
mod providers;
mod resource;
mod settings;
mod substitute;
mod views;

use otlp_core::InvalidSetting;
use yaml_rust2::{Yaml, YamlLoader};

use super::provenance::Source;
use super::{EnvSource, PipelineConfig, NO_LIMIT};

use node::Node;

/// Warnings met while reading the file: logged through `tracing` and kept for the report.
#[derive(Default)]
pub(crate) struct Warnings(Vec<String>);

impl Warnings {
    pub(crate) fn warn(&mut self, warning: String) {
        tracing::warn!(%warning, "configuration file");
        self.0.push(warning);
    }
}

/// The file being applied: the config, and the warnings so far.
pub(crate) struct Reading<'c> {
    pub(crate) config: &'c mut PipelineConfig,
    pub(crate) warnings: Warnings,
}

impl Reading<'_> {
    /// Records that `key` came from the file.
    pub(crate) fn mark(&mut self, key: impl Into<String>) {
        self.config.provenance.set(key, Source::File);
    }
}

pub(super) fn apply(
    config: &mut PipelineConfig,
    text: &str,
    origin: &str,
    env: &dyn EnvSource,
) -> Result<(), InvalidSetting> {
    let mut documents = YamlLoader::load_from_str(text)
        .map_err(|e| InvalidSetting::new(origin, e.to_string(), "not valid YAML"))?;
    if documents.len() > 1 {
        return Err(InvalidSetting::new(
            origin,
            format!("{} documents", documents.len()),
            "expected one YAML document",
        ));
    }
    let yaml = documents.pop().unwrap_or(Yaml::Null);
    let yaml = substitute::substitute(yaml, env, "").map_err(|bad| {
        InvalidSetting::new(format!("{origin}: {}", bad.path), bad.value, bad.reason)
    })?;
    let root = Node::root(&yaml, origin);
    let mut reading = Reading {
        config,
        warnings: Warnings::default(),
    };
    read(&mut reading, &root)?;
    let Reading { config, warnings } = reading;
    for warning in warnings.0 {
        config.provenance.warn(warning);
    }
    Ok(())
}

fn read(r: &mut Reading<'_>, root: &Node<'_>) -> Result<(), InvalidSetting> {
    let entries = root.entries(
        &[
            "file_format",
            "disabled",
            "log_level",
            "resource",
            "attribute_limits",
            "propagator",
            "tracer_provider",
            "meter_provider",
            "logger_provider",
            "distribution",
        ],
        &mut r.warnings,
    )?;
    file_format(r, root, &entries)?;
    let mut providers = [false; 3];
    for (key, node) in &entries {
        match *key {
            "disabled" => settings::disabled(r, node)?,
            "log_level" => settings::log_level(r, node)?,
            "attribute_limits" => settings::attribute_limits(r, node)?,
            "resource" => resource::read(r, node)?,
            "propagator" => propagator::read(r, node)?,
            "tracer_provider" => providers[0] = providers::tracer(r, node)?,
            "meter_provider" => providers[1] = providers::meter(r, node)?,
            "logger_provider" => providers[2] = providers::logger(r, node)?,
            "distribution" => distribution::read(r, node)?,
            _ => {}
        }
    }
    for (signal, present) in otlp_core::Signal::ALL.into_iter().zip(providers) {
        if !present {
            r.config.exporters[super::index(signal)] = super::ExporterKind::None;
            r.mark(format!("{signal}.exporter"));
        }
    }
    Ok(())
}

/// `file_format` is required, 1.0 or 1.1; a later 1.x is read as 1.1, with a warning.
fn file_format(
    r: &mut Reading<'_>,
    root: &Node<'_>,
    entries: &[(&str, Node<'_>)],
) -> Result<(), InvalidSetting> {
    let Some((_, format)) = entries.iter().find(|(k, _)| *k == "file_format") else {
        return Err(root.error("file_format is required (\"1.0\" or \"1.1\")"));
    };
    let version = format.string()?.unwrap_or_default();
    match version.trim().split_once('.') {
        Some(("1", minor)) if minor.parse::<u32>().is_ok() => {
            if minor.parse::<u32>().unwrap_or(0) > 1 {
                r.warnings.warn(format!(
                    "file_format {version} is newer than 1.1; read as 1.1"
                ));
            }
        }
        _ => return Err(format.error("expected file format 1.0 or 1.1")),
    }
    Ok(())
}
