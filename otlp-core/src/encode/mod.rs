//! Encoding SDK data into OTLP requests (protobuf or OTLP/JSON), split to a size limit.
//!
//! The entry points take what the SDK hands an exporter ([`encode_spans`], [`encode_logs`],
//! [`encode_metrics`]) and return [`ExportRequest`]s whose bodies never exceed
//! [`EncodeOptions::max_request_bytes`]. How the bytes are produced is private to this module,
//! so the span path can move to a direct encoder without changing callers.

mod json;
mod logs;
mod metric_points;
mod metrics;
mod reencode;
mod request_writer;
mod sdk;
mod spans;
mod values;
mod wire;

pub use json::{decode_json, to_json};
pub use logs::LogEncoder;
pub use metrics::MetricEncoder;
pub use reencode::reencode;
pub use sdk::{logs_message, metrics_message, spans_message};
pub use spans::SpanEncoder;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_sdk::logs::LogBatch;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;
use prost::Message;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::split::Items;
use crate::{Encoding, Error, ErrorKind, ExportRequest, Signal};

/// gRPC's default maximum message size, and so the default request size limit.
pub const GRPC_DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;

/// How requests are encoded and how large one may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Protobuf or OTLP/JSON.
    pub encoding: Encoding,
    /// The largest body, in bytes before compression, that one request may have.
    pub max_request_bytes: usize,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            encoding: Encoding::Protobuf,
            max_request_bytes: GRPC_DEFAULT_MAX_BYTES,
        }
    }
}

impl EncodeOptions {
    /// Sets the encoding.
    pub fn with_encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Sets the request size limit.
    pub fn with_max_request_bytes(mut self, max_request_bytes: usize) -> Self {
        self.max_request_bytes = max_request_bytes;
        self
    }
}

/// The requests a batch became, and the items that could not be sent at all.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Requests ready to send, each within the size limit.
    pub requests: Vec<ExportRequest>,
    /// Items that alone exceed the size limit; they are not in `requests` and must be counted
    /// as dropped by the caller.
    pub too_large: usize,
}

impl Encoded {
    /// The number of items in all requests.
    pub fn items(&self) -> usize {
        self.requests.iter().map(|r| r.items).sum()
    }
}

/// An OTLP collector request message: one of the three `Export*ServiceRequest` types.
pub trait OtlpMessage: Message + Serialize + DeserializeOwned + Default + Clone + Items {
    /// The signal the message carries.
    const SIGNAL: Signal;
}

impl OtlpMessage for ExportTraceServiceRequest {
    const SIGNAL: Signal = Signal::Traces;
}

impl OtlpMessage for ExportMetricsServiceRequest {
    const SIGNAL: Signal = Signal::Metrics;
}

impl OtlpMessage for ExportLogsServiceRequest {
    const SIGNAL: Signal = Signal::Logs;
}

/// Encodes a span batch of one resource, as the SDK's `SpanExporter::export` receives it.
///
/// ```
/// use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
/// use opentelemetry_sdk::Resource;
/// use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
/// use opentelemetry::InstrumentationScope;
/// use otlp_core::encode::{encode_spans, EncodeOptions};
/// use std::time::{Duration, SystemTime};
///
/// let span = SpanData {
///     span_context: SpanContext::new(
///         TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]),
///         TraceFlags::SAMPLED, false, TraceState::default(),
///     ),
///     parent_span_id: SpanId::INVALID,
///     parent_span_is_remote: false,
///     span_kind: SpanKind::Server,
///     name: "GET /users".into(),
///     start_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1),
///     end_time: SystemTime::UNIX_EPOCH + Duration::from_secs(2),
///     attributes: vec![opentelemetry::KeyValue::new("http.response.status_code", 200)],
///     dropped_attributes_count: 0,
///     events: SpanEvents::default(),
///     links: SpanLinks::default(),
///     status: Status::Ok,
///     instrumentation_scope: InstrumentationScope::builder("users").build(),
/// };
/// let resource = Resource::builder_empty().with_service_name("user-service").build();
///
/// let encoded = encode_spans(vec![span], &resource, &EncodeOptions::default())?;
/// assert_eq!(encoded.requests.len(), 1);
/// assert_eq!(encoded.requests[0].items, 1);
/// assert_eq!(encoded.too_large, 0);
/// # Ok::<(), otlp_core::Error>(())
/// ```
pub fn encode_spans(
    spans: Vec<SpanData>,
    resource: &Resource,
    options: &EncodeOptions,
) -> Result<Encoded, Error> {
    if options.encoding == Encoding::Protobuf && !spans.is_empty() {
        // The direct encoder, with a buffer reused per thread; the message path below is only
        // taken when the batch must be split or is OTLP/JSON.
        thread_local! {
            static ENCODER: std::cell::RefCell<SpanEncoder> = std::cell::RefCell::new(SpanEncoder::new());
        }
        let body = ENCODER.with(|encoder| encoder.borrow_mut().encode(&spans, resource));
        if body.len() <= options.max_request_bytes {
            return Ok(Encoded {
                requests: vec![ExportRequest::new(
                    Signal::Traces,
                    Encoding::Protobuf,
                    body,
                    spans.len(),
                )],
                too_large: 0,
            });
        }
    }
    encode_message(spans_message(spans, resource), options)
}

/// Encodes a log batch of one resource, as the SDK's `LogExporter::export` receives it.
pub fn encode_logs(
    batch: &LogBatch<'_>,
    resource: &Resource,
    options: &EncodeOptions,
) -> Result<Encoded, Error> {
    let records: Vec<_> = batch.iter().collect();
    if options.encoding == Encoding::Protobuf && !records.is_empty() {
        thread_local! {
            static ENCODER: std::cell::RefCell<LogEncoder> = std::cell::RefCell::new(LogEncoder::new());
        }
        let body = ENCODER.with(|encoder| encoder.borrow_mut().encode(&records, resource));
        if body.len() <= options.max_request_bytes {
            return Ok(Encoded {
                requests: vec![ExportRequest::new(
                    Signal::Logs,
                    Encoding::Protobuf,
                    body,
                    records.len(),
                )],
                too_large: 0,
            });
        }
    }
    encode_message(logs_message(batch, resource), options)
}

/// Encodes one collection of metrics, as the SDK's `PushMetricExporter::export` receives it.
pub fn encode_metrics(
    metrics: &ResourceMetrics,
    options: &EncodeOptions,
) -> Result<Encoded, Error> {
    let points = data_points(metrics);
    if options.encoding == Encoding::Protobuf && points > 0 {
        thread_local! {
            static ENCODER: std::cell::RefCell<MetricEncoder> = std::cell::RefCell::new(MetricEncoder::new());
        }
        let body = ENCODER.with(|encoder| encoder.borrow_mut().encode(metrics));
        if body.len() <= options.max_request_bytes {
            return Ok(Encoded {
                requests: vec![ExportRequest::new(
                    Signal::Metrics,
                    Encoding::Protobuf,
                    body,
                    points,
                )],
                too_large: 0,
            });
        }
    }
    encode_message(metrics_message(metrics), options)
}

/// The data points of a collection: what a metrics request counts as its items.
fn data_points(metrics: &ResourceMetrics) -> usize {
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    fn points<T>(data: &MetricData<T>) -> usize {
        match data {
            MetricData::Gauge(gauge) => gauge.data_points().count(),
            MetricData::Sum(sum) => sum.data_points().count(),
            MetricData::Histogram(histogram) => histogram.data_points().count(),
            MetricData::ExponentialHistogram(histogram) => histogram.data_points().count(),
        }
    }
    metrics
        .scope_metrics()
        .flat_map(|scope| scope.metrics())
        .map(|metric| match metric.data() {
            AggregatedMetrics::F64(data) => points(data),
            AggregatedMetrics::U64(data) => points(data),
            AggregatedMetrics::I64(data) => points(data),
        })
        .sum()
}

/// Encodes any collector request message, splitting it until every part fits the limit.
///
/// Parts keep their resource and scope grouping; no item is lost or duplicated. A single item
/// that is larger than the limit on its own is left out and counted in [`Encoded::too_large`].
pub fn encode_message<M: OtlpMessage>(
    message: M,
    options: &EncodeOptions,
) -> Result<Encoded, Error> {
    let mut encoded = Encoded::default();
    encode_within_limit(message, options, &mut encoded)?;
    Ok(encoded)
}

fn encode_within_limit<M: OtlpMessage>(
    mut message: M,
    options: &EncodeOptions,
    out: &mut Encoded,
) -> Result<(), Error> {
    let items = message.item_count();
    if items == 0 {
        return Ok(());
    }
    let body = match options.encoding {
        // encoded_len is exact and costs no allocation: check before encoding.
        Encoding::Protobuf if message.encoded_len() <= options.max_request_bytes => {
            Some(Bytes::from(message.encode_to_vec()))
        }
        Encoding::Protobuf => None,
        Encoding::Json => Some(to_json(&message)?).filter(|b| b.len() <= options.max_request_bytes),
    };
    match body {
        Some(body) => {
            out.requests
                .push(ExportRequest::new(M::SIGNAL, options.encoding, body, items));
            Ok(())
        }
        None if items == 1 => {
            out.too_large += 1;
            Ok(())
        }
        None => {
            let rest = message.split_off(items / 2);
            encode_within_limit(message, options, out)?;
            encode_within_limit(rest, options, out)
        }
    }
}

/// Decodes a collector request body of the given encoding.
pub fn decode<M: OtlpMessage>(encoding: Encoding, body: &[u8]) -> Result<M, Error> {
    match encoding {
        Encoding::Protobuf => M::decode(body).map_err(|e| {
            Error::new(
                ErrorKind::Encoding,
                format!("invalid protobuf {} request", M::SIGNAL),
            )
            .with_source(e)
        }),
        Encoding::Json => decode_json(body),
    }
}
