//! Where a demo's telemetry goes: the embedded receiver, or the collector that the standard
//! `OTEL_EXPORTER_OTLP_*` variables name. With `--ui ADDR`, the embedded receiver also feeds
//! the telemetry viewer, which stays up at the end of the demo until Ctrl-C.

use std::sync::{Arc, Mutex};

use otlp_exporters::{OtlpPipeline, PipelineBuilder};
use otlp_transport::receiver::{Receiver, ReceiverConfig};

use crate::viewer::{Store, Viewer};

/// The viewer of `--ui`, once started; kept until [`linger`] returns.
static VIEWER: Mutex<Option<Viewer>> = Mutex::new(None);

/// With `--ui ADDR` ([`crate::cli::ui_address`]): starts the viewer on ADDR and makes
/// `config`'s receiver feed it (before any callback already set). Without `--ui`: `config`.
pub async fn with_viewer(mut config: ReceiverConfig) -> std::io::Result<ReceiverConfig> {
    let Some(addr) = crate::cli::ui_address() else {
        return Ok(config);
    };
    let store = Store::default();
    let viewer = Viewer::start(addr, store.clone()).await?;
    println!("🔎 viewer: {} (stays up when the demo ends)", viewer.url());
    let before = config.on_receive.take();
    config.on_receive = Some(Arc::new(move |received| {
        store.add(&received.payload);
        if let Some(before) = &before {
            before(received);
        }
    }));
    *VIEWER.lock().unwrap_or_else(|e| e.into_inner()) = Some(viewer);
    Ok(config)
}

/// Waits for Ctrl-C or (on Unix) SIGTERM.
pub async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// When a viewer of `--ui` is up: says so and waits for Ctrl-C or SIGTERM, so that what the demo sent
/// can be looked at; returns at once otherwise. Needs the multi-thread tokio runtime (that of
/// `#[tokio::main]`), whose workers keep serving the page while this thread waits.
pub fn linger() {
    let Some(viewer) = VIEWER.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return;
    };
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
        eprintln!("the viewer needs the multi-thread tokio runtime to stay up; stopping it");
        return;
    }
    println!("🔎 the viewer stays up at {}; Ctrl-C to stop", viewer.url());
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| handle.block_on(stop_signal()));
        let _ = waiting.join();
    });
    drop(viewer);
}

/// The embedded receiver, or an external collector.
#[derive(Debug)]
pub enum Target {
    /// An OTLP receiver in this process on 127.0.0.1; the demo shows what it got.
    Embedded(Receiver),
    /// The collector of `OTEL_EXPORTER_OTLP_*`.
    External(String),
    /// Several collectors, balanced (`--collectors URL,URL --balance STRATEGY`).
    Collectors(Vec<String>, otlp_transport::balance::BalanceStrategy),
}

const ENDPOINT_VARIABLES: [&str; 6] = [
    "OTEL_CONFIG_FILE",
    "OTLP_RUST_COLLECTORS",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
];

/// `VARIABLE=value` of the first endpoint variable (or `OTEL_CONFIG_FILE`) that is set: the
/// demo then sends to that collector instead of an embedded receiver.
pub fn external_from_env() -> Option<String> {
    ENDPOINT_VARIABLES.iter().find_map(|variable| {
        std::env::var(variable)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|value| format!("{variable}={}", otlp_core::redact::url(&value)))
    })
}

impl Target {
    /// An external collector when an endpoint variable or `OTEL_CONFIG_FILE` is set, the
    /// embedded receiver otherwise; with `--ui`, the receiver feeds the viewer, and dropping
    /// the target at the end of the demo waits for Ctrl-C (see [`linger`]).
    pub async fn from_env() -> std::io::Result<Target> {
        if let Some(from) = external_from_env() {
            return Ok(Target::External(from));
        }
        let config = with_viewer(ReceiverConfig::default()).await?;
        Ok(Target::Embedded(Receiver::start(config).await?))
    }

    /// Several collectors from `--collectors` (comma-separated URLs) and `--balance`
    /// (`round-robin`, `least-loaded` or `trace-id`); `None` when `--collectors` is absent.
    pub fn from_collectors(
        collectors: Option<&str>,
        balance: Option<&str>,
    ) -> Result<Option<Target>, otlp_core::InvalidSetting> {
        let Some(list) = collectors else {
            return Ok(None);
        };
        let urls: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect();
        if urls.is_empty() {
            return Err(otlp_core::InvalidSetting::new(
                "--collectors",
                list,
                "no URL given",
            ));
        }
        for url in &urls {
            otlp_transport::endpoint::parse_url("--collectors", url)?;
        }
        let strategy = otlp_transport::balance::BalanceStrategy::parse(
            "--balance",
            balance.unwrap_or("round-robin"),
        )?;
        Ok(Some(Target::Collectors(urls, strategy)))
    }

    /// A pipeline builder for `service`: the environment applied, pointed at the target.
    pub fn pipeline(&self, service: &str) -> Result<PipelineBuilder, Box<dyn std::error::Error>> {
        let builder = OtlpPipeline::builder()
            .with_env()?
            .with_service_name(service);
        Ok(match self {
            Target::Embedded(receiver) => builder.with_endpoint(receiver.http_endpoint()),
            Target::External(_) => builder,
            Target::Collectors(urls, strategy) => builder
                .with_collectors(urls.clone())
                .with_balance(*strategy),
        })
    }

    /// One line saying where telemetry goes.
    pub fn describe(&self) -> String {
        match self {
            Target::Embedded(receiver) => format!(
                "embedded OTLP receiver (gRPC {}, HTTP {}); set OTEL_EXPORTER_OTLP_ENDPOINT to use a collector",
                receiver.grpc_endpoint(),
                receiver.http_endpoint()
            ),
            Target::External(from) => format!("collector from {from}"),
            Target::Collectors(urls, strategy) => format!("{} collectors, {strategy:?}: {}", urls.len(), urls.join(", ")),
        }
    }

    /// The embedded receiver, when there is one.
    pub fn receiver(&self) -> Option<&Receiver> {
        match self {
            Target::Embedded(receiver) => Some(receiver),
            Target::External(_) | Target::Collectors(..) => None,
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if matches!(self, Target::Embedded(_)) {
            linger();
        }
    }
}

/// What a demo expects to arrive.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expect {
    /// Spans.
    pub spans: usize,
    /// Log records.
    pub log_records: usize,
    /// Metric data points (at least).
    pub data_points: usize,
}

/// Shuts `pipeline` down and returns its report: a flush of up to 2 s first; then, when the
/// collector has not accepted anything and every attempt failed (an unreachable collector,
/// where waiting longer would only delay the report), a shutdown of 1 s, otherwise of up to
/// 10 s. A wait longer than a second shows a one-line notice.
pub fn shutdown(pipeline: &OtlpPipeline) -> otlp_exporters::ShutdownReport {
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let notice = std::thread::spawn(move || {
        if finished
            .recv_timeout(std::time::Duration::from_secs(1))
            .is_err()
        {
            eprintln!("⏳ waiting for the collector to take what is left (at most 12 s)...");
        }
    });
    let flushed = pipeline.force_flush(std::time::Duration::from_secs(2));
    let delivery = pipeline.delivery();
    let unreachable = !delivery.endpoints.is_empty()
        && delivery.endpoints.iter().all(|e| e.succeeded_attempts == 0);
    let deadline = std::time::Duration::from_secs(match (flushed.completed, unreachable) {
        (_, true) => 1,
        (true, false) => 2,
        (false, false) => 10,
    });
    let report = pipeline.shutdown(deadline);
    let _ = done.send(());
    let _ = notice.join();
    report
}

/// Shuts the pipelines down (see [`shutdown`]) and checks delivery: nothing undelivered, and
/// with the embedded receiver, at least what was expected arrived. When something was lost
/// the error is the delivery report's paragraph: how much, why, and the endpoint's last error.
/// Returns what the receiver got (`None` for an external collector).
pub async fn deliver(
    target: &Target,
    pipelines: &[&OtlpPipeline],
    expect: Expect,
) -> Result<Option<Vec<otlp_transport::receiver::Received>>, String> {
    // All at once: each shutdown has its own deadline, and they should not add up.
    let reports: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = pipelines
            .iter()
            .map(|pipeline| scope.spawn(move || shutdown(pipeline)))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let lost: Vec<String> = reports
        .iter()
        .filter(|r| r.undelivered > 0 || r.metrics_error.is_some())
        .map(ToString::to_string)
        .collect();
    if !lost.is_empty() {
        return Err(lost.join("\n"));
    }
    let Some(receiver) = target.receiver() else {
        return Ok(None);
    };
    let wait = std::time::Duration::from_secs(10);
    use otlp_core::Signal;
    for (signal, wanted) in [
        (Signal::Traces, expect.spans),
        (Signal::Logs, expect.log_records),
        (Signal::Metrics, expect.data_points),
    ] {
        if !receiver.wait_for_items(signal, wanted, wait).await {
            return Err(format!(
                "the receiver got {} of {wanted} {}",
                receiver.counts().items(signal),
                signal.item_name()
            ));
        }
    }
    Ok(Some(receiver.received()))
}
