//! Where the receiver's callbacks go: counted in the summary, kept for the viewer, and
//! printed as text (traces once assembled) or as JSON lines.

use std::time::Instant;

use otlp_core::Telemetry;
use otlp_examples::viewer::Store;
use otlp_transport::receiver::{Received, Refused};
use parking_lot::Mutex;

use super::assemble::Assembler;
use super::summary::{self, Summary};
use super::{json, text};

/// Where received telemetry is shown, and what is counted of it.
pub struct Output {
    /// JSON lines instead of text.
    pub json: bool,
    /// Ids, attributes, events, every data point.
    pub verbose: bool,
    /// Spans waiting for their trace to go quiet.
    pub assembler: Mutex<Assembler>,
    /// The session's totals.
    pub summary: Summary,
    /// The viewer's store, with `--ui`.
    pub store: Option<Store>,
    /// Holds stdout for a multi-line block, so that blocks from two requests never interleave.
    pub printing: Mutex<()>,
}

impl Output {
    /// An accepted request.
    pub fn received(&self, received: &Received) {
        self.summary.received(received);
        if let Some(store) = &self.store {
            store.add(&received.payload);
        }
        if summary::is_probe(received) {
            return;
        }
        let _printing = self.printing.lock();
        if self.json {
            json::print_received(received);
            return;
        }
        match &received.payload {
            Telemetry::Traces(_) => self.assembler.lock().add(received, Instant::now()),
            Telemetry::Metrics(_) => text::print_metrics(received, self.verbose),
            Telemetry::Logs(_) => text::print_logs(received, self.verbose),
        }
    }

    /// A refused request.
    pub fn refused(&self, refused: &Refused) {
        self.summary.refused(refused);
        let _printing = self.printing.lock();
        if self.json {
            json::print_refused(refused);
        } else {
            text::print_refused(refused);
        }
    }

    /// Prints the traces that went quiet (every waiting trace with `all`).
    pub fn print_traces(&self, all: bool) {
        let traces = {
            let mut assembler = self.assembler.lock();
            if all {
                assembler.take_all()
            } else {
                assembler.take_quiet(Instant::now())
            }
        };
        let _printing = self.printing.lock();
        for trace in traces {
            text::print_trace(&trace, self.verbose);
        }
    }

    /// The traces still waiting, then the summary; `why`: what stopped the receiver.
    pub fn print_summary(&self, why: &str) {
        self.print_traces(true);
        let _printing = self.printing.lock();
        if self.json {
            self.summary.print_json(why);
        } else {
            self.summary.print_text(why);
        }
    }
}

/// Waits for Ctrl-C or SIGTERM; returns which.
pub async fn stop_signal() -> std::io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.map(|()| "SIGINT"),
            _ = terminate.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map(|()| "Ctrl-C")
    }
}
