//! `cargo xtask fuzz`: every cargo-fuzz target of `fuzz/` for a short while.

use std::process::Command;

use crate::{cargo, command, target_dir, workspace_root};

/// The cargo-fuzz targets of `fuzz/`.
const FUZZ_TARGETS: &[&str] = &[
    "decode_protobuf",
    "decode_json",
    "config_file",
    "spool_segment",
];

/// Runs each fuzz target for a few seconds. cargo-fuzz is installed if missing; its sanitizer
/// flags are nightly-only, so the stable toolchain is told to accept them (`RUSTC_BOOTSTRAP`).
/// A long run of one target: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run decode_json`.
pub(crate) fn fuzz(args: &[String]) -> Result<(), String> {
    let seconds = match args.iter().position(|a| a == "--seconds") {
        Some(i) => args
            .get(i + 1)
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or("--seconds expects a whole number")?,
        None => 10,
    };
    let cargo = cargo();
    let installed = Command::new(&cargo)
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        command(&cargo, &["install", "cargo-fuzz", "--locked"])?;
    }
    let root = workspace_root();
    let target = target_dir(&root).join("fuzz");
    for name in FUZZ_TARGETS {
        println!("xtask fuzz: {name} for {seconds} s");
        let status = Command::new(&cargo)
            .args([
                "fuzz",
                "run",
                name,
                "--",
                &format!("-max_total_time={seconds}"),
            ])
            .current_dir(root.join("fuzz"))
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        if !status.success() {
            return Err(format!(
                "fuzz target {name} failed ({status}); see fuzz/artifacts/{name}"
            ));
        }
    }
    Ok(())
}
