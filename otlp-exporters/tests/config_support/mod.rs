//! A `PipelineConfig` read from a given environment or configuration file, for the tests of
//! the environment variables and of the configuration file.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;

use otlp_exporters::config::PipelineConfig;

/// The configuration the variables `vars` (and nothing else of the process) give.
pub fn config(vars: &[(&str, &str)]) -> PipelineConfig {
    let env: HashMap<&str, &str> = vars.iter().copied().collect();
    let mut config = PipelineConfig::default();
    config.apply_env(&env).unwrap();
    config
}

/// The configuration the YAML `text` gives, with `vars` as the environment it substitutes from.
pub fn apply(text: &str, vars: &[(&str, &str)]) -> Result<PipelineConfig, String> {
    let env: HashMap<&str, &str> = vars.iter().copied().collect();
    let mut config = PipelineConfig::default();
    config
        .apply_yaml(text, "otel.yaml", &env)
        .map_err(|e| e.to_string())?;
    Ok(config)
}
