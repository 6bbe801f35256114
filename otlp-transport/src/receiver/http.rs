//! The receiver's HTTP server: `POST /v1/{traces,metrics,logs}`, protobuf or JSON, gzip or
//! zstd, with the size limits enforced before and during decompression.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use otlp_core::encode::decode;
use otlp_core::{Encoding, Signal};
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::refusals::Refusals;
use super::refused::{grpc_code_for, Refused};
use super::serve;
use super::state::{Answer, Shared};
use super::{Received, ReceivedOver, ReceiverConfig};
use crate::response::response_json;
use otlp_core::Telemetry;

#[derive(Clone)]
struct HttpState {
    shared: Shared,
    max_decompressed_bytes: usize,
}

/// Starts the HTTP server on `listener` until `stop` turns true.
pub(super) fn serve(
    listener: TcpListener,
    shared: Shared,
    config: &ReceiverConfig,
    refusals: Arc<Refusals>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<JoinHandle<()>> {
    let state = HttpState {
        shared,
        max_decompressed_bytes: config.max_decompressed_bytes,
    };
    let router = Router::new()
        .route(
            "/v1/traces",
            post(|s, h, b| export(s, h, b, Signal::Traces)),
        )
        .route(
            "/v1/metrics",
            post(|s, h, b| export(s, h, b, Signal::Metrics)),
        )
        .route("/v1/logs", post(|s, h, b| export(s, h, b, Signal::Logs)))
        .fallback(unknown_path)
        .layer(DefaultBodyLimit::max(config.max_request_bytes))
        .with_state(state);
    let tls = match &config.tls {
        Some(tls) => Some(serve::tls_acceptor(tls)?),
        None => None,
    };
    let server = serve::Server {
        router,
        protocol: ReceivedOver::Http,
        limits: config.limits,
        tls,
        refusals,
        max_body_bytes: None,
    };
    Ok(serve::spawn(listener, server, stop))
}

/// Counts the refusal, tells the callback, and answers `status` with `reason`.
fn refuse(
    state: &HttpState,
    signal: Option<Signal>,
    headers: &HeaderMap,
    encoding: Encoding,
    status: StatusCode,
    reason: &str,
) -> Response {
    state.shared.refused(Refused {
        protocol: ReceivedOver::Http,
        signal,
        http_status: status.as_u16(),
        grpc_code: None,
        reason: reason.to_owned(),
        headers: headers.clone(),
    });
    error_response(encoding, status, reason, None)
}

async fn unknown_path(
    State(state): State<HttpState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let reason = format!(
        "no OTLP endpoint at {}; use /v1/traces, /v1/metrics or /v1/logs",
        uri.path()
    );
    refuse(
        &state,
        None,
        &headers,
        Encoding::Protobuf,
        StatusCode::NOT_FOUND,
        &reason,
    )
}

async fn export(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    signal: Signal,
) -> Response {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let encoding = if content_type.starts_with("application/x-protobuf") {
        Encoding::Protobuf
    } else if content_type.starts_with("application/json") {
        Encoding::Json
    } else {
        return refuse(
            &state,
            Some(signal),
            &headers,
            Encoding::Protobuf,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("unsupported content type {content_type:?}; use application/x-protobuf or application/json"),
        );
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let reason = match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => {
                    "request body larger than the receiver's limit".to_owned()
                }
                _ => rejection.body_text(),
            };
            return refuse(
                &state,
                Some(signal),
                &headers,
                encoding,
                rejection.status(),
                &reason,
            );
        }
    };
    let compression = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| v != "identity");
    let body = match decompress(compression.as_deref(), &body, state.max_decompressed_bytes) {
        Ok(body) => body,
        Err((status, message)) => {
            return refuse(&state, Some(signal), &headers, encoding, status, &message);
        }
    };
    let payload = match signal {
        Signal::Traces => {
            decode::<ExportTraceServiceRequest>(encoding, &body).map(Telemetry::Traces)
        }
        Signal::Metrics => {
            decode::<ExportMetricsServiceRequest>(encoding, &body).map(Telemetry::Metrics)
        }
        Signal::Logs => decode::<ExportLogsServiceRequest>(encoding, &body).map(Telemetry::Logs),
    };
    let payload = match payload {
        Ok(payload) => payload,
        Err(error) => {
            let reason = error.to_string();
            return refuse(
                &state,
                Some(signal),
                &headers,
                encoding,
                StatusCode::BAD_REQUEST,
                &reason,
            );
        }
    };
    let received = Received {
        protocol: ReceivedOver::Http,
        encoding,
        compression,
        headers,
        payload,
    };
    match state.shared.handle(received).await {
        Answer::Accept { rejected, message } => {
            success_response(signal, encoding, rejected, message)
        }
        Answer::Fail {
            http,
            message,
            retry_after,
            retry_after_as_date,
            ..
        } => {
            let status = StatusCode::from_u16(http).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let retry_after = retry_after.map(|delay| {
                if retry_after_as_date {
                    httpdate::fmt_http_date(SystemTime::now() + delay + Duration::from_secs(1))
                } else {
                    delay.as_secs_f64().ceil().to_string()
                }
            });
            error_response(encoding, status, &message, retry_after)
        }
    }
}

/// Inflates the body, refusing it as soon as it grows past `limit` (a gzip bomb never gets
/// further than `limit` bytes).
fn decompress(
    encoding: Option<&str>,
    body: &Bytes,
    limit: usize,
) -> Result<Bytes, (StatusCode, String)> {
    let reader: Box<dyn Read + '_> = match encoding {
        None => {
            if body.len() > limit {
                return Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request larger than {limit} bytes"),
                ));
            }
            return Ok(body.clone());
        }
        Some("gzip") => Box::new(flate2::read::GzDecoder::new(&body[..])),
        Some("zstd") => Box::new(
            zstd::stream::read::Decoder::new(&body[..])
                .map_err(|e| (StatusCode::BAD_REQUEST, format!("invalid zstd body: {e}")))?,
        ),
        Some(other) => {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported content encoding {other:?}; use gzip or zstd"),
            ))
        }
    };
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let read = reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            (
                StatusCode::BAD_REQUEST,
                format!("invalid compressed body: {e}"),
            )
        })?;
    if read > limit {
        return Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request larger than {limit} bytes once decompressed"),
        ));
    }
    Ok(Bytes::from(out))
}

fn success_response(
    signal: Signal,
    encoding: Encoding,
    rejected: i64,
    message: String,
) -> Response {
    let partial = rejected != 0 || !message.is_empty();
    let body = match (encoding, signal) {
        (Encoding::Json, _) => response_json(signal, rejected, &message),
        (Encoding::Protobuf, Signal::Traces) => ExportTraceServiceResponse {
            partial_success: partial.then_some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: message,
            }),
        }
        .encode_to_vec(),
        (Encoding::Protobuf, Signal::Metrics) => ExportMetricsServiceResponse {
            partial_success: partial.then_some(ExportMetricsPartialSuccess {
                rejected_data_points: rejected,
                error_message: message,
            }),
        }
        .encode_to_vec(),
        (Encoding::Protobuf, Signal::Logs) => ExportLogsServiceResponse {
            partial_success: partial.then_some(ExportLogsPartialSuccess {
                rejected_log_records: rejected,
                error_message: message,
            }),
        }
        .encode_to_vec(),
    };
    (
        StatusCode::OK,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static(encoding.content_type()),
        )],
        body,
    )
        .into_response()
}

fn error_response(
    encoding: Encoding,
    status: StatusCode,
    message: &str,
    retry_after: Option<String>,
) -> Response {
    let rpc_status = tonic_types::Status {
        code: grpc_code_for(status.as_u16()) as i32,
        message: message.to_owned(),
        details: Vec::new(),
    };
    let body = match encoding {
        Encoding::Protobuf => rpc_status.encode_to_vec(),
        Encoding::Json => serde_json::json!({"code": rpc_status.code, "message": message})
            .to_string()
            .into_bytes(),
    };
    let mut response = (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static(encoding.content_type()),
        )],
        body,
    )
        .into_response();
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}
