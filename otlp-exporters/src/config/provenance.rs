//! Where each setting came from, and the warnings met while reading the environment and
//! the file: the raw material of the startup report.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Where a value in effect came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Nobody set it: the specification's (or the project's) default.
    Default,
    /// The configuration file (`OTEL_CONFIG_FILE` or `with_config_file`).
    File,
    /// An `OTEL_*` environment variable.
    Environment,
    /// The code, through the builder.
    Code,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Environment => "environment",
            Source::Code => "code",
        })
    }
}

/// The sources of the settings that were set, by report key, and the warnings so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provenance {
    sources: BTreeMap<String, Source>,
    warnings: Vec<String>,
    file: Option<String>,
}

impl Provenance {
    /// Records that `key` was set from `source`.
    pub fn set(&mut self, key: impl Into<String>, source: Source) {
        self.sources.insert(key.into(), source);
    }

    /// The source recorded for `key`.
    pub fn get(&self, key: &str) -> Option<Source> {
        self.sources.get(key).copied()
    }

    /// Records a warning (already logged through `tracing` by whoever found it).
    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// Every warning, in the order met.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Records the configuration file that was read.
    pub fn set_file(&mut self, path: impl Into<String>) {
        self.file = Some(path.into());
    }

    /// The configuration file that was read, if any.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }
}
