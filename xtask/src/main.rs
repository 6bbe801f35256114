//! Project chores, run as `cargo xtask <task>`.
//!
//! - `ci`: every check the project has, in order, stopping at the first failure.
//!
//! Tasks shell out to cargo (and later to Python for interop); xtask depends on no otlp crate.

use std::env;
use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
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
    println!(
        "cargo xtask <task>\n\ntasks:\n  ci    fmt, clippy, tests, docs: everything CI checks"
    );
}

/// One step of a task: a cargo command line and the environment it needs.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

fn ci() -> Result<(), String> {
    let steps = [
        Step {
            name: "format",
            args: &["fmt", "--all", "--", "--check"],
            env: &[],
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
            env: &[],
        },
        Step {
            name: "tests",
            args: &["test", "--workspace"],
            env: &[],
        },
        Step {
            name: "docs",
            args: &["doc", "--workspace", "--no-deps"],
            env: &[("RUSTDOCFLAGS", "-D warnings")],
        },
    ];
    let mut totals = TestTotals::default();
    for step in &steps {
        totals.add(&run(step)?);
    }
    println!("xtask ci: all {} steps passed", steps.len());
    println!(
        "{} passed, {} failed, {} skipped",
        totals.passed, totals.failed, totals.ignored
    );
    Ok(())
}

/// Test counts summed over every `test result:` line a step printed.
#[derive(Debug, Default, PartialEq, Eq)]
struct TestTotals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl TestTotals {
    fn add(&mut self, other: &TestTotals) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }

    /// Reads a libtest summary such as `test result: ok. 3 passed; 0 failed; 1 ignored; ...`.
    fn parse_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split([';', '.']) {
            let mut words = part.split_whitespace();
            let (Some(count), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match what {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                "ignored" => self.ignored += count,
                _ => {}
            }
        }
    }
}

/// Runs a step, echoing its output and tallying any test summaries in it.
fn run(step: &Step) -> Result<TestTotals, String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    println!("xtask ci: {} (cargo {})", step.name, step.args.join(" "));
    let started = Instant::now();
    let mut child = Command::new(cargo)
        .args(step.args)
        .envs(step.env.iter().copied())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_libtest_summaries() {
        let mut totals = TestTotals::default();
        totals.parse_line("test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.2s");
        totals.parse_line(
            "test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        totals.parse_line("running 4 tests");
        assert_eq!(
            totals,
            TestTotals {
                passed: 4,
                failed: 2,
                ignored: 1
            }
        );
    }
}
