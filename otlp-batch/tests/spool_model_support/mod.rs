//! The model behind `spool_model.rs`: the operations a random sequence is made of, what the
//! model expects of each record, and the harness that runs an operation on the spool and on the
//! model and checks, at every reopen, that what comes back is what must.

#![allow(clippy::unwrap_used)]

mod faulty_storage;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use otlp_batch::spool::{Spool, SpoolConfig, RECORD_OVERHEAD};
use otlp_core::{Encoding, ExportRequest, Signal};
use proptest::prelude::*;

pub use faulty_storage::{Faults, FaultyStorage};

#[derive(Debug, Clone)]
pub enum Op {
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

pub fn op() -> impl Strategy<Value = Op> {
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
pub enum Status {
    InFlight,
    Waiting,
    /// Its append or acknowledgment failed: it may come back once, or never.
    Maybe,
}

/// A record of the model, by tag (its body is the marker and the tag, repeated).
#[derive(Debug)]
pub struct Record {
    id: u64,
    body: Vec<u8>,
    status: Status,
}

/// A marker that no record header holds, so that a body is found in a file by its bytes.
pub const MARKER: &[u8; 8] = b"\xffBODY\xfe\xfd\xfc";

pub fn body(tag: u64, repeats: usize) -> Vec<u8> {
    [MARKER.as_slice(), &tag.to_le_bytes()]
        .concat()
        .repeat(repeats)
}

pub fn tag_of(body: &[u8]) -> u64 {
    u64::from_le_bytes(body[8..16].try_into().unwrap())
}

pub struct Harness {
    pub dir: PathBuf,
    pub faults: Arc<Faults>,
    pub spool: Option<Spool>,
    pub model: BTreeMap<u64, Record>,
    pub next_tag: u64,
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
    pub fn reopen(&mut self) {
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

    pub fn run(&mut self, op: Op) {
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
