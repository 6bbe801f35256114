//! The real OpenTelemetry Collector (built from `interop/collector/`) as a child process of the
//! harness: its OTLP receiver on free ports of 127.0.0.1, a `debug` exporter that logs one
//! sampled line, its own metrics pulled from a Prometheus endpoint on 127.0.0.1, and the
//! receiver's span counters read from there.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The line the Collector logs once every component has started.
const READY: &str = "Everything is ready";

/// How to get a Collector binary, for the messages that say one is missing.
const HOW_TO_BUILD: &str = "`cargo xtask bench --collector` builds it from interop/collector/ \
     (Go 1.26 or later and the Go module proxy, minutes the first time) and runs this row; \
     `cargo xtask interop` builds the same binary; or set OTLP_INTEROP_COLLECTOR to a binary \
     built from there";

/// The Collector binary: `OTLP_INTEROP_COLLECTOR`, else the newest one `cargo xtask interop`
/// left under this target directory's `interop-collector/`.
pub fn binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("OTLP_INTEROP_COLLECTOR") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "OTLP_INTEROP_COLLECTOR={} is not a file; {HOW_TO_BUILD}",
                path.display()
            ))
        };
    }
    // The harness runs as <target>/release/deps/compare-<hash>.
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the harness: {e}"))?;
    let Some(target) = exe.ancestors().nth(3) else {
        return Err(format!("no target directory above {}", exe.display()));
    };
    let dir = target.join("interop-collector");
    let newest = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with("otlp-interop-collector-") && !name.ends_with(".partial")
        })
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .max();
    match newest {
        Some((_, path)) => Ok(path),
        None => Err(format!(
            "no OpenTelemetry Collector binary: OTLP_INTEROP_COLLECTOR is not set and {} holds \
             none; {HOW_TO_BUILD}",
            dir.display()
        )),
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

/// The receiver's span counters, summed over its transports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// `otelcol_receiver_accepted_spans`: handed to the pipeline and answered with success.
    pub accepted: u64,
    /// `otelcol_receiver_refused_spans`: refused by the pipeline (a `memory_limiter`).
    pub refused: u64,
    /// `otelcol_receiver_failed_spans`: failed for another reason.
    pub failed: u64,
}

impl Counts {
    /// What happened between `before` and `self`.
    pub fn since(self, before: Counts) -> Counts {
        Counts {
            accepted: self.accepted.saturating_sub(before.accepted),
            refused: self.refused.saturating_sub(before.refused),
            failed: self.failed.saturating_sub(before.failed),
        }
    }

    /// Reads the counters from a Prometheus text exposition. A counter not there yet (the
    /// Collector creates them on the first request) reads 0.
    pub fn parse(exposition: &str) -> Counts {
        let mut counts = Counts::default();
        for line in exposition.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let name = series.split('{').next().unwrap_or_default();
            let name = name.strip_suffix("_total").unwrap_or(name);
            let value = value.parse::<f64>().unwrap_or(0.0) as u64;
            match name {
                "otelcol_receiver_accepted_spans" => counts.accepted += value,
                "otelcol_receiver_refused_spans" => counts.refused += value,
                "otelcol_receiver_failed_spans" => counts.failed += value,
                _ => {}
            }
        }
        counts
    }
}

/// A running Collector. Dropping it kills the process.
pub struct Collector {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    grpc_port: u16,
    metrics_port: u16,
    dir: PathBuf,
}

impl Collector {
    /// Starts `binary` with a `memory_limiter` of `memory_limit_mib` first in the pipeline when
    /// set, and waits until it is ready.
    pub fn start(binary: &Path, memory_limit_mib: Option<u32>) -> Result<Collector, String> {
        let (grpc_port, http_port, metrics_port) = (free_port()?, free_port()?, free_port()?);
        let dir = std::env::temp_dir().join(format!("otlp-bench-collector-{grpc_port}"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let config = dir.join("collector.yaml");
        let yaml = config_yaml(grpc_port, http_port, metrics_port, memory_limit_mib);
        std::fs::write(&config, &yaml)
            .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let mut child = Command::new(binary)
            .arg(format!("--config=file:{}", config.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start the Collector at {}: {e}; {HOW_TO_BUILD}",
                    binary.display()
                )
            })?;
        let log = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let sink = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(mut log) = sink.lock() {
                        // The start-up lines and the last ones are what an error needs.
                        if log.len() >= 200 {
                            log.drain(50..100);
                        }
                        log.push(line);
                    }
                }
            });
        }
        let mut collector = Collector {
            child,
            log,
            grpc_port,
            metrics_port,
            dir,
        };
        collector.wait_until_ready(binary, &yaml)?;
        Ok(collector)
    }

    fn wait_until_ready(&mut self, binary: &Path, yaml: &str) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if self.log().contains(READY) {
                return Ok(());
            }
            let exited = started.elapsed() > Duration::from_secs(60)
                || !matches!(self.child.try_wait(), Ok(None));
            if exited {
                std::thread::sleep(Duration::from_millis(200));
                return Err(format!(
                    "the Collector at {} did not get ready (exited, or not within 60 s); its \
                     log:\n{}\nits configuration:\n{yaml}",
                    binary.display(),
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The gRPC endpoint of its OTLP receiver.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// What it has logged (the first lines and the last ones).
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Its receiver's span counters now, from its Prometheus endpoint.
    pub fn counts(&self) -> Result<Counts, String> {
        let failed = |e: std::io::Error| {
            format!(
                "cannot read the Collector's metrics on 127.0.0.1:{}: {e}",
                self.metrics_port
            )
        };
        let mut stream = TcpStream::connect(("127.0.0.1", self.metrics_port)).map_err(failed)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(failed)?;
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .map_err(failed)?;
        let mut response = String::new();
        stream.read_to_string(&mut response).map_err(failed)?;
        match response.split_once("\r\n\r\n") {
            Some((head, body)) if head.starts_with("HTTP/1.") && head.contains(" 200 ") => {
                Ok(Counts::parse(body))
            }
            _ => Err(format!(
                "the Collector's metrics endpoint on 127.0.0.1:{} answered: {}",
                self.metrics_port,
                response.lines().next().unwrap_or("nothing")
            )),
        }
    }

    /// The counters once they have stopped moving (the last requests' counts can land a
    /// moment after their answers).
    pub fn settled_counts(&self) -> Result<Counts, String> {
        let mut last = self.counts()?;
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(100));
            let now = self.counts()?;
            if now == last {
                return Ok(now);
            }
            last = now;
        }
        Ok(last)
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The configuration: OTLP in on both protocols, a `debug` exporter that costs little (basic
/// verbosity, one line in a thousand logged), no `batch` processor (each request is answered
/// once the exporter has it), the Collector's own metrics pulled on 127.0.0.1.
fn config_yaml(grpc: u16, http: u16, metrics: u16, memory_limit_mib: Option<u32>) -> String {
    let mut yaml = String::new();
    let _ = write!(
        yaml,
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:{grpc}\n      \
         http:\n        endpoint: 127.0.0.1:{http}\n"
    );
    let mut processors = "";
    if let Some(limit) = memory_limit_mib {
        let _ = write!(
            yaml,
            "processors:\n  memory_limiter:\n    check_interval: 50ms\n    limit_mib: {limit}\n    \
             spike_limit_mib: {}\n",
            limit / 2
        );
        processors = "memory_limiter";
    }
    yaml.push_str(
        "exporters:\n  debug:\n    verbosity: basic\n    sampling_initial: 1\n    \
         sampling_thereafter: 1000\n",
    );
    let _ = write!(
        yaml,
        "service:\n  telemetry:\n    logs:\n      level: info\n    metrics:\n      level: normal\n      \
         readers:\n        - pull:\n            exporter:\n              prometheus:\n                \
         host: 127.0.0.1\n                port: {metrics}\n  pipelines:\n    traces:\n      \
         receivers: [otlp]\n      processors: [{processors}]\n      exporters: [debug]\n"
    );
    yaml
}
