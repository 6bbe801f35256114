//! Batch processor settings.

use std::time::Duration;

use otlp_core::InvalidSetting;

/// When a batch is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchStrategy {
    /// When `max_batch_size` items (or `max_batch_bytes`) are queued.
    Size,
    /// Every `scheduled_delay`, whatever is queued (in batches of at most `max_batch_size`).
    Time,
    /// Whichever comes first.
    #[default]
    Hybrid,
}

/// What happens to an item when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// The new item is dropped (and counted).
    #[default]
    DropNewest,
    /// The oldest queued item is dropped (and counted) to make room.
    DropOldest,
    /// The caller waits at most this long for room, then the new item is dropped.
    Block(Duration),
}

/// Settings of a batch processor. The defaults are the OpenTelemetry specification's for the
/// batch span processor (`OTEL_BSP_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchConfig {
    /// Items the queue holds at most.
    pub max_queue_size: usize,
    /// Items per batch at most.
    pub max_batch_size: usize,
    /// Estimated encoded bytes per batch at most (`None`: no byte limit).
    pub max_batch_bytes: Option<usize>,
    /// The delay between time-triggered exports.
    pub scheduled_delay: Duration,
    /// How long one export may take before it is abandoned and its items counted as failed.
    pub export_timeout: Duration,
    /// Exports in flight at once (default 1), unless the processor was given an
    /// [`ExportLimit`](crate::ExportLimit), which decides instead (an `OtlpPipeline` gives one:
    /// its `concurrency` setting). Above 1, batches may reach the collector in any order.
    pub max_concurrent_exports: usize,
    /// When batches are sent.
    pub strategy: BatchStrategy,
    /// What a full queue does.
    pub overflow: Overflow,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_queue_size: 2048,
            max_batch_size: 512,
            max_batch_bytes: None,
            scheduled_delay: Duration::from_secs(5),
            export_timeout: Duration::from_secs(30),
            max_concurrent_exports: 1,
            strategy: BatchStrategy::Hybrid,
            overflow: Overflow::DropNewest,
        }
    }
}

impl BatchConfig {
    /// The defaults of the batch log record processor (`OTEL_BLRP_*`): 1 s delay.
    pub fn logs_default() -> Self {
        BatchConfig {
            scheduled_delay: Duration::from_secs(1),
            ..BatchConfig::default()
        }
    }

    /// Sets the queue size.
    pub fn with_max_queue_size(mut self, size: usize) -> Self {
        self.max_queue_size = size;
        self
    }

    /// Sets the batch size.
    pub fn with_max_batch_size(mut self, size: usize) -> Self {
        self.max_batch_size = size;
        self
    }

    /// Sets the byte limit of a batch.
    pub fn with_max_batch_bytes(mut self, bytes: usize) -> Self {
        self.max_batch_bytes = Some(bytes);
        self
    }

    /// Sets the scheduled delay.
    pub fn with_scheduled_delay(mut self, delay: Duration) -> Self {
        self.scheduled_delay = delay;
        self
    }

    /// Sets the export timeout.
    pub fn with_export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
        self
    }

    /// Sets the number of concurrent exports.
    pub fn with_max_concurrent_exports(mut self, exports: usize) -> Self {
        self.max_concurrent_exports = exports;
        self
    }

    /// Sets the strategy.
    pub fn with_strategy(mut self, strategy: BatchStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets the overflow policy.
    pub fn with_overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// Checks the settings; each error names the setting and the value.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let positive = |name: &str, value: usize| {
            if value == 0 {
                Err(InvalidSetting::new(name, "0", "must be at least 1"))
            } else {
                Ok(())
            }
        };
        positive("batch.max_queue_size", self.max_queue_size)?;
        positive("batch.max_batch_size", self.max_batch_size)?;
        positive("batch.max_concurrent_exports", self.max_concurrent_exports)?;
        if let Some(bytes) = self.max_batch_bytes {
            positive("batch.max_batch_bytes", bytes)?;
        }
        if self.max_batch_size > self.max_queue_size {
            return Err(InvalidSetting::new(
                "batch.max_batch_size",
                self.max_batch_size.to_string(),
                format!(
                    "must not exceed batch.max_queue_size ({})",
                    self.max_queue_size
                ),
            ));
        }
        if self.scheduled_delay.is_zero() {
            return Err(InvalidSetting::new(
                "batch.scheduled_delay",
                "0s",
                "must be positive",
            ));
        }
        if self.export_timeout.is_zero() {
            return Err(InvalidSetting::new(
                "batch.export_timeout",
                "0s",
                "must be positive",
            ));
        }
        Ok(())
    }
}
