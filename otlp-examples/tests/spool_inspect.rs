//! The `spool_inspect` command: it lists what waits in a spool directory without changing it,
//! refuses a directory that a running spool holds, discards on request, and drains to a
//! collector (its `--quick` self-check).

#![allow(clippy::unwrap_used)]

use std::process::Command;

use otlp_batch::spool::{Spool, SpoolConfig};
use otlp_core::{Encoding, ExportRequest, Signal};

fn command(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_spool_inspect"))
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn it_lists_refuses_a_held_directory_and_discards() {
    let dir = std::env::temp_dir().join(format!("otlp-spool-inspect-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spool = Spool::open(SpoolConfig::new(&dir)).unwrap();
    for items in [2, 5] {
        let request = ExportRequest::new(
            Signal::Logs,
            Encoding::Protobuf,
            vec![1u8; 40].into(),
            items,
        );
        spool.append(&request).unwrap();
    }
    let path = dir.to_str().unwrap();
    let (ok, text) = command(&[path]);
    assert!(!ok && text.contains("in use"), "{text}");
    drop(spool);

    for _ in 0..2 {
        let (ok, text) = command(&[path]);
        assert!(ok, "{text}");
        assert!(text.contains("2 requests, 7 items"), "{text}");
        assert!(text.contains("logs") && text.contains("protobuf"), "{text}");
    }
    let (ok, text) = command(&[path, "--discard"]);
    assert!(ok && text.contains("2 requests discarded"), "{text}");
    let (ok, text) = command(&[path]);
    assert!(ok && text.contains("0 requests"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn it_drains_to_a_collector() {
    let (ok, text) = command(&["--quick"]);
    assert!(ok, "{text}");
    assert!(text.contains("3 items delivered"), "{text}");
}
