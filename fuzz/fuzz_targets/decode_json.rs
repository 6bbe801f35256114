//! The receiver's OTLP/JSON decoding: any bytes, for every signal, must give a request or an
//! error, never a panic; what decodes must encode again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otlp_core::encode::{decode_json, to_json};
use otlp_core::proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_core::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = decode_json::<ExportTraceServiceRequest>(data) {
        let _ = to_json(&request);
    }
    if let Ok(request) = decode_json::<ExportMetricsServiceRequest>(data) {
        let _ = to_json(&request);
    }
    if let Ok(request) = decode_json::<ExportLogsServiceRequest>(data) {
        let _ = to_json(&request);
    }
});
