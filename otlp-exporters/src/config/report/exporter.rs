//! The exporter settings of each signal in the report, with the source of each: the
//! per-signal setting, else the generic one, else the default.

use otlp_core::Signal;

use super::{duration, redact_url, Builder};
use crate::config::index;
use crate::config::provenance::Source;

/// The exporter settings of one signal: the value in effect and its source (per-signal
/// setting, else generic setting, else default).
pub(super) fn exporter_entries(b: &mut Builder<'_>, signal: Signal) {
    let config = b.config;
    let kind = config.exporters[index(signal)];
    b.add(format!("{signal}.exporter"), kind.as_str());
    let own = &config.per_signal[index(signal)];
    let generic = &config.exporter;
    let source = |field: &str, own_set: bool, generic_set: bool| -> Option<Source> {
        if own_set {
            Some(
                config
                    .provenance
                    .get(&format!("{signal}.{field}"))
                    .unwrap_or(Source::Code),
            )
        } else if generic_set {
            Some(
                config
                    .provenance
                    .get(&format!("exporter.{field}"))
                    .unwrap_or(Source::Code),
            )
        } else {
            Some(Source::Default)
        }
    };
    let resolved = match config.resolve(signal) {
        Ok(resolved) => resolved,
        Err(error) => {
            let value = format!("invalid: {error}");
            b.add_from(format!("{signal}.endpoint"), value, Some(Source::Code));
            return;
        }
    };
    let fields: [(&str, String, bool, bool); 8] = [
        (
            "protocol",
            resolved.protocol.as_str().to_owned(),
            own.protocol.is_some(),
            generic.protocol.is_some(),
        ),
        (
            "endpoint",
            redact_url(&resolved.endpoint),
            own.endpoint.is_some(),
            generic.endpoint.is_some(),
        ),
        (
            "headers",
            resolved
                .headers
                .iter()
                .map(|(name, _)| format!("{name}=<redacted>"))
                .collect::<Vec<_>>()
                .join(","),
            own.headers.is_some(),
            generic.headers.is_some(),
        ),
        (
            "timeout",
            duration(resolved.timeout),
            own.timeout.is_some(),
            generic.timeout.is_some(),
        ),
        (
            "compression",
            resolved.compression.as_str().to_owned(),
            own.compression.is_some(),
            generic.compression.is_some(),
        ),
        (
            "certificate",
            path(&resolved.certificate),
            own.certificate.is_some(),
            generic.certificate.is_some(),
        ),
        (
            "client_certificate",
            path(&resolved.client_certificate),
            own.client_certificate.is_some(),
            generic.client_certificate.is_some(),
        ),
        (
            "client_key",
            path(&resolved.client_key),
            own.client_key.is_some(),
            generic.client_key.is_some(),
        ),
    ];
    for (field, value, own_set, generic_set) in fields {
        let mut recorded = source(field, own_set, generic_set);
        if field == "headers" && !own_set && !generic_set && config.bearer_token.is_some() {
            // Only the bearer token's header: it comes from where the token came from.
            recorded = Some(
                config
                    .provenance
                    .get("bearer_token")
                    .unwrap_or(Source::Code),
            );
        }
        b.add_from(format!("{signal}.{field}"), value, recorded);
    }
}

fn path(p: &Option<std::path::PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}
