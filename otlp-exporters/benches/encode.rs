//! Criterion micro-benchmarks: encoding a batch of 512 spans (8 attributes, 2 events each)
//! with our direct encoder and with the reference path (`opentelemetry-proto`'s transform,
//! then prost).

#![allow(missing_docs)] // criterion_group! generates an undocumented function

mod common;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use otlp_core::encode::SpanEncoder;
use prost::Message;

fn encode(c: &mut Criterion) {
    let spans = common::spans(512);
    let resource = common::resource();
    let mut group = c.benchmark_group("encode 512 spans");
    group.throughput(Throughput::Elements(512));
    let mut encoder = SpanEncoder::new();
    group.bench_function("otlp-rust direct", |b| {
        b.iter(|| encoder.encode(&spans, &resource))
    });
    group.bench_function("reference transform + prost", |b| {
        b.iter_batched(
            || spans.clone(),
            |spans| {
                let attributes = ResourceAttributesWithSchema::from(&resource);
                let request = ExportTraceServiceRequest {
                    resource_spans: group_spans_by_resource_and_scope(spans, &attributes),
                };
                request.encode_to_vec()
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
