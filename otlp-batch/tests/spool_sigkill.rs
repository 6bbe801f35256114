//! The spool under SIGKILL: a child process appends and acknowledges as fast as it can and is
//! killed at a random point, over and over on one directory. After each kill, every append that
//! had returned `Ok` and whose acknowledgment had not started is replayed, exactly once, and no
//! record whose acknowledgment had returned comes back.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bytes::Bytes;
use otlp_batch::spool::{Spool, SpoolConfig};
use otlp_core::{Encoding, ExportRequest, Signal};

fn config(dir: &Path) -> SpoolConfig {
    SpoolConfig::new(dir).with_segment_bytes(4_000)
}

fn tag_of(body: &[u8]) -> u64 {
    u64::from_le_bytes(body[..8].try_into().unwrap())
}

/// The child: appends, acknowledges and releases, saying what it did, until it is killed.
#[test]
#[ignore = "a helper: spool_keeps_every_append_through_sigkill runs it as a child process"]
fn spool_sigkill_child() {
    let dir = PathBuf::from(std::env::var("OTLP_SPOOL_SIGKILL_DIR").unwrap());
    let round: u64 = std::env::var("OTLP_SPOOL_SIGKILL_ROUND")
        .unwrap()
        .parse()
        .unwrap();
    let spool = Spool::open(config(&dir)).unwrap();
    let mut rng = fastrand::Rng::with_seed(round);
    let mut in_flight: Vec<(u64, u64)> = Vec::new();
    for n in 0.. {
        let tag = round * 1_000_000 + n;
        println!("appending {tag}");
        let body = Bytes::from(tag.to_le_bytes().repeat(rng.usize(1..60)));
        let request = ExportRequest::new(Signal::Traces, Encoding::Protobuf, body, 1);
        let id = spool.append(&request).unwrap();
        println!("appended {tag}");
        in_flight.push((tag, id));
        if rng.bool() && !in_flight.is_empty() {
            let (tag, id) = in_flight.swap_remove(rng.usize(..in_flight.len()));
            println!("acking {tag}");
            spool.ack(id).unwrap();
            println!("acked {tag}");
        }
        if rng.u8(..10) == 0 && !in_flight.is_empty() {
            let (_, id) = in_flight.swap_remove(rng.usize(..in_flight.len()));
            spool.release(id); // still pending: must come back too
        }
    }
}

#[test]
fn spool_keeps_every_append_through_sigkill() {
    let dir = std::env::temp_dir().join(format!("otlp-spool-sigkill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rng = fastrand::Rng::with_seed(15);
    let mut total_replayed = 0;
    for round in 1..=8u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "spool_sigkill_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("OTLP_SPOOL_SIGKILL_DIR", &dir)
            .env("OTLP_SPOOL_SIGKILL_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        let kill_after = rng.usize(5..400);
        let mut line = String::new();
        while lines.len() < kill_after {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            lines.push(line.clone());
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        lines.extend(rest.split_inclusive('\n').map(str::to_string));
        // Whole lines only; libtest's own "test ... " may share the child's first line.
        let tags = |what: &str| -> BTreeSet<u64> {
            lines
                .iter()
                .filter(|l| l.ends_with('\n'))
                .filter_map(|l| l.trim_end().rsplit_once(what)?.1.parse().ok())
                .collect()
        };
        let (started, appended, acking, acked) = (
            tags("appending "),
            tags("appended "),
            tags("acking "),
            tags("acked "),
        );
        assert!(
            !appended.is_empty(),
            "round {round}: the child did not start"
        );

        let spool = Spool::open(config(&dir)).unwrap();
        let mut replayed = BTreeSet::new();
        for spooled in spool.take_waiting(usize::MAX).unwrap() {
            let tag = tag_of(&spooled.request.body);
            assert!(
                replayed.insert(tag),
                "round {round}: tag {tag} replayed twice"
            );
            spool.ack(spooled.id).unwrap();
        }
        let lost: Vec<&u64> = appended
            .iter()
            .filter(|t| !acking.contains(t) && !replayed.contains(t))
            .collect();
        assert!(
            lost.is_empty(),
            "round {round}: appended, never acknowledged, lost: {lost:?}"
        );
        let back: Vec<&u64> = replayed.intersection(&acked).collect();
        assert!(
            back.is_empty(),
            "round {round}: acknowledged, then replayed: {back:?}"
        );
        let unknown: Vec<&u64> = replayed.difference(&started).collect();
        assert!(
            unknown.is_empty(),
            "round {round}: never appended: {unknown:?}"
        );
        total_replayed += replayed.len();
    }
    assert!(total_replayed > 0, "the kills left something to replay");
    std::fs::remove_dir_all(dir).unwrap();
}
