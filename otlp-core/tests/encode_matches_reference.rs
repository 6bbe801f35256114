//! What our encoders write decodes to exactly what `opentelemetry-proto`'s reference transform
//! produces, for generated spans, log records and every metric kind the SDK emits.

#![allow(clippy::unwrap_used)]

mod support;

use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::logs::tonic::group_logs_by_resource_and_scope;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::logs::LogBatch;
use opentelemetry_sdk::Resource;
use otlp_core::encode::{
    decode, encode_logs, encode_metrics, encode_spans, EncodeOptions, LogEncoder, MetricEncoder,
    SpanEncoder,
};
use otlp_core::proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_core::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_core::proto::metrics::v1::metric::Data;
use otlp_core::{Encoding, Signal};
use proptest::prelude::*;
use prost::Message;
use std::collections::HashSet;

/// The data points of a request: what a metrics request counts as its items.
fn data_points(request: &ExportMetricsServiceRequest) -> usize {
    let metrics = request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics);
    metrics
        .map(|metric| match &metric.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 0,
        })
        .sum()
}

fn scopes_sorted(mut request: ExportLogsServiceRequest) -> ExportLogsServiceRequest {
    for resource in &mut request.resource_logs {
        resource.scope_logs.sort_by(|a, b| {
            let key = |s: &otlp_core::proto::logs::v1::ScopeLogs| {
                format!("{:?}{}", s.scope, s.schema_url)
            };
            key(a).cmp(&key(b))
        });
    }
    request
}

proptest! {
    #[test]
    fn the_direct_span_encoder_decodes_to_the_reference(
        spans in prop::collection::vec(support::span(), 0..20),
        resource in support::resource(),
        schema in any::<bool>(),
    ) {
        let resource = if schema {
            Resource::builder_empty()
                .with_schema_url(resource.iter().map(|(k, v)| opentelemetry::KeyValue::new(k.clone(), v.clone())), "https://example.com/schema")
                .build()
        } else {
            resource
        };
        let reference = ExportTraceServiceRequest {
            resource_spans: if spans.is_empty() {
                Vec::new()
            } else {
                group_spans_by_resource_and_scope(spans.clone(), &ResourceAttributesWithSchema::from(&resource))
            },
        };
        let mut encoder = SpanEncoder::new();
        // Twice through the same encoder: the reused buffer must not leak between batches.
        let _ = encoder.encode(&spans, &resource);
        let bytes = encoder.encode(&spans, &resource);
        let decoded: ExportTraceServiceRequest = decode(Encoding::Protobuf, &bytes).unwrap();
        prop_assert_eq!(decoded, reference);
    }

    #[test]
    fn the_direct_log_encoder_decodes_to_the_reference(
        specs in prop::collection::vec(support::log_spec(), 0..20),
        resource in support::resource(),
    ) {
        let records = support::log_records(&specs);
        let pairs: Vec<_> = records.iter().map(|(r, s)| (r, s)).collect();
        let reference = ExportLogsServiceRequest {
            resource_logs: if pairs.is_empty() {
                Vec::new()
            } else {
                group_logs_by_resource_and_scope(&LogBatch::new(&pairs), &ResourceAttributesWithSchema::from(&resource))
            },
        };
        let mut encoder = LogEncoder::new();
        let _ = encoder.encode(&pairs, &resource);
        let bytes = encoder.encode(&pairs, &resource);
        let decoded: ExportLogsServiceRequest = decode(Encoding::Protobuf, &bytes).unwrap();
        // The reference groups scopes through a HashMap: scope order is not part of the contract.
        prop_assert_eq!(scopes_sorted(decoded), scopes_sorted(reference));
    }

    #[test]
    fn spans_decode_to_the_reference(spans in prop::collection::vec(support::span(), 1..20), resource in support::resource()) {
        let reference = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(spans.clone(), &ResourceAttributesWithSchema::from(&resource)),
        };
        let encoded = encode_spans(spans.clone(), &resource, &EncodeOptions::default()).unwrap();
        prop_assert_eq!(encoded.requests.len(), 1);
        let request = &encoded.requests[0];
        prop_assert_eq!(request.signal, Signal::Traces);
        prop_assert_eq!(request.items, spans.len());
        let decoded: ExportTraceServiceRequest = decode(Encoding::Protobuf, &request.body).unwrap();
        prop_assert_eq!(decoded, reference);
    }

    #[test]
    fn logs_decode_to_the_reference(specs in prop::collection::vec(support::log_spec(), 1..20), resource in support::resource()) {
        let records = support::log_records(&specs);
        let pairs: Vec<_> = records.iter().map(|(r, s)| (r, s)).collect();
        let batch = LogBatch::new(&pairs);
        let reference = ExportLogsServiceRequest {
            resource_logs: group_logs_by_resource_and_scope(&batch, &ResourceAttributesWithSchema::from(&resource)),
        };
        let encoded = encode_logs(&batch, &resource, &EncodeOptions::default()).unwrap();
        prop_assert_eq!(encoded.requests.len(), 1);
        prop_assert_eq!(encoded.requests[0].items, specs.len());
        let decoded: ExportLogsServiceRequest = decode(Encoding::Protobuf, &encoded.requests[0].body).unwrap();
        // The reference groups scopes through a HashMap: scope order is not part of the contract.
        prop_assert_eq!(scopes_sorted(decoded), scopes_sorted(reference));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn every_metric_kind_decodes_to_the_reference(spec in support::metric_spec()) {
        let collections = support::with_metrics(&spec, |metrics| {
            let reference = ExportMetricsServiceRequest::from(metrics);
            let encoded = encode_metrics(metrics, &EncodeOptions::default()).map(|e| e.requests);
            (reference, encoded)
        });
        for (reference, requests) in collections {
            let requests = requests.unwrap();
            prop_assert_eq!(requests.len(), 1);
            let decoded: ExportMetricsServiceRequest = decode(Encoding::Protobuf, &requests[0].body).unwrap();
            prop_assert_eq!(&decoded, &reference);
            let kinds: HashSet<_> = decoded.resource_metrics[0].scope_metrics[0].metrics.iter()
                .filter_map(|m| m.data.as_ref().map(std::mem::discriminant)).collect();
            // gauge, sum, histogram and exponential histogram
            prop_assert_eq!(kinds.len(), 4);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Byte for byte: prost writes fields in field-number order and the SDK's collections keep
    /// their order, so there is one right encoding and the direct encoder must write it.
    #[test]
    fn the_direct_metric_encoder_writes_the_reference_bytes(spec in support::collections::collection_spec()) {
        let collections = support::collections::collect(&spec, |metrics| {
            let reference = ExportMetricsServiceRequest::from(metrics);
            let mut encoder = MetricEncoder::new();
            // Twice through the same encoder: the reused buffer must not leak between collections.
            let _ = encoder.encode(metrics);
            let direct = encoder.encode(metrics);
            let sent = encode_metrics(metrics, &EncodeOptions::default()).map(|e| e.requests);
            // Over the size limit, the collection is split instead; every point is in a part.
            let limit = EncodeOptions::default().with_max_request_bytes(direct.len() - 1);
            let split = encode_metrics(metrics, &limit).unwrap();
            let split = split.items() + split.too_large;
            (reference, direct, sent, split)
        });
        for (reference, direct, sent, split) in collections {
            prop_assert_eq!(split, data_points(&reference));
            let decoded: ExportMetricsServiceRequest = decode(Encoding::Protobuf, &direct).unwrap();
            prop_assert_eq!(&decoded, &reference);
            prop_assert!(direct == reference.encode_to_vec(), "the same message in other bytes");
            // The export path sends those bytes, counting data points as its items.
            let sent = sent.unwrap();
            prop_assert_eq!(sent.len(), 1);
            prop_assert_eq!(&sent[0].body, &direct);
            prop_assert_eq!(sent[0].items, data_points(&reference));
        }
    }
}

/// A collection with no scopes still names its resource (as the reference does); it holds no
/// data points, so nothing is sent.
#[test]
fn an_empty_collection_encodes_as_the_reference_and_sends_nothing() {
    let empty = opentelemetry_sdk::metrics::data::ResourceMetrics::default();
    let reference = ExportMetricsServiceRequest::from(&empty).encode_to_vec();
    assert_eq!(MetricEncoder::new().encode(&empty), reference);
    let encoded = encode_metrics(&empty, &EncodeOptions::default()).unwrap();
    assert!(encoded.requests.is_empty());
    assert_eq!(encoded.too_large, 0);
}

/// The span encoder writes each batch into the allocation of the one before once that
/// batch's request is gone (sent, not held by a retry or the spool), instead of allocating.
#[test]
fn the_span_encoder_reuses_its_buffer_once_the_last_request_is_gone() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let spans = prop::collection::vec(support::span(), 64)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let resource = support::resource().new_tree(&mut runner).unwrap().current();
    let mut encoder = SpanEncoder::new();
    // The first batches size the buffer.
    for _ in 0..3 {
        drop(encoder.encode(&spans, &resource));
    }
    let first = encoder.encode(&spans, &resource);
    let at = first.as_ptr() as usize;
    drop(first);
    let second = encoder.encode(&spans, &resource);
    assert_eq!(
        second.as_ptr() as usize,
        at,
        "written where the last batch was"
    );
    // A request still held elsewhere keeps its bytes: the next batch goes elsewhere.
    let third = encoder.encode(&spans, &resource);
    assert_ne!(third.as_ptr() as usize, second.as_ptr() as usize);
    assert_eq!(third, second, "same spans, same bytes");
}
