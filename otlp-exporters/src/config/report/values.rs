//! The pipeline-wide values of the report, in its stable order: service, SDK settings,
//! batches, metrics, limits, connection, reliability, collectors, spool.

use super::{duration, redact_url};
use crate::config::{concurrency, connection, discovery, PipelineConfig};

/// Every pipeline-wide value of `config` as text, keyed by its dotted setting.
pub(super) fn values(config: &PipelineConfig) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: String| out.push((k.to_owned(), v));
    add("service.name", config.service_name.clone());
    add(
        "service.version",
        config.service_version.clone().unwrap_or_default(),
    );
    add(
        "deployment.environment.name",
        config.environment.clone().unwrap_or_default(),
    );
    add("disabled", config.disabled.to_string());
    add("log_level", config.log_level.clone());
    add(
        "propagators",
        config
            .propagators
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    add("sampler", config.sampler.to_string());
    for (key, batch) in [
        ("span_batch", &config.span_batch),
        ("log_batch", &config.log_batch),
    ] {
        add(
            &format!("{key}.scheduled_delay"),
            duration(batch.scheduled_delay),
        );
        add(
            &format!("{key}.export_timeout"),
            duration(batch.export_timeout),
        );
        add(
            &format!("{key}.max_queue_size"),
            batch.max_queue_size.to_string(),
        );
        add(
            &format!("{key}.max_batch_size"),
            batch.max_batch_size.to_string(),
        );
    }
    add(
        "metrics.export_interval",
        duration(config.metric_export_interval),
    );
    add(
        "metrics.export_timeout",
        duration(config.metric_export_timeout),
    );
    add(
        "metrics.temporality_preference",
        config.temporality.as_str().to_owned(),
    );
    add(
        "metrics.default_histogram_aggregation",
        config.histogram_aggregation.as_str().to_owned(),
    );
    add(
        "metrics.exemplar_filter",
        config.exemplar_filter.as_str().to_owned(),
    );
    add("metrics.views", config.views.len().to_string());
    let limits = &config.limits;
    let show = |l: Option<u32>| l.map_or_else(|| "default".to_owned(), |n| n.to_string());
    for (key, value) in [
        ("limits.attribute_count", limits.attribute_count),
        (
            "limits.attribute_value_length",
            limits.attribute_value_length,
        ),
        ("limits.span_attribute_count", limits.span_attribute_count),
        (
            "limits.span_attribute_value_length",
            limits.span_attribute_value_length,
        ),
        ("limits.span_event_count", limits.span_event_count),
        ("limits.span_link_count", limits.span_link_count),
        ("limits.event_attribute_count", limits.event_attribute_count),
        ("limits.link_attribute_count", limits.link_attribute_count),
        (
            "limits.log_record_attribute_count",
            limits.log_record_attribute_count,
        ),
        (
            "limits.log_record_attribute_value_length",
            limits.log_record_attribute_value_length,
        ),
    ] {
        add(key, show(value));
    }
    add("connect_timeout", duration(config.connect_timeout));
    connection::report(config, &mut add);
    add(
        "balance",
        match config.balance {
            otlp_transport::balance::BalanceStrategy::RoundRobin => "round-robin",
            otlp_transport::balance::BalanceStrategy::LeastLoaded => "least-loaded",
            otlp_transport::balance::BalanceStrategy::TraceId => "trace-id",
        }
        .to_owned(),
    );
    add(
        "log_format",
        format!("{:?}", config.log_format).to_ascii_lowercase(),
    );
    add(
        "self_metrics",
        if config.self_metrics { "on" } else { "off" }.to_owned(),
    );
    add("retry.max_attempts", config.retry.max_attempts.to_string());
    add("concurrency", concurrency::describe(&config.concurrency));
    add(
        "circuit_breaker",
        if config.circuit_breaker.is_some() {
            "on"
        } else {
            "off"
        }
        .to_owned(),
    );
    add(
        "bulkhead",
        config.bulkhead.map_or_else(
            || "off".to_owned(),
            |b| {
                format!(
                    "{} in flight, wait {}",
                    b.max_concurrent,
                    duration(b.max_wait)
                )
            },
        ),
    );
    add(
        "bearer_token",
        if config.bearer_token.is_some() {
            "<redacted>"
        } else {
            ""
        }
        .to_owned(),
    );
    add(
        "health_endpoint",
        config
            .health_endpoint
            .map(|a| a.to_string())
            .unwrap_or_default(),
    );
    add(
        "collectors",
        config
            .collectors
            .iter()
            .map(|u| redact_url(u))
            .collect::<Vec<_>>()
            .join(","),
    );
    discovery::report(config)
        .into_iter()
        .for_each(|(k, v)| add(k, v));
    add(
        "spool",
        config
            .spool
            .as_ref()
            .map(|s| format!("{s:?}"))
            .unwrap_or_else(|| "off".to_owned()),
    );
    out
}
