//! The file's top-level settings that are one value each: `disabled`, `log_level` and
//! `attribute_limits`.

use otlp_core::InvalidSetting;

use super::node::Node;
use super::Reading;

/// `disabled: true` turns the SDK off.
pub(super) fn disabled(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    if let Some(disabled) = node.boolean()? {
        r.config.disabled = disabled;
        r.mark("disabled");
    }
    Ok(())
}

/// `log_level`, read and reported (the library logs through `tracing`).
pub(super) fn log_level(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    if let Some(level) = node.string()? {
        r.config.log_level = level_name(node, &level)?;
        r.mark("log_level");
    }
    Ok(())
}

/// `attribute_limits`: the count limit, and the value length limit (read and reported).
pub(super) fn attribute_limits(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
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
    Ok(())
}

/// The schema's severity names (`trace` ... `fatal`, with `2`..`4` variants) as a `tracing`
/// level.
fn level_name(node: &Node<'_>, level: &str) -> Result<String, InvalidSetting> {
    let lower = level.trim().to_ascii_lowercase();
    let base = lower.trim_end_matches(['2', '3', '4']);
    Ok(match base {
        "trace" | "debug" | "info" | "warn" | "error" => base.to_owned(),
        "fatal" => "error".to_owned(),
        _ => return Err(node.error("expected trace, debug, info, warn, error or fatal")),
    })
}
