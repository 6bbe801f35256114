//! One segment of the spool in memory: its file, its records not yet acknowledged, and its
//! acknowledgment file. Appends and acknowledgments are all-or-nothing.
//!
//! An append writes the record at the segment's last good length (a positioned write, never
//! `O_APPEND`, so a failed write can not shift the next one) and fsyncs it. On any error the
//! file is cut back to that length before the error returns. After a failed fsync the file's
//! state is unknown (the kernel may have dropped the dirty pages and marked them clean), so the
//! segment is sealed: it is never written or fsynced again as if that had worked, and the next
//! append starts a new segment.
//!
//! The acknowledgment file holds 12-byte entries (`id u64 | crc32(id) u32`) written at
//! multiples of 12, so a torn entry is recognised and ignored (its record is sent again: a
//! duplicate, never a loss).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::storage::{Storage, StorageFile};

/// Bytes of one acknowledgment entry.
pub(crate) const ACK_SIZE: u64 = 12;

/// Where a pending record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Being sent; not to be replayed.
    InFlight,
    /// Waiting for a replay.
    Waiting,
}

/// A record not acknowledged yet.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) offset: u64,
    pub(crate) size: usize,
    pub(crate) items: usize,
    pub(crate) written_at: SystemTime,
    pub(crate) state: State,
}

/// A segment file and what it holds.
#[derive(Debug)]
pub(crate) struct Segment {
    pub(crate) number: u64,
    pub(crate) file: Box<dyn StorageFile>,
    /// Bytes the file holds (after a write that could not be cut back: may hold).
    pub(crate) length: u64,
    /// Takes no more appends: a write or fsync failed, or it was read back at open.
    pub(crate) sealed: bool,
    /// Pending records by id (oldest first).
    pub(crate) entries: BTreeMap<u64, Entry>,
    pub(crate) acks: Option<Box<dyn StorageFile>>,
    pub(crate) acks_length: u64,
}

/// The path of segment `number`'s file with `extension` (`seg` or `ack`).
pub(crate) fn path(dir: &Path, number: u64, extension: &str) -> PathBuf {
    dir.join(format!("{number:08}.{extension}"))
}

/// An acknowledgment entry.
pub(crate) fn ack_entry(id: u64) -> [u8; ACK_SIZE as usize] {
    let mut entry = [0u8; ACK_SIZE as usize];
    entry[..8].copy_from_slice(&id.to_le_bytes());
    entry[8..].copy_from_slice(&crc32fast::hash(&id.to_le_bytes()).to_le_bytes());
    entry
}

/// The ids of the whole, valid entries of an acknowledgment file.
pub(crate) fn read_acks(data: &[u8]) -> impl Iterator<Item = u64> + '_ {
    data.chunks_exact(ACK_SIZE as usize).filter_map(|chunk| {
        let mut id = [0u8; 8];
        id.copy_from_slice(&chunk[..8]);
        let mut crc = [0u8; 4];
        crc.copy_from_slice(&chunk[8..]);
        (crc32fast::hash(&id) == u32::from_le_bytes(crc)).then_some(u64::from_le_bytes(id))
    })
}

impl Segment {
    /// Creates segment `number`'s file and makes its name durable.
    pub(crate) fn create(storage: &dyn Storage, dir: &Path, number: u64) -> io::Result<Segment> {
        let file_path = path(dir, number, "seg");
        let file = storage.open(&file_path, true)?;
        if let Err(error) = storage.sync_dir(dir) {
            let _ = storage.remove(&file_path);
            return Err(error);
        }
        Ok(Segment {
            number,
            file,
            length: 0,
            sealed: false,
            entries: BTreeMap::new(),
            acks: None,
            acks_length: 0,
        })
    }

    /// The bytes this segment holds or may come to hold: its files, and room for the
    /// acknowledgment of every pending record.
    pub(crate) fn reserved(&self) -> u64 {
        self.length + self.acks_length + ACK_SIZE * self.entries.len() as u64
    }

    /// Writes `record` at the end, all or nothing; returns its offset.
    pub(crate) fn append(&mut self, record: &[u8], sync: bool) -> io::Result<u64> {
        let offset = self.length;
        let mut failed_sync = false;
        let result = self.file.write_all_at(record, offset).and_then(|()| {
            if sync {
                failed_sync = true;
                self.file.sync_data()?;
                failed_sync = false;
            }
            Ok(())
        });
        let Err(error) = result else {
            self.length += record.len() as u64;
            return Ok(offset);
        };
        let cut = self.file.set_len(offset);
        if failed_sync || cut.is_err() {
            self.sealed = true;
        }
        if cut.is_err() {
            // What is there now is unknown; recovery skips a partial record.
            self.length = offset + record.len() as u64;
        }
        let what = if failed_sync {
            "cannot fsync a record (segment sealed)"
        } else {
            "cannot write a record"
        };
        Err(io::Error::new(error.kind(), format!("{what}: {error}")))
    }

    /// Writes an acknowledgment entry for `id`, all or nothing.
    pub(crate) fn write_ack(
        &mut self,
        storage: &dyn Storage,
        dir: &Path,
        id: u64,
    ) -> io::Result<()> {
        if self.acks.is_none() {
            let file = storage.open(&path(dir, self.number, "ack"), true)?;
            storage.sync_dir(dir)?;
            self.acks = Some(file);
        }
        let Some(acks) = self.acks.as_mut() else {
            return Ok(());
        };
        match acks.write_all_at(&ack_entry(id), self.acks_length) {
            Ok(()) => {
                self.acks_length += ACK_SIZE;
                Ok(())
            }
            Err(error) => {
                // The next entry goes at the same offset, over whatever part of this one landed.
                let _ = acks.set_len(self.acks_length);
                Err(io::Error::new(
                    error.kind(),
                    format!("cannot write an acknowledgment: {error}"),
                ))
            }
        }
    }

    /// Removes the segment's files: the segment first (its name made durable gone), so that a
    /// crash in between never leaves records without their acknowledgments.
    pub(crate) fn remove(&self, storage: &dyn Storage, dir: &Path) -> io::Result<()> {
        storage.remove(&path(dir, self.number, "seg"))?;
        storage.sync_dir(dir)?;
        match storage.remove(&path(dir, self.number, "ack")) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }
}
