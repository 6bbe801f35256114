//! A file layer over the real one that injects the faults a disk has: a write that stores part
//! of its data then fails (disk full), a cut back, an fsync or a directory fsync that fails.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use otlp_batch::spool::storage::{OsStorage, Storage, StorageFile};
use parking_lot::Mutex;

/// The faults the next operation meets.
#[derive(Debug, Default)]
pub struct Faults {
    /// The next write stores this many bytes of its data, then fails (disk full).
    pub write: Mutex<Option<usize>>,
    /// The next cut back (`set_len`) fails.
    pub cut: AtomicBool,
    /// The next fsync fails.
    pub sync: AtomicBool,
    /// The next directory fsync fails.
    pub sync_dir: AtomicBool,
}

impl Faults {
    pub fn clear(&self) {
        *self.write.lock() = None;
        self.cut.store(false, Ordering::Relaxed);
        self.sync.store(false, Ordering::Relaxed);
        self.sync_dir.store(false, Ordering::Relaxed);
    }
}

pub fn injected(what: &str) -> io::Error {
    io::Error::other(format!("injected {what}"))
}

#[derive(Debug)]
pub struct FaultyStorage(pub Arc<Faults>);

impl Storage for FaultyStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        OsStorage.create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        OsStorage.list(dir)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        OsStorage.read(path)
    }
    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(FaultyFile {
            inner: OsStorage.open(path, create)?,
            faults: Arc::clone(&self.0),
        }))
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        OsStorage.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        if self.0.sync_dir.swap(false, Ordering::Relaxed) {
            return Err(injected("directory fsync failure"));
        }
        OsStorage.sync_dir(dir)
    }
}

#[derive(Debug)]
pub struct FaultyFile {
    inner: Box<dyn StorageFile>,
    faults: Arc<Faults>,
}

impl StorageFile for FaultyFile {
    fn write_all_at(&mut self, data: &[u8], offset: u64) -> io::Result<()> {
        if let Some(partial) = self.faults.write.lock().take() {
            self.inner
                .write_all_at(&data[..partial.min(data.len())], offset)?;
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "injected disk full",
            ));
        }
        self.inner.write_all_at(data, offset)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        if self.faults.sync.swap(false, Ordering::Relaxed) {
            return Err(injected("fsync failure"));
        }
        self.inner.sync_data()
    }
    fn set_len(&mut self, length: u64) -> io::Result<()> {
        if self.faults.cut.swap(false, Ordering::Relaxed) {
            return Err(injected("truncate failure"));
        }
        self.inner.set_len(length)
    }
    fn read_exact_at(&self, buffer: &mut [u8], offset: u64) -> io::Result<()> {
        self.inner.read_exact_at(buffer, offset)
    }
}
