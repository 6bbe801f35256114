//! Discovery targets as users write them, turned into a [`Resolver`]: `dns:///host:port`
//! (gRPC's name-resolution syntax: every address of `host`, re-resolved on an interval),
//! `consul://service-name` (the healthy instances of a service registered in Consul, followed
//! with blocking queries), or a list of plain `http(s)://` URLs.

use std::sync::Arc;
use std::time::Duration;

use otlp_core::InvalidSetting;

use super::{ConsulResolver, DnsResolver, Resolver, StaticResolver};

/// Settings of discovery and of the balancer's health probes.
#[derive(Clone, PartialEq, Eq)]
pub struct DiscoveryConfig {
    /// How often a `dns:///` target is resolved again.
    pub refresh_interval: Duration,
    /// How often each endpoint is probed.
    pub probe_interval: Duration,
    /// How long a probe may take.
    pub probe_timeout: Duration,
    /// The Consul agent that `consul://` targets ask (`CONSUL_HTTP_ADDR`; Consul's default
    /// `http://127.0.0.1:8500`).
    pub consul_agent: String,
    /// How long one Consul blocking query waits for a change.
    pub consul_wait: Duration,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            refresh_interval: Duration::from_secs(30),
            probe_interval: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(2),
            consul_agent: "http://127.0.0.1:8500".to_owned(),
            consul_wait: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for DiscoveryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoveryConfig")
            .field("refresh_interval", &self.refresh_interval)
            .field("probe_interval", &self.probe_interval)
            .field("probe_timeout", &self.probe_timeout)
            .field("consul_agent", &otlp_core::redact::url(&self.consul_agent))
            .field("consul_wait", &self.consul_wait)
            .finish()
    }
}

impl DiscoveryConfig {
    /// Uses the Consul agent at `address`; `127.0.0.1:8500` without a scheme means
    /// `http://127.0.0.1:8500`, as `CONSUL_HTTP_ADDR` is read by Consul's own tools.
    pub fn with_consul_agent(mut self, address: &str) -> Self {
        let address = address.trim();
        self.consul_agent = if address.contains("://") {
            address.to_owned()
        } else {
            format!("http://{address}")
        };
        self
    }

    /// Sets the interval between two DNS resolutions.
    pub fn with_refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval;
        self
    }

    /// Sets the interval and the timeout of the health probes.
    pub fn with_probes(mut self, interval: Duration, timeout: Duration) -> Self {
        self.probe_interval = interval;
        self.probe_timeout = timeout;
        self
    }
}

/// One entry of an endpoint list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Url(String),
    Dns { host: String, port: u16 },
    Consul { service: String },
}

fn parse(setting: &str, value: &str) -> Result<Target, InvalidSetting> {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix("dns:") {
        let name = match rest.strip_prefix("//") {
            Some(with_authority) => match with_authority.split_once('/') {
                Some(("", name)) => name,
                _ => {
                    return Err(InvalidSetting::new(
                        setting,
                        value,
                        "a DNS server in the authority is not supported; use dns:///host:port",
                    ))
                }
            },
            None => rest,
        };
        let (host, port) = name.rsplit_once(':').ok_or_else(|| {
            InvalidSetting::new(
                setting,
                value,
                "expected dns:///host:port (the port is needed)",
            )
        })?;
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| InvalidSetting::new(setting, value, "the port is not a number"))?;
        if host.is_empty() || host.contains('/') {
            return Err(InvalidSetting::new(
                setting,
                value,
                "expected dns:///host:port",
            ));
        }
        return Ok(Target::Dns {
            host: host.to_owned(),
            port,
        });
    }
    if let Some(service) = value.strip_prefix("consul://") {
        let valid = !service.is_empty()
            && service
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(InvalidSetting::new(
                setting,
                value,
                "expected consul://service-name (letters, digits, '-', '_', '.')",
            ));
        }
        return Ok(Target::Consul {
            service: service.to_owned(),
        });
    }
    crate::endpoint::parse_url(setting, value).map_err(|e| {
        InvalidSetting::new(
            setting,
            otlp_core::redact::url(value),
            format!("{}; or dns:///host:port, or consul://service", e.reason()),
        )
    })?;
    Ok(Target::Url(value.to_owned()))
}

/// Checks one entry of an endpoint list: an `http(s)://` URL, `dns:///host:port` or
/// `consul://service`. Errors name `setting` and the value.
pub fn check_target(setting: &str, value: &str) -> Result<(), InvalidSetting> {
    parse(setting, value).map(|_| ())
}

/// The resolver of an endpoint list: a [`StaticResolver`] for URLs, a [`DnsResolver`] for one
/// `dns:///host:port`, a [`ConsulResolver`] for one `consul://service`. Discovered endpoints
/// are `scheme://address:port` (`http` or `https`). A `dns:///` or `consul://` entry must be
/// the only one.
pub fn resolver_for(
    setting: &str,
    targets: &[String],
    scheme: &str,
    config: &DiscoveryConfig,
) -> Result<Arc<dyn Resolver>, InvalidSetting> {
    let parsed = targets
        .iter()
        .map(|t| parse(setting, t))
        .collect::<Result<Vec<_>, _>>()?;
    let discovered = parsed.iter().any(|t| !matches!(t, Target::Url(_)));
    match parsed.as_slice() {
        [] => Err(InvalidSetting::new(setting, "", "no endpoint is given")),
        [Target::Dns { host, port }] => Ok(Arc::new(DnsResolver::new(
            scheme,
            host,
            *port,
            config.refresh_interval,
        ))),
        [Target::Consul { service }] => Ok(Arc::new(ConsulResolver::new(
            &config.consul_agent,
            service,
            scheme,
            config.consul_wait,
        )?)),
        _ if discovered => Err(InvalidSetting::new(
            setting,
            targets.join(","),
            "a dns:/// or consul:// entry must be the only one",
        )),
        _ => Ok(Arc::new(StaticResolver::new(targets.iter().cloned()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_parse_and_bad_ones_name_the_setting() {
        assert_eq!(
            parse("s", "dns:///collector.example:4317").unwrap(),
            Target::Dns {
                host: "collector.example".into(),
                port: 4317
            }
        );
        assert_eq!(
            parse("s", "dns:localhost:4318").unwrap(),
            Target::Dns {
                host: "localhost".into(),
                port: 4318
            }
        );
        assert_eq!(
            parse("s", "consul://otel-collector").unwrap(),
            Target::Consul {
                service: "otel-collector".into()
            }
        );
        assert!(matches!(parse("s", "http://c:4318"), Ok(Target::Url(_))));
        for bad in [
            "dns:///collector.example",
            "dns://8.8.8.8/collector.example:4317",
            "dns:///:4317",
            "consul://",
            "consul://a/b",
            "tcp://c:1",
        ] {
            let error = parse("collectors", bad).unwrap_err();
            assert_eq!(error.setting(), "collectors", "{bad}");
        }
    }

    #[test]
    fn a_discovery_entry_must_be_alone_and_the_agent_gets_a_scheme() {
        let config = DiscoveryConfig::default();
        let mixed = ["consul://a".to_owned(), "http://c:4318".to_owned()];
        assert!(resolver_for("collectors", &mixed, "http", &config).is_err());
        assert!(resolver_for("collectors", &mixed[1..], "http", &config).is_ok());
        assert_eq!(
            config.with_consul_agent("127.0.0.1:8500").consul_agent,
            "http://127.0.0.1:8500"
        );
    }
}
