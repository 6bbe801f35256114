//! Discovery settings from the environment and the file: where the collectors are found
//! (`dns:///host:port`, `consul://service` or URLs), how often DNS is resolved again and
//! endpoints are probed, and which Consul agent answers.
//!
//! | variable | file (`distribution.otlp-rust`) | meaning |
//! |---|---|---|
//! | `OTLP_RUST_COLLECTORS` | `collectors` | comma-separated URLs, or one `dns:///host:port` or `consul://service` |
//! | `OTLP_RUST_BALANCE` | `balance` | `round-robin`, `least-loaded` or `trace-id` |
//! | `OTLP_RUST_DISCOVERY_REFRESH_INTERVAL` | `discovery.refresh_interval` | ms between two DNS resolutions (30000) |
//! | `OTLP_RUST_PROBE_INTERVAL` | `discovery.probe_interval` | ms between two health probes of an endpoint (5000) |
//! | `OTLP_RUST_PROBE_TIMEOUT` | `discovery.probe_timeout` | ms a probe may take (2000) |
//! | `CONSUL_HTTP_ADDR` | `discovery.consul_agent` | the Consul agent (`http://127.0.0.1:8500`) |
//! | | `discovery.consul_wait` | ms a Consul blocking query waits (30000) |

use std::time::Duration;

use otlp_core::InvalidSetting;
use otlp_transport::balance::{check_target, BalanceStrategy};

use super::file::node::Node;
use super::file::Reading;
use super::provenance::Source;
use super::{EnvSource, PipelineConfig};

/// Reads the discovery variables; an invalid value is warned about and ignored.
pub(super) fn apply_env(config: &mut PipelineConfig, env: &dyn EnvSource) {
    let mut read =
        |variable: &str,
         key: &str,
         set: &mut dyn FnMut(&mut PipelineConfig, &str) -> Result<(), String>| {
            let Some(value) = env.get(variable).map(|v| v.trim().to_owned()) else {
                return;
            };
            match set(config, &value) {
                Ok(()) => config.provenance.set(key, Source::Environment),
                Err(reason) => {
                    tracing::warn!(
                        variable,
                        value,
                        reason,
                        "invalid environment variable ignored"
                    );
                    config
                        .provenance
                        .warn(format!("{variable}={value:?} ignored: {reason}"));
                }
            }
        };
    read("OTLP_RUST_COLLECTORS", "collectors", &mut |c, value| {
        let list: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        for target in &list {
            check_target("OTLP_RUST_COLLECTORS", target).map_err(|e| e.reason().to_owned())?;
        }
        c.collectors = list;
        Ok(())
    });
    read("OTLP_RUST_BALANCE", "balance", &mut |c, value| {
        c.balance = BalanceStrategy::parse("OTLP_RUST_BALANCE", value)
            .map_err(|e| e.reason().to_owned())?;
        Ok(())
    });
    let millis = |value: &str| match value.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err("expected a positive whole number of milliseconds".to_owned()),
    };
    read(
        "OTLP_RUST_DISCOVERY_REFRESH_INTERVAL",
        "discovery.refresh_interval",
        &mut |c, v| {
            c.discovery.refresh_interval = millis(v)?;
            Ok(())
        },
    );
    read(
        "OTLP_RUST_PROBE_INTERVAL",
        "discovery.probe_interval",
        &mut |c, v| {
            c.discovery.probe_interval = millis(v)?;
            Ok(())
        },
    );
    read(
        "OTLP_RUST_PROBE_TIMEOUT",
        "discovery.probe_timeout",
        &mut |c, v| {
            c.discovery.probe_timeout = millis(v)?;
            Ok(())
        },
    );
    read("CONSUL_HTTP_ADDR", "discovery.consul_agent", &mut |c, v| {
        let agent = c.discovery.clone().with_consul_agent(v).consul_agent;
        otlp_transport::endpoint::parse_url("CONSUL_HTTP_ADDR", &agent)
            .map_err(|e| e.reason().to_owned())?;
        c.discovery.consul_agent = agent;
        Ok(())
    });
}

/// Reads `distribution.otlp-rust.discovery`; an invalid value is an error naming its path.
pub(crate) fn apply_file(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    for (key, value) in node.entries(
        &[
            "refresh_interval",
            "probe_interval",
            "probe_timeout",
            "consul_agent",
            "consul_wait",
        ],
        &mut r.warnings,
    )? {
        let discovery = &mut r.config.discovery;
        match key {
            "consul_agent" => {
                if let Some(text) = value.string()? {
                    let agent = discovery.clone().with_consul_agent(&text).consul_agent;
                    otlp_transport::endpoint::parse_url(value.path(), &agent)
                        .map_err(|e| value.error(e.reason()))?;
                    discovery.consul_agent = agent;
                }
            }
            _ => {
                let Some(d) = value.millis(false)? else {
                    continue;
                };
                match key {
                    "refresh_interval" => discovery.refresh_interval = d,
                    "probe_interval" => discovery.probe_interval = d,
                    "probe_timeout" => discovery.probe_timeout = d,
                    _ => discovery.consul_wait = d,
                }
            }
        }
        r.mark(format!("discovery.{key}"));
    }
    Ok(())
}

/// The discovery lines of the configuration report.
pub(super) fn report(config: &PipelineConfig) -> Vec<(&'static str, String)> {
    let d = &config.discovery;
    let show = |d: Duration| humantime::format_duration(d).to_string();
    vec![
        ("discovery.refresh_interval", show(d.refresh_interval)),
        ("discovery.probe_interval", show(d.probe_interval)),
        ("discovery.probe_timeout", show(d.probe_timeout)),
        (
            "discovery.consul_agent",
            otlp_core::redact::url(&d.consul_agent),
        ),
        ("discovery.consul_wait", show(d.consul_wait)),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn the_environment_sets_discovery_and_ignores_bad_values() {
        let mut config = PipelineConfig::default();
        let env: HashMap<&str, &str> = [
            ("OTLP_RUST_COLLECTORS", "dns:///localhost:4317"),
            ("OTLP_RUST_PROBE_INTERVAL", "250"),
            ("OTLP_RUST_PROBE_TIMEOUT", "soon"),
            ("CONSUL_HTTP_ADDR", "127.0.0.1:8501"),
        ]
        .into_iter()
        .collect();
        apply_env(&mut config, &env);
        assert_eq!(config.collectors, vec!["dns:///localhost:4317"]);
        assert_eq!(config.discovery.probe_interval, Duration::from_millis(250));
        assert_eq!(config.discovery.probe_timeout, Duration::from_secs(2));
        assert_eq!(config.discovery.consul_agent, "http://127.0.0.1:8501");
        assert_eq!(
            config.provenance.get("collectors"),
            Some(Source::Environment)
        );
        assert!(
            config.provenance.warnings()[0].contains("OTLP_RUST_PROBE_TIMEOUT"),
            "{:?}",
            config.provenance.warnings()
        );
    }
}
