//! The HTTP(S) proxy: from code or from `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`.
//!
//! A proxy is used only when one is configured: the transports never pick one up on their own
//! (reqwest's implicit reading of the environment is turned off), so that where telemetry goes
//! is decided by the pipeline's settings. Loopback collectors (`localhost`, `127.0.0.0/8`,
//! `::1`) are always reached directly unless [`ProxyConfig::with_loopback`] says otherwise: a
//! proxy set for the outside world would otherwise capture the sidecar collector next door.
//! gRPC goes through the proxy with HTTP `CONNECT`; OTLP/HTTP through reqwest's proxy support
//! (`CONNECT` for `https://` collectors, absolute-form requests for `http://` ones).

use std::fmt;
use std::net::IpAddr;

use otlp_core::InvalidSetting;
use reqwest::Url;

/// Which proxy, if any, each collector is reached through. Default: none.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    https: Option<Url>,
    http: Option<Url>,
    no_proxy: Vec<String>,
    through_loopback: bool,
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |url: &Option<Url>| url.as_ref().map(|u| otlp_core::redact::url(u.as_str()));
        f.debug_struct("ProxyConfig")
            .field("https", &shown(&self.https))
            .field("http", &shown(&self.http))
            .field("no_proxy", &self.no_proxy)
            .field("through_loopback", &self.through_loopback)
            .finish()
    }
}

fn parse_proxy(setting: &str, value: &str) -> Result<Url, InvalidSetting> {
    let shown = || otlp_core::redact::url(value);
    let url = Url::parse(value.trim())
        .map_err(|e| InvalidSetting::new(setting, shown(), format!("not a URL: {e}")))?;
    if url.scheme() != "http" {
        return Err(InvalidSetting::new(
            setting,
            shown(),
            "only http:// proxies are supported (the tunnel to an https:// collector is still TLS)",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(InvalidSetting::new(setting, shown(), "the URL has no host"));
    }
    Ok(url)
}

impl ProxyConfig {
    /// No proxy.
    pub fn none() -> Self {
        Self::default()
    }

    /// One proxy for every collector, `http://` and `https://` alike (loopback ones and those
    /// of [`with_no_proxy`](Self::with_no_proxy) aside). Credentials in the URL
    /// (`http://user:password@proxy:3128`) are sent as `Proxy-Authorization` by the HTTP
    /// transport; the gRPC transport refuses them.
    pub fn all(setting: &str, url: &str) -> Result<Self, InvalidSetting> {
        let url = parse_proxy(setting, url)?;
        Ok(ProxyConfig {
            https: Some(url.clone()),
            http: Some(url),
            ..Self::default()
        })
    }

    /// The proxy from the standard variables: `HTTPS_PROXY` for `https://` collectors,
    /// `HTTP_PROXY` for `http://` ones, `NO_PROXY` for the exceptions (the lower-case names
    /// too, the upper-case ones first). `get` reads a variable. Returns the settings and, for
    /// each invalid variable, a warning naming it (the value shown redacted); an invalid
    /// variable is ignored.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> (Self, Vec<String>) {
        let read = |upper: &str| {
            [upper.to_owned(), upper.to_ascii_lowercase()]
                .into_iter()
                .find_map(|name| {
                    get(&name)
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| (name, v))
                })
        };
        let mut warnings = Vec::new();
        let mut proxy = |upper: &str| match read(upper) {
            Some((name, value)) => match parse_proxy(&name, &value) {
                Ok(url) => Some(url),
                Err(e) => {
                    warnings.push(e.to_string());
                    None
                }
            },
            None => None,
        };
        let https = proxy("HTTPS_PROXY");
        let http = proxy("HTTP_PROXY");
        let no_proxy = read("NO_PROXY")
            .map(|(_, v)| split_list(&v))
            .unwrap_or_default();
        let config = ProxyConfig {
            https,
            http,
            no_proxy,
            through_loopback: false,
        };
        (config, warnings)
    }

    /// Hosts reached directly: `example.com` (and its subdomains; `.example.com` the same),
    /// an IP address, or `*` for all. A `:port` suffix is ignored (`[fd00::7]:4318` too).
    pub fn with_no_proxy(mut self, hosts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.no_proxy = hosts
            .into_iter()
            .map(Into::into)
            .flat_map(|h| split_list(&h))
            .collect();
        self
    }

    /// Whether loopback collectors go through the proxy too (default `false`).
    pub fn with_loopback(mut self, through_loopback: bool) -> Self {
        self.through_loopback = through_loopback;
        self
    }

    /// Whether any proxy is set.
    pub fn is_set(&self) -> bool {
        self.https.is_some() || self.http.is_some()
    }

    /// The proxy for a collector URL, `None` when it is reached directly.
    pub fn proxy_for(&self, collector: &Url) -> Option<&Url> {
        let proxy = match collector.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        let host = collector.host_str()?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if is_loopback(host) && !self.through_loopback {
            return None;
        }
        if self
            .no_proxy
            .iter()
            .any(|entry| no_proxy_matches(entry, host))
        {
            return None;
        }
        Some(proxy)
    }
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn is_loopback(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn no_proxy_matches(entry: &str, host: &str) -> bool {
    if entry == "*" {
        return true;
    }
    let host = host.to_ascii_lowercase();
    // `host:port` and `[v6]:port`: the port is not compared.
    let entry = match entry.rsplit_once(':') {
        Some((name, port))
            if port.chars().all(|c| c.is_ascii_digit())
                && (!name.contains(':') || (name.starts_with('[') && name.ends_with(']'))) =>
        {
            name
        }
        _ => entry,
    };
    let entry = entry.trim_start_matches('[').trim_end_matches(']');
    let domain = entry.trim_start_matches('.');
    host == domain || host.ends_with(&format!(".{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_environment_picks_the_proxy_by_scheme_and_skips_loopback_and_no_proxy() {
        let env = |name: &str| match name {
            "HTTPS_PROXY" => Some("http://secure-proxy:3128".to_owned()),
            "http_proxy" => Some("http://plain-proxy:3128".to_owned()),
            "NO_PROXY" => Some("internal.example, 10.0.0.7:4318".to_owned()),
            _ => None,
        };
        let (proxy, warnings) = ProxyConfig::from_env(env);
        assert!(warnings.is_empty(), "{warnings:?}");
        let via = |s: &str| {
            proxy
                .proxy_for(&url(s))
                .map(|u| u.host_str().unwrap().to_owned())
        };
        assert_eq!(
            via("https://collector:4318").as_deref(),
            Some("secure-proxy")
        );
        assert_eq!(via("http://collector:4317").as_deref(), Some("plain-proxy"));
        assert_eq!(via("http://a.internal.example:4318"), None);
        assert_eq!(via("http://10.0.0.7:4318"), None);
        for loopback in [
            "http://localhost:4318",
            "http://127.0.0.1:4317",
            "http://[::1]:4317",
        ] {
            assert_eq!(via(loopback), None, "{loopback}");
        }
    }

    #[test]
    fn loopback_goes_through_only_when_asked_and_bad_proxies_are_named() {
        let proxy = ProxyConfig::all("proxy", "http://127.0.0.1:3128").unwrap();
        assert!(proxy.proxy_for(&url("http://127.0.0.1:4317")).is_none());
        let proxy = proxy.with_loopback(true);
        assert!(proxy.proxy_for(&url("http://127.0.0.1:4317")).is_some());

        let error = ProxyConfig::all("proxy", "socks5://p:1080").unwrap_err();
        assert!(error.to_string().contains("proxy"), "{error}");
        let (proxy, warnings) =
            ProxyConfig::from_env(|n| (n == "HTTPS_PROXY").then(|| "not a url".to_owned()));
        assert!(!proxy.is_set());
        assert!(warnings[0].contains("HTTPS_PROXY"), "{warnings:?}");
    }
}
