//! The disk spool: what is not acknowledged survives a reopen; a damaged record costs only its
//! own bytes (every whole record after it is kept); a torn tail is cut; the byte budget holds
//! at open and at every append and counts only what was never delivered.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use bytes::Bytes;
use otlp_batch::spool::{Spool, SpoolConfig};
use otlp_core::{Encoding, ExportRequest, Signal};

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otlp-spool-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn request(n: usize) -> ExportRequest {
    ExportRequest::new(
        Signal::Traces,
        Encoding::Protobuf,
        Bytes::from(vec![n as u8; 100 + n]),
        n,
    )
}

#[test]
fn what_is_not_acknowledged_is_replayed_after_a_reopen() {
    let dir = dir("reopen");
    let spool = Spool::open(SpoolConfig::new(&dir)).unwrap();
    let ids: Vec<u64> = (1..=5)
        .map(|n| spool.append(&request(n)).unwrap())
        .collect();
    spool.ack(ids[0]).unwrap();
    spool.ack(ids[3]).unwrap();
    spool.release(ids[1]);
    assert_eq!(spool.stats().pending, 3);
    drop(spool);

    let spool = Spool::open(SpoolConfig::new(&dir)).unwrap();
    let waiting = spool.take_waiting(10).unwrap();
    let items: Vec<usize> = waiting.iter().map(|s| s.request.items).collect();
    assert_eq!(items, vec![2, 3, 5]);
    assert_eq!(waiting[1].request, request(3), "bytes come back as written");
    assert!(
        spool.take_waiting(10).unwrap().is_empty(),
        "taken records are in flight"
    );
    for spooled in &waiting {
        spool.ack(spooled.id).unwrap();
    }
    let new_id = spool.append(&request(6)).unwrap();
    assert!(new_id > ids[4], "ids keep growing across reopens");
    spool.ack(new_id).unwrap();
    assert_eq!(spool.stats().pending, 0);
    drop(spool);
    assert!(Spool::open(SpoolConfig::new(&dir))
        .unwrap()
        .take_waiting(10)
        .unwrap()
        .is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_file_truncated_at_any_byte_recovers_its_whole_records() {
    let dir = dir("truncate");
    let spool = Spool::open(SpoolConfig::new(&dir)).unwrap();
    let sizes: Vec<u64> = (1..=20)
        .map(|n| {
            spool.append(&request(n)).unwrap();
            spool.stats().bytes
        })
        .collect();
    drop(spool);
    let segment = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "seg") && std::fs::metadata(p).unwrap().len() > 0
        })
        .unwrap();
    let full = std::fs::read(&segment).unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..25 {
        let cut = rng.usize(0..full.len());
        std::fs::write(&segment, &full[..cut]).unwrap();
        let spool = Spool::open(SpoolConfig::new(&dir)).unwrap();
        let whole = sizes.iter().filter(|end| **end as usize <= cut).count();
        let waiting = spool.take_waiting(100).unwrap();
        assert_eq!(waiting.len(), whole, "cut at {cut}");
        assert!(waiting
            .iter()
            .enumerate()
            .all(|(i, s)| s.request == request(i + 1)));
        let cut_mid_record = !sizes.contains(&(cut as u64)) && cut > 0;
        assert_eq!(
            spool.stats().corrupt_bytes > 0,
            cut_mid_record,
            "cut at {cut}"
        );
        drop(spool);
        // Clear what the round left (nothing but the lock) so the next one starts alike.
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path != segment {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn garbage_in_a_segment_is_cut_not_fatal() {
    let dir = dir("garbage");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("00000001.seg"),
        b"this is not a spool segment at all",
    )
    .unwrap();
    let spool = Spool::open(SpoolConfig::new(&dir)).unwrap();
    assert_eq!(spool.stats().corrupt_bytes, 34);
    assert!(spool.take_waiting(10).unwrap().is_empty());
    let id = spool.append(&request(1)).unwrap();
    spool.release(id);
    assert_eq!(spool.take_waiting(10).unwrap().len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn one_flipped_byte_costs_only_its_own_record() {
    let dir = dir("flip");
    let spool = Spool::open(SpoolConfig::new(&dir)).unwrap();
    let ends: Vec<u64> = (1..=10)
        .map(|n| {
            spool.append(&request(n)).unwrap();
            spool.stats().bytes
        })
        .collect();
    drop(spool);
    let segment = dir.join("00000001.seg");
    let mut data = std::fs::read(&segment).unwrap();
    let third = ends[1] as usize..ends[2] as usize;
    data[third.start + 20] ^= 0x08;
    std::fs::write(&segment, &data).unwrap();

    for round in 0..2 {
        let spool = Spool::open(SpoolConfig::new(&dir)).unwrap();
        let waiting = spool.take_waiting(100).unwrap();
        let items: Vec<usize> = waiting.iter().map(|s| s.request.items).collect();
        assert_eq!(items, vec![1, 2, 4, 5, 6, 7, 8, 9, 10], "round {round}");
        assert!(waiting
            .iter()
            .all(|s| s.request == request(s.request.items)));
        assert_eq!(spool.stats().corrupt_bytes, third.len() as u64);
        // Released, not acknowledged: the next open finds them all again, nothing was cut.
        for spooled in &waiting {
            spool.release(spooled.id);
        }
    }
    assert_eq!(
        std::fs::read(&segment).unwrap(),
        data,
        "the file is left as it was"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_byte_budget_holds_at_every_append_and_counts_what_was_never_sent() {
    let dir = dir("budget");
    let config = SpoolConfig::new(&dir)
        .with_segment_bytes(1_000_000)
        .with_max_bytes(3_000);
    assert_eq!(
        config.effective_segment_bytes(),
        750,
        "capped by the budget"
    );
    let spool = Spool::open(config).unwrap();
    for n in 1..=40 {
        let id = spool.append(&request(n)).unwrap();
        spool.release(id);
        assert!(
            on_disk(&dir) <= 3_000,
            "{} bytes after append {n}",
            on_disk(&dir)
        );
    }
    let stats = spool.stats();
    assert!(stats.evicted > 0);
    assert_eq!(stats.bytes, on_disk(&dir));
    assert_eq!(
        stats.pending + stats.evicted,
        40,
        "every request is pending or counted as evicted"
    );
    assert_eq!(
        stats.evicted_items + stats.pending_items,
        (1..=40).sum::<u64>()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_record_evicted_in_flight_and_then_delivered_is_not_counted_lost() {
    let dir = dir("evicted-in-flight");
    let spool = Spool::open(SpoolConfig::new(&dir).with_max_bytes(2_000)).unwrap();
    let first = spool.append(&request(1)).unwrap();
    let lost = spool.append(&request(2)).unwrap();
    // All in flight: the first segment is evicted while its records are being sent.
    let rest: Vec<u64> = (3..=20)
        .map(|n| spool.append(&request(n)).unwrap())
        .collect();
    assert!(spool.stats().pending < 20, "something was evicted");
    spool.ack(first).unwrap();
    spool.release(lost);
    for id in rest {
        spool.ack(id).unwrap();
    }
    let stats = spool.stats();
    assert_eq!((stats.evicted, stats.evicted_items), (1, 2), "{stats:?}");
    assert_eq!(stats.acknowledged, 19);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_byte_budget_holds_at_open() {
    let dir = dir("budget-open");
    let spool = Spool::open(SpoolConfig::new(&dir).with_segment_bytes(1_000)).unwrap();
    for n in 1..=60 {
        spool.append(&request(n)).unwrap();
    }
    drop(spool);
    assert!(on_disk(&dir) > 8_000);
    let spool = Spool::open(SpoolConfig::new(&dir).with_max_bytes(3_000)).unwrap();
    let stats = spool.stats();
    assert!(on_disk(&dir) <= 3_000, "{} bytes on disk", on_disk(&dir));
    assert!(stats.evicted > 0);
    assert_eq!(stats.pending + stats.evicted, 60, "{stats:?}");
    let waiting = spool.take_waiting(100).unwrap();
    assert_eq!(waiting.len() as u64, stats.pending);
    assert!(
        waiting
            .iter()
            .all(|s| s.request.items as u64 > stats.evicted),
        "the oldest went first"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_oldest_pending_age_is_reported() {
    let dir = dir("age");
    let spool = Spool::open(SpoolConfig::new(&dir)).unwrap();
    assert_eq!(spool.stats().oldest_pending_age, None);
    let id = spool.append(&request(1)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    spool.append(&request(2)).unwrap();
    let age = spool.stats().oldest_pending_age.unwrap();
    assert!(age >= std::time::Duration::from_millis(20), "{age:?}");
    spool.ack(id).unwrap();
    assert!(spool.stats().oldest_pending_age.unwrap() < age);
    drop(spool);
    let spool = Spool::open(SpoolConfig::new(&dir)).unwrap();
    assert!(
        spool.stats().oldest_pending_age.is_some(),
        "the age survives a restart"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Bytes of the spool's files (the lock file is empty).
fn on_disk(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[test]
fn an_unusable_directory_is_named() {
    let error = Spool::open(SpoolConfig::new("/proc/otlp-spool-cannot-be-here")).unwrap_err();
    assert!(error.to_string().contains("spool.dir"), "{error}");
    assert!(
        error
            .to_string()
            .contains("/proc/otlp-spool-cannot-be-here"),
        "{error}"
    );
}
