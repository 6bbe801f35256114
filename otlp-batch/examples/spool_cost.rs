//! What a spooled request costs: append (with fsync) and acknowledge one request of the size of
//! 512 encoded spans (196 kB, 383 bytes per span), in a spool in the temporary directory.
//!
//! `cargo run --release -p otlp-batch --example spool_cost -- [ROUNDS]` (default 500) prints
//! the mean and the median in microseconds per request.

use std::time::Instant;

use otlp_batch::spool::{Spool, SpoolConfig};
use otlp_core::{Encoding, ExportRequest, Signal};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args().nth(1).map_or(Ok(500), |a| a.parse())?;
    let dir = std::env::temp_dir().join(format!("otlp-spool-cost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spool = Spool::open(SpoolConfig::new(&dir))?;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let body: Vec<u8> = (0..512 * 383)
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng as u8
        })
        .collect();
    let request = ExportRequest::new(Signal::Traces, Encoding::Protobuf, body.into(), 512);
    let mut each = Vec::with_capacity(rounds);
    let started = Instant::now();
    for _ in 0..rounds {
        let one = Instant::now();
        let id = spool.append(&request)?;
        spool.ack(id)?;
        each.push(one.elapsed().as_secs_f64() * 1e6);
    }
    let mean = started.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    each.sort_by(f64::total_cmp);
    let median = each.get(rounds / 2).copied().unwrap_or_default();
    println!("spool append (fsync) + ack, 512-span request: mean {mean:.0} µs, median {median:.0} µs over {rounds} rounds");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
