//! The SDK-level variables: exporter kinds, propagators, the sampler, limits, and the metric
//! enums (temporality, histogram aggregation, exemplar filter).

use super::Reader;
use crate::config::sdk::{
    ExemplarFilter, ExporterKind, HistogramAggregation, Propagator, SamplerConfig,
};

pub(crate) fn parse_histogram_aggregation(value: &str) -> Result<HistogramAggregation, String> {
    match value.to_ascii_lowercase().as_str() {
        "explicit_bucket_histogram" => Ok(HistogramAggregation::ExplicitBucket),
        "base2_exponential_bucket_histogram" => Ok(HistogramAggregation::Base2Exponential),
        _ => Err(
            "expected explicit_bucket_histogram or base2_exponential_bucket_histogram".to_owned(),
        ),
    }
}

pub(crate) fn parse_exemplar_filter(value: &str) -> Result<ExemplarFilter, String> {
    match value.to_ascii_lowercase().as_str() {
        "trace_based" => Ok(ExemplarFilter::TraceBased),
        "always_on" => Ok(ExemplarFilter::AlwaysOn),
        "always_off" => Ok(ExemplarFilter::AlwaysOff),
        _ => Err("expected trace_based, always_on or always_off".to_owned()),
    }
}

/// `otlp`, `console` or `none` (a list: the first one this SDK has is used).
pub(super) fn parse_exporters(value: &str) -> Result<ExporterKind, String> {
    let names: Vec<String> = value
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    if names.len() > 1 {
        return Err("one exporter per signal (otlp, console or none)".to_owned());
    }
    match names.first().map(String::as_str) {
        Some("otlp") => Ok(ExporterKind::Otlp),
        Some("console") => Ok(ExporterKind::Console),
        Some("none") => Ok(ExporterKind::None),
        Some("zipkin" | "prometheus" | "logging") => {
            Err("not available in this SDK (otlp, console and none are)".to_owned())
        }
        _ => Err("expected otlp, console or none".to_owned()),
    }
}

pub(super) fn read_propagators(r: &mut Reader<'_>) {
    let Some(value) = r.get("OTEL_PROPAGATORS") else {
        return;
    };
    let mut propagators = Vec::new();
    let mut understood = false;
    for name in value.split(',').filter(|n| !n.trim().is_empty()) {
        match Propagator::parse(name) {
            Ok(Some(p)) if !propagators.contains(&p) => propagators.push(p),
            Ok(_) => {}
            Err(reason) => {
                r.ignore("OTEL_PROPAGATORS", Some(name.trim()), reason);
                continue;
            }
        }
        understood = true;
    }
    if !understood {
        // Nothing usable (and not `none`): the default stays.
        return;
    }
    r.mark("propagators");
    r.config.propagators = propagators;
}

pub(super) fn read_sampler(r: &mut Reader<'_>) {
    let Some(name) = r.get("OTEL_TRACES_SAMPLER") else {
        return;
    };
    let ratio = || -> Result<f64, String> {
        let Some(arg) = r.get("OTEL_TRACES_SAMPLER_ARG") else {
            return Err("OTEL_TRACES_SAMPLER_ARG is not set; using 1.0".to_owned());
        };
        match arg.parse::<f64>() {
            Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
            _ => Err(format!(
                "OTEL_TRACES_SAMPLER_ARG={arg:?} is not a number from 0 to 1; using 1.0"
            )),
        }
    };
    let sampler = match name.to_ascii_lowercase().as_str() {
        "always_on" => Ok(SamplerConfig::AlwaysOn),
        "always_off" => Ok(SamplerConfig::AlwaysOff),
        "parentbased_always_on" => Ok(SamplerConfig::parent_based(SamplerConfig::AlwaysOn)),
        "parentbased_always_off" => Ok(SamplerConfig::parent_based(SamplerConfig::AlwaysOff)),
        "traceidratio" => Ok(SamplerConfig::TraceIdRatio(ratio().unwrap_or_else(|w| {
            r.config.provenance.warn(w.clone());
            tracing::warn!(warning = %w, "OTEL_TRACES_SAMPLER_ARG");
            1.0
        }))),
        "parentbased_traceidratio" => Ok(SamplerConfig::parent_based(
            SamplerConfig::TraceIdRatio(ratio().unwrap_or_else(|w| {
                r.config.provenance.warn(w.clone());
                tracing::warn!(warning = %w, "OTEL_TRACES_SAMPLER_ARG");
                1.0
            })),
        )),
        "jaeger_remote" | "parentbased_jaeger_remote" | "xray" => {
            Err("not available in this SDK")
        }
        _ => Err("expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"),
    };
    match sampler {
        Ok(sampler) => {
            r.mark("sampler");
            r.config.sampler = sampler;
        }
        Err(reason) => r.ignore("OTEL_TRACES_SAMPLER", Some(&name), reason),
    }
}

fn limit(value: &str) -> Result<u32, String> {
    value
        .parse::<u32>()
        .map_err(|_| "expected a whole number (0 or more)".to_owned())
}

/// A field of [`Limits`](crate::config::Limits).
type LimitField = fn(&mut crate::config::Limits) -> &mut Option<u32>;

pub(super) fn read_limits(r: &mut Reader<'_>) {
    let fields: [(&str, &str, LimitField); 10] = [
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "attribute_count", |l| {
            &mut l.attribute_count
        }),
        (
            "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "attribute_value_length",
            |l| &mut l.attribute_value_length,
        ),
        (
            "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
            "span_attribute_count",
            |l| &mut l.span_attribute_count,
        ),
        (
            "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "span_attribute_value_length",
            |l| &mut l.span_attribute_value_length,
        ),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "span_event_count", |l| {
            &mut l.span_event_count
        }),
        ("OTEL_SPAN_LINK_COUNT_LIMIT", "span_link_count", |l| {
            &mut l.span_link_count
        }),
        (
            "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
            "event_attribute_count",
            |l| &mut l.event_attribute_count,
        ),
        (
            "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
            "link_attribute_count",
            |l| &mut l.link_attribute_count,
        ),
        (
            "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
            "log_record_attribute_count",
            |l| &mut l.log_record_attribute_count,
        ),
        (
            "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "log_record_attribute_value_length",
            |l| &mut l.log_record_attribute_value_length,
        ),
    ];
    for (variable, field, target) in fields {
        if let Some(n) = r.read(variable, &format!("limits.{field}"), limit) {
            *target(&mut r.config.limits) = Some(n);
        }
    }
}
