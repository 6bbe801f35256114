//! The OpenTelemetry declarative configuration file (the `opentelemetry-configuration`
//! schema, file format 1.0 and 1.1), read into a [`PipelineConfig`].
//!
//! Read: `file_format`, `disabled`, `log_level`, `resource`, `attribute_limits`, `propagator`,
//! `tracer_provider`, `meter_provider`, `logger_provider`, and this project's settings under
//! `distribution.otlp-rust`. A provider that is absent exports nothing, as the schema says.
//! Keys ending in `/development` that this SDK does not have are warned about and skipped;
//! any other unknown key, and any invalid value, is an error naming the path in the file and
//! the value.

mod distribution;
mod exporter;
pub(super) mod node;
mod providers;
mod substitute;
mod views;

use opentelemetry::{Array, KeyValue, StringValue, Value};
use otlp_core::InvalidSetting;
use yaml_rust2::{Yaml, YamlLoader};

use super::provenance::Source;
use super::sdk::Propagator;
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
    let mut providers = [false; 3];
    for (key, node) in &entries {
        match *key {
            "disabled" => {
                if let Some(disabled) = node.boolean()? {
                    r.config.disabled = disabled;
                    r.mark("disabled");
                }
            }
            "log_level" => {
                if let Some(level) = node.string()? {
                    r.config.log_level = log_level(node, &level)?;
                    r.mark("log_level");
                }
            }
            "resource" => resource(r, node)?,
            "attribute_limits" => {
                for (key, limit) in node.entries(
                    &["attribute_value_length_limit", "attribute_count_limit"],
                    &mut r.warnings,
                )? {
                    let value = limit.number::<u32>(0)?;
                    if key == "attribute_count_limit" {
                        r.config.limits.attribute_count = value;
                        r.mark("limits.attribute_count");
                    } else {
                        r.config.limits.attribute_value_length = value;
                        r.mark("limits.attribute_value_length");
                    }
                }
            }
            "propagator" => propagator(r, node)?,
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

/// The schema's severity names (`trace` ... `fatal`, with `2`..`4` variants) as a `tracing`
/// level.
fn log_level(node: &Node<'_>, level: &str) -> Result<String, InvalidSetting> {
    let lower = level.trim().to_ascii_lowercase();
    let base = lower.trim_end_matches(['2', '3', '4']);
    Ok(match base {
        "trace" | "debug" | "info" | "warn" | "error" => base.to_owned(),
        "fatal" => "error".to_owned(),
        _ => return Err(node.error("expected trace, debug, info, warn, error or fatal")),
    })
}

fn resource(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    let entries = node.entries(
        &["attributes", "attributes_list", "schema_url"],
        &mut r.warnings,
    )?;
    // `attributes` wins over `attributes_list`, whatever their order in the file.
    if let Some((_, list)) = entries.iter().find(|(k, _)| *k == "attributes_list") {
        if let Some(text) = list.string()? {
            let pairs = super::env::parse_attributes(&text).map_err(|reason| list.error(reason))?;
            for (key, value) in pairs {
                r.config
                    .set_resource_attribute(KeyValue::new(key, value), Source::File);
            }
        }
    }
    for (key, value) in &entries {
        match *key {
            "attributes" => {
                for item in value.list()? {
                    let attribute = attribute(r, &item)?;
                    r.config.set_resource_attribute(attribute, Source::File);
                }
            }
            "schema_url" if value.string()?.is_some() => {
                r.warnings.warn(
                    value.warning("the resource schema URL is not sent by this pipeline; ignored"),
                );
            }
            _ => {}
        }
    }
    Ok(())
}

/// One `{name, value, type}` of `resource.attributes`.
fn attribute(r: &mut Reading<'_>, item: &Node<'_>) -> Result<KeyValue, InvalidSetting> {
    let entries = item.entries(&["name", "value", "type"], &mut r.warnings)?;
    let get = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, n)| n.clone())
    };
    let Some(name) = get("name").map(|n| n.string()).transpose()?.flatten() else {
        return Err(item.error("an attribute needs a name"));
    };
    let Some(value) = get("value").filter(|n| !n.is_null()) else {
        return Err(item.error(format!("attribute {name} needs a value")));
    };
    let kind = match get("type") {
        Some(node) => node.string()?.unwrap_or_else(|| "string".to_owned()),
        None => "string".to_owned(),
    };
    let list = |f: &dyn Fn(&Node<'_>) -> Result<Value, InvalidSetting>| {
        value.list()?.iter().map(f).collect::<Result<Vec<_>, _>>()
    };
    let required = |v: Option<Value>, n: &Node<'_>| v.ok_or_else(|| n.error("a value is required"));
    let typed = match kind.as_str() {
        "string" => required(value.string()?.map(Value::from), &value)?,
        "bool" => required(value.boolean()?.map(Value::from), &value)?,
        "int" => required(value.integer(i64::MIN)?.map(Value::from), &value)?,
        "double" => required(value.float()?.map(Value::from), &value)?,
        "string_array" => {
            let items = list(&|n| required(n.string()?.map(Value::from), n))?;
            Value::Array(Array::String(
                items
                    .into_iter()
                    .map(|v| StringValue::from(v.to_string()))
                    .collect(),
            ))
        }
        "bool_array" => Value::Array(Array::Bool(
            value
                .list()?
                .iter()
                .map(|n| n.boolean()?.ok_or_else(|| n.error("a value is required")))
                .collect::<Result<_, _>>()?,
        )),
        "int_array" => Value::Array(Array::I64(
            value
                .list()?
                .iter()
                .map(|n| {
                    n.integer(i64::MIN)?
                        .ok_or_else(|| n.error("a value is required"))
                })
                .collect::<Result<_, _>>()?,
        )),
        "double_array" => Value::Array(Array::F64(
            value
                .list()?
                .iter()
                .map(|n| n.float()?.ok_or_else(|| n.error("a value is required")))
                .collect::<Result<_, _>>()?,
        )),
        _ => {
            let node = get("type").unwrap_or_else(|| item.clone());
            return Err(node.error(
                "expected string, bool, int, double, string_array, bool_array, int_array or double_array",
            ));
        }
    };
    Ok(KeyValue::new(name, typed))
}

fn propagator(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    let mut propagators = Vec::new();
    let mut add = |name: &str, at: &Node<'_>| -> Result<(), InvalidSetting> {
        match Propagator::parse(name) {
            Ok(Some(p)) if !propagators.contains(&p) => propagators.push(p),
            Ok(_) => {}
            Err(reason) => return Err(at.error(reason)),
        }
        Ok(())
    };
    for (key, value) in node.entries(&["composite", "composite_list"], &mut r.warnings)? {
        if key == "composite" {
            for item in value.list()? {
                let Yaml::Hash(map) = item.yaml else {
                    return Err(
                        item.error("expected a propagator name as a key, e.g. tracecontext:")
                    );
                };
                for name in map.keys() {
                    let name = name.as_str().unwrap_or_default();
                    add(name, &item)?;
                }
            }
        } else if let Some(list) = value.string()? {
            for name in list.split(',').filter(|n| !n.trim().is_empty()) {
                add(name, &value)?;
            }
        }
    }
    r.config.propagators = propagators;
    r.mark("propagators");
    Ok(())
}
