//! Project chores, run as `cargo xtask <task>`.
//!
//! - `ci`: every check the project has, in order, stopping at the first failure;
//! - `tidy`: the source rules a compiler does not check (`//!` lines, file sizes, no
//!   `unwrap`/`expect` in library code, the READMEs' command lines are real);
//! - `package`: `cargo package` for each library crate, in dependency order, without upload;
//! - `bench`: otlp-rust against the upstream `opentelemetry-otlp`, one table (`--quick`: short;
//!   `--scaling`: throughput and span-end cost with 1, 4 and 16 producer threads);
//! - `fuzz`: every cargo-fuzz target for a short while (`--seconds N`, default 10);
//! - `interop`: the interop tests against the OpenTelemetry Python reference peers, a real
//!   OpenTelemetry Collector and the viewer in headless Chromium (see `interop.rs`).
//!
//! Tasks shell out to cargo, python3, pip and go; xtask depends on no otlp crate.

mod bench;
mod demos;
mod fuzz;
mod interop;
mod package;
mod tidy;
mod totals;

use std::env;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use totals::TestTotals;

/// Every task `cargo xtask` knows, with what it does; `tidy` checks that the READMEs name
/// no other.
pub(crate) const TASKS: &[(&str, &str)] = &[
    (
        "ci",
        "format, tidy, clippy, tests, interop, demos, package, docs: everything CI checks",
    ),
    (
        "tidy",
        "//! lines, file sizes, no unwrap/expect in library code, README command lines",
    ),
    (
        "package",
        "cargo package for each library crate, in dependency order (no upload)",
    ),
    (
        "interop",
        "the Python reference peers, the OpenTelemetry Collector, the viewer in Chromium",
    ),
    (
        "bench",
        "against opentelemetry-otlp (--quick, --scaling, --collector); release build",
    ),
    (
        "fuzz",
        "every cargo-fuzz target for --seconds N (default 10)",
    ),
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("tidy") => tidy::tidy(&workspace_root()),
        Some("package") => package::package(),
        Some("interop") => interop::interop().map(|totals| totals.print()),
        Some("bench") => bench::bench(
            args.iter().any(|a| a == "--quick"),
            args.iter().any(|a| a == "--scaling"),
            args.iter().any(|a| a == "--collector"),
        ),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("help") | Some("--help") | Some("-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown task {other:?}; run `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!("cargo xtask <task>\n\ntasks:");
    for (name, what) in TASKS {
        println!("  {name:<8} {what}");
    }
}

/// One step of a task: a cargo command line and the environment it needs.
pub(crate) struct Step {
    pub(crate) name: &'static str,
    pub(crate) args: &'static [&'static str],
    pub(crate) env: Vec<(&'static str, String)>,
}

fn ci() -> Result<(), String> {
    let steps = [
        Step {
            name: "format",
            args: &["fmt", "--all", "--", "--check"],
            env: Vec::new(),
        },
        Step {
            name: "clippy",
            args: &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            env: Vec::new(),
        },
        Step {
            name: "tests",
            args: &["test", "--workspace"],
            env: Vec::new(),
        },
        Step {
            name: "docs",
            args: &["doc", "--workspace", "--no-deps"],
            env: vec![("RUSTDOCFLAGS", "-D warnings".to_owned())],
        },
    ];
    let mut totals = TestTotals::default();
    for (index, step) in steps.iter().enumerate() {
        totals.add(&run(step)?);
        match index {
            // The source rules right after the format: both take seconds.
            0 => {
                println!("xtask ci: tidy");
                tidy::tidy(&workspace_root())?;
            }
            // Interop, the demo smoke runs and the packages come right after the unit and
            // integration tests.
            2 => {
                totals.add(&interop::interop()?);
                demos::demos()?;
                package::package()?;
            }
            _ => {}
        }
    }
    println!(
        "xtask ci: all {} steps, tidy, interop, demos and packages passed",
        steps.len()
    );
    totals.print();
    Ok(())
}

/// The cargo that runs xtask (`CARGO`), else `cargo` on PATH.
pub(crate) fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

pub(crate) fn command(program: &str, args: &[&str]) -> Result<(), String> {
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{program} {} failed ({status})", args.join(" ")))
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub(crate) fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Runs a step, echoing its output and tallying any test summaries in it.
pub(crate) fn run(step: &Step) -> Result<TestTotals, String> {
    println!("xtask ci: {} (cargo {})", step.name, step.args.join(" "));
    let started = Instant::now();
    let mut child = Command::new(cargo())
        .args(step.args)
        .envs(step.env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: cannot start cargo: {e}", step.name))?;
    let mut totals = TestTotals::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            totals.parse_line(&line);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("{}: cargo did not finish: {e}", step.name))?;
    if !status.success() {
        return Err(format!("{} failed ({status})", step.name));
    }
    println!("xtask ci: {} ok in {:.1?}", step.name, started.elapsed());
    Ok(totals)
}
