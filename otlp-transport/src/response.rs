//! Reading the collector's answer: partial success, `Retry-After`, `google.rpc.Status` bodies.

use std::time::{Duration, SystemTime};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use otlp_core::{Encoding, Error, ErrorKind, ExportOutcome, Signal, MAX_RETRY_AFTER};
use prost::Message;

/// The outcome of a successful export of `items` items, from the response body.
///
/// An empty body (allowed by the spec) means everything was accepted.
pub(crate) fn outcome(
    signal: Signal,
    encoding: Encoding,
    items: usize,
    body: &[u8],
) -> Result<ExportOutcome, Error> {
    if body.is_empty() {
        return Ok(ExportOutcome::accepted(items));
    }
    let (rejected, message) = match encoding {
        Encoding::Protobuf => partial_success_protobuf(signal, body).map_err(|e| e.to_string()),
        Encoding::Json => partial_success_json(signal, body).map_err(|e| e.to_string()),
    }
    .map_err(|e| {
        Error::new(
            ErrorKind::Encoding,
            format!("cannot decode the collector's {signal} response: {e}"),
        )
    })?;
    let rejected = usize::try_from(rejected.max(0)).unwrap_or(usize::MAX);
    Ok(ExportOutcome::partial(items, rejected, message))
}

fn partial_success_protobuf(
    signal: Signal,
    body: &[u8],
) -> Result<(i64, String), prost::DecodeError> {
    Ok(match signal {
        Signal::Traces => ExportTraceServiceResponse::decode(body)?
            .partial_success
            .map(|p| (p.rejected_spans, p.error_message)),
        Signal::Metrics => ExportMetricsServiceResponse::decode(body)?
            .partial_success
            .map(|p| (p.rejected_data_points, p.error_message)),
        Signal::Logs => ExportLogsServiceResponse::decode(body)?
            .partial_success
            .map(|p| (p.rejected_log_records, p.error_message)),
    }
    .unwrap_or_default())
}

/// Reads `partialSuccess` from an OTLP/JSON response by hand: the count is an int64, which
/// OTLP/JSON writes as a string (`"rejectedSpans": "3"`) but some senders write as a number, and
/// `opentelemetry-proto`'s serde mapping of the response types accepts only the latter.
fn partial_success_json(signal: Signal, body: &[u8]) -> Result<(i64, String), serde_json::Error> {
    let document: serde_json::Value = serde_json::from_slice(body)?;
    let Some(partial) = document.get("partialSuccess") else {
        return Ok((0, String::new()));
    };
    let field = match signal {
        Signal::Traces => "rejectedSpans",
        Signal::Metrics => "rejectedDataPoints",
        Signal::Logs => "rejectedLogRecords",
    };
    let rejected = match partial.get(field) {
        Some(serde_json::Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    };
    let message = partial
        .get("errorMessage")
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_owned();
    Ok((rejected, message))
}

/// The OTLP/JSON body of a response: `{}` or a `partialSuccess` with the count as a string.
#[cfg(feature = "receiver")]
pub(crate) fn response_json(signal: Signal, rejected: i64, message: &str) -> Vec<u8> {
    if rejected == 0 && message.is_empty() {
        return b"{}".to_vec();
    }
    let field = match signal {
        Signal::Traces => "rejectedSpans",
        Signal::Metrics => "rejectedDataPoints",
        Signal::Logs => "rejectedLogRecords",
    };
    serde_json::json!({"partialSuccess": {field: rejected.to_string(), "errorMessage": message}})
        .to_string()
        .into_bytes()
}

/// Parses an HTTP `Retry-After` value: delay-seconds or an HTTP date (relative to `now`).
///
/// The delay is cut to [`MAX_RETRY_AFTER`]: the value comes from the network, and a collector
/// answering `Retry-After: 18446744073709551615` must not park (or overflow) the retry timer.
/// A number too large for `u64` counts as that maximum; a date in the past as no delay.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

/// The message of an HTTP error body: a `google.rpc.Status` (protobuf or JSON) when it is one,
/// otherwise the start of the body as text.
pub(crate) fn error_message(encoding: Encoding, body: &[u8]) -> String {
    let status = match encoding {
        Encoding::Protobuf => tonic_types::Status::decode(body).ok(),
        Encoding::Json => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .and_then(|m| m.as_str())
                    .map(|m| tonic_types::Status {
                        message: m.to_owned(),
                        ..Default::default()
                    })
            }),
    };
    match status {
        Some(status) if !status.message.is_empty() => shorten(&status.message),
        _ => shorten(&String::from_utf8_lossy(body)),
    }
}

/// The first 200 characters of `text`: a collector's message ends up in logs and errors, and
/// must not make them as large as a response body may be.
fn shorten(text: &str) -> String {
    let text = text.trim();
    let mut short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess;

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn extreme_retry_after_values_are_capped_not_panicking() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for huge in [
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999999999999",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            assert_eq!(
                parse_retry_after(huge, now),
                Some(MAX_RETRY_AFTER),
                "{huge}"
            );
        }
        for garbage in [
            "-1",
            "+5",
            "1.5",
            "",
            " ",
            "0x10",
            "Thu, 01 Jan 1970 00:00:00 GMT x",
        ] {
            assert_eq!(parse_retry_after(garbage, now), None, "{garbage:?}");
        }
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn partial_success_is_read_from_protobuf_and_json() {
        let response = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 2,
                error_message: "too old".into(),
            }),
        };
        let outcome = outcome(
            Signal::Traces,
            Encoding::Protobuf,
            5,
            &response.encode_to_vec(),
        )
        .unwrap();
        assert_eq!((outcome.accepted, outcome.rejected), (3, 2));
        let json = br#"{"partialSuccess":{"rejectedSpans":"1","errorMessage":"x"}}"#;
        let outcome = super::outcome(Signal::Traces, Encoding::Json, 5, json).unwrap();
        assert_eq!(outcome.rejected, 1);
        let json = br#"{"partialSuccess":{"rejectedLogRecords":2}}"#;
        assert_eq!(
            super::outcome(Signal::Logs, Encoding::Json, 5, json)
                .unwrap()
                .rejected,
            2
        );
        let ours = response_json(Signal::Metrics, 4, "stale");
        let outcome = super::outcome(Signal::Metrics, Encoding::Json, 5, &ours).unwrap();
        assert_eq!(
            (outcome.rejected, outcome.message.as_deref()),
            (4, Some("stale"))
        );
        assert_eq!(
            super::outcome(Signal::Logs, Encoding::Json, 4, b"")
                .unwrap()
                .accepted,
            4
        );
    }

    #[test]
    fn error_bodies_give_their_message() {
        let status = tonic_types::Status {
            code: 3,
            message: "bad span".into(),
            details: vec![],
        };
        assert_eq!(
            error_message(Encoding::Protobuf, &status.encode_to_vec()),
            "bad span"
        );
        assert_eq!(
            error_message(Encoding::Json, br#"{"code":3,"message":"bad"}"#),
            "bad"
        );
        assert_eq!(error_message(Encoding::Json, b"plain text"), "plain text");
    }
}
