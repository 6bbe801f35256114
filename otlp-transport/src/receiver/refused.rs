//! One refused request, as the receiver's `on_refuse` callback sees it: the protocol, the
//! signal when known, the status sent back and the reason, and the request's headers.

use std::sync::Arc;

use otlp_core::Signal;

use super::ReceivedOver;

/// A request the receiver answered with an error, and why.
///
/// `Debug` shows header names only: values may carry credentials.
#[derive(Clone)]
pub struct Refused {
    /// gRPC or HTTP.
    pub protocol: ReceivedOver,
    /// The signal of the request, when the path said it.
    pub signal: Option<Signal>,
    /// The HTTP status sent back (for gRPC, the HTTP status the gRPC code stands for).
    pub http_status: u16,
    /// The gRPC code sent back, for gRPC requests.
    pub grpc_code: Option<tonic::Code>,
    /// What was wrong, as sent back to the client.
    pub reason: String,
    /// The request headers (gRPC metadata as headers).
    pub headers: ::http::HeaderMap,
}

impl std::fmt::Debug for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refused")
            .field("protocol", &self.protocol)
            .field("signal", &self.signal)
            .field("http_status", &self.http_status)
            .field("grpc_code", &self.grpc_code)
            .field("reason", &self.reason)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl std::fmt::Display for Refused {
    /// `HTTP 415 traces: unsupported content type ...` or `gRPC Unauthenticated logs: ...`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.protocol, self.grpc_code) {
            (ReceivedOver::Grpc, Some(code)) => write!(f, "gRPC {code:?}")?,
            _ => write!(f, "HTTP {}", self.http_status)?,
        }
        if let Some(signal) = self.signal {
            write!(f, " {}", signal.as_str())?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// A callback that sees every refused request.
pub type OnRefuse = Arc<dyn Fn(&Refused) + Send + Sync>;

/// The gRPC code that stands for an HTTP status, as the OTLP specification pairs them.
pub(crate) fn grpc_code_for(status: u16) -> tonic::Code {
    match status {
        400 => tonic::Code::InvalidArgument,
        401 => tonic::Code::Unauthenticated,
        403 => tonic::Code::PermissionDenied,
        404 => tonic::Code::NotFound,
        413 | 429 => tonic::Code::ResourceExhausted,
        503 | 502 => tonic::Code::Unavailable,
        504 => tonic::Code::DeadlineExceeded,
        _ => tonic::Code::Unknown,
    }
}

/// The HTTP status a gRPC code stands for.
pub(crate) fn http_status_for(code: tonic::Code) -> u16 {
    match code {
        tonic::Code::InvalidArgument => 400,
        tonic::Code::Unauthenticated => 401,
        tonic::Code::PermissionDenied => 403,
        tonic::Code::NotFound => 404,
        tonic::Code::ResourceExhausted => 429,
        tonic::Code::Unavailable => 503,
        tonic::Code::DeadlineExceeded => 504,
        _ => 500,
    }
}
