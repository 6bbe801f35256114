//! Splitting a request to a byte limit: no part over the limit, every item exactly once, and
//! each item still under its own resource and scope.

#![allow(clippy::unwrap_used)]

use otlp_core::encode::{decode, encode_message, EncodeOptions};
use otlp_core::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_core::proto::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use otlp_core::proto::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use otlp_core::proto::resource::v1::Resource;
use otlp_core::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_core::Encoding;
use proptest::prelude::*;

fn resource(index: usize) -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!("service-{index}"))),
            }),
            key_strindex: 0,
        }],
        ..Default::default()
    })
}

fn scope(index: usize) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: format!("scope-{index}"),
        ..Default::default()
    })
}

/// A trace request of `shape[r][s]` spans per resource and scope, each span named after its
/// position and padded to the given size.
fn trace_request(shape: &[Vec<usize>], padding: &[usize]) -> ExportTraceServiceRequest {
    let mut n = 0;
    ExportTraceServiceRequest {
        resource_spans: shape
            .iter()
            .enumerate()
            .map(|(r, scopes)| ResourceSpans {
                resource: resource(r),
                scope_spans: scopes
                    .iter()
                    .enumerate()
                    .map(|(s, &count)| ScopeSpans {
                        scope: scope(s),
                        spans: (0..count)
                            .map(|_| {
                                n += 1;
                                Span {
                                    name: format!(
                                        "{r}/{s}/{n}/{}",
                                        "x".repeat(padding[n % padding.len()])
                                    ),
                                    trace_id: vec![1; 16],
                                    span_id: (n as u64).to_be_bytes().to_vec(),
                                    ..Default::default()
                                }
                            })
                            .collect(),
                        schema_url: String::new(),
                    })
                    .collect(),
                schema_url: String::new(),
            })
            .collect(),
    }
}

/// Every span as (resource name, scope name, span name), in order.
fn flatten(request: &ExportTraceServiceRequest) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for rs in &request.resource_spans {
        let service = format!("{:?}", rs.resource);
        for ss in &rs.scope_spans {
            let scope = ss
                .scope
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            for span in &ss.spans {
                out.push((service.clone(), scope.clone(), span.name.clone()));
            }
        }
    }
    out
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![Just(Encoding::Protobuf), Just(Encoding::Json)]
}

proptest! {
    #[test]
    fn parts_fit_and_keep_every_span_once(
        shape in prop::collection::vec(prop::collection::vec(0usize..12, 1..4), 1..4),
        padding in prop::collection::vec(0usize..400, 1..5),
        limit in 150usize..6000,
        encoding in encoding(),
    ) {
        let request = trace_request(&shape, &padding);
        let expected = flatten(&request);
        let options = EncodeOptions::default().with_encoding(encoding).with_max_request_bytes(limit);
        let encoded = encode_message(request, &options).unwrap();

        let mut seen = Vec::new();
        for part in &encoded.requests {
            prop_assert!(part.body.len() <= limit, "{} > {}", part.body.len(), limit);
            let decoded: ExportTraceServiceRequest = decode(encoding, &part.body).unwrap();
            let items = flatten(&decoded);
            prop_assert_eq!(items.len(), part.items);
            seen.extend(items);
        }
        // Oversized spans are left out and counted; all the others arrive once, in order.
        prop_assert_eq!(seen.len() + encoded.too_large, expected.len());
        let mut remaining = expected.iter();
        for item in &seen {
            prop_assert!(remaining.any(|e| e == item), "{:?} missing, duplicated or out of order", item);
        }
    }

    #[test]
    fn metric_points_split_inside_a_metric(points in 1usize..200, limit in 120usize..3000) {
        let metric = Metric {
            name: "queue_depth".into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: (0..points).map(|i| NumberDataPoint {
                    time_unix_nano: i as u64,
                    value: Some(number_data_point::Value::AsInt(i as i64)),
                    ..Default::default()
                }).collect(),
            })),
            ..Default::default()
        };
        let request = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: resource(0),
                scope_metrics: vec![ScopeMetrics { scope: scope(0), metrics: vec![metric], schema_url: String::new() }],
                schema_url: String::new(),
            }],
        };
        let encoded = encode_message(request, &EncodeOptions::default().with_max_request_bytes(limit)).unwrap();
        let mut times = Vec::new();
        for part in &encoded.requests {
            prop_assert!(part.body.len() <= limit);
            let decoded: ExportMetricsServiceRequest = decode(Encoding::Protobuf, &part.body).unwrap();
            let metric = &decoded.resource_metrics[0].scope_metrics[0].metrics[0];
            prop_assert_eq!(&metric.name, "queue_depth");
            let Some(metric::Data::Gauge(gauge)) = &metric.data else { panic!("not a gauge") };
            prop_assert_eq!(gauge.data_points.len(), part.items);
            times.extend(gauge.data_points.iter().map(|p| p.time_unix_nano));
        }
        prop_assert_eq!(encoded.too_large, 0);
        prop_assert_eq!(times, (0..points as u64).collect::<Vec<_>>());
    }
}

#[test]
fn an_item_larger_than_the_limit_is_counted_not_sent() {
    let request = trace_request(&[vec![3]], &[10, 5000, 10]);
    let encoded = encode_message(
        request,
        &EncodeOptions::default().with_max_request_bytes(1000),
    )
    .unwrap();
    assert_eq!(encoded.too_large, 1);
    assert_eq!(encoded.items(), 2);
}

#[test]
fn an_empty_batch_sends_nothing() {
    let encoded = encode_message(
        ExportTraceServiceRequest::default(),
        &EncodeOptions::default(),
    )
    .unwrap();
    assert!(encoded.requests.is_empty());
}
