//! The spool against a model of what must survive, over a file layer that injects the faults a
// tidy: long-file one model-based test: the fault-injecting file layer, the model and the harness belong together
//! real disk has: random sequences of append / ack / release / take / crash and reopen / damage
//! (a bit flip or a truncation anywhere in a segment) / write failure (partial, with or
//! without the cut back failing too) / fsync failure / directory fsync failure.
//!
//! The invariant, checked after every reopen: every append that returned `Ok` and was not
//! acknowledged is replayed exactly once, except records whose own bytes were damaged;
//! acknowledged records never come back; an append or acknowledgment that failed may come back
//! at most once. Inside one open, `take_waiting` returns exactly what was released.
//!
//! `OTLP_SPOOL_MODEL_CASES` raises the number of cases (CI runs 24).

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use otlp_batch::spool::storage::{OsStorage, Storage, StorageFile};
use otlp_batch::spool::{Spool, SpoolConfig, RECORD_OVERHEAD};
use otlp_core::{Encoding, ExportRequest, Signal};
use parking_lot::Mutex;
use proptest::prelude::*;

/// The faults the next operation meets.
#[derive(Debug, Default)]
struct Faults {
    /// The next write stores this many bytes of its data, then fails (disk full).
    write: Mutex<Option<usize>>,
    /// The next cut back (`set_len`) fails.
    cut: AtomicBool,
    /// The next fsync fails.
    sync: AtomicBool,
    /// The next directory fsync fails.
    sync_dir: AtomicBool,
}

impl Faults {
    fn clear(&self) {
        *self.write.lock() = None;
        self.cut.store(false, Ordering::Relaxed);
        self.sync.store(false, Ordering::Relaxed);
        self.sync_dir.store(false, Ordering::Relaxed);
    }
}

fn injected(what: &str) -> io::Error {
    io::Error::other(format!("injected {what}"))
}

#[derive(Debug)]
struct FaultyStorage(Arc<Faults>);

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
struct FaultyFile {
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

#[derive(Debug, Clone)]
enum Op {
    Append {
        repeats: usize,
    },
    AppendWriteFails {
        repeats: usize,
        partial: usize,
        cut_fails: bool,
    },
    AppendSyncFails {
        repeats: usize,
    },
    AppendDirSyncFails {
        repeats: usize,
    },
    Ack {
        pick: usize,
    },
    AckWriteFails {
        pick: usize,
        partial: usize,
    },
    Release {
        pick: usize,
    },
    Take,
    Crash,
    Flip {
        file: usize,
        at: usize,
        bit: u8,
    },
    Truncate {
        file: usize,
        at: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let repeats = 1usize..40;
    prop_oneof![
        8 => repeats.clone().prop_map(|repeats| Op::Append { repeats }),
        1 => (repeats.clone(), 0usize..400, any::<bool>())
            .prop_map(|(repeats, partial, cut_fails)| Op::AppendWriteFails { repeats, partial, cut_fails }),
        1 => repeats.clone().prop_map(|repeats| Op::AppendSyncFails { repeats }),
        1 => repeats.prop_map(|repeats| Op::AppendDirSyncFails { repeats }),
        5 => any::<usize>().prop_map(|pick| Op::Ack { pick }),
        1 => (any::<usize>(), 0usize..12).prop_map(|(pick, partial)| Op::AckWriteFails { pick, partial }),
        4 => any::<usize>().prop_map(|pick| Op::Release { pick }),
        2 => Just(Op::Take),
        2 => Just(Op::Crash),
        1 => (any::<usize>(), any::<usize>(), 0u8..8).prop_map(|(file, at, bit)| Op::Flip { file, at, bit }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(file, at)| Op::Truncate { file, at }),
    ]
}

/// Where a record stands in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    InFlight,
    Waiting,
    /// Its append or acknowledgment failed: it may come back once, or never.
    Maybe,
}

/// A record of the model, by tag (its body is the marker and the tag, repeated).
#[derive(Debug)]
struct Record {
    id: u64,
    body: Vec<u8>,
    status: Status,
}

/// A marker that no record header holds, so that a body is found in a file by its bytes.
const MARKER: &[u8; 8] = b"\xffBODY\xfe\xfd\xfc";

fn body(tag: u64, repeats: usize) -> Vec<u8> {
    [MARKER.as_slice(), &tag.to_le_bytes()]
        .concat()
        .repeat(repeats)
}

fn tag_of(body: &[u8]) -> u64 {
    u64::from_le_bytes(body[8..16].try_into().unwrap())
}

struct Harness {
    dir: PathBuf,
    faults: Arc<Faults>,
    spool: Option<Spool>,
    model: BTreeMap<u64, Record>,
    next_tag: u64,
}

impl Harness {
    fn config(&self) -> SpoolConfig {
        SpoolConfig::new(&self.dir)
            .with_segment_bytes(700)
            .with_max_bytes(64 * 1024 * 1024)
    }

    fn spool(&self) -> &Spool {
        self.spool.as_ref().unwrap()
    }

    fn pick(&self, pick: usize, wanted: &[Status]) -> Option<u64> {
        let tags: Vec<u64> = self
            .model
            .iter()
            .filter(|(_, r)| wanted.contains(&r.status))
            .map(|(t, _)| *t)
            .collect();
        (!tags.is_empty()).then(|| tags[pick % tags.len()])
    }

    fn append(&mut self, repeats: usize) -> io::Result<u64> {
        let tag = self.next_tag;
        self.next_tag += 1;
        let body = body(tag, repeats);
        let request = ExportRequest::new(
            Signal::Traces,
            Encoding::Protobuf,
            Bytes::from(body.clone()),
            repeats,
        );
        let result = self.spool().append(&request);
        let (id, status) = match &result {
            Ok(id) => (*id, Status::InFlight),
            Err(error) => {
                let text = error.to_string();
                assert!(text.contains(&self.dir.display().to_string()), "{text}");
                assert!(text.contains("injected"), "the cause is named: {text}");
                (0, Status::Maybe)
            }
        };
        self.model.insert(tag, Record { id, body, status });
        result
    }

    fn segments(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "seg"))
            .collect();
        paths.sort();
        paths
    }

    /// The model records whose bytes in `data` overlap `hit` (a range of offsets).
    fn hit(&self, data: &[u8], hit: impl Fn(usize, usize) -> bool) -> Vec<u64> {
        self.model
            .iter()
            .filter_map(|(tag, record)| {
                let at = data
                    .windows(record.body.len())
                    .position(|w| w == record.body.as_slice())?;
                let start = at.checked_sub(RECORD_OVERHEAD)?;
                hit(start, at + record.body.len()).then_some(*tag)
            })
            .collect()
    }

    fn damage(
        &mut self,
        file: usize,
        change: impl FnOnce(
            &mut Vec<u8>,
            &dyn Fn(&[u8], &dyn Fn(usize, usize) -> bool) -> Vec<u64>,
        ) -> Vec<u64>,
    ) {
        self.spool = None;
        let segments = self.segments();
        if !segments.is_empty() {
            let path = &segments[file % segments.len()];
            let mut data = std::fs::read(path).unwrap();
            if !data.is_empty() {
                let damaged = change(&mut data, &|d, h| self.hit(d, h));
                std::fs::write(path, &data).unwrap();
                for tag in damaged {
                    self.model.remove(&tag);
                }
            }
        }
        self.reopen();
    }

    /// Reopens and checks that what comes back is what must.
    fn reopen(&mut self) {
        self.spool = None;
        self.faults.clear();
        self.spool = Some(
            Spool::open_with(
                self.config(),
                Arc::new(FaultyStorage(Arc::clone(&self.faults))),
            )
            .unwrap(),
        );
        let back = self.spool().take_waiting(usize::MAX).unwrap();
        let mut seen = BTreeSet::new();
        for spooled in &back {
            let tag = tag_of(&spooled.request.body);
            assert!(seen.insert(tag), "tag {tag} replayed twice");
            let record = self
                .model
                .get_mut(&tag)
                .unwrap_or_else(|| panic!("tag {tag} came back: acknowledged or damaged"));
            assert_eq!(spooled.request.body, record.body, "tag {tag} bytes");
            record.id = spooled.id;
            record.status = Status::InFlight;
        }
        self.model.retain(|tag, record| {
            assert!(
                record.status == Status::Maybe || seen.contains(tag),
                "tag {tag} ({:?}) appended and not acknowledged, not replayed",
                record.status
            );
            seen.contains(tag)
        });
    }

    fn run(&mut self, op: Op) {
        self.faults.clear();
        match op {
            Op::Append { repeats } => {
                self.append(repeats).unwrap();
            }
            Op::AppendWriteFails {
                repeats,
                partial,
                cut_fails,
            } => {
                *self.faults.write.lock() = Some(partial);
                self.faults.cut.store(cut_fails, Ordering::Relaxed);
                assert!(self.append(repeats).is_err());
            }
            Op::AppendSyncFails { repeats } => {
                self.faults.sync.store(true, Ordering::Relaxed);
                assert!(self.append(repeats).is_err());
            }
            Op::AppendDirSyncFails { repeats } => {
                // Fails only when the append needs a new segment.
                self.faults.sync_dir.store(true, Ordering::Relaxed);
                let _ = self.append(repeats);
            }
            Op::Ack { pick } => {
                if let Some(tag) = self.pick(pick, &[Status::InFlight, Status::Waiting]) {
                    let id = self.model[&tag].id;
                    self.spool().ack(id).unwrap();
                    self.model.remove(&tag);
                }
            }
            Op::AckWriteFails { pick, partial } => {
                if let Some(tag) = self.pick(pick, &[Status::InFlight, Status::Waiting]) {
                    *self.faults.write.lock() = Some(partial);
                    let id = self.model[&tag].id;
                    let _ = self.spool().ack(id);
                    self.model.get_mut(&tag).unwrap().status = Status::Maybe;
                }
            }
            Op::Release { pick } => {
                if let Some(tag) = self.pick(pick, &[Status::InFlight]) {
                    self.spool().release(self.model[&tag].id);
                    self.model.get_mut(&tag).unwrap().status = Status::Waiting;
                }
            }
            Op::Take => {
                let taken: BTreeSet<u64> = self
                    .spool()
                    .take_waiting(usize::MAX)
                    .unwrap()
                    .iter()
                    .map(|s| tag_of(&s.request.body))
                    .collect();
                let waiting: BTreeSet<u64> = self
                    .model
                    .iter()
                    .filter(|(_, r)| r.status == Status::Waiting)
                    .map(|(t, _)| *t)
                    .collect();
                assert_eq!(taken, waiting, "take_waiting returns what was released");
                for tag in taken {
                    self.model.get_mut(&tag).unwrap().status = Status::InFlight;
                }
            }
            Op::Crash => self.reopen(),
            Op::Flip { file, at, bit } => self.damage(file, |data, hit| {
                let at = at % data.len();
                let lost = hit(data, &|start, end| (start..end).contains(&at));
                data[at] ^= 1 << bit;
                lost
            }),
            Op::Truncate { file, at } => self.damage(file, |data, hit| {
                let at = at % data.len();
                let lost = hit(data, &|_, end| end > at);
                data.truncate(at);
                lost
            }),
        }
    }
}

#[test]
fn a_full_disk_fails_its_append_and_every_later_append_reads_back() {
    let dir = std::env::temp_dir().join(format!("otlp-spool-full-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let faults = Arc::new(Faults::default());
    let open = || {
        Spool::open_with(
            SpoolConfig::new(&dir),
            Arc::new(FaultyStorage(Arc::clone(&faults))),
        )
        .unwrap()
    };
    let spool = open();
    let request = |n: u64| {
        ExportRequest::new(
            Signal::Logs,
            Encoding::Protobuf,
            Bytes::from(body(n, 20)),
            n as usize,
        )
    };
    let mut kept = Vec::new();
    for n in 1..=6 {
        if n % 2 == 0 {
            *faults.write.lock() = Some(100); // part of the record lands, then the disk is full
            let error = spool.append(&request(n)).unwrap_err().to_string();
            assert!(error.contains(&dir.display().to_string()), "{error}");
            assert!(error.contains("disk full"), "{error}");
        } else {
            spool.append(&request(n)).unwrap();
            kept.push(request(n));
        }
    }
    assert_eq!(spool.stats().write_errors, 3);
    drop(spool);
    let spool = open();
    let back: Vec<ExportRequest> = spool
        .take_waiting(100)
        .unwrap()
        .into_iter()
        .map(|s| s.request)
        .collect();
    assert_eq!(back, kept);
    assert_eq!(
        spool.stats().corrupt_bytes,
        0,
        "the partial records were cut back"
    );
    drop(spool);
    std::fs::remove_dir_all(dir).unwrap();
}

fn cases() -> u32 {
    std::env::var("OTLP_SPOOL_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

static CASE: AtomicU64 = AtomicU64::new(0);

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_acknowledged_append_survives_faults_crashes_and_damage(ops in proptest::collection::vec(op(), 1..60)) {
        let case = CASE.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("otlp-spool-model-{}-{case}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut harness = Harness {
            dir: dir.clone(),
            faults: Arc::new(Faults::default()),
            spool: None,
            model: BTreeMap::new(),
            next_tag: 1,
        };
        harness.reopen();
        for op in ops {
            harness.run(op);
        }
        harness.reopen();
        drop(harness);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
