//! tonic statuses to otlp-core errors, per the OTLP specification.

use otlp_core::{Error, ErrorKind};
use std::time::Duration;

use prost::Message;
use tonic::Code;

use crate::tls::find_tls_failure;

/// Maps a failed gRPC call to an [`Error`].
///
/// A failure to reach the server (refused connection, DNS) is `Connect`; a TLS failure found in
/// the chain is a permanent `Tls` error naming the cause; otherwise the status code decides,
/// with the delay of a `google.rpc.RetryInfo` detail kept.
pub(crate) fn error_from_status(status: tonic::Status, max_response_bytes: usize) -> Error {
    let retry_info = retry_delay(status.details());
    // tonic refuses an answer over the decoding limit with a local OUT_OF_RANGE, which the
    // specification would retry; the collector has answered, so the data may be in.
    if status.code() == Code::OutOfRange
        && status
            .message()
            .starts_with("Error, decoded message length too large")
    {
        let message = format!(
            "the collector's answer is larger than max_response_bytes ({max_response_bytes} \
             bytes); raise max_response_bytes to read it"
        );
        return Error::new(ErrorKind::Encoding, message).with_source(status);
    }
    let source = std::error::Error::source(&status);
    if let Some(tls) = source.and_then(find_tls_failure) {
        return Error::new(ErrorKind::Tls, format!("TLS handshake failed: {tls}"))
            .with_source(status);
    }
    if source.is_some_and(chain_has_timeout) {
        let message = "no answer within the gRPC timeout";
        return Error::new(ErrorKind::Timeout, message).with_source(status);
    }
    // A status with a source was made on this side from a transport failure (statuses sent by
    // the server carry none): UNAVAILABLE means the connection could not be made, anything else
    // that it broke while the request was on the wire. Both are worth retrying.
    if source.is_some() {
        let (kind, what) = match status.code() {
            Code::Unavailable => (ErrorKind::Connect, "cannot reach the collector"),
            _ => (ErrorKind::Transport, "the connection failed"),
        };
        let message = format!("{what}: {}", describe_chain(&status));
        return Error::new(kind, message).with_source(status);
    }
    let message = status.message().to_owned();
    Error::from_grpc_code(status.code() as i32, message, retry_info).with_source(status)
}

/// The delay of the first `google.rpc.RetryInfo` in a `grpc-status-details-bin` value.
///
/// Read by hand rather than with `tonic_types`' `StatusExt`: its conversion of the protobuf
/// `Duration` negates `i64::MIN` seconds, which panics (debug) or wraps (release) on a value any
/// server can send. Here a negative delay is none, nanoseconds are clamped, and the sum
/// saturates; `Error::from_grpc_code` then cuts it to `MAX_RETRY_AFTER`.
fn retry_delay(details: &[u8]) -> Option<Duration> {
    const RETRY_INFO: &str = "type.googleapis.com/google.rpc.RetryInfo";
    if details.is_empty() {
        return None;
    }
    let status = tonic_types::Status::decode(details).ok()?;
    let any = status
        .details
        .iter()
        .find(|any| any.type_url == RETRY_INFO)?;
    let delay = tonic_types::pb::RetryInfo::decode(any.value.as_slice())
        .ok()?
        .retry_delay?;
    let seconds = u64::try_from(delay.seconds).unwrap_or(0);
    let nanos = u64::try_from(delay.nanos.clamp(0, 999_999_999)).unwrap_or(0);
    if delay.seconds < 0 {
        return Some(Duration::ZERO);
    }
    Some(Duration::from_secs(seconds).saturating_add(Duration::from_nanos(nanos)))
}

fn chain_has_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(err) = current {
        if err.is::<tonic::TimeoutExpired>() {
            return true;
        }
        current = err.source();
    }
    false
}

fn describe_chain(status: &tonic::Status) -> String {
    let mut parts = Vec::new();
    let mut current = std::error::Error::source(status);
    while let Some(err) = current {
        let text = err.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        current = err.source();
    }
    if parts.is_empty() {
        status.message().to_owned()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, StatusExt};

    #[test]
    fn every_code_maps_as_the_specification_says() {
        let retryable = [
            Code::Cancelled,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::Unavailable,
            Code::DataLoss,
        ];
        for n in 0..=16 {
            let code = Code::from(n);
            if code == Code::Ok {
                continue;
            }
            let error = error_from_status(tonic::Status::new(code, "x"), 1);
            assert_eq!(error.is_retryable(), retryable.contains(&code), "{code:?}");
        }
    }

    #[test]
    fn resource_exhausted_is_retryable_only_with_retry_info() {
        let plain = error_from_status(tonic::Status::resource_exhausted("quota"), 1);
        assert!(!plain.is_retryable());
        let details = ErrorDetails::with_retry_info(Some(Duration::from_millis(1500)));
        let status =
            tonic::Status::with_error_details(Code::ResourceExhausted, "slow down", details);
        let error = error_from_status(status, 1);
        assert_eq!(error.kind(), ErrorKind::Throttled);
        assert_eq!(error.retry_after(), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn an_answer_over_the_decoding_limit_names_the_setting_and_is_not_retried() {
        let status = tonic::Status::out_of_range(
            "Error, decoded message length too large: found 9000 bytes, the limit is: 1024 bytes",
        );
        let error = error_from_status(status, 1024);
        assert_eq!(error.kind(), ErrorKind::Encoding);
        assert!(
            error.to_string().contains("max_response_bytes (1024"),
            "{error}"
        );
        // A server's own OUT_OF_RANGE stays what the specification says: retryable.
        let error = error_from_status(tonic::Status::out_of_range("seek past end"), 1024);
        assert!(error.is_retryable());
    }
}
