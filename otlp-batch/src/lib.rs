//! Bounded queues, hybrid batching, SDK span and log processors, flush and shutdown with deadlines, a disk spool.
//!
//! Part of the otlp-* family (see the workspace README). This crate is not built yet: it holds
//! no public API so far, and nothing depends on it.
