//! Helpers shared by the demo binaries: where telemetry goes, the command line, trace
//! context propagation over HTTP headers, printing what arrived, and a local viewer of it.
//!
//! Nothing here is library logic a user needs: the demos show how to use the otlp-* crates,
//! and these helpers keep each demo about its own subject.

pub mod balanced_http;
pub mod cli;
pub mod propagation;
pub mod registry;
pub mod target;
pub mod viewer;
pub mod waterfall;
