//! Looks inside a disk spool directory: the requests waiting there (signal, encoding, items,
//! bytes, age) and the damaged bytes skipped; drains them to a collector or discards them.
//!
//! The spool's directory lock applies: while the application that owns the spool runs, this
//! command says the directory is in use and changes nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use otlp_batch::spool::{Spool, SpoolConfig};
use otlp_core::{Encoding, ExportRequest, Signal};
use otlp_exporters::config::Protocol;
use otlp_exporters::OtlpPipeline;
use otlp_transport::receiver::{Receiver, ReceiverConfig};

const USAGE: &str = "spool_inspect: look inside a disk spool directory, drain it or discard it

usage: cargo run -p otlp-examples --bin spool_inspect -- DIR [ACTION]

  DIR                         the spool directory (the application must not be running)
  (no action)                 list the waiting requests: id, signal, encoding, items, bytes, age
  --drain ENDPOINT [PROTOCOL] send every waiting request to ENDPOINT (PROTOCOL: grpc,
                              http/protobuf or http/json; default grpc), re-encoded if need be
  --discard                   delete every waiting request
  --quick                     a self-check on a temporary spool and an embedded receiver";

/// Nothing is evicted by a look: the budget of the application's spool is not known here.
fn config(dir: &Path) -> SpoolConfig {
    SpoolConfig::new(dir).with_max_bytes(u64::MAX)
}

fn inspect(dir: &Path) -> Result<usize, String> {
    let spool = Spool::open(config(dir)).map_err(|e| e.to_string())?;
    let waiting = spool.take_waiting(usize::MAX).map_err(|e| e.to_string())?;
    let stats = spool.stats();
    println!(
        "spool {}: {} requests, {} items, {} bytes on disk, oldest waiting {}, {} damaged bytes skipped",
        dir.display(),
        stats.pending,
        stats.pending_items,
        stats.bytes,
        stats
            .oldest_pending_age
            .map_or("-".to_owned(), |a| format!("{} s", a.as_secs())),
        stats.corrupt_bytes
    );
    if !waiting.is_empty() {
        println!(
            "{:>10} {:>8} {:>9} {:>7} {:>9} {:>9}",
            "id", "signal", "encoding", "items", "bytes", "age (s)"
        );
    }
    let now = SystemTime::now();
    for spooled in &waiting {
        let request = &spooled.request;
        println!(
            "{:>10} {:>8} {:>9} {:>7} {:>9} {:>9}",
            spooled.id,
            request.signal.as_str(),
            match request.encoding {
                Encoding::Protobuf => "protobuf",
                Encoding::Json => "json",
            },
            request.items,
            request.body.len(),
            now.duration_since(spooled.written_at)
                .unwrap_or_default()
                .as_secs()
        );
    }
    // Dropped without acknowledging: the look changes nothing.
    Ok(waiting.len())
}

fn discard(dir: &Path) -> Result<usize, String> {
    let spool = Spool::open(config(dir)).map_err(|e| e.to_string())?;
    let waiting = spool.take_waiting(usize::MAX).map_err(|e| e.to_string())?;
    for spooled in &waiting {
        spool.ack(spooled.id).map_err(|e| e.to_string())?;
    }
    println!(
        "spool {}: {} requests discarded",
        dir.display(),
        waiting.len()
    );
    Ok(waiting.len())
}

fn drain(dir: &Path, endpoint: &str, protocol: Protocol) -> Result<u64, String> {
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(endpoint)
        .with_protocol(protocol)
        .with_spool(config(dir))
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let pending = || pipeline.stats().spool.map_or(0, |s| s.pending);
    while pending() > 0 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let stats = pipeline.stats();
    let delivered =
        stats.span_exports.replayed + stats.metric_exports.replayed + stats.log_exports.replayed;
    let left = pending();
    pipeline.shutdown(Duration::from_secs(5));
    println!(
        "spool {}: {delivered} items delivered to {endpoint}, {left} requests still waiting",
        dir.display()
    );
    if left > 0 {
        return Err(format!(
            "{left} requests could not be delivered within 60 s"
        ));
    }
    Ok(delivered)
}

/// Fills a temporary spool, looks, drains to an embedded receiver, and checks the counts.
fn quick() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("otlp-spool-inspect-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let spool = Spool::open(config(&dir)).map_err(|e| e.to_string())?;
        let json = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"spooled"}]}]}]}"#;
        for _ in 0..3 {
            let request =
                ExportRequest::new(Signal::Traces, Encoding::Json, json.as_slice().into(), 1);
            spool.append(&request).map_err(|e| e.to_string())?;
        }
    }
    if inspect(&dir)? != 3 {
        return Err("expected 3 waiting requests".into());
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let receiver = runtime
        .block_on(Receiver::start(ReceiverConfig::default()))
        .map_err(|e| e.to_string())?;
    if drain(&dir, &receiver.grpc_endpoint(), Protocol::Grpc)? != 3 {
        return Err("expected 3 items delivered".into());
    }
    if receiver.counts().spans != 3 || inspect(&dir)? != 0 || discard(&dir)? != 0 {
        return Err("the receiver did not get the 3 spans, or the spool is not empty".into());
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn run(args: &[String]) -> Result<(), String> {
    match args {
        [flag] if flag == "--quick" => quick(),
        [flag] if flag == "--help" || flag == "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        [dir] => inspect(&PathBuf::from(dir)).map(drop),
        [dir, flag] if flag == "--discard" => discard(&PathBuf::from(dir)).map(drop),
        [dir, flag, endpoint, rest @ ..] if flag == "--drain" && rest.len() <= 1 => {
            let protocol = match rest.first().map(String::as_str) {
                None | Some("grpc") => Protocol::Grpc,
                Some("http/protobuf") => Protocol::HttpProtobuf,
                Some("http/json") => Protocol::HttpJson,
                Some(other) => return Err(format!("unknown protocol {other:?}\n\n{USAGE}")),
            };
            drain(&PathBuf::from(dir), endpoint, protocol).map(drop)
        }
        _ => Err(format!("unexpected arguments {args:?}\n\n{USAGE}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("spool_inspect: {error}");
            ExitCode::FAILURE
        }
    }
}
