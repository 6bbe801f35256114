//! `--scaling`: rows 2 and 3 with 1, 4 and 16 producer threads, for a machine with the cores
//! to run them. Prints its own table.

use std::time::Duration;

use super::end_cost::end_costs;
use super::throughput::throughput;

pub fn scaling(runtime: &tokio::runtime::Runtime, quick: bool) {
    let seconds = Duration::from_secs(if quick { 2 } else { 10 });
    let counts = [1, 4, 16];
    println!(
        "\n{:<9} {:>14} {:>14} {:>7} {:>10} {:>10} {:>11} {:>11} {:>7}",
        "producers",
        "ours spans/s",
        "ref spans/s",
        "ratio",
        "ours CPU/M",
        "ref CPU/M",
        "ours end ns",
        "SDK end ns",
        "ratio"
    );
    let ends = end_costs(
        if quick { 50_000 } else { 200_000 },
        if quick { 3 } else { 5 },
        &counts,
    );
    for (&producers, (_, ours_end, sdk_end)) in counts.iter().zip(ends) {
        let (ours, reference) = runtime.block_on(async {
            (
                throughput(false, seconds, producers).await,
                throughput(true, seconds, producers).await,
            )
        });
        println!(
            "{:<9} {:>14.0} {:>14.0} {:>6.2}x {:>10.2} {:>10.2} {:>11.1} {:>11.1} {:>6.2}x",
            producers,
            ours.delivered_per_second,
            reference.delivered_per_second,
            ours.delivered_per_second / reference.delivered_per_second,
            ours.cpu_per_million,
            reference.cpu_per_million,
            ours_end,
            sdk_end,
            sdk_end / ours_end
        );
    }
    println!("\nspans/s: delivered into the counting collector, producers making spans as fast as they can; CPU/M: process CPU seconds per million delivered spans; end ns: making and ending a span, per thread");
}
