//! `NO_PROXY` entries as users write them: an IPv6 address in brackets with a port
//! (`[fd00::7]:4318`) exempts that address, like a name or an IPv4 address with a port; a
//! bare `*` exempts every collector; blank and lone-dot entries exempt nothing.

#![allow(clippy::unwrap_used)]

use otlp_transport::ProxyConfig;
use reqwest::Url;

fn with_no_proxy(no_proxy: &str) -> ProxyConfig {
    let no_proxy = no_proxy.to_owned();
    let (config, warnings) = ProxyConfig::from_env(move |name| match name {
        "HTTPS_PROXY" | "HTTP_PROXY" => Some("http://proxy.internal:3128".to_owned()),
        "NO_PROXY" => Some(no_proxy.clone()),
        _ => None,
    });
    assert!(warnings.is_empty(), "{warnings:?}");
    config
}

fn proxied(config: &ProxyConfig, collector: &str) -> bool {
    config.proxy_for(&Url::parse(collector).unwrap()).is_some()
}

#[test]
fn a_bracketed_ipv6_entry_with_a_port_exempts_its_address() {
    let config = with_no_proxy("[fd00::7]:4318, 10.0.0.7:4318");
    assert!(!proxied(&config, "https://[fd00::7]:4318"));
    assert!(
        !proxied(&config, "http://[fd00::7]:9999"),
        "the port is not compared"
    );
    assert!(!proxied(&config, "http://10.0.0.7:4318"));
    assert!(proxied(&config, "https://[fd00::8]:4318"));
}

#[test]
fn bare_ipv6_and_star_entries_and_odd_ones() {
    let config = with_no_proxy("fd00::7");
    assert!(!proxied(&config, "https://[fd00::7]:4318"));
    let config = with_no_proxy("*");
    assert!(!proxied(&config, "https://collector.example:4318"));
    let config = with_no_proxy(" , . ,[]:1,:");
    assert!(proxied(&config, "https://collector.example:4318"));
    assert!(proxied(&config, "https://[fd00::7]:4318"));
}
