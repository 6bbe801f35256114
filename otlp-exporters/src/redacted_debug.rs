//! `Debug` of the settings that hold endpoint URLs, under otlp-core's one redaction rule
//! ([`otlp_core::redact`]): userinfo and query values hidden, header values never shown.
//!
//! The impls destructure each struct without `..`, so a field added later fails to compile
//! here until someone decides how it is shown.

use std::fmt;

use otlp_core::redact;

use crate::config::{ExporterSettings, PipelineConfig, ResolvedExporter};

impl fmt::Debug for ExporterSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ExporterSettings {
            endpoint,
            protocol,
            headers,
            timeout,
            compression,
            insecure,
            certificate,
            client_certificate,
            client_key,
        } = self;
        f.debug_struct("ExporterSettings")
            .field("endpoint", &endpoint.as_deref().map(redact::url))
            .field("protocol", protocol)
            .field("headers", headers)
            .field("timeout", timeout)
            .field("compression", compression)
            .field("insecure", insecure)
            .field("certificate", certificate)
            .field("client_certificate", client_certificate)
            .field("client_key", client_key)
            .finish()
    }
}

impl fmt::Debug for ResolvedExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ResolvedExporter {
            signal,
            protocol,
            endpoint,
            headers,
            timeout,
            compression,
            certificate,
            client_certificate,
            client_key,
        } = self;
        f.debug_struct("ResolvedExporter")
            .field("signal", signal)
            .field("protocol", protocol)
            .field("endpoint", &redact::url(endpoint))
            .field("headers", headers)
            .field("timeout", timeout)
            .field("compression", compression)
            .field("certificate", certificate)
            .field("client_certificate", client_certificate)
            .field("client_key", client_key)
            .finish()
    }
}

impl fmt::Debug for PipelineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PipelineConfig {
            service_name,
            service_version,
            environment,
            resource_attributes,
            exporter,
            per_signal,
            connect_timeout,
            connection,
            max_request_bytes,
            max_response_bytes,
            proxy,
            attempt_layers,
            span_batch,
            log_batch,
            metric_export_interval,
            metric_export_timeout,
            retry,
            circuit_breaker,
            bulkhead,
            concurrency,
            bearer_token,
            health_endpoint,
            collectors,
            balance,
            discovery,
            spool,
            disabled,
            log_level,
            log_format,
            self_metrics,
            exporters,
            temporality,
            histogram_aggregation,
            exemplar_filter,
            views,
            propagators,
            sampler,
            limits,
            provenance,
        } = self;
        let collectors: Vec<String> = collectors.iter().map(|url| redact::url(url)).collect();
        f.debug_struct("PipelineConfig")
            .field("service_name", service_name)
            .field("service_version", service_version)
            .field("environment", environment)
            .field("resource_attributes", resource_attributes)
            .field("exporter", exporter)
            .field("per_signal", per_signal)
            .field("connect_timeout", connect_timeout)
            .field("connection", connection)
            .field("max_request_bytes", max_request_bytes)
            .field("max_response_bytes", max_response_bytes)
            .field("proxy", proxy)
            .field("attempt_layers", attempt_layers)
            .field("span_batch", span_batch)
            .field("log_batch", log_batch)
            .field("metric_export_interval", metric_export_interval)
            .field("metric_export_timeout", metric_export_timeout)
            .field("retry", retry)
            .field("circuit_breaker", circuit_breaker)
            .field("bulkhead", bulkhead)
            .field("concurrency", concurrency)
            .field("bearer_token", bearer_token)
            .field("health_endpoint", health_endpoint)
            .field("collectors", &collectors)
            .field("balance", balance)
            .field("discovery", discovery)
            .field("spool", spool)
            .field("disabled", disabled)
            .field("log_level", log_level)
            .field("log_format", log_format)
            .field("self_metrics", self_metrics)
            .field("exporters", exporters)
            .field("temporality", temporality)
            .field("histogram_aggregation", histogram_aggregation)
            .field("exemplar_filter", exemplar_filter)
            .field("views", views)
            .field("propagators", propagators)
            .field("sampler", sampler)
            .field("limits", limits)
            .field("provenance", provenance)
            .finish()
    }
}
