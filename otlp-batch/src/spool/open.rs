//! Opening a spool: the settings checked, the directory created and locked, and what a previous
//! run left read back segment by segment (orphaned acknowledgments removed, damage counted, the
//! byte budget applied).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use otlp_core::InvalidSetting;
use parking_lot::Mutex;

use super::lock::{DirLock, LockError};
use super::record::RECORD_OVERHEAD;
use super::segment::{self, ACK_SIZE};
use super::storage::{OsStorage, Storage};
use super::{recover, Inner, Spool, SpoolConfig};

fn setting_error(config: &SpoolConfig, why: String) -> InvalidSetting {
    InvalidSetting::new("spool.dir", config.dir.display().to_string(), why)
}

impl Spool {
    /// Opens (or creates) the spool, reading back what a previous run left. Records not
    /// acknowledged then are waiting for a replay ([`Spool::take_waiting`]). Fails when another
    /// spool has the directory open.
    pub fn open(config: SpoolConfig) -> Result<Spool, InvalidSetting> {
        Spool::open_with(config, Arc::new(OsStorage))
    }

    /// [`Spool::open`] over another file layer (tests inject faults through one).
    pub fn open_with(
        config: SpoolConfig,
        storage: Arc<dyn Storage>,
    ) -> Result<Spool, InvalidSetting> {
        let minimum = (RECORD_OVERHEAD as u64 + ACK_SIZE) * 4;
        if config.max_bytes < minimum {
            return Err(InvalidSetting::new(
                "spool.max_bytes",
                config.max_bytes.to_string(),
                format!("must be at least {minimum}"),
            ));
        }
        if config.segment_bytes == 0 {
            return Err(InvalidSetting::new(
                "spool.segment_bytes",
                "0",
                "must be positive",
            ));
        }
        let dir = config.dir.clone();
        storage
            .create_dir_all(&dir)
            .map_err(|e| setting_error(&config, format!("cannot create it: {e}")))?;
        let lock = DirLock::acquire(&dir).map_err(|e| match e {
            LockError::InUse => setting_error(
                &config,
                "in use: another spool, in this process or another, has it open".to_string(),
            ),
            LockError::Io(e) => setting_error(&config, format!("cannot lock it: {e}")),
        })?;
        let names = storage
            .list(&dir)
            .map_err(|e| setting_error(&config, format!("cannot list it: {e}")))?;
        let numbered = |extension: &str| -> Vec<u64> {
            let mut numbers: Vec<u64> = names
                .iter()
                .filter_map(|name| name.strip_suffix(extension)?.parse().ok())
                .collect();
            numbers.sort_unstable();
            numbers
        };
        let segments = numbered(".seg");
        let acks = numbered(".ack");
        let spool = Spool {
            storage,
            inner: Mutex::new(Inner {
                segments: VecDeque::new(),
                next_id: 1,
                next_segment: segments.iter().chain(&acks).max().map_or(1, |n| n + 1),
                evicted_in_flight: HashMap::new(),
            }),
            appended: AtomicU64::new(0),
            acknowledged: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            evicted_items: AtomicU64::new(0),
            corrupt_bytes: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            _lock: lock,
            config,
        };
        for orphan in acks.iter().filter(|n| !segments.contains(n)) {
            let _ = spool.storage.remove(&segment::path(&dir, *orphan, "ack"));
        }
        let mut inner = spool.inner.lock();
        for number in segments {
            let recovered =
                recover::recover(spool.storage.as_ref(), &dir, number).map_err(|e| {
                    let path = segment::path(&dir, number, "seg");
                    setting_error(
                        &spool.config,
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
            spool
                .corrupt_bytes
                .fetch_add(recovered.skipped, Ordering::Relaxed);
            if let Some(max) = recovered.max_id {
                inner.next_id = inner.next_id.max(max + 1);
            }
            if recovered.segment.entries.is_empty() {
                spool.remove_segment(&recovered.segment);
            } else {
                inner.segments.push_back(recovered.segment);
            }
        }
        spool.make_room(&mut inner, 0);
        drop(inner);
        Ok(spool)
    }
}
