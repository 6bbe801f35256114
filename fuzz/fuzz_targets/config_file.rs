//! The config parser: any text as a declarative configuration file (YAML, with `${VAR}`
//! substitution), and as header and protocol values, must give settings or an error naming
//! the setting, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otlp_exporters::config::{parse_headers, parse_protocol, PipelineConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut config = PipelineConfig::default();
    let env: std::collections::HashMap<&str, &str> = [("SET", "1")].into_iter().collect();
    let _ = config.apply_yaml(text, "fuzz.yaml", &env);
    let _ = parse_headers("OTEL_EXPORTER_OTLP_HEADERS", text);
    let _ = parse_protocol("OTEL_EXPORTER_OTLP_PROTOCOL", text);
});
