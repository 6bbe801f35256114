//! Batching for the otlp-* family: bounded queues, the SDK's span and log processors, flush
//! and shutdown with deadlines, and exact accounting of every item.
//!
//! Application threads only enqueue ([`BatchProcessor::push`], or the SDK processors'
//! `on_end` / `emit`); a worker on the pipeline's own runtime ([`PipelineRuntime`]) takes
//! batches on size, estimated bytes or time ([`BatchStrategy`]) and hands them to any
//! `tower::Service<Batch<T>>`, keeping up to `max_concurrent_exports` in flight, or as many as
//! the exporter's [`ExportLimit`] allows (batch order is then not kept). This crate
//! neither encodes nor sends: the service does (otlp-exporters wires one up).
//!
//! Nothing is lost silently: [`BatchStats`] always satisfies
//! `offered == exported + rejected + dropped + spooled + queued + in_flight`, each term counted
//! where it happens; failures are counted per [`Cause`].
//!
//! ```
//! use otlp_batch::{Batch, BatchConfig, BatchProcessor, PipelineRuntime};
//! use otlp_core::{BoxError, ExportOutcome};
//! use std::time::Duration;
//!
//! # struct Item; impl otlp_batch::BatchItem for Item { fn estimated_bytes(&self) -> usize { 100 } }
//! let runtime = PipelineRuntime::new("otlp-pipeline")?;
//! let exporter = tower::service_fn(|batch: Batch<Item>| async move {
//!     Ok::<_, BoxError>(ExportOutcome::accepted(batch.items.len()))
//! });
//! let processor = BatchProcessor::new(BatchConfig::default(), exporter, runtime.handle())?;
//! for _ in 0..1000 {
//!     processor.push(Item);
//! }
//! let report = processor.shutdown(Duration::from_secs(5));
//! assert!(report.completed);
//! assert_eq!(report.stats.exported, 1000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cause;
mod config;
mod processor;
mod progress;
mod queue;
mod runtime;
mod sdk;
pub mod spool;
mod stats;
mod worker;

pub use cause::{Cause, CauseCounters, FailureCauses};
pub use config::{BatchConfig, BatchStrategy, Overflow};
pub use processor::{Batch, BatchItem, BatchProcessor, ExportLimit, FlushReport};
pub use progress::Progress;
pub use runtime::PipelineRuntime;
pub use sdk::{BatchLogProcessor, BatchSpanProcessor, LogItem};
pub use stats::BatchStats;
