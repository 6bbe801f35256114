//! OTLP/JSON: the protobuf messages in the JSON mapping the OTLP specification defines.
//!
//! The serde derives of `opentelemetry-proto` (feature `with-serde`) already follow the
//! specification's deviations from the proto3 JSON mapping: trace and span ids as hex strings,
//! lowerCamelCase keys, enums as integers, 64-bit integers as decimal strings. The tests in
//! `tests/json.rs` hold them to it field by field.

use bytes::Bytes;

use super::OtlpMessage;
use crate::{Error, ErrorKind};

/// Encodes a collector request message as OTLP/JSON.
pub fn to_json<M: OtlpMessage>(message: &M) -> Result<Bytes, Error> {
    serde_json::to_vec(message).map(Bytes::from).map_err(|e| {
        Error::new(
            ErrorKind::Encoding,
            format!("cannot encode {} request as JSON", M::SIGNAL),
        )
        .with_source(e)
    })
}

/// Decodes an OTLP/JSON collector request.
pub fn decode_json<M: OtlpMessage>(body: &[u8]) -> Result<M, Error> {
    serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Encoding,
            format!("invalid OTLP/JSON {} request: {e}", M::SIGNAL),
        )
        .with_source(e)
    })
}
