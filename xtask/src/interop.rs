//! `cargo xtask interop`: the interop tests against the OpenTelemetry Python reference peers
//! (a virtualenv filled from `interop/requirements.txt`), a real OpenTelemetry Collector
//! (built with Go from `interop/collector/` once, kept under the target directory keyed by a
//! hash of its sources) and the viewer in headless Chromium.

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::totals::TestTotals;
use crate::{command, run, target_dir, workspace_root, Step};

/// Creates (once) the interop virtualenv and the Collector, and runs the interop tests with them.
pub(crate) fn interop() -> Result<TestTotals, String> {
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
pub(crate) fn interop_collector() -> Result<PathBuf, String> {
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
}
