//! A real OpenTelemetry Collector as a child process: its configuration written by the test,
//! free ports on 127.0.0.1, started and awaited until it says it is ready, stopped on drop.
//!
//! The binary comes from `OTLP_INTEROP_COLLECTOR`, which `cargo xtask interop` sets after
//! building `interop/collector/`. Without it, or when the Collector does not start, the test
//! fails with a message that says what is missing; it never passes by skipping.

#![allow(dead_code, clippy::unwrap_used)]

pub mod clients;
pub mod payloads;

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The line the Collector logs once every component has started.
const READY: &str = "Everything is ready";

/// The Collector binary the tests run.
pub fn binary() -> PathBuf {
    match std::env::var_os("OTLP_INTEROP_COLLECTOR") {
        Some(path) => PathBuf::from(path),
        None => panic!(
            "OTLP_INTEROP_COLLECTOR is not set: run these tests with `cargo xtask interop`, \
             which builds the OpenTelemetry Collector from interop/collector/ (it needs Go)"
        ),
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where the Collector sends what it receives: our receiver's gRPC and HTTP servers.
#[derive(Debug, Clone, Default)]
pub struct Forward {
    /// `host:port` of a gRPC server (the Collector's `otlp_grpc` exporter).
    pub grpc: Option<SocketAddr>,
    /// `host:port` of an HTTP server (the Collector's `otlp_http` exporter).
    pub http: Option<SocketAddr>,
    /// PEM file of the CA to trust; plain text when unset.
    pub ca_file: Option<PathBuf>,
    /// PEM files of the client certificate and key the exporters present (mTLS), with `ca_file`.
    pub client_identity: Option<(PathBuf, PathBuf)>,
    /// Bearer token the Collector's exporters send (a static `authorization` header: the
    /// `bearertokenauth` extension will not send credentials over plain-text gRPC).
    pub bearer_token: Option<String>,
}

/// TLS for the Collector's OTLP receiver.
#[derive(Debug, Clone)]
pub struct ReceiverTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// When set, clients must present a certificate issued by this CA.
    pub client_ca_file: Option<PathBuf>,
}

/// What a test wants from its Collector. `config_yaml` turns it into the Collector's YAML.
#[derive(Debug, Clone)]
pub struct Settings {
    pub grpc_port: u16,
    pub http_port: u16,
    pub forward: Forward,
    /// `memory_limiter` with this `limit_mib` first in every pipeline.
    pub memory_limit_mib: Option<u32>,
    /// The `batch` processor last in every pipeline (off: each request is forwarded as is).
    pub batch: bool,
    /// The OTLP receiver requires this value in the `x-api-key` header (`bearertokenauth/in`).
    pub api_key: Option<String>,
    pub tls: Option<ReceiverTls>,
}

impl Settings {
    /// Free ports, nothing forwarded, no processors.
    pub fn new() -> Self {
        Settings {
            grpc_port: free_port(),
            http_port: free_port(),
            forward: Forward::default(),
            memory_limit_mib: None,
            batch: false,
            api_key: None,
            tls: None,
        }
    }

    /// The Collector's configuration. The exporters have no sending queue, so the Collector
    /// answers a request only after forwarding it: what our exporters count as delivered has
    /// reached our receiver. They retry quickly, to keep the tests short.
    pub fn config_yaml(&self) -> String {
        let mut yaml = String::new();
        let tls = |yaml: &mut String| {
            if let Some(tls) = &self.tls {
                writeln!(yaml, "        tls:").unwrap();
                writeln!(yaml, "          cert_file: {}", tls.cert_file.display()).unwrap();
                writeln!(yaml, "          key_file: {}", tls.key_file.display()).unwrap();
                if let Some(ca) = &tls.client_ca_file {
                    writeln!(yaml, "          client_ca_file: {}", ca.display()).unwrap();
                }
            }
            if self.api_key.is_some() {
                writeln!(yaml, "        auth:").unwrap();
                writeln!(yaml, "          authenticator: bearertokenauth/in").unwrap();
            }
        };
        yaml.push_str("extensions:\n");
        if let Some(key) = &self.api_key {
            write!(
                yaml,
                "  bearertokenauth/in:\n    header: x-api-key\n    scheme: \"\"\n    token: {key:?}\n"
            )
            .unwrap();
        }
        yaml.push_str("receivers:\n  otlp:\n    protocols:\n      grpc:\n");
        writeln!(yaml, "        endpoint: 127.0.0.1:{}", self.grpc_port).unwrap();
        tls(&mut yaml);
        yaml.push_str("      http:\n");
        writeln!(yaml, "        endpoint: 127.0.0.1:{}", self.http_port).unwrap();
        tls(&mut yaml);

        yaml.push_str("processors:\n  batch:\n    send_batch_size: 100\n    timeout: 50ms\n");
        if let Some(limit) = self.memory_limit_mib {
            write!(
                yaml,
                "  memory_limiter:\n    check_interval: 50ms\n    limit_mib: {limit}\n    \
                 spike_limit_mib: {}\n",
                limit / 2
            )
            .unwrap();
        }

        yaml.push_str("exporters:\n  debug:\n    verbosity: basic\n");
        let client = |yaml: &mut String| {
            yaml.push_str("    sending_queue:\n      enabled: false\n");
            yaml.push_str(
                "    retry_on_failure:\n      enabled: true\n      initial_interval: 50ms\n      \
                 max_interval: 200ms\n      max_elapsed_time: 20s\n",
            );
            match &self.forward.ca_file {
                Some(ca) => writeln!(yaml, "    tls:\n      ca_file: {}", ca.display()).unwrap(),
                None => yaml.push_str("    tls:\n      insecure: true\n"),
            }
            if let (Some(_), Some((cert, key))) =
                (&self.forward.ca_file, &self.forward.client_identity)
            {
                writeln!(yaml, "      cert_file: {}", cert.display()).unwrap();
                writeln!(yaml, "      key_file: {}", key.display()).unwrap();
            }
            if let Some(token) = &self.forward.bearer_token {
                writeln!(
                    yaml,
                    "    headers:\n      authorization: \"Bearer {token}\""
                )
                .unwrap();
            }
        };
        let scheme = if self.forward.ca_file.is_some() {
            "https"
        } else {
            "http"
        };
        let mut exporters = vec!["debug"];
        if let Some(addr) = self.forward.grpc {
            writeln!(yaml, "  otlp_grpc:\n    endpoint: {scheme}://{addr}").unwrap();
            client(&mut yaml);
            exporters.push("otlp_grpc");
        }
        if let Some(addr) = self.forward.http {
            writeln!(yaml, "  otlp_http:\n    endpoint: {scheme}://{addr}").unwrap();
            client(&mut yaml);
            exporters.push("otlp_http");
        }

        let mut extensions = Vec::new();
        if self.api_key.is_some() {
            extensions.push("bearertokenauth/in");
        }
        let mut processors = Vec::new();
        if self.memory_limit_mib.is_some() {
            processors.push("memory_limiter");
        }
        if self.batch {
            processors.push("batch");
        }
        yaml.push_str("service:\n");
        writeln!(yaml, "  extensions: [{}]", extensions.join(", ")).unwrap();
        // No telemetry server: several Collectors run at once, and 8888 is not ours to take.
        yaml.push_str("  telemetry:\n    metrics:\n      level: none\n  pipelines:\n");
        for signal in ["traces", "metrics", "logs"] {
            writeln!(
                yaml,
                "    {signal}:\n      receivers: [otlp]\n      processors: [{}]\n      exporters: [{}]",
                processors.join(", "),
                exporters.join(", ")
            )
            .unwrap();
        }
        yaml
    }
}

/// A scratch directory for configuration and certificate files, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "otlp-interop-collector-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes `contents` to `name` in the directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running Collector. Dropping it kills the process.
pub struct Collector {
    child: Child,
    log: Arc<Mutex<String>>,
    settings: Settings,
    _scratch: Scratch,
}

impl Collector {
    /// Writes the configuration, starts the Collector and waits until it is ready.
    pub fn start(settings: Settings) -> Collector {
        let scratch = Scratch::new();
        let config = scratch.write("collector.yaml", settings.config_yaml());
        let binary = binary();
        let mut child = Command::new(&binary)
            .arg(format!("--config=file:{}", config.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the Collector at {}: {e} (OTLP_INTEROP_COLLECTOR; \
                     `cargo xtask interop` builds it)",
                    binary.display()
                )
            });
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let started = Instant::now();
        loop {
            if log.lock().unwrap().contains(READY) {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                // Let the reader thread catch the last lines.
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "the Collector at {} exited before it was ready ({status}); its log:\n{}\n\
                     its configuration:\n{}",
                    binary.display(),
                    log.lock().unwrap(),
                    settings.config_yaml()
                );
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!(
                    "the Collector at {} was not ready after 60 s; its log:\n{}",
                    binary.display(),
                    log.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Collector {
            child,
            log,
            settings,
            _scratch: scratch,
        }
    }

    /// The gRPC endpoint of its OTLP receiver.
    pub fn grpc_endpoint(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.settings.grpc_port)
    }

    /// The HTTP base endpoint of its OTLP receiver.
    pub fn http_endpoint(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.settings.http_port)
    }

    fn scheme(&self) -> &'static str {
        if self.settings.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// What it has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The settings it runs with (to restart a changed copy on the same ports).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Kills it (SIGKILL) and waits for the process to end.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
