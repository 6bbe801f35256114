//! JSON lines to stdout or a file: one flat record per span, data point or log record.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use otlp_core::{BoxError, Error, ErrorKind, ExportOutcome, InvalidSetting, Telemetry};
use parking_lot::Mutex;

use super::records;
use super::CustomExporter;

/// Writes each item as one JSON object per line, for debugging and for tests.
pub struct JsonLinesExporter {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for JsonLinesExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonLinesExporter")
    }
}

impl JsonLinesExporter {
    /// Writes to standard output.
    pub fn stdout() -> Self {
        JsonLinesExporter {
            out: Mutex::new(Box::new(std::io::stdout())),
        }
    }

    /// Appends to the file at `path`, creating it.
    pub fn file(path: impl AsRef<Path>) -> Result<Self, InvalidSetting> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                InvalidSetting::new("json lines file", path.display().to_string(), e.to_string())
            })?;
        Ok(JsonLinesExporter {
            out: Mutex::new(Box::new(std::io::BufWriter::new(file))),
        })
    }

    /// Writes to any writer.
    pub fn writer(writer: impl Write + Send + 'static) -> Self {
        JsonLinesExporter {
            out: Mutex::new(Box::new(writer)),
        }
    }

    fn write(&self, batch: &Telemetry) -> std::io::Result<()> {
        let lines: Vec<serde_json::Value> = match batch {
            Telemetry::Traces(_) => records::spans(batch)
                .into_iter()
                .map(|r| serde_json::json!({"span": r}))
                .collect(),
            Telemetry::Metrics(_) => records::metrics(batch)
                .into_iter()
                .map(|r| serde_json::json!({"metric": r}))
                .collect(),
            Telemetry::Logs(_) => records::logs(batch)
                .into_iter()
                .map(|r| serde_json::json!({"log": r}))
                .collect(),
        };
        let mut out = self.out.lock();
        for line in lines {
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }
}

impl CustomExporter for JsonLinesExporter {
    fn export(&self, batch: Arc<Telemetry>) -> BoxFuture<'static, Result<ExportOutcome, BoxError>> {
        let result = self
            .write(&batch)
            .map(|()| ExportOutcome::accepted(batch.items()))
            .map_err(|e| {
                Error::new(ErrorKind::Transport, "cannot write JSON lines")
                    .with_source(e)
                    .into()
            });
        Box::pin(std::future::ready(result))
    }
}
