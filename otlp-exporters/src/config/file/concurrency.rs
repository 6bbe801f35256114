//! `distribution.otlp-rust.concurrency`: `adaptive`, `fixed N`, or a mapping with `mode` and
//! the adaptive knobs (see [`crate::config::concurrency`]).
//!
//! ```yaml
//! distribution:
//!   otlp-rust:
//!     concurrency: { mode: adaptive, initial_limit: 4, max_limit: 64, decrease_ratio: 0.9, rtt_smoothing: 0.4 }
//! ```

use otlp_core::InvalidSetting;

use super::node::Node;
use super::Reading;
use crate::config::concurrency::{parse_mode, set_knob, KNOBS};

pub(super) fn read(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    if !matches!(node.yaml, yaml_rust2::Yaml::Hash(_)) {
        if let Some(text) = node.string()? {
            r.config.concurrency = parse_mode(&text).map_err(|reason| node.error(reason))?;
            r.mark("concurrency");
        }
        return Ok(());
    }
    let mut known = vec!["mode"];
    known.extend(KNOBS);
    let entries = node.entries(&known, &mut r.warnings)?;
    // The mode first, whatever its place in the file: the knobs refine it.
    if let Some((_, mode)) = entries.iter().find(|(k, _)| *k == "mode") {
        if let Some(text) = mode.string()? {
            r.config.concurrency = parse_mode(&text).map_err(|reason| mode.error(reason))?;
            r.mark("concurrency");
        }
    }
    for (key, value) in entries.iter().filter(|(k, _)| *k != "mode") {
        if let Some(text) = value.string()? {
            set_knob(&mut r.config.concurrency, key, &text)
                .map_err(|reason| value.error(reason))?;
            r.mark(format!("concurrency.{key}"));
        }
    }
    r.config
        .concurrency
        .validate()
        .map_err(|e| node.error(e.to_string()))
}
