//! The spool's settings.

use std::path::PathBuf;

/// Spool settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolConfig {
    /// The directory (created if missing). One spool at a time may use it.
    pub dir: PathBuf,
    /// The byte budget: the files in the directory never hold more (default 256 MiB). Past
    /// it, the oldest segment is evicted, at open and before every append.
    pub max_bytes: u64,
    /// Segment size before a new segment is started (default 8 MiB). Capped at a quarter of
    /// `max_bytes`, so that an eviction drops at most a quarter of what the budget holds.
    pub segment_bytes: u64,
    /// `fsync` every append before it returns (default true). Off trades crash safety for
    /// speed: a power cut (not a process crash) may then lose what the disk had not written.
    pub sync_every_append: bool,
}

impl SpoolConfig {
    /// A spool in `dir` with the defaults.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SpoolConfig {
            dir: dir.into(),
            max_bytes: 256 * 1024 * 1024,
            segment_bytes: 8 * 1024 * 1024,
            sync_every_append: true,
        }
    }

    /// Sets the byte budget.
    pub fn with_max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Sets the segment size.
    pub fn with_segment_bytes(mut self, bytes: u64) -> Self {
        self.segment_bytes = bytes;
        self
    }

    /// Sets whether every append is fsynced.
    pub fn with_sync_every_append(mut self, sync: bool) -> Self {
        self.sync_every_append = sync;
        self
    }

    /// The segment size in effect: `segment_bytes`, at most a quarter of `max_bytes`.
    pub fn effective_segment_bytes(&self) -> u64 {
        self.segment_bytes.min((self.max_bytes / 4).max(1))
    }
}
