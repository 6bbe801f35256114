//! [`OtlpPipeline`]: the builder that wires SDK providers, batch processors, the reliability
//! stack and the transports together (`builder.rs`), the start-up wiring (`start.rs`,
//! `providers.rs`, `health.rs`), and the handle it returns (`handle.rs`, `lifecycle.rs`).

mod builder;
mod handle;
mod health;
mod lifecycle;
mod per_signal;
mod providers;
mod start;

use otlp_core::InvalidSetting;

pub use builder::PipelineBuilder;
pub(crate) use handle::Exporting;
pub use handle::OtlpPipeline;
pub use lifecycle::ShutdownReport;
pub(crate) use per_signal::PerSignal;

/// Why a pipeline could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// A setting is invalid; the error names it and its value.
    Setting(InvalidSetting),
    /// The pipeline's runtime thread or a listener could not be started.
    Io(std::io::Error),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Setting(e) => write!(f, "{e}"),
            BuildError::Io(e) => write!(f, "cannot start the pipeline: {e}"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Setting(e) => Some(e),
            BuildError::Io(e) => Some(e),
        }
    }
}

impl From<InvalidSetting> for BuildError {
    fn from(e: InvalidSetting) -> Self {
        BuildError::Setting(e)
    }
}

impl From<std::io::Error> for BuildError {
    fn from(e: std::io::Error) -> Self {
        BuildError::Io(e)
    }
}
