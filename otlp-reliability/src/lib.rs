//! Reliability layers for the otlp-* family, as generic tower `Layer`s: retry, circuit
//! breaker, adaptive concurrency limit, per-attempt timeout (tower's), bulkhead, and health
//! checks.
//!
//! The layers know nothing of OTLP wire details. What a failure means reaches them through
//! [`Classify`]; [`OtlpClassify`] plugs in otlp-core's classification, which follows the OTLP
//! specification. Local rejections (circuit open, bulkhead full, deadline passed) are
//! `otlp_core::Error`s of the matching `ErrorKind`, and never count as backend failures.
//!
//! The stack of the design, outermost first:
//!
//! ```
//! use otlp_reliability::{OtlpClassify, ReliabilityBuilderExt};
//! use otlp_reliability::adaptive_concurrency::ConcurrencyConfig;
//! use otlp_reliability::circuit_breaker::BreakerConfig;
//! use otlp_reliability::retry::RetryConfig;
//! use std::time::Duration;
//! use tower::ServiceBuilder;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), otlp_core::BoxError> {
//! use tower::ServiceExt;
//! let service = ServiceBuilder::new()
//!     .bulkhead(16, Duration::from_millis(50))?                       // max in flight, bounded wait
//!     .retry_with(RetryConfig::default(), OtlpClassify)?               // spec retries, jitter, budget, deadline
//!     .circuit_breaker("collector", BreakerConfig::default(), OtlpClassify)? // per endpoint
//!     .adaptive_concurrency(ConcurrencyConfig::default(), OtlpClassify)?   // AIMD per attempt
//!     .attempt_timeout(Duration::from_secs(10))                        // per attempt
//!     .service_fn(|request: u32| async move { Ok::<_, otlp_core::BoxError>(request * 2) });
//! assert_eq!(service.oneshot(21).await?, 42);
//! # Ok(()) }
//! ```

pub mod adaptive_concurrency;
mod builder;
pub mod bulkhead;
pub mod circuit_breaker;
mod classify;
pub mod health;
mod one_call;
pub mod retry;
pub mod timeout;

pub use builder::ReliabilityBuilderExt;
pub use classify::{Classify, Failure, Load, OtlpClassify};
