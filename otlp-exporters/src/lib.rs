//! The pipeline builder users wire up: configuration from code, environment and file, SDK exporter implementations.
//!
//! Part of the otlp-* family (see the workspace README). This crate is not built yet: it holds
//! no public API so far, and nothing depends on it.
