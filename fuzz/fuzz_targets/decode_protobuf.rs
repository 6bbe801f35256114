//! The receiver's protobuf decoding: any bytes, for every signal, must give a request or an
//! error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otlp_core::encode::decode;
use otlp_core::proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_core::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_core::Encoding;

fuzz_target!(|data: &[u8]| {
    let _ = decode::<ExportTraceServiceRequest>(Encoding::Protobuf, data);
    let _ = decode::<ExportMetricsServiceRequest>(Encoding::Protobuf, data);
    let _ = decode::<ExportLogsServiceRequest>(Encoding::Protobuf, data);
});
