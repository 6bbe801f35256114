//! The `console` exporter of the specification: one readable line per span, data point or
//! log record on standard output (or any writer).

use std::io::Write;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, Error, ErrorKind, ExportOutcome, Telemetry};
use parking_lot::Mutex;
use serde_json::Value;

use super::records;
use super::CustomExporter;

/// Prints each item as one line: `span checkout/place-order trace=… 1.2ms ok {attributes}`.
pub struct ConsoleExporter {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleExporter")
    }
}

impl ConsoleExporter {
    /// Prints to standard output.
    pub fn stdout() -> Self {
        ConsoleExporter::writer(std::io::stdout())
    }

    /// Prints to any writer.
    pub fn writer(writer: impl Write + Send + 'static) -> Self {
        ConsoleExporter {
            out: Mutex::new(Box::new(writer)),
        }
    }

    /// The lines of one batch.
    pub fn lines(batch: &Telemetry) -> Vec<String> {
        let map = |m: &std::collections::BTreeMap<String, Value>| {
            serde_json::to_string(m).unwrap_or_default()
        };
        match batch {
            Telemetry::Traces(_) => records::spans(batch)
                .into_iter()
                .map(|s| {
                    let micros = s.end_time.saturating_sub(s.start_time) / 1_000;
                    format!(
                        "span {}/{} trace={} span={} parent={} {}µs {} {}",
                        s.service,
                        s.name,
                        s.trace_id,
                        s.span_id,
                        if s.parent_span_id.is_empty() {
                            "-"
                        } else {
                            &s.parent_span_id
                        },
                        micros,
                        s.status,
                        map(&s.attributes)
                    )
                })
                .collect(),
            Telemetry::Metrics(_) => records::metrics(batch)
                .into_iter()
                .map(|m| {
                    format!(
                        "metric {}/{} {} {} {}",
                        m.service,
                        m.name,
                        m.metric_type,
                        m.value,
                        map(&m.labels)
                    )
                })
                .collect(),
            Telemetry::Logs(_) => records::logs(batch)
                .into_iter()
                .map(|l| {
                    format!(
                        "log {} {} {:?} {}",
                        l.service,
                        l.level,
                        l.message,
                        map(&l.attributes)
                    )
                })
                .collect(),
        }
    }
}

impl CustomExporter for ConsoleExporter {
    fn export(&self, batch: Arc<Telemetry>) -> BoxFuture<'static, Result<ExportOutcome, BoxError>> {
        let lines = ConsoleExporter::lines(&batch);
        let items = batch.items();
        let written = {
            let mut out = self.out.lock();
            lines
                .iter()
                .try_for_each(|line| writeln!(out, "{line}"))
                .and_then(|()| out.flush())
        };
        let result = written
            .map(|()| ExportOutcome::accepted(items))
            .map_err(|e| {
                Error::new(ErrorKind::Transport, "cannot write to the console")
                    .with_source(e)
                    .into()
            });
        Box::pin(std::future::ready(result))
    }
}
