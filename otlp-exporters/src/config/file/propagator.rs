//! The file's `propagator`: the `composite` list of names, or the `composite_list` string.

use otlp_core::InvalidSetting;
use yaml_rust2::Yaml;

use super::node::Node;
use super::Reading;
use crate::config::sdk::Propagator;

pub(super) fn read(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
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
