//! The spool reader: any bytes as a segment file must open (cutting what does not check out),
//! never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otlp_batch::spool::{Spool, SpoolConfig};

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("otlp-fuzz-spool-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::create_dir_all(&dir).is_err()
        || std::fs::write(dir.join("00000001.seg"), data).is_err()
    {
        return;
    }
    if let Ok(spool) = Spool::open(SpoolConfig::new(&dir)) {
        let _ = spool.take_waiting(1000);
    }
    let _ = std::fs::remove_dir_all(&dir);
});
