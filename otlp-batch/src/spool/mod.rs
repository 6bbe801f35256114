//! The disk spool: encoded requests are appended to an on-disk segment log before they are
//! sent and acknowledged once the collector accepted them, so what was accepted survives a
//! crash (at-least-once delivery).
//!
//! Layout: a directory of segments `00000001.seg` (records, see [`record`]) with acknowledgment
//! files `00000001.ack`, and a `LOCK` file that one spool at a time holds ([`lock`]). A segment
//! is removed once all its records are acknowledged.
//!
//! What it promises, given a disk that keeps what it fsynced:
//! - an [`Spool::append`] that returned `Ok` is on disk (fsynced, and its segment's name with
//!   it) and comes back after a crash until it is acknowledged, exactly once per open;
//! - an append that returned an error left nothing readable behind, or a record that may come
//!   back once (a duplicate, never a loss); the error names the directory and the cause;
//! - damage (a flipped bit, a torn write, a truncated file) costs only the records whose own
//!   bytes were hit: reading resynchronises on the next whole record, and counts what it skipped;
//! - the directory's files never hold more than `max_bytes`; the oldest segment is evicted
//!   first, and a record counts as evicted only if it was never delivered;
//! - an acknowledgment is written but not fsynced: after a power cut (not a process crash) a
//!   record acknowledged just before may be sent again.
//!
//! In a stack, the spool is a tower layer ([`SpoolLayer`]) with a replay task ([`replay`]):
//! the rules for appending, acknowledging and releasing live here, in [`in_flight`].
//!
//! Why a segment log of our own rather than an embedded database: the access pattern is a
//! queue (append, acknowledge in roughly the same order, replay on start), which a log serves
//! with one sequential write and one fsync per request and no compaction; the format is small,
//! checked by a model-based test over a fault-injecting [`storage`] layer and a SIGKILL test.

mod config;
pub mod in_flight;
mod layer;
pub mod lock;
mod open;
pub mod record;
mod recover;
pub mod replay;
mod segment;
mod stats;
pub mod storage;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use otlp_core::ExportRequest;
use parking_lot::Mutex;

pub use config::SpoolConfig;
pub use layer::{ResponseFuture, SpoolLayer, SpoolService};
pub use record::{SpooledRequest, RECORD_OVERHEAD};
pub use stats::SpoolStats;

use lock::DirLock;
use segment::{Entry, Segment, State, ACK_SIZE};
use storage::Storage;

#[derive(Debug)]
struct Inner {
    segments: VecDeque<Segment>,
    next_id: u64,
    next_segment: u64,
    /// Records evicted while in flight, with their items: delivered if acknowledged, lost if
    /// released.
    evicted_in_flight: HashMap<u64, usize>,
}

impl Inner {
    fn reserved(&self) -> u64 {
        self.segments.iter().map(Segment::reserved).sum()
    }
}

/// The disk spool. Thread-safe; share it in an `Arc`.
#[derive(Debug)]
pub struct Spool {
    config: SpoolConfig,
    storage: Arc<dyn Storage>,
    inner: Mutex<Inner>,
    appended: AtomicU64,
    acknowledged: AtomicU64,
    evicted: AtomicU64,
    evicted_items: AtomicU64,
    corrupt_bytes: AtomicU64,
    write_errors: AtomicU64,
    _lock: DirLock,
}

impl Spool {
    /// The error of a failed operation, naming the directory and the cause.
    fn fail(&self, error: io::Error) -> io::Error {
        self.write_errors.fetch_add(1, Ordering::Relaxed);
        io::Error::new(
            error.kind(),
            format!("spool {}: {error}", self.config.dir.display()),
        )
    }

    fn remove_segment(&self, segment: &Segment) {
        if let Err(error) = segment.remove(self.storage.as_ref(), &self.config.dir) {
            tracing::warn!(dir = %self.config.dir.display(), segment = segment.number, %error, "spool: cannot remove a finished segment");
        }
    }

    /// Evicts the oldest segments until `needed` more bytes fit in the budget.
    fn make_room(&self, inner: &mut Inner, needed: u64) {
        while inner.reserved() + needed > self.config.max_bytes {
            let Some(oldest) = inner.segments.pop_front() else {
                return;
            };
            let (mut requests, mut items) = (0u64, 0u64);
            for (id, entry) in &oldest.entries {
                match entry.state {
                    State::Waiting => {
                        requests += 1;
                        items += entry.items as u64;
                    }
                    State::InFlight => {
                        inner.evicted_in_flight.insert(*id, entry.items);
                    }
                }
            }
            self.evicted.fetch_add(requests, Ordering::Relaxed);
            self.evicted_items.fetch_add(items, Ordering::Relaxed);
            if requests > 0 {
                tracing::warn!(
                    requests,
                    items,
                    "spool: byte budget exceeded; oldest segment evicted"
                );
            }
            self.remove_segment(&oldest);
        }
    }

    /// Appends a request before it is sent; returns the id to acknowledge it with. The record
    /// is in flight until [`Spool::ack`] or [`Spool::release`]. When this returns `Ok`, the
    /// record is durable (with `sync_every_append`); when it fails, nothing of it is readable.
    pub fn append(&self, request: &ExportRequest) -> io::Result<u64> {
        let written_at = SystemTime::now();
        let mut inner = self.inner.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        let record = record::encode(id, request, written_at);
        let needed = record.len() as u64 + ACK_SIZE;
        if needed > self.config.max_bytes {
            return Err(self.fail(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a record of {} bytes does not fit in spool.max_bytes = {}",
                    record.len(),
                    self.config.max_bytes
                ),
            )));
        }
        self.make_room(&mut inner, needed);
        let segment_bytes = self.config.effective_segment_bytes();
        let full = |s: &Segment| {
            s.sealed || (s.length > 0 && s.length + record.len() as u64 > segment_bytes)
        };
        if inner.segments.back().is_none_or(full) {
            if let Some(last) = inner.segments.back_mut() {
                last.sealed = true;
            }
            self.remove_finished(&mut inner);
            let number = inner.next_segment;
            inner.next_segment += 1;
            let fresh =
                Segment::create(self.storage.as_ref(), &self.config.dir, number).map_err(|e| {
                    self.fail(io::Error::new(
                        e.kind(),
                        format!("cannot create a segment: {e}"),
                    ))
                })?;
            inner.segments.push_back(fresh);
        }
        let Some(segment) = inner.segments.back_mut() else {
            return Err(self.fail(io::Error::other("no segment")));
        };
        let offset = segment
            .append(&record, self.config.sync_every_append)
            .map_err(|e| self.fail(e))?;
        segment.entries.insert(
            id,
            Entry {
                offset,
                size: record.len(),
                items: request.items,
                written_at,
                state: State::InFlight,
            },
        );
        self.appended.fetch_add(1, Ordering::Relaxed);
        Ok(id)
    }

    /// Removes sealed segments whose records are all acknowledged.
    fn remove_finished(&self, inner: &mut Inner) {
        let dir = &self.config.dir;
        inner.segments.retain(|segment| {
            let finished = segment.sealed && segment.entries.is_empty();
            if finished {
                if let Err(error) = segment.remove(self.storage.as_ref(), dir) {
                    tracing::warn!(dir = %dir.display(), segment = segment.number, %error, "spool: cannot remove a finished segment");
                }
            }
            !finished
        });
    }

    /// The collector accepted the request (or refused it for good): forget it. An error means
    /// the acknowledgment may not have reached the disk: the record is not replayed while this
    /// spool is open, but may be once after a restart.
    pub fn ack(&self, id: u64) -> io::Result<()> {
        let mut inner = self.inner.lock();
        if inner.evicted_in_flight.remove(&id).is_some() {
            self.acknowledged.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let Some(segment) = inner
            .segments
            .iter_mut()
            .find(|s| s.entries.contains_key(&id))
        else {
            return Ok(()); // already acknowledged
        };
        segment.entries.remove(&id);
        self.acknowledged.fetch_add(1, Ordering::Relaxed);
        let written = segment.write_ack(self.storage.as_ref(), &self.config.dir, id);
        let finished = segment.sealed && segment.entries.is_empty();
        if finished {
            self.remove_finished(&mut inner);
        }
        written.map_err(|e| self.fail(e))
    }

    /// Sending failed for now: the request waits for a replay.
    pub fn release(&self, id: u64) {
        let mut inner = self.inner.lock();
        if let Some(items) = inner.evicted_in_flight.remove(&id) {
            self.evicted.fetch_add(1, Ordering::Relaxed);
            self.evicted_items
                .fetch_add(items as u64, Ordering::Relaxed);
            return;
        }
        for segment in inner.segments.iter_mut() {
            if let Some(entry) = segment.entries.get_mut(&id) {
                entry.state = State::Waiting;
                return;
            }
        }
    }

    /// Up to `limit` waiting requests, oldest first, marked in flight again.
    pub fn take_waiting(&self, limit: usize) -> io::Result<Vec<SpooledRequest>> {
        let now = SystemTime::now();
        let mut inner = self.inner.lock();
        let mut out = Vec::new();
        for segment in inner.segments.iter_mut() {
            let mut damaged = Vec::new();
            for (id, entry) in segment.entries.iter_mut() {
                if out.len() >= limit {
                    break;
                }
                if entry.state != State::Waiting {
                    continue;
                }
                let mut buffer = vec![0u8; entry.size];
                segment
                    .file
                    .read_exact_at(&mut buffer, entry.offset)
                    .map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!(
                                "spool {}: cannot read a record: {e}",
                                self.config.dir.display()
                            ),
                        )
                    })?;
                match record::decode(&buffer, now) {
                    Some(spooled) if spooled.id == *id => {
                        entry.state = State::InFlight;
                        out.push(spooled);
                    }
                    _ => damaged.push(*id),
                }
            }
            for id in damaged {
                if let Some(entry) = segment.entries.remove(&id) {
                    tracing::warn!(id, "spool: a record no longer reads back; dropped");
                    self.corrupt_bytes
                        .fetch_add(entry.size as u64, Ordering::Relaxed);
                }
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.config.dir
    }

    /// The numbers now.
    pub fn stats(&self) -> SpoolStats {
        let inner = self.inner.lock();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let entries = || inner.segments.iter().flat_map(|s| s.entries.values());
        SpoolStats {
            appended: get(&self.appended),
            acknowledged: get(&self.acknowledged),
            pending: entries().count() as u64,
            pending_items: entries().map(|e| e.items as u64).sum(),
            evicted: get(&self.evicted),
            evicted_items: get(&self.evicted_items),
            corrupt_bytes: get(&self.corrupt_bytes),
            write_errors: get(&self.write_errors),
            bytes: inner
                .segments
                .iter()
                .map(|s| s.length + s.acks_length)
                .sum(),
            oldest_pending_age: entries()
                .map(|e| e.written_at)
                .min()
                .map(|oldest| SystemTime::now().duration_since(oldest).unwrap_or_default()),
        }
    }
}
