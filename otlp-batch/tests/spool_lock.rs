//! One spool per directory: a second open, in this process or another, fails naming the
//! directory, and the directory is free again once the first spool is gone.

#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use otlp_batch::spool::{Spool, SpoolConfig};
use otlp_core::{Encoding, ExportRequest, Signal};

#[test]
fn a_second_open_of_the_same_directory_fails_and_names_it() {
    let dir = std::env::temp_dir().join(format!("otlp-spool-lock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = Spool::open(SpoolConfig::new(&dir)).unwrap();
    let request = ExportRequest::new(
        Signal::Traces,
        Encoding::Protobuf,
        Bytes::from_static(b"x"),
        1,
    );
    let id = first.append(&request).unwrap();

    let error = Spool::open(SpoolConfig::new(&dir)).unwrap_err().to_string();
    assert!(error.contains(&dir.display().to_string()), "{error}");
    assert!(error.contains("in use"), "{error}");
    // The failed open touched nothing: the first spool's record is still there and its own.
    first.release(id);
    assert_eq!(first.take_waiting(10).unwrap().len(), 1);

    drop(first);
    let second = Spool::open(SpoolConfig::new(&dir)).unwrap();
    assert_eq!(second.take_waiting(10).unwrap().len(), 1);
    drop(second);
    std::fs::remove_dir_all(dir).unwrap();
}
