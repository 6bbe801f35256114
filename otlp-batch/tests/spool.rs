//! The disk spool: what is not acknowledged survives a reopen; a torn or corrupt file is cut
//! at its last whole record; the byte budget evicts the oldest segment and counts it.

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
        // Reopening made new, empty segments; clear them so the next round starts alike.
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path != segment {
                std::fs::remove_file(path).unwrap();
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
fn the_byte_budget_evicts_the_oldest_segment_and_counts_it() {
    let dir = dir("budget");
    let config = SpoolConfig::new(&dir)
        .with_segment_bytes(1_000)
        .with_max_bytes(3_000);
    let spool = Spool::open(config).unwrap();
    for n in 1..=40 {
        spool.append(&request(n)).unwrap();
    }
    let stats = spool.stats();
    assert!(stats.bytes <= 3_000 + 1_000, "{stats:?}");
    assert!(stats.evicted > 0);
    assert_eq!(
        stats.pending + stats.evicted,
        40,
        "every request is pending or counted as evicted"
    );
    let evicted_items: u64 = stats.evicted_items;
    let pending_items: u64 = stats.pending_items;
    assert_eq!(evicted_items + pending_items, (1..=40).sum::<u64>());
    std::fs::remove_dir_all(dir).unwrap();
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
