//! Row 1: encode cost per span, our direct encoder against `opentelemetry-proto`'s transform
//! plus prost (the cost of cloning the batch the reference consumes is measured and taken off).

use std::time::Instant;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use otlp_core::encode::SpanEncoder;
use prost::Message;

use super::common;
use super::table::{row, Row};

/// Nanoseconds per span, (ours, reference), over `rounds` batches of 512.
pub fn encode_cost(rounds: usize) -> (f64, f64) {
    let spans = common::spans(512);
    let resource = common::resource();
    let mut encoder = SpanEncoder::new();
    let mut bytes = 0;
    let started = Instant::now();
    for _ in 0..rounds {
        bytes += encoder.encode(&spans, &resource).len();
    }
    let ours = started.elapsed().as_nanos() as f64 / (rounds * 512) as f64;
    // The reference consumes the batch: time the clone alone and take it off.
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(spans.clone());
    }
    let clone = started.elapsed().as_nanos() as f64;
    let started = Instant::now();
    for _ in 0..rounds {
        let attributes = ResourceAttributesWithSchema::from(&resource);
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(spans.clone(), &attributes),
        };
        bytes += request.encode_to_vec().len();
    }
    let reference = (started.elapsed().as_nanos() as f64 - clone) / (rounds * 512) as f64;
    std::hint::black_box(bytes);
    (ours, reference)
}

/// Row 1 of the table.
pub fn rows(quick: bool) -> Vec<Row> {
    let (ours, reference) = encode_cost(if quick { 40 } else { 400 });
    vec![row(
        "1. encode, ns per span (8 attributes, 2 events)",
        ours,
        Some(reference),
        "ns",
        false,
    )]
}
