//! Credentials configured with a plaintext endpoint that is not on this machine: TLS files, a
//! bearer token or a credential-looking header would go out in clear (or, for the TLS files,
//! be silently unused). The pipeline warns once per endpoint, lists the warnings in
//! [`OtlpPipeline::security_warnings`](crate::OtlpPipeline::security_warnings), and refuses to
//! build under [`PlaintextCredentials::Refuse`].

use std::net::IpAddr;

use otlp_core::{redact, InvalidSetting, Signal};

use crate::config::{PipelineConfig, ResolvedExporter};

/// What the pipeline does when credentials are set for a plaintext, non-loopback endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlaintextCredentials {
    /// Build, and warn once per endpoint (default).
    #[default]
    Warn,
    /// Refuse to build, naming the endpoint and what would be sent in clear.
    Refuse,
}

/// One warning per endpoint host whose credentials would travel in clear.
pub(crate) fn check(
    config: &PipelineConfig,
    policy: PlaintextCredentials,
) -> Result<Vec<String>, InvalidSetting> {
    let mut warnings = Vec::new();
    for signal in Signal::ALL {
        let resolved = config.resolve(signal)?;
        let mut endpoints = vec![resolved.endpoint.clone()];
        endpoints.extend(config.collectors.iter().cloned());
        for endpoint in endpoints {
            let Some(what) = exposed(&resolved, &endpoint) else {
                continue;
            };
            let shown = format!("http://{}", redact::host(&endpoint));
            let message = format!(
                "{what} configured for the plaintext endpoint {shown}, which is not on this \
                 machine: they would travel in clear; use https:// (or \
                 PlaintextCredentials::Refuse to refuse)"
            );
            if policy == PlaintextCredentials::Refuse {
                return Err(InvalidSetting::new(
                    format!("{signal} endpoint"),
                    shown,
                    format!("{what} would be sent in clear; use https://"),
                ));
            }
            if !warnings.contains(&message) {
                tracing::warn!("{message}");
                warnings.push(message);
            }
        }
    }
    Ok(warnings)
}

/// What `resolved` would expose over `endpoint`, when it is plaintext and not loopback.
fn exposed(resolved: &ResolvedExporter, endpoint: &str) -> Option<String> {
    let plaintext = endpoint.trim().to_ascii_lowercase().starts_with("http://");
    if !plaintext || is_loopback(&redact::host(endpoint)) {
        return None;
    }
    let mut what = Vec::new();
    if resolved.certificate.is_some()
        || resolved.client_certificate.is_some()
        || resolved.client_key.is_some()
    {
        what.push("TLS files".to_owned());
    }
    let secret_headers: Vec<&str> = resolved
        .headers
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| looks_secret(name))
        .collect();
    if !secret_headers.is_empty() {
        what.push(format!("credentials ({})", secret_headers.join(", ")));
    }
    (!what.is_empty()).then(|| what.join(" and "))
}

fn looks_secret(header: &str) -> bool {
    let header = header.to_ascii_lowercase();
    ["auth", "token", "key", "secret", "password", "cookie"]
        .iter()
        .any(|word| header.contains(word))
}

fn is_loopback(host_and_port: &str) -> bool {
    let host = match host_and_port.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => host_and_port,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in [
            "localhost:4317",
            "127.0.0.1:4318",
            "[::1]:4317",
            "127.9.9.9",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["collector:4317", "10.0.0.1:4318", "[2001:db8::1]:4317"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
