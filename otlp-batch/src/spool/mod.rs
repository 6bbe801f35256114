//! The disk spool: encoded requests are appended to an on-disk segment log before they are
//! sent and acknowledged once the collector accepted them, so what was accepted survives a
//! crash (at-least-once delivery).
//!
//! Layout: a directory of segments `00000001.seg` (records, see [`record`]) with acknowledgment
//! files `00000001.ack` (the 8-byte ids of acknowledged records). A segment is deleted when all
//! its records are acknowledged. When the spool exceeds its byte budget, the oldest segment is
//! evicted and its unacknowledged records are counted. On open, every segment is read back; a
//! torn or corrupt tail (a crash, a full disk) is detected by the records' checksums, cut off
//! with a warning and counted, never a panic or a hang.
//!
//! Why a segment log of our own rather than an embedded database: the access pattern is a
//! queue (append, acknowledge in roughly the same order, replay on start), which a log serves
//! with one sequential write and one fsync per request and no compaction; the format is a few
//! dozen lines, checked by unit and crash tests, and adds no dependency but `crc32fast`.

pub mod record;

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use otlp_core::{ExportRequest, InvalidSetting};
use parking_lot::Mutex;

pub use record::SpooledRequest;

/// Spool settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolConfig {
    /// The directory (created if missing).
    pub dir: PathBuf,
    /// The byte budget; past it the oldest segment is evicted (default 256 MiB).
    pub max_bytes: u64,
    /// Segment size before a new segment is started (default 8 MiB).
    pub segment_bytes: u64,
    /// `fsync` every append (default true). Off trades crash safety for speed.
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
}

/// The spool's numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Requests appended since open.
    pub appended: u64,
    /// Requests acknowledged since open.
    pub acknowledged: u64,
    /// Requests not acknowledged yet (in flight or waiting for a replay).
    pub pending: u64,
    /// Items of the pending requests.
    pub pending_items: u64,
    /// Requests dropped by the byte budget.
    pub evicted: u64,
    /// Items of the evicted requests.
    pub evicted_items: u64,
    /// Bytes of corrupt or torn records cut off at open.
    pub corrupt_bytes: u64,
    /// Bytes on disk.
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Being sent; not to be replayed.
    InFlight,
    /// Waiting for a replay.
    Waiting,
}

#[derive(Debug)]
struct Entry {
    offset: u64,
    size: usize,
    items: usize,
    state: State,
}

#[derive(Debug)]
struct Segment {
    number: u64,
    file: File,
    length: u64,
    entries: HashMap<u64, Entry>,
    acks: Option<File>,
}

#[derive(Debug)]
struct Inner {
    segments: VecDeque<Segment>,
    next_id: u64,
}

/// The disk spool. Thread-safe; share it in an `Arc`.
#[derive(Debug)]
pub struct Spool {
    config: SpoolConfig,
    inner: Mutex<Inner>,
    appended: AtomicU64,
    acknowledged: AtomicU64,
    evicted: AtomicU64,
    evicted_items: AtomicU64,
    corrupt_bytes: AtomicU64,
}

fn segment_path(dir: &Path, number: u64, extension: &str) -> PathBuf {
    dir.join(format!("{number:08}.{extension}"))
}

fn io_error(config: &SpoolConfig, what: &str, error: std::io::Error) -> InvalidSetting {
    InvalidSetting::new(
        "spool.dir",
        config.dir.display().to_string(),
        format!("{what}: {error}"),
    )
}

impl Spool {
    /// Opens (or creates) the spool, reading back what a previous run left. Records not
    /// acknowledged then are waiting for a replay ([`Spool::take_waiting`]).
    pub fn open(config: SpoolConfig) -> Result<Spool, InvalidSetting> {
        if config.max_bytes == 0 || config.segment_bytes == 0 {
            return Err(InvalidSetting::new(
                "spool.max_bytes",
                "0",
                "must be positive",
            ));
        }
        std::fs::create_dir_all(&config.dir)
            .map_err(|e| io_error(&config, "cannot create it", e))?;
        let mut numbers: Vec<u64> = std::fs::read_dir(&config.dir)
            .map_err(|e| io_error(&config, "cannot list it", e))?
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                name.strip_suffix(".seg")?.parse().ok()
            })
            .collect();
        numbers.sort_unstable();
        let spool = Spool {
            config,
            inner: Mutex::new(Inner {
                segments: VecDeque::new(),
                next_id: 1,
            }),
            appended: AtomicU64::new(0),
            acknowledged: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            evicted_items: AtomicU64::new(0),
            corrupt_bytes: AtomicU64::new(0),
        };
        {
            let mut inner = spool.inner.lock();
            for number in &numbers {
                let segment = spool
                    .recover(*number)
                    .map_err(|e| io_error(&spool.config, "cannot read a segment", e))?;
                if let Some(max) = segment.entries.keys().max() {
                    inner.next_id = inner.next_id.max(max + 1);
                }
                if segment.entries.is_empty() {
                    spool.delete(number);
                } else {
                    inner.segments.push_back(segment);
                }
            }
            let next = numbers.last().map_or(1, |n| n + 1);
            let fresh = spool
                .create(next)
                .map_err(|e| io_error(&spool.config, "cannot create a segment", e))?;
            inner.segments.push_back(fresh);
        }
        Ok(spool)
    }

    /// Reads a segment back, cutting a corrupt tail and skipping acknowledged records.
    fn recover(&self, number: u64) -> std::io::Result<Segment> {
        let path = segment_path(&self.config.dir, number, "seg");
        let mut data = Vec::new();
        File::open(&path)?.read_to_end(&mut data)?;
        let mut acked = std::collections::HashSet::new();
        if let Ok(mut file) = File::open(segment_path(&self.config.dir, number, "ack")) {
            let mut ids = Vec::new();
            file.read_to_end(&mut ids)?;
            // A torn last id (not 8 bytes) is ignored: that record is simply sent again.
            for chunk in ids.chunks_exact(8) {
                let mut id = [0u8; 8];
                id.copy_from_slice(chunk);
                acked.insert(u64::from_le_bytes(id));
            }
        }
        let mut entries = HashMap::new();
        let mut offset = 0usize;
        while offset < data.len() {
            match record::decode(&data[offset..]) {
                Some((spooled, size)) => {
                    if !acked.contains(&spooled.id) {
                        entries.insert(
                            spooled.id,
                            Entry {
                                offset: offset as u64,
                                size,
                                items: spooled.request.items,
                                state: State::Waiting,
                            },
                        );
                    }
                    offset += size;
                }
                None => {
                    let lost = data.len() - offset;
                    tracing::warn!(segment = %path.display(), offset, lost, "spool: corrupt or torn records cut off");
                    self.corrupt_bytes.fetch_add(lost as u64, Ordering::Relaxed);
                    OpenOptions::new()
                        .write(true)
                        .open(&path)?
                        .set_len(offset as u64)?;
                    break;
                }
            }
        }
        let file = OpenOptions::new().read(true).append(true).open(&path)?;
        Ok(Segment {
            number,
            file,
            length: offset as u64,
            entries,
            acks: None,
        })
    }

    fn create(&self, number: u64) -> std::io::Result<Segment> {
        let path = segment_path(&self.config.dir, number, "seg");
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        Ok(Segment {
            number,
            file,
            length: 0,
            entries: HashMap::new(),
            acks: None,
        })
    }

    fn delete(&self, number: &u64) {
        let _ = std::fs::remove_file(segment_path(&self.config.dir, *number, "seg"));
        let _ = std::fs::remove_file(segment_path(&self.config.dir, *number, "ack"));
    }

    /// Appends a request before it is sent; returns the id to acknowledge it with. The record
    /// is in flight until [`Spool::ack`] or [`Spool::release`].
    pub fn append(&self, request: &ExportRequest) -> std::io::Result<u64> {
        let mut inner = self.inner.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        let bytes = record::encode(id, request);
        let rotate = inner.segments.back().is_some_and(|s| {
            s.length > 0 && s.length + bytes.len() as u64 > self.config.segment_bytes
        });
        if rotate || inner.segments.is_empty() {
            let next = inner.segments.back().map_or(1, |s| s.number + 1);
            let fresh = self.create(next)?;
            inner.segments.push_back(fresh);
        }
        let segment = inner
            .segments
            .back_mut()
            .ok_or_else(|| std::io::Error::other("no segment"))?;
        segment.file.write_all(&bytes)?;
        if self.config.sync_every_append {
            segment.file.sync_data()?;
        }
        segment.entries.insert(
            id,
            Entry {
                offset: segment.length,
                size: bytes.len(),
                items: request.items,
                state: State::InFlight,
            },
        );
        segment.length += bytes.len() as u64;
        self.appended.fetch_add(1, Ordering::Relaxed);
        self.enforce_budget(&mut inner);
        Ok(id)
    }

    /// The collector accepted the request (or refused it for good): forget it.
    pub fn ack(&self, id: u64) -> std::io::Result<()> {
        let mut inner = self.inner.lock();
        let last = inner.segments.len().saturating_sub(1);
        let Some(index) = inner
            .segments
            .iter()
            .position(|s| s.entries.contains_key(&id))
        else {
            return Ok(()); // evicted or already acknowledged
        };
        let segment = &mut inner.segments[index];
        segment.entries.remove(&id);
        self.acknowledged.fetch_add(1, Ordering::Relaxed);
        if segment.entries.is_empty() && index != last {
            let number = segment.number;
            inner.segments.remove(index);
            self.delete(&number);
            return Ok(());
        }
        if segment.acks.is_none() {
            let path = segment_path(&self.config.dir, segment.number, "ack");
            segment.acks = Some(OpenOptions::new().append(true).create(true).open(path)?);
        }
        if let Some(acks) = &mut segment.acks {
            acks.write_all(&id.to_le_bytes())?;
        }
        Ok(())
    }

    /// Sending failed for now: the request waits for a replay.
    pub fn release(&self, id: u64) {
        let mut inner = self.inner.lock();
        for segment in inner.segments.iter_mut() {
            if let Some(entry) = segment.entries.get_mut(&id) {
                entry.state = State::Waiting;
                return;
            }
        }
    }

    /// Up to `limit` waiting requests, oldest first, marked in flight again.
    pub fn take_waiting(&self, limit: usize) -> std::io::Result<Vec<SpooledRequest>> {
        let mut inner = self.inner.lock();
        let mut out = Vec::new();
        for segment in inner.segments.iter_mut() {
            let mut ids: Vec<u64> = segment
                .entries
                .iter()
                .filter(|(_, e)| e.state == State::Waiting)
                .map(|(id, _)| *id)
                .collect();
            ids.sort_unstable();
            for id in ids {
                if out.len() >= limit {
                    return Ok(out);
                }
                let Some(entry) = segment.entries.get_mut(&id) else {
                    continue;
                };
                let mut buffer = vec![0u8; entry.size];
                segment.file.read_exact_at(&mut buffer, entry.offset)?;
                match record::decode(&buffer) {
                    Some((spooled, _)) => {
                        entry.state = State::InFlight;
                        out.push(spooled);
                    }
                    None => {
                        tracing::warn!(id, "spool: a record no longer reads back; dropped");
                        self.corrupt_bytes
                            .fetch_add(entry.size as u64, Ordering::Relaxed);
                        segment.entries.remove(&id);
                    }
                }
            }
        }
        Ok(out)
    }

    fn enforce_budget(&self, inner: &mut Inner) {
        let mut total: u64 = inner.segments.iter().map(|s| s.length).sum();
        while total > self.config.max_bytes && inner.segments.len() > 1 {
            let Some(oldest) = inner.segments.pop_front() else {
                break;
            };
            let items: usize = oldest.entries.values().map(|e| e.items).sum();
            self.evicted
                .fetch_add(oldest.entries.len() as u64, Ordering::Relaxed);
            self.evicted_items
                .fetch_add(items as u64, Ordering::Relaxed);
            if !oldest.entries.is_empty() {
                tracing::warn!(
                    requests = oldest.entries.len(),
                    items,
                    "spool: byte budget exceeded; oldest segment evicted"
                );
            }
            total -= oldest.length;
            self.delete(&oldest.number);
        }
    }

    /// The numbers now.
    pub fn stats(&self) -> SpoolStats {
        let inner = self.inner.lock();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SpoolStats {
            appended: get(&self.appended),
            acknowledged: get(&self.acknowledged),
            pending: inner.segments.iter().map(|s| s.entries.len() as u64).sum(),
            pending_items: inner
                .segments
                .iter()
                .flat_map(|s| s.entries.values())
                .map(|e| e.items as u64)
                .sum(),
            evicted: get(&self.evicted),
            evicted_items: get(&self.evicted_items),
            corrupt_bytes: get(&self.corrupt_bytes),
            bytes: inner.segments.iter().map(|s| s.length).sum(),
        }
    }
}
