//! Generated metric collections for the metric encoder tests: several scopes, every instrument
//! kind of the SDK, random attribute sets, either temporality, and the values at the edges
//! (zero and -0.0, negative numbers, `u64` past `i64::MAX`, sums that overflow to infinity,
//! measurements below 1 that give exponential buckets a negative offset).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    Aggregation, Instrument, PeriodicReader, SdkMeterProvider, Stream, Temporality,
};
use opentelemetry_sdk::Resource;
use proptest::prelude::*;

/// One instrument and what is recorded into it: values, each with an attribute set index.
#[derive(Debug, Clone)]
pub enum InstrumentSpec {
    U64Counter(Vec<(u64, usize)>),
    F64Counter(Vec<(f64, usize)>),
    I64UpDown(Vec<(i64, usize)>),
    F64UpDown(Vec<(f64, usize)>),
    F64Gauge(Vec<(f64, usize)>),
    I64Gauge(Vec<(i64, usize)>),
    U64Gauge(Vec<(u64, usize)>),
    F64Histogram(Vec<(f64, usize)>, Option<Vec<f64>>),
    U64Histogram(Vec<(u64, usize)>),
    /// Named so that the exponential view applies.
    Exponential(Vec<(f64, usize)>),
    ObservableCounter(Vec<(u64, usize)>),
    ObservableUpDown(Vec<(f64, usize)>),
    ObservableGauge(Vec<(i64, usize)>),
}

/// A meter provider's worth of measurements.
#[derive(Debug, Clone)]
pub struct CollectionSpec {
    pub delta: bool,
    pub resource: Resource,
    pub attribute_sets: Vec<Vec<KeyValue>>,
    /// One meter per scope, with its instruments.
    pub scopes: Vec<(InstrumentationScope, Vec<InstrumentSpec>)>,
    /// The exponential histogram view: max size, max scale, record min and max.
    pub exponential: (u32, i8, bool),
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(1e308),
        Just(-1e308),
        Just(1e-300),
        -1e6f64..1e6,
        (0u32..1000).prop_map(f64::from),
    ]
}

fn unsigned() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(i64::MAX as u64 + 1),
        Just(u64::MAX / 2),
        0u64..10_000,
    ]
}

fn signed() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0i64), Just(i64::MIN), Just(i64::MAX), -1000i64..1000]
}

fn points<T: std::fmt::Debug>(
    value: impl Strategy<Value = T>,
) -> impl Strategy<Value = Vec<(T, usize)>> {
    prop::collection::vec((value, 0usize..4), 1..8)
}

fn instrument() -> impl Strategy<Value = InstrumentSpec> {
    let boundaries = prop_oneof![
        Just(None),
        Just(Some(Vec::new())),
        Just(Some(vec![-10.0, 0.0, 10.0, 1000.0])),
    ];
    prop_oneof![
        points(unsigned()).prop_map(InstrumentSpec::U64Counter),
        points(float()).prop_map(InstrumentSpec::F64Counter),
        points(signed()).prop_map(InstrumentSpec::I64UpDown),
        points(float()).prop_map(InstrumentSpec::F64UpDown),
        points(float()).prop_map(InstrumentSpec::F64Gauge),
        points(signed()).prop_map(InstrumentSpec::I64Gauge),
        points(unsigned()).prop_map(InstrumentSpec::U64Gauge),
        (points(float()), boundaries).prop_map(|(p, b)| InstrumentSpec::F64Histogram(p, b)),
        points(0u64..1_000_000).prop_map(InstrumentSpec::U64Histogram),
        points(float()).prop_map(InstrumentSpec::Exponential),
        points(unsigned()).prop_map(InstrumentSpec::ObservableCounter),
        points(float()).prop_map(InstrumentSpec::ObservableUpDown),
        points(signed()).prop_map(InstrumentSpec::ObservableGauge),
    ]
}

pub fn collection_spec() -> impl Strategy<Value = CollectionSpec> {
    (
        any::<bool>(),
        super::resource(),
        prop::collection::vec(super::attributes(3), 4),
        prop::collection::vec(
            (super::scope(), prop::collection::vec(instrument(), 1..6)),
            1..5,
        ),
        (2u32..160, -10i8..=20, any::<bool>()),
    )
        .prop_map(
            |(delta, resource, attribute_sets, scopes, exponential)| CollectionSpec {
                delta,
                resource,
                attribute_sets,
                scopes,
                exponential,
            },
        )
}

struct Capture<F> {
    inspect: F,
    temporality: Temporality,
}

impl<F> std::fmt::Debug for Capture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Capture")
    }
}

impl<F: Fn(&ResourceMetrics) + Send + Sync + 'static> PushMetricExporter for Capture<F> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        (self.inspect)(metrics);
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        self.temporality
    }
}

/// Records `spec` through a meter provider, flushes and shuts it down; returns what `inspect`
/// made of each collection the reader exported (with delta temporality, the second one holds
/// only the observable instruments).
pub fn collect<R: Send + 'static>(
    spec: &CollectionSpec,
    inspect: impl Fn(&ResourceMetrics) -> R + Send + Sync + 'static,
) -> Vec<R> {
    let results = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&results);
    let exporter = Capture {
        inspect: move |metrics: &ResourceMetrics| {
            let result = inspect(metrics);
            sink.lock().expect("lock").push(result);
        },
        temporality: if spec.delta {
            Temporality::Delta
        } else {
            Temporality::Cumulative
        },
    };
    let (max_size, max_scale, record_min_max) = spec.exponential;
    let provider = SdkMeterProvider::builder()
        .with_resource(spec.resource.clone())
        .with_reader(PeriodicReader::builder(exporter).build())
        .with_view(move |instrument: &Instrument| {
            instrument.name().starts_with("exponential").then(|| {
                Stream::builder()
                    .with_aggregation(Aggregation::Base2ExponentialHistogram {
                        max_size,
                        max_scale,
                        record_min_max,
                    })
                    .build()
                    .expect("valid stream")
            })
        })
        .build();
    let sets = &spec.attribute_sets;
    let owned = |points: &[(i64, usize)]| -> Vec<(i64, Vec<KeyValue>)> {
        points.iter().map(|(v, s)| (*v, sets[*s].clone())).collect()
    };
    for (scope, instruments) in &spec.scopes {
        let meter = provider.meter_with_scope(scope.clone());
        for (i, instrument) in instruments.iter().enumerate() {
            let name = format!("m{i}");
            match instrument {
                InstrumentSpec::U64Counter(p) => {
                    let c = meter.u64_counter(name).with_unit("1").build();
                    p.iter().for_each(|(v, s)| c.add(*v, &sets[*s]));
                }
                InstrumentSpec::F64Counter(p) => {
                    let c = meter.f64_counter(name).with_description("d").build();
                    p.iter().for_each(|(v, s)| c.add(*v, &sets[*s]));
                }
                InstrumentSpec::I64UpDown(p) => {
                    let c = meter.i64_up_down_counter(name).build();
                    p.iter().for_each(|(v, s)| c.add(*v, &sets[*s]));
                }
                InstrumentSpec::F64UpDown(p) => {
                    let c = meter.f64_up_down_counter(name).build();
                    p.iter().for_each(|(v, s)| c.add(*v, &sets[*s]));
                }
                InstrumentSpec::F64Gauge(p) => {
                    let g = meter.f64_gauge(name).build();
                    p.iter().for_each(|(v, s)| g.record(*v, &sets[*s]));
                }
                InstrumentSpec::I64Gauge(p) => {
                    let g = meter.i64_gauge(name).build();
                    p.iter().for_each(|(v, s)| g.record(*v, &sets[*s]));
                }
                InstrumentSpec::U64Gauge(p) => {
                    let g = meter.u64_gauge(name).build();
                    p.iter().for_each(|(v, s)| g.record(*v, &sets[*s]));
                }
                InstrumentSpec::F64Histogram(p, boundaries) => {
                    let mut builder = meter.f64_histogram(name).with_unit("ms");
                    if let Some(b) = boundaries {
                        builder = builder.with_boundaries(b.clone());
                    }
                    let h = builder.build();
                    p.iter().for_each(|(v, s)| h.record(*v, &sets[*s]));
                }
                InstrumentSpec::U64Histogram(p) => {
                    let h = meter.u64_histogram(name).build();
                    p.iter().for_each(|(v, s)| h.record(*v, &sets[*s]));
                }
                InstrumentSpec::Exponential(p) => {
                    let h = meter.f64_histogram(format!("exponential{i}")).build();
                    p.iter().for_each(|(v, s)| h.record(*v, &sets[*s]));
                }
                InstrumentSpec::ObservableCounter(p) => {
                    let p: Vec<_> = p.iter().map(|(v, s)| (*v, sets[*s].clone())).collect();
                    let _ = meter
                        .u64_observable_counter(name)
                        .with_callback(move |o| p.iter().for_each(|(v, a)| o.observe(*v, a)))
                        .build();
                }
                InstrumentSpec::ObservableUpDown(p) => {
                    let p: Vec<_> = p.iter().map(|(v, s)| (*v, sets[*s].clone())).collect();
                    let _ = meter
                        .f64_observable_up_down_counter(name)
                        .with_callback(move |o| p.iter().for_each(|(v, a)| o.observe(*v, a)))
                        .build();
                }
                InstrumentSpec::ObservableGauge(p) => {
                    let p = owned(p);
                    let _ = meter
                        .i64_observable_gauge(name)
                        .with_callback(move |o| p.iter().for_each(|(v, a)| o.observe(*v, a)))
                        .build();
                }
            }
        }
    }
    provider.force_flush().expect("flush");
    provider.shutdown().expect("shutdown");
    let collected = std::mem::take(&mut *results.lock().expect("lock"));
    assert!(!collected.is_empty(), "the reader exported nothing");
    collected
}
