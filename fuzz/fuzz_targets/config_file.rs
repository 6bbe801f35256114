//! The config parser: any text as a TOML file, and as header and protocol values, must give
//! settings or an error naming the setting, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otlp_exporters::config::{parse_headers, parse_protocol, PipelineConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut config = PipelineConfig::default();
    let _ = config.apply_toml(text, "fuzz.toml");
    let _ = parse_headers("OTEL_EXPORTER_OTLP_HEADERS", text);
    let _ = parse_protocol("OTEL_EXPORTER_OTLP_PROTOCOL", text);
});
