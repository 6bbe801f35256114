//! The demos' smoke runs in `cargo xtask ci`: each with `--quick`, each pipeline demo with
//! `--print-config`.

use std::process::Command;
use std::time::Instant;

use crate::{cargo, run, workspace_root, Step};

/// The demo binaries, each run with `--quick` as a smoke test.
pub(crate) const DEMOS: &[&str] = &[
    "microservices",
    "distributed_tracing",
    "advanced_metrics",
    "custom_exporter",
    "performance",
    "reliability",
    "production",
    "receiver",
    "spool_inspect",
];

/// Runs every demo with `--quick`; each must exit 0 (it checks its own results).
pub(crate) fn demos() -> Result<(), String> {
    run(&Step {
        name: "demos (build)",
        args: &["build", "-q", "-p", "otlp-examples", "--bins"],
        env: Vec::new(),
    })?;
    for demo in DEMOS {
        let started = Instant::now();
        let cargo = cargo();
        let output = Command::new(cargo)
            .args([
                "run",
                "-q",
                "-p",
                "otlp-examples",
                "--bin",
                demo,
                "--",
                "--quick",
            ])
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OTEL_CONFIG_FILE")
            .output()
            .map_err(|e| format!("demo {demo}: cannot start: {e}"))?;
        if !output.status.success() {
            println!("{}", String::from_utf8_lossy(&output.stdout));
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
            return Err(format!("demo {demo} --quick failed ({})", output.status));
        }
        println!(
            "xtask ci: demo {demo} --quick ok in {:.1?}",
            started.elapsed()
        );
    }
    print_config()
}

/// Each pipeline demo prints its configuration report with `--print-config` (the receiver
/// and `spool_inspect` build no pipeline); with `OTEL_CONFIG_FILE` the report names the file
/// and its values come from it.
fn print_config() -> Result<(), String> {
    let cargo = cargo();
    let root = workspace_root();
    let file = "otlp-examples/config/otel-sdk-config.yaml";
    for (demo, config_file) in DEMOS
        .iter()
        .filter(|d| !matches!(**d, "receiver" | "spool_inspect"))
        .map(|d| (*d, None))
        .chain([("reliability", Some(file))])
    {
        let mut command = Command::new(&cargo);
        command
            .current_dir(&root)
            .args([
                "run",
                "-q",
                "-p",
                "otlp-examples",
                "--bin",
                demo,
                "--",
                "--print-config",
            ])
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OTEL_CONFIG_FILE");
        if let Some(path) = config_file {
            command.env("OTEL_CONFIG_FILE", path);
        }
        let output = command
            .output()
            .map_err(|e| format!("demo {demo}: cannot start: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let expected = match config_file {
            Some(path) => format!("(file: {path})"),
            None => "configuration in effect".to_owned(),
        };
        if !output.status.success() || !stdout.contains(&expected) || !stdout.contains("warnings:")
        {
            println!("{stdout}");
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
            return Err(format!(
                "demo {demo} --print-config did not print the report ({})",
                output.status
            ));
        }
    }
    println!("xtask ci: every demo prints its configuration with --print-config");
    Ok(())
}
