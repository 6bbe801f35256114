//! A collector that only counts spans: a tonic gRPC server for the trace service, and an HTTP
//! server for OTLP/HTTP protobuf on a port of its own (`POST /v1/traces`), whose handlers scan
//! the request's wire format for span fields instead of decoding it, so the benchmark measures
//! the exporters rather than the collector. It can decode every request instead, as a real
//! collector does, and answer each request after a fixed latency, as a collector across a
//! region or behind a busy gateway does. The gRPC side accepts gzip and zstd requests.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{http, BoxFuture, Service};
use tonic::{Request, Response, Status};

#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        let length = src.remaining();
        Ok(Some(src.copy_to_bytes(length)))
    }
}

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first()?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

/// Calls `found` with the payload of every length-delimited field numbered `wanted`.
fn each_field<'a>(mut buf: &'a [u8], wanted: u64, mut found: impl FnMut(&'a [u8])) {
    while !buf.is_empty() {
        let Some(key) = varint(&mut buf) else { return };
        match key & 7 {
            0 => {
                if varint(&mut buf).is_none() {
                    return;
                }
            }
            1 => buf = buf.get(8..).unwrap_or_default(),
            5 => buf = buf.get(4..).unwrap_or_default(),
            2 => {
                let Some(length) = varint(&mut buf) else {
                    return;
                };
                let Some(payload) = buf.get(..length as usize) else {
                    return;
                };
                if key >> 3 == wanted {
                    found(payload);
                }
                buf = &buf[length as usize..];
            }
            _ => return,
        }
    }
}

fn count_spans(request: &[u8]) -> u64 {
    let mut spans = 0;
    each_field(request, 1, |resource_spans| {
        each_field(resource_spans, 2, |scope_spans| {
            each_field(scope_spans, 2, |_| spans += 1)
        });
    });
    spans
}

/// How the collector answers: after `latency`, having decoded the request (`decode`, as a real
/// collector does) or only scanned it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Behaviour {
    pub latency: Duration,
    pub decode: bool,
}

#[derive(Clone)]
struct Counting(Arc<AtomicU64>, Behaviour);

impl tonic::server::NamedService for Counting {
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
}

/// Counts the spans in one export request's body as `behaviour` says (decoding it or only
/// scanning it), after its latency; fails on a body that does not decode.
async fn receive(counter: &AtomicU64, behaviour: Behaviour, body: Bytes) -> Result<(), String> {
    let spans = if behaviour.decode {
        use prost::Message;
        let decoded =
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
                body,
            )
            .map_err(|e| e.to_string())?;
        decoded
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len() as u64)
            .sum()
    } else {
        count_spans(&body)
    };
    if !behaviour.latency.is_zero() {
        tokio::time::sleep(behaviour.latency).await;
    }
    counter.fetch_add(spans, Ordering::Relaxed);
    Ok(())
}

struct CountSpans(Arc<AtomicU64>, Behaviour);

impl tonic::server::UnaryService<Bytes> for CountSpans {
    type Response = Bytes;
    type Future = BoxFuture<Response<Bytes>, Status>;
    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let (counter, behaviour) = (Arc::clone(&self.0), self.1);
        Box::pin(async move {
            receive(&counter, behaviour, request.into_inner())
                .await
                .map_err(Status::invalid_argument)?;
            Ok(Response::new(Bytes::new()))
        })
    }
}

/// `POST /v1/traces` with a protobuf body: counted as the gRPC requests are, answered with an
/// empty `ExportTraceServiceResponse`.
async fn http_traces(
    axum::extract::State(Counting(counter, behaviour)): axum::extract::State<Counting>,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match receive(&counter, behaviour, body).await {
        Ok(()) => (
            [(http::header::CONTENT_TYPE, "application/x-protobuf")],
            Bytes::new(),
        )
            .into_response(),
        Err(e) => (http::StatusCode::BAD_REQUEST, e).into_response(),
    }
}

impl<B> Service<http::Request<B>> for Counting
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let (counter, behaviour) = (Arc::clone(&self.0), self.1);
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawCodec)
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd);
            Ok(grpc.unary(CountSpans(counter, behaviour), request).await)
        })
    }
}

/// A running counting collector.
pub struct CountingCollector {
    spans: Arc<AtomicU64>,
    addr: SocketAddr,
    http_addr: SocketAddr,
}

impl CountingCollector {
    /// Starts it on 127.0.0.1, on the current runtime.
    pub async fn start() -> CountingCollector {
        Self::start_with(Behaviour::default()).await
    }

    /// Starts one that answers as `behaviour` says, with tonic's default server settings.
    pub async fn start_with(behaviour: Behaviour) -> CountingCollector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let spans = Arc::new(AtomicU64::new(0));
        let service = Counting(Arc::clone(&spans), behaviour);
        let incoming =
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let http_addr = http_listener.local_addr().expect("address");
        let router = axum::Router::new()
            .route("/v1/traces", axum::routing::post(http_traces))
            .with_state(service.clone());
        tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming)
                .await;
        });
        tokio::spawn(async move {
            let _ = axum::serve(http_listener, router).await;
        });
        CountingCollector {
            spans,
            addr,
            http_addr,
        }
    }

    /// Its gRPC endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its OTLP/HTTP base URL: requests go to `/v1/traces` under it. It speaks no gRPC, and
    /// the gRPC endpoint speaks no OTLP/HTTP.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// Spans counted so far.
    pub fn spans(&self) -> u64 {
        self.spans.load(Ordering::Relaxed)
    }
}
