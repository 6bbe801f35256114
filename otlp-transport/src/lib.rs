//! gRPC and HTTP transports as tower Services, and an embeddable OTLP receiver.
//!
//! Part of the otlp-* family (see the workspace README). This crate is not built yet: it holds
//! no public API so far, and nothing depends on it.
