//! Reading a segment back at open: every whole record that is not acknowledged, whatever
//! damage lies between them.
//!
//! Damaged bytes in the middle of a segment are skipped and counted, and stay in the file (it
//! is sealed and will be removed whole once its records are acknowledged); only a tail that
//! holds no whole record (a torn last write) is cut off.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::Path;
use std::time::SystemTime;

use super::record;
use super::segment::{self, Entry, Segment, State, ACK_SIZE};
use super::storage::Storage;

/// A segment read back, and what reading it found.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub(crate) segment: Segment,
    /// The highest record id in the file, acknowledged or not.
    pub(crate) max_id: Option<u64>,
    /// Bytes that are not part of a whole record.
    pub(crate) skipped: u64,
}

/// Reads segment `number` of `dir`.
pub(crate) fn recover(storage: &dyn Storage, dir: &Path, number: u64) -> io::Result<Recovered> {
    let seg_path = segment::path(dir, number, "seg");
    let ack_path = segment::path(dir, number, "ack");
    let data = storage.read(&seg_path)?;
    let (acked, acks) = match storage.read(&ack_path) {
        Ok(ids) => {
            let length = ids.len() as u64 / ACK_SIZE * ACK_SIZE;
            let acked: HashSet<u64> = segment::read_acks(&ids).collect();
            (acked, Some((storage.open(&ack_path, false)?, length)))
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => (HashSet::new(), None),
        Err(error) => return Err(error),
    };
    let scan = record::scan(&data);
    let now = SystemTime::now();
    let mut entries = BTreeMap::new();
    for (offset, header) in &scan.records {
        if !acked.contains(&header.id) {
            entries.insert(
                header.id,
                Entry {
                    offset: *offset,
                    size: header.size,
                    items: header.items,
                    written_at: header.written_at.unwrap_or(now),
                    state: State::Waiting,
                },
            );
        }
    }
    let mut file = storage.open(&seg_path, false)?;
    let mut length = data.len() as u64;
    if scan.skipped > 0 {
        tracing::warn!(
            segment = %seg_path.display(),
            skipped_bytes = scan.skipped,
            whole_records = scan.records.len(),
            "spool: damaged or torn bytes skipped; every whole record after them is kept"
        );
    }
    if scan.end < length
        && file
            .set_len(scan.end)
            .and_then(|()| file.sync_data())
            .is_ok()
    {
        length = scan.end;
    }
    let (acks, acks_length) = match acks {
        Some((file, length)) => (Some(file), length),
        None => (None, 0),
    };
    Ok(Recovered {
        segment: Segment {
            number,
            file,
            length,
            sealed: true,
            entries,
            acks,
            acks_length,
        },
        max_id: scan.records.iter().map(|(_, h)| h.id).max(),
        skipped: scan.skipped,
    })
}
