//! Collector endpoints, resolved as the OpenTelemetry specification says.
//!
//! For OTLP/HTTP, the generic endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`) is a base URL to which
//! `v1/<signal>` is appended; a per-signal endpoint (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
//! used as is. For gRPC, the endpoint names the server; the method path is fixed.
//!
//! `unix:///path/to/socket` names a Unix domain socket, for gRPC and HTTP alike. For HTTP the
//! signal's path (`/v1/traces`, ...) is requested on it whether the endpoint is the generic or
//! a per-signal one, with `Host: localhost`; TLS and proxies do not apply.

use otlp_core::{InvalidSetting, Signal};
use reqwest::Url;

/// The default OTLP/gRPC endpoint.
pub const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
/// The default OTLP/HTTP endpoint.
pub const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318";

/// The `User-Agent` every export request carries, in the form the OTLP exporter specification
/// gives (`OTel-OTLP-Exporter-<language>/<version>`). gRPC requests append tonic's own product
/// token after it, which the specification allows.
pub const USER_AGENT: &str = concat!("OTel-OTLP-Exporter-Rust/", env!("CARGO_PKG_VERSION"));

/// Parses an endpoint URL: `http://`, `https://`, or `unix:///absolute/path`.
pub fn parse_url(setting: &str, value: &str) -> Result<Url, InvalidSetting> {
    // Errors show the value redacted: an endpoint may carry userinfo or an API key.
    let shown = || otlp_core::redact::url(value);
    let url = Url::parse(value.trim())
        .map_err(|e| InvalidSetting::new(setting, shown(), format!("not a URL: {e}")))?;
    match url.scheme() {
        "http" | "https" => {}
        "unix" => {
            if url.host_str().is_some_and(|h| !h.is_empty()) || !url.path().starts_with('/') {
                return Err(InvalidSetting::new(
                    setting,
                    shown(),
                    "a Unix socket endpoint is unix:///absolute/path (three slashes)",
                ));
            }
            return Ok(url);
        }
        other => {
            return Err(InvalidSetting::new(
                setting,
                shown(),
                format!("scheme {other:?} is not supported; use http://, https:// or unix://"),
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(InvalidSetting::new(setting, shown(), "the URL has no host"));
    }
    Ok(url)
}

/// The OTLP/HTTP URL for `signal` given a generic base endpoint: `v1/<signal>` is appended to
/// its path (`http://c:4318` and `http://c:4318/` give `http://c:4318/v1/traces`;
/// `http://c:4318/otlp` gives `http://c:4318/otlp/v1/traces`).
pub fn http_signal_url(setting: &str, base: &str, signal: Signal) -> Result<Url, InvalidSetting> {
    let mut url = parse_url(setting, base)?;
    if unix_socket_path(&url).is_some() {
        // The signal path is requested on the socket when the request is made.
        return Ok(url);
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{path}/{}", signal.http_path()));
    Ok(url)
}

/// The socket path of a `unix://` endpoint, `None` for any other.
pub fn unix_socket_path(url: &Url) -> Option<std::path::PathBuf> {
    (url.scheme() == "unix").then(|| std::path::PathBuf::from(url.path()))
}

/// The URL of each signal for OTLP/HTTP. `Debug` shows them [redacted](otlp_core::redact).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpEndpoints {
    /// Where spans are posted.
    pub traces: Url,
    /// Where metrics are posted.
    pub metrics: Url,
    /// Where logs are posted.
    pub logs: Url,
}

impl std::fmt::Debug for HttpEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use otlp_core::redact::url;
        f.debug_struct("HttpEndpoints")
            .field("traces", &url(self.traces.as_str()))
            .field("metrics", &url(self.metrics.as_str()))
            .field("logs", &url(self.logs.as_str()))
            .finish()
    }
}

impl HttpEndpoints {
    /// All three signal URLs derived from one base endpoint.
    pub fn from_base(setting: &str, base: &str) -> Result<Self, InvalidSetting> {
        Ok(HttpEndpoints {
            traces: http_signal_url(setting, base, Signal::Traces)?,
            metrics: http_signal_url(setting, base, Signal::Metrics)?,
            logs: http_signal_url(setting, base, Signal::Logs)?,
        })
    }

    /// Replaces one signal's URL with a per-signal endpoint, used as is.
    pub fn with_signal_url(
        mut self,
        setting: &str,
        signal: Signal,
        url: &str,
    ) -> Result<Self, InvalidSetting> {
        let url = parse_url(setting, url)?;
        *self.get_mut(signal) = url;
        Ok(self)
    }

    /// The URL for `signal`.
    pub fn get(&self, signal: Signal) -> &Url {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
    }

    fn get_mut(&mut self, signal: Signal) -> &mut Url {
        match signal {
            Signal::Traces => &mut self.traces,
            Signal::Metrics => &mut self.metrics,
            Signal::Logs => &mut self.logs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generic_endpoint_gets_the_signal_path() {
        for base in ["http://collector:4318", "http://collector:4318/"] {
            let url = http_signal_url("OTEL_EXPORTER_OTLP_ENDPOINT", base, Signal::Traces).unwrap();
            assert_eq!(url.as_str(), "http://collector:4318/v1/traces");
        }
        let url = http_signal_url("e", "https://gw.example/otlp/", Signal::Logs).unwrap();
        assert_eq!(url.as_str(), "https://gw.example/otlp/v1/logs");
    }

    #[test]
    fn a_per_signal_endpoint_is_used_as_is() {
        let endpoints = HttpEndpoints::from_base("e", "http://c:4318")
            .unwrap()
            .with_signal_url(
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                Signal::Metrics,
                "http://m:9000/custom",
            )
            .unwrap();
        assert_eq!(endpoints.metrics.as_str(), "http://m:9000/custom");
        assert_eq!(endpoints.traces.as_str(), "http://c:4318/v1/traces");
    }

    #[test]
    fn a_unix_endpoint_names_the_socket_for_every_signal() {
        let url = http_signal_url("e", "unix:///run/otel/otlp.sock", Signal::Traces).unwrap();
        assert_eq!(
            unix_socket_path(&url).unwrap(),
            std::path::Path::new("/run/otel/otlp.sock")
        );
        assert!(unix_socket_path(&parse_url("e", "http://c:4318").unwrap()).is_none());
    }

    #[test]
    fn bad_urls_name_the_setting_and_value() {
        for bad in [
            "collector:4318",
            "ftp://c:21",
            "http://",
            "not a url",
            "unix://relative/x.sock",
        ] {
            let error = parse_url("OTEL_EXPORTER_OTLP_ENDPOINT", bad).unwrap_err();
            let text = error.to_string();
            assert!(
                text.contains("OTEL_EXPORTER_OTLP_ENDPOINT") && text.contains(bad),
                "{text}"
            );
        }
    }
}
