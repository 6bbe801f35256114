//! `OTLP_BENCH_PROFILE`: one part of the harness alone, for `perf`: `encode` (row 1), `end`
//! (row 3), `ours` or `reference` (row 2's as-fast-as-it-can run for one side).

use std::time::Duration;

use super::encode_cost::encode_cost;
use super::end_cost::end_costs;
use super::throughput::throughput;

/// Runs one part alone: `encode`, `end`, `ours` or `reference`.
pub fn profile_one(runtime: &tokio::runtime::Runtime, part: &str, duration: Duration) {
    match part {
        "encode" => {
            let (ours, reference) = encode_cost(400);
            println!("encode ns per span: ours {ours:.1}, reference {reference:.1}");
        }
        "end" => {
            for (threads, ours, sdk) in end_costs(500_000, 5, &[1, 2]) {
                println!("{threads} {ours} {sdk}");
            }
        }
        "ours" | "reference" => {
            let t = runtime.block_on(throughput(part == "reference", duration, 1));
            println!(
                "delivered/s {:.0}, dropped {}, CPU s per million {:.2}, without the producer {:.2}",
                t.delivered_per_second, t.dropped, t.cpu_per_million, t.pipeline_cpu_per_million
            );
        }
        other => eprintln!("OTLP_BENCH_PROFILE={other}: expected encode, end, ours or reference"),
    }
}
