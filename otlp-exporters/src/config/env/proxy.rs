//! `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (and their lower-case forms): the proxy of every
//! transport. Read here, through the pipeline's environment source, rather than by the HTTP
//! client on its own, so that they show in the startup report and are warned about when
//! invalid like every other variable.

use otlp_transport::ProxyConfig;

use super::Reader;

pub(super) fn read(r: &mut Reader<'_>) {
    let (proxy, warnings) = ProxyConfig::from_env(|name| r.get(name));
    for warning in warnings {
        tracing::warn!(%warning, "invalid environment variable ignored");
        r.config.provenance.warn(format!("{warning}; ignored"));
    }
    if proxy.is_set() {
        r.config.proxy = proxy;
        r.mark("proxy");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::PipelineConfig;

    #[test]
    fn the_proxy_variables_set_the_proxy_and_a_bad_one_is_a_warning() {
        let mut config = PipelineConfig::default();
        let env: HashMap<&str, &str> = [
            ("HTTPS_PROXY", "http://proxy.internal:3128"),
            ("no_proxy", "collector.internal"),
        ]
        .into();
        config.apply_env(&env).unwrap();
        let https = reqwest::Url::parse("https://collector.example:4318").unwrap();
        let excepted = reqwest::Url::parse("https://collector.internal:4318").unwrap();
        assert!(config.proxy.proxy_for(&https).is_some());
        assert!(config.proxy.proxy_for(&excepted).is_none());
        assert!(config.report().to_string().contains("proxy.internal"));

        let mut config = PipelineConfig::default();
        let env: HashMap<&str, &str> = [("HTTP_PROXY", "socks5://p:1080")].into();
        config.apply_env(&env).unwrap();
        assert!(!config.proxy.is_set());
        assert!(config.report().to_string().contains("HTTP_PROXY"));
    }
}
