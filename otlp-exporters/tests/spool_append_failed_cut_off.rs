//! An export cut off by its batch's timeout after the spool could not take its request (the
//! disk was full): nothing waits in the spool for a replay, so its items count as failed
//! (timed out), not as spooled, and the books still balance. A fault-injecting file layer
//! under a real spool makes the disk full.

#![allow(clippy::unwrap_used)]

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use otlp_batch::spool::storage::{OsStorage, Storage, StorageFile};
use otlp_batch::spool::SpoolConfig;
use otlp_batch::{BatchConfig, Cause};
use otlp_exporters::config::Protocol;
use otlp_exporters::OtlpPipeline;
use otlp_reliability::retry::RetryConfig;
use otlp_transport::receiver::{Fault, Receiver, ReceiverConfig};

/// The operating system's files, whose writes fail as on a full disk while `full` is set.
#[derive(Debug, Default)]
struct FullDisk {
    full: Arc<AtomicBool>,
}

impl Storage for FullDisk {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        OsStorage.create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        OsStorage.list(dir)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        OsStorage.read(path)
    }
    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(FullDiskFile {
            inner: OsStorage.open(path, create)?,
            full: Arc::clone(&self.full),
        }))
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        OsStorage.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        OsStorage.sync_dir(dir)
    }
}

#[derive(Debug)]
struct FullDiskFile {
    inner: Box<dyn StorageFile>,
    full: Arc<AtomicBool>,
}

impl StorageFile for FullDiskFile {
    fn write_all_at(&mut self, data: &[u8], offset: u64) -> io::Result<()> {
        if self.full.load(Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "injected disk full",
            ));
        }
        self.inner.write_all_at(data, offset)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.inner.sync_data()
    }
    fn set_len(&mut self, length: u64) -> io::Result<()> {
        self.inner.set_len(length)
    }
    fn read_exact_at(&self, buffer: &mut [u8], offset: u64) -> io::Result<()> {
        self.inner.read_exact_at(buffer, offset)
    }
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otlp-spool-full-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_export_the_spool_could_not_take_counts_as_failed() {
    let receiver = Receiver::start(ReceiverConfig::default()).await.unwrap();
    receiver.faults().set_default(Some(Fault::hang()));
    let dir = dir("cut-off");
    let storage = FullDisk::default();
    let full = Arc::clone(&storage.full);
    let pipeline = OtlpPipeline::builder()
        .with_endpoint(receiver.http_endpoint())
        .with_protocol(Protocol::HttpProtobuf)
        .with_spool(SpoolConfig::new(&dir))
        .with_spool_storage(Arc::new(storage))
        .with_retry(RetryConfig::default().with_max_attempts(1))
        .with_circuit_breaker(None)
        .with_batch(BatchConfig::default().with_export_timeout(Duration::from_millis(300)))
        .build()
        .unwrap();
    full.store(true, Ordering::SeqCst);
    pipeline.tracer("full").in_span("not-spooled", |_| {});
    assert!(pipeline.force_flush(Duration::from_secs(5)).completed);

    let stats = pipeline.stats();
    let spool = stats.spool.unwrap();
    assert!(spool.write_errors >= 1, "the append failed: {spool:?}");
    assert_eq!(spool.pending, 0, "nothing waits for a replay: {spool:?}");
    let spans = stats.spans;
    assert_eq!(
        (
            spans.spooled,
            spans.failed,
            spans.failed_by_cause.get(Cause::Timeout)
        ),
        (0, 1, 1),
        "counted as failed (timed out), not as spooled: {spans:?}"
    );
    assert_eq!(stats.span_exports.spooled, 0, "{:?}", stats.span_exports);
    assert!(spans.balanced(), "{spans:?}");
    assert_eq!(
        pipeline.delivery().failed(Cause::Timeout),
        1,
        "reported as lost"
    );
    pipeline.shutdown(Duration::from_secs(1));
    drop(pipeline);
    std::fs::remove_dir_all(dir).unwrap();
}
