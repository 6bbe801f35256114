//! Where the pipeline sends each signal and how, read from the configuration in effect, so
//! that the banner and the success line say what is true (TLS only when the endpoint is
//! `https`, a client certificate only when one is set, ...).

use otlp_core::Signal;
use otlp_exporters::OtlpPipeline;

/// One signal's destination.
pub struct Route {
    /// The signal.
    pub signal: Signal,
    /// The endpoint URL, credentials redacted.
    pub endpoint: String,
    /// `grpc` or `http/protobuf` ...
    pub protocol: String,
    /// TLS, client certificate, bearer token, compression.
    pub security: Vec<&'static str>,
    /// `gzip`, `zstd` or `none`.
    pub compression: String,
}

/// The routes of the three signals.
pub fn routes(pipeline: &OtlpPipeline) -> Vec<Route> {
    Signal::ALL
        .into_iter()
        .filter_map(|signal| {
            let resolved = pipeline.config().resolve(signal).ok()?;
            let mut security = Vec::new();
            if resolved.endpoint.starts_with("https://") {
                security.push("TLS");
                if resolved.client_certificate.is_some() {
                    security.push("client certificate (mTLS)");
                }
            } else {
                security.push("plain text (no TLS)");
            }
            if resolved.headers.get("authorization").is_some() {
                security.push("bearer token");
            }
            Some(Route {
                signal,
                endpoint: otlp_core::redact::url(&resolved.endpoint),
                protocol: format!("{:?}", resolved.protocol),
                security,
                compression: resolved.compression.to_string(),
            })
        })
        .collect()
}

/// `spans → Grpc https://127.0.0.1:4317 (TLS, client certificate (mTLS), bearer token, gzip)`.
pub fn describe(route: &Route) -> String {
    format!(
        "{:<12} → {} {} ({}, compression {})",
        route.signal.item_name(),
        route.protocol,
        route.endpoint,
        route.security.join(", "),
        route.compression
    )
}
