//! Re-encoding a stored request for another transport: protobuf and OTLP/JSON decode to the
//! same message, so a request kept in one encoding (a disk spool written while the protocol
//! was http/json) is sent in the other (after a restart with gRPC) rather than refused.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use super::{decode, encode_message, EncodeOptions, Encoded};
use crate::{Error, ExportRequest, Signal};

/// `request` in `options.encoding`, split to `options.max_request_bytes` (JSON is larger than
/// protobuf). A request already in that encoding comes back as it is.
pub fn reencode(request: &ExportRequest, options: &EncodeOptions) -> Result<Encoded, Error> {
    if request.encoding == options.encoding {
        return Ok(Encoded {
            requests: vec![request.clone()],
            too_large: 0,
        });
    }
    let (encoding, body) = (request.encoding, &request.body);
    match request.signal {
        Signal::Traces => encode_message(
            decode::<ExportTraceServiceRequest>(encoding, body)?,
            options,
        ),
        Signal::Metrics => encode_message(
            decode::<ExportMetricsServiceRequest>(encoding, body)?,
            options,
        ),
        Signal::Logs => {
            encode_message(decode::<ExportLogsServiceRequest>(encoding, body)?, options)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Encoding;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn spans() -> ExportTraceServiceRequest {
        let span = |n: u8| Span {
            trace_id: vec![n; 16],
            span_id: vec![n + 1; 8],
            name: format!("span-{n}"),
            start_time_unix_nano: 1_700_000_000_000_000_000 + u64::from(n),
            ..Default::default()
        };
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: (1..=5).map(span).collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn logs() -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        time_unix_nano: 42,
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("hello".into())),
                        }),
                        trace_id: vec![7; 16],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn round_trip<M: super::super::OtlpMessage + PartialEq + std::fmt::Debug>(message: M) {
        let json = EncodeOptions::default().with_encoding(Encoding::Json);
        let protobuf = EncodeOptions::default();
        let stored = encode_message(message.clone(), &json)
            .unwrap()
            .requests
            .remove(0);
        let sent = reencode(&stored, &protobuf).unwrap();
        assert_eq!(sent.requests.len(), 1);
        assert_eq!(sent.requests[0].encoding, Encoding::Protobuf);
        assert_eq!(sent.requests[0].items, stored.items);
        let decoded: M = decode(Encoding::Protobuf, &sent.requests[0].body).unwrap();
        assert_eq!(decoded, message, "JSON -> protobuf keeps the message");
        let back = reencode(&sent.requests[0], &json).unwrap();
        let decoded: M = decode(Encoding::Json, &back.requests[0].body).unwrap();
        assert_eq!(decoded, message, "protobuf -> JSON keeps the message");
    }

    #[test]
    fn json_and_protobuf_decode_to_the_same_message() {
        round_trip(spans());
        round_trip(logs());
    }

    #[test]
    fn a_request_in_the_wanted_encoding_is_left_alone_and_garbage_is_an_error() {
        let options = EncodeOptions::default();
        let stored = encode_message(spans(), &options)
            .unwrap()
            .requests
            .remove(0);
        assert_eq!(reencode(&stored, &options).unwrap().requests, vec![stored]);
        let garbage = ExportRequest::new(Signal::Logs, Encoding::Json, "{not json".into(), 1);
        assert!(reencode(&garbage, &options).is_err());
    }
}
