//! The pipeline's own tokio runtime, on a dedicated thread.
//!
//! The SDK calls processors from application threads, which may run a tokio multi-thread
//! runtime, a current-thread runtime, or none. Batch workers, transports, timers and retries run
//! here instead, so they work the same in all three cases and never need the caller's reactor.

use std::thread::JoinHandle;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// A current-thread tokio runtime driven by a thread of its own.
#[derive(Debug)]
pub struct PipelineRuntime {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl PipelineRuntime {
    /// Starts the runtime on a thread named `name`.
    pub fn new(name: &str) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Self::on_thread(name, runtime)
    }

    /// Starts a runtime whose clock is paused (feature `test-util`): it moves only when
    /// every task waits on a timer, straight to the next one. Batch delays, export timeouts
    /// and flush or shutdown deadlines then pass without waiting, so a test of an hour-long
    /// deadline takes milliseconds. Only for exporters that do no I/O: while a task waits
    /// on a socket the clock still jumps, and timers fire early.
    #[cfg(feature = "test-util")]
    pub fn with_paused_clock(name: &str) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()?;
        Self::on_thread(name, runtime)
    }

    fn on_thread(name: &str, runtime: tokio::runtime::Runtime) -> std::io::Result<Self> {
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                // Tasks still running (an export that never answers) are dropped with the runtime.
                runtime.shutdown_background();
            })?;
        Ok(PipelineRuntime {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The handle to spawn on, or to `enter()` while building transports.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for PipelineRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Joining from the runtime's own thread would deadlock.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}
