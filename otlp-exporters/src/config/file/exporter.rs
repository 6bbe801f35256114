//! A push exporter of the file (`otlp_http`, `otlp_grpc`, `console`) into the signal's
//! exporter settings.

use std::path::PathBuf;

use otlp_core::{InvalidSetting, Signal};
use otlp_transport::{Compression, Headers};

use super::node::Node;
use super::Reading;
use crate::config::sdk::{ExporterKind, HistogramAggregation, TemporalityPreference};
use crate::config::{parse_headers, ExporterSettings, Protocol};

const COMMON: [&str; 6] = [
    "endpoint",
    "tls",
    "headers",
    "headers_list",
    "compression",
    "timeout",
];
const METRICS: [&str; 2] = ["temporality_preference", "default_histogram_aggregation"];

/// Reads `exporter:` of a processor or reader into the settings of `signal`.
pub(super) fn read(
    r: &mut Reading<'_>,
    node: &Node<'_>,
    signal: Signal,
) -> Result<(), InvalidSetting> {
    let entries = node.entries(&["otlp_http", "otlp_grpc", "console"], &mut r.warnings)?;
    let [(kind, settings)] = entries.as_slice() else {
        if entries.is_empty() {
            // Only unsupported /development exporters (already warned about), or none.
            r.config.exporters[crate::config::index(signal)] = ExporterKind::None;
            r.mark(format!("{signal}.exporter"));
            return Ok(());
        }
        return Err(node.error("expected exactly one exporter: otlp_http, otlp_grpc or console"));
    };
    let kind_value = if *kind == "console" {
        ExporterKind::Console
    } else {
        ExporterKind::Otlp
    };
    r.config.exporters[crate::config::index(signal)] = kind_value;
    r.mark(format!("{signal}.exporter"));
    let mut known: Vec<&str> = Vec::new();
    match *kind {
        "otlp_http" => {
            known.extend(COMMON);
            known.push("encoding");
        }
        "otlp_grpc" => known.extend(COMMON),
        _ => {}
    }
    if signal == Signal::Metrics {
        known.extend(METRICS);
    }
    let mut out = ExporterSettings {
        protocol: match *kind {
            "otlp_grpc" => Some(Protocol::Grpc),
            "otlp_http" => Some(Protocol::HttpProtobuf),
            _ => None,
        },
        ..ExporterSettings::default()
    };
    let mut headers: Option<Headers> = None;
    let mut marks = vec!["protocol"];
    let fields = settings.entries(&known, &mut r.warnings)?;
    // headers_list first: `headers` wins over it.
    for (_, value) in fields.iter().filter(|(k, _)| *k == "headers_list") {
        if let Some(text) = value.string()? {
            let parsed =
                parse_headers(value.path(), &text).map_err(|e| value.secret_error(e.reason()))?;
            headers = Some(parsed);
            marks.push("headers");
        }
    }
    for (key, value) in &fields {
        match *key {
            "endpoint" => {
                if let Some(url) = value.string()? {
                    let url = url.trim().to_owned();
                    if url.contains("://") {
                        otlp_transport::endpoint::parse_url(value.path(), &url)
                            .map_err(|e| value.error(e.reason()))?;
                    }
                    out.endpoint = Some(url);
                    marks.push("endpoint");
                }
            }
            "tls" => tls(r, value, &mut out, *kind == "otlp_grpc", &mut marks)?,
            "headers" => {
                let mut map = headers.take().unwrap_or_default();
                for item in value.list()? {
                    let pair = item.entries(&["name", "value"], &mut r.warnings)?;
                    let get = |k: &str| pair.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
                    let name = get("name").map(|n| n.string()).transpose()?.flatten();
                    let Some(name) = name else {
                        return Err(item.error("a header needs a name"));
                    };
                    let text = get("value").map(|n| n.string()).transpose()?.flatten();
                    map.insert(item.path(), &name, &text.unwrap_or_default())
                        .map_err(|e| item.secret_error(e.reason()))?;
                }
                headers = Some(map);
                marks.push("headers");
            }
            "compression" => {
                if let Some(text) = value.string()? {
                    out.compression = Some(
                        Compression::parse(value.path(), &text)
                            .map_err(|e| value.error(e.reason()))?,
                    );
                    marks.push("compression");
                }
            }
            "timeout" => {
                if let Some(timeout) = value.millis(true)? {
                    out.timeout = Some(timeout);
                    marks.push("timeout");
                }
            }
            "encoding" => {
                if let Some(protocol) = value.choice(&[
                    ("protobuf", Protocol::HttpProtobuf),
                    ("json", Protocol::HttpJson),
                ])? {
                    out.protocol = Some(protocol);
                }
            }
            "temporality_preference" => {
                if let Some(t) = value.choice(&[
                    ("cumulative", TemporalityPreference::Cumulative),
                    ("delta", TemporalityPreference::Delta),
                    ("low_memory", TemporalityPreference::LowMemory),
                ])? {
                    r.config.temporality = t;
                    r.mark("metrics.temporality_preference");
                }
            }
            "default_histogram_aggregation" => {
                if let Some(a) = value.choice(&[
                    (
                        "explicit_bucket_histogram",
                        HistogramAggregation::ExplicitBucket,
                    ),
                    (
                        "base2_exponential_bucket_histogram",
                        HistogramAggregation::Base2Exponential,
                    ),
                ])? {
                    r.config.histogram_aggregation = a;
                    r.mark("metrics.default_histogram_aggregation");
                }
            }
            _ => {}
        }
    }
    out.headers = headers;
    for field in marks {
        r.mark(format!("{signal}.{field}"));
    }
    let target = r.config.signal_mut(signal);
    *target = target.overridden_by(&out);
    Ok(())
}

fn tls(
    r: &mut Reading<'_>,
    node: &Node<'_>,
    out: &mut ExporterSettings,
    grpc: bool,
    marks: &mut Vec<&'static str>,
) -> Result<(), InvalidSetting> {
    let known: &[&str] = if grpc {
        &["ca_file", "key_file", "cert_file", "insecure"]
    } else {
        &["ca_file", "key_file", "cert_file"]
    };
    for (key, value) in node.entries(known, &mut r.warnings)? {
        if key == "insecure" {
            out.insecure = value.boolean()?;
            continue;
        }
        let Some(text) = value.string()? else {
            continue;
        };
        let path = PathBuf::from(text.trim());
        if !path.is_file() {
            return Err(value.error("no such file"));
        }
        match key {
            "ca_file" => {
                out.certificate = Some(path);
                marks.push("certificate");
            }
            "cert_file" => {
                out.client_certificate = Some(path);
                marks.push("client_certificate");
            }
            _ => {
                out.client_key = Some(path);
                marks.push("client_key");
            }
        }
    }
    Ok(())
}
