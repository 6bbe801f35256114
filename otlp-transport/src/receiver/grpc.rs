//! The receiver's gRPC server: the three OTLP collector services on tonic.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use otlp_core::Encoding;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::codec::CompressionEncoding;
use tonic::service::Routes;
use tonic::{Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::refusals::Refusals;
use super::serve;
use super::state::{Answer, Shared};
use super::{Received, ReceivedOver, ReceiverConfig};
use otlp_core::Telemetry;

#[derive(Clone)]
struct GrpcReceiver {
    state: Shared,
}

impl GrpcReceiver {
    async fn handle<R>(
        &self,
        metadata: tonic::metadata::MetadataMap,
        payload: Telemetry,
        respond: impl FnOnce(i64, String) -> R,
    ) -> Result<Response<R>, Status> {
        let headers = metadata.into_headers();
        let compression = headers
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok())
            .filter(|v| *v != "identity")
            .map(str::to_owned);
        let received = Received {
            protocol: ReceivedOver::Grpc,
            encoding: Encoding::Protobuf,
            compression,
            headers,
            payload,
        };
        match self.state.handle(received).await {
            Answer::Accept { rejected, message } => Ok(Response::new(respond(rejected, message))),
            Answer::Fail {
                grpc,
                message,
                retry_after,
                ..
            } => Err(match retry_after {
                Some(delay) => Status::with_error_details(
                    grpc,
                    message,
                    ErrorDetails::with_retry_info(Some(delay)),
                ),
                None => Status::new(grpc, message),
            }),
        }
    }
}

fn partial<T>(rejected: i64, message: String, make: impl FnOnce(i64, String) -> T) -> Option<T> {
    (rejected != 0 || !message.is_empty()).then(|| make(rejected, message))
}

#[tonic::async_trait]
impl TraceService for GrpcReceiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        self.handle(metadata, Telemetry::Traces(message), |rejected, message| {
            ExportTraceServiceResponse {
                partial_success: partial(rejected, message, |rejected_spans, error_message| {
                    ExportTracePartialSuccess {
                        rejected_spans,
                        error_message,
                    }
                }),
            }
        })
        .await
    }
}

#[tonic::async_trait]
impl MetricsService for GrpcReceiver {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        self.handle(
            metadata,
            Telemetry::Metrics(message),
            |rejected, message| ExportMetricsServiceResponse {
                partial_success: partial(
                    rejected,
                    message,
                    |rejected_data_points, error_message| ExportMetricsPartialSuccess {
                        rejected_data_points,
                        error_message,
                    },
                ),
            },
        )
        .await
    }
}

#[tonic::async_trait]
impl LogsService for GrpcReceiver {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        self.handle(metadata, Telemetry::Logs(message), |rejected, message| {
            ExportLogsServiceResponse {
                partial_success: partial(
                    rejected,
                    message,
                    |rejected_log_records, error_message| ExportLogsPartialSuccess {
                        rejected_log_records,
                        error_message,
                    },
                ),
            }
        })
        .await
    }
}

/// Starts the gRPC server on `listener` until `stop` turns true.
///
/// tonic's services are served as an axum router by the receiver's own connection loop, so
/// gRPC gets the same limits as HTTP; a request body larger than `max_request_bytes` on the
/// wire is refused as HTTP refuses it, and `max_decompressed_bytes` bounds each message.
pub(super) fn serve(
    listener: TcpListener,
    state: Shared,
    config: &ReceiverConfig,
    refusals: Arc<Refusals>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<JoinHandle<()>> {
    let service = GrpcReceiver {
        state: Arc::clone(&state),
    };
    let limit = config.max_decompressed_bytes;
    let routes = Routes::new(
        TraceServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd)
            .max_decoding_message_size(limit),
    )
    .add_service(
        MetricsServiceServer::new(service.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd)
            .max_decoding_message_size(limit),
    )
    .add_service(
        LogsServiceServer::new(service)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd)
            .max_decoding_message_size(limit),
    );
    let tls = match &config.tls {
        Some(tls) => Some(serve::tls_acceptor(tls)?),
        None => None,
    };
    let server = serve::Server {
        router: routes.prepare().into_axum_router(),
        protocol: ReceivedOver::Grpc,
        limits: config.limits,
        tls,
        refusals,
        max_body_bytes: Some(config.max_request_bytes),
    };
    Ok(serve::spawn(listener, server, stop))
}
