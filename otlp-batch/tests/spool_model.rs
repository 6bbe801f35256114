//! The spool against a model of what must survive, over a file layer that injects the faults a
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

mod spool_model_support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use otlp_batch::spool::{Spool, SpoolConfig};
use otlp_core::{Encoding, ExportRequest, Signal};
use proptest::prelude::*;

use spool_model_support::{body, op, Faults, FaultyStorage, Harness};

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
