//! SDK data to OTLP protobuf messages, through `opentelemetry-proto`'s reference transform.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::logs::tonic::group_logs_by_resource_and_scope;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::logs::LogBatch;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;

/// The trace service request for a span batch of one resource, grouped by scope.
pub fn spans_message(spans: Vec<SpanData>, resource: &Resource) -> ExportTraceServiceRequest {
    let resource = ResourceAttributesWithSchema::from(resource);
    ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(spans, &resource),
    }
}

/// The logs service request for a log batch of one resource, grouped by scope.
pub fn logs_message(batch: &LogBatch<'_>, resource: &Resource) -> ExportLogsServiceRequest {
    let resource = ResourceAttributesWithSchema::from(resource);
    ExportLogsServiceRequest {
        resource_logs: group_logs_by_resource_and_scope(batch, &resource),
    }
}

/// The metrics service request for one collection.
pub fn metrics_message(metrics: &ResourceMetrics) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest::from(metrics)
}
