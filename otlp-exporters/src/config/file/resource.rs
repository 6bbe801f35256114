//! The file's `resource`: its attributes (typed, or as an `attributes_list` string) and its
//! schema URL (warned about: not sent).

use opentelemetry::{Array, KeyValue, StringValue, Value};
use otlp_core::InvalidSetting;

use super::node::Node;
use super::Reading;
use crate::config::provenance::Source;

pub(super) fn read(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    let entries = node.entries(
        &["attributes", "attributes_list", "schema_url"],
        &mut r.warnings,
    )?;
    // `attributes` wins over `attributes_list`, whatever their order in the file.
    if let Some((_, list)) = entries.iter().find(|(k, _)| *k == "attributes_list") {
        if let Some(text) = list.string()? {
            let pairs =
                crate::config::env::parse_attributes(&text).map_err(|reason| list.error(reason))?;
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
