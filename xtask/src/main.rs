//! Project chores, run as `cargo xtask <task>`.
//!
//! - `ci`: every check the project has, in order, stopping at the first failure;
//! - `bench`: otlp-rust against the upstream `opentelemetry-otlp`, one table (`--quick`: short;
//!   `--scaling`: throughput and span-end cost with 1, 4 and 16 producer threads);
//! - `fuzz`: every cargo-fuzz target for a short while (`--seconds N`, default 10);
//! - `interop`: the interop tests against the OpenTelemetry Python reference peers, in a
//!   virtualenv that this task creates and fills from `interop/requirements.txt`; against a real
//!   OpenTelemetry Collector, which this task builds with Go from `interop/collector/` (once:
//!   the binary is kept under the target directory, keyed by a hash of its sources); and the
//!   viewer's browser test in headless Chromium.
//!
//! Tasks shell out to cargo, python3, pip and go; xtask depends on no otlp crate.

use std::env;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("interop") => interop().map(|totals| totals.print()),
        Some("bench") => bench(
            args.iter().any(|a| a == "--quick"),
            args.iter().any(|a| a == "--scaling"),
        ),
        Some("fuzz") => fuzz(&args[1..]),
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
    env: Vec<(&'static str, String)>,
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
        // Interop and the demo smoke runs come right after the unit and integration tests.
        if index == 2 {
            totals.add(&interop()?);
            demos()?;
        }
    }
    println!("xtask ci: all {} steps and interop passed", steps.len());
    totals.print();
    Ok(())
}

/// The comparison harness (a release build), then, unless quick or scaling, the criterion
/// encode bench.
fn bench(quick: bool, scaling: bool) -> Result<(), String> {
    let mut args = vec!["bench", "-p", "otlp-exporters", "--bench", "compare", "--"];
    if quick {
        args.push("--quick");
    }
    if scaling {
        args.push("--scaling");
    }
    command(
        &env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()),
        &args,
    )?;
    if !quick && !scaling {
        command(
            &env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()),
            &["bench", "-p", "otlp-exporters", "--bench", "encode"],
        )?;
    }
    Ok(())
}

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
fn fuzz(args: &[String]) -> Result<(), String> {
    let seconds = match args.iter().position(|a| a == "--seconds") {
        Some(i) => args
            .get(i + 1)
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or("--seconds expects a whole number")?,
        None => 10,
    };
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
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

/// The demo binaries, each run with `--quick` as a smoke test.
const DEMOS: &[&str] = &[
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
fn demos() -> Result<(), String> {
    run(&Step {
        name: "demos (build)",
        args: &["build", "-q", "-p", "otlp-examples", "--bins"],
        env: Vec::new(),
    })?;
    for demo in DEMOS {
        let started = Instant::now();
        let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
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
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
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

/// Creates (once) the interop virtualenv and the Collector, and runs the interop tests with them.
fn interop() -> Result<TestTotals, String> {
    let python = interop_python()?;
    let mut totals = run(&Step {
        name: "interop",
        args: &[
            "test",
            "-p",
            "otlp-transport",
            "--test",
            "interop_python",
            "--",
            "--ignored",
        ],
        env: vec![("OTLP_INTEROP_PYTHON", python.display().to_string())],
    })?;
    let collector = interop_collector()?;
    totals.add(&run(&Step {
        name: "interop with the OpenTelemetry Collector",
        args: &[
            "test",
            "-p",
            "otlp-exporters",
            "--test",
            "interop_collector",
            "--test",
            "interop_collector_pressure",
            "--",
            "--ignored",
        ],
        env: vec![("OTLP_INTEROP_COLLECTOR", collector.display().to_string())],
    })?);
    let chromium = chromium()?;
    totals.add(&run(&Step {
        name: "viewer in a browser",
        args: &[
            "test",
            "-p",
            "otlp-examples",
            "--test",
            "viewer_browser",
            "--",
            "--ignored",
        ],
        env: vec![
            ("OTLP_INTEROP_PYTHON", python.display().to_string()),
            ("OTLP_CHROMIUM", chromium),
        ],
    })?);
    Ok(totals)
}

/// The headless browser for the viewer test: `OTLP_CHROMIUM`, or Debian's `chromium` on PATH.
fn chromium() -> Result<String, String> {
    if let Ok(path) = env::var("OTLP_CHROMIUM") {
        return Ok(path);
    }
    let found = Command::new("chromium")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        Ok("chromium".to_owned())
    } else {
        Err("the viewer's browser test needs Chromium: install Debian's package \
             (`apt-get install chromium`, as .ci/run does) or set OTLP_CHROMIUM to a Chromium binary"
            .to_owned())
    }
}

/// The virtualenv's interpreter, after installing `interop/requirements.txt` when it changed.
fn interop_python() -> Result<PathBuf, String> {
    let root = workspace_root();
    let requirements = root.join("interop/requirements.txt");
    let wanted = fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let venv = match env::var_os("OTLP_INTEROP_VENV") {
        Some(path) => PathBuf::from(path),
        None => target_dir(&root).join("interop-venv"),
    };
    let python = venv.join("bin/python");
    let stamp = venv.join("requirements.installed");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
        return Ok(python);
    }
    println!(
        "xtask interop: creating {} from {}",
        venv.display(),
        requirements.display()
    );
    command("python3", &["-m", "venv", &venv.display().to_string()])?;
    let requirements = requirements.display().to_string();
    let pip = [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-r",
        &requirements,
    ];
    command(&python.display().to_string(), &pip)?;
    fs::write(&stamp, wanted).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(python)
}

/// The source files of `interop/collector/` that decide what its binary is.
const COLLECTOR_SOURCES: &[&str] = &["go.mod", "go.sum", "main.go"];

/// The Collector binary for the interop tests: `OTLP_INTEROP_COLLECTOR` when set, else the one
/// built from `interop/collector/`, built now when its sources or the Go version changed.
fn interop_collector() -> Result<PathBuf, String> {
    if let Some(path) = env::var_os("OTLP_INTEROP_COLLECTOR") {
        return Ok(PathBuf::from(path));
    }
    let root = workspace_root();
    let source = root.join("interop/collector");
    let go = go()?;
    let version = Command::new(&go)
        .arg("version")
        .output()
        .map_err(|e| format!("cannot run {go} version: {e}"))?;
    let mut key = Fnv1a::default();
    key.write(&version.stdout);
    for name in COLLECTOR_SOURCES {
        let path = source.join(name);
        let bytes = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        key.write(name.as_bytes());
        key.write(&bytes);
    }
    let dir = target_dir(&root).join("interop-collector");
    let binary = dir.join(format!("otlp-interop-collector-{:016x}", key.finish()));
    if binary.exists() {
        return Ok(binary);
    }
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    println!(
        "xtask interop: building the OpenTelemetry Collector from {} (the first build \
         downloads its modules and takes minutes)",
        source.display()
    );
    let partial = binary.with_extension("partial");
    let started = Instant::now();
    let status = Command::new(&go)
        .args([
            "build",
            "-trimpath",
            "-buildvcs=false",
            "-mod=readonly",
            "-o",
        ])
        .arg(&partial)
        .arg(".")
        .current_dir(&source)
        .status()
        .map_err(|e| format!("cannot start {go} build: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the OpenTelemetry Collector in {} failed ({status}): see go's output \
             above; the first build needs the Go module proxy (GOPROXY) or a filled module cache",
            source.display()
        ));
    }
    fs::rename(&partial, &binary)
        .map_err(|e| format!("cannot move the Collector to {}: {e}", binary.display()))?;
    println!(
        "xtask interop: built the OpenTelemetry Collector in {:.0?}: {}",
        started.elapsed(),
        binary.display()
    );
    Ok(binary)
}

/// The Go toolchain: `go` on PATH, or the official installation's `/usr/local/go/bin/go`.
fn go() -> Result<String, String> {
    for candidate in ["go", "/usr/local/go/bin/go"] {
        let found = Command::new(candidate)
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if found {
            return Ok(candidate.to_owned());
        }
    }
    Err("the Collector interop tests need Go (1.26 or later) to build the OpenTelemetry \
         Collector in interop/collector: put `go` on PATH or install it in /usr/local/go \
         (https://go.dev/dl/), or set OTLP_INTEROP_COLLECTOR to a Collector binary built from there"
        .to_owned())
}

/// FNV-1a, 64 bits: a cache key that stays the same across Rust releases (std's hasher may not).
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

fn command(program: &str, args: &[&str]) -> Result<(), String> {
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

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Test counts summed over every `test result:` line a step printed.
#[derive(Debug, Default, PartialEq, Eq)]
struct TestTotals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl TestTotals {
    fn print(&self) {
        println!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.ignored
        );
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_collector_cache_key_is_fnv1a() {
        // The published FNV-1a 64 test vectors: "" and "a".
        assert_eq!(Fnv1a::default().finish(), 0xcbf2_9ce4_8422_2325);
        let mut key = Fnv1a::default();
        key.write(b"a");
        assert_eq!(key.finish(), 0xaf63_dc4c_8601_ec8c);
    }

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
