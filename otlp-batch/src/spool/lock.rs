//! The directory lock: one spool per directory. Two spools on one directory would delete each
//! other's segments and replay each other's records, so the second open fails instead.
//!
//! An advisory `flock` on a `LOCK` file (through `rustix`, the maintained safe wrapper of the
//! system calls): the kernel drops it when the process dies, so a crash never leaves a stale
//! lock behind, and it is held per open file, so two spools in one process exclude each other
//! too.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use rustix::fs::{flock, FlockOperation};

/// The name of the lock file in a spool directory.
pub const LOCK_FILE: &str = "LOCK";

/// Held while the spool is open; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Another spool holds it.
    InUse,
    /// The lock file could not be opened or locked.
    Io(io::Error),
}

impl DirLock {
    /// Takes the lock on `dir` without waiting.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, LockError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(LOCK_FILE))
            .map_err(LockError::Io)?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(rustix::io::Errno::WOULDBLOCK) => Err(LockError::InUse),
            Err(errno) => Err(LockError::Io(errno.into())),
        }
    }
}
