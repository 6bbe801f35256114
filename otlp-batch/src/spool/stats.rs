//! The spool's numbers.

use std::time::Duration;

/// The spool's numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Requests appended since open.
    pub appended: u64,
    /// Requests acknowledged since open (delivered, or refused for good).
    pub acknowledged: u64,
    /// Requests not acknowledged yet (in flight or waiting for a replay).
    pub pending: u64,
    /// Items of the pending requests.
    pub pending_items: u64,
    /// Requests dropped by the byte budget that were never delivered.
    pub evicted: u64,
    /// Items of the evicted requests.
    pub evicted_items: u64,
    /// Bytes of damaged or torn records skipped at open (or found damaged at a replay).
    pub corrupt_bytes: u64,
    /// Appends and acknowledgments that failed (disk full, I/O error, failed fsync).
    pub write_errors: u64,
    /// Bytes on disk (segments and acknowledgment files).
    pub bytes: u64,
    /// How long the oldest pending request has waited since it was appended: the one number
    /// to watch during an outage. `None` when nothing is pending.
    pub oldest_pending_age: Option<Duration>,
}
