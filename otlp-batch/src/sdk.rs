//! The SDK-facing processors: `SpanProcessor` and `LogProcessor` over a [`BatchProcessor`].

use std::time::Duration;

use opentelemetry::{Context, InstrumentationScope, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogProcessor, SdkLogRecord};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::processor::{BatchItem, BatchProcessor, FlushReport};

/// Rough size of a value once encoded.
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::String(s) => s.as_str().len() + 4,
        Value::Array(_) => 32,
        _ => 10,
    }
}

fn attributes_bytes<'a>(attributes: impl Iterator<Item = &'a opentelemetry::KeyValue>) -> usize {
    attributes
        .map(|kv| kv.key.as_str().len() + value_bytes(&kv.value) + 6)
        .sum()
}

impl BatchItem for SpanData {
    fn estimated_bytes(&self) -> usize {
        // Ids, times, kind, status and framing come to about 80 bytes.
        80 + self.name.len()
            + attributes_bytes(self.attributes.iter())
            + self
                .events
                .iter()
                .map(|e| 20 + e.name.len() + attributes_bytes(e.attributes.iter()))
                .sum::<usize>()
            + self
                .links
                .iter()
                .map(|l| 40 + attributes_bytes(l.attributes.iter()))
                .sum::<usize>()
    }
}

/// A log record with its instrumentation scope, as the SDK hands it to a processor.
#[derive(Debug, Clone)]
pub struct LogItem {
    /// The record.
    pub record: SdkLogRecord,
    /// The scope of the logger that emitted it.
    pub scope: InstrumentationScope,
}

impl BatchItem for LogItem {
    fn estimated_bytes(&self) -> usize {
        let body = self
            .record
            .body()
            .map(|b| match b {
                opentelemetry::logs::AnyValue::String(s) => s.as_str().len(),
                _ => 32,
            })
            .unwrap_or(0);
        let attributes: usize = self
            .record
            .attributes_iter()
            .map(|(k, _)| k.as_str().len() + 16)
            .sum();
        60 + body + attributes
    }
}

fn sdk_result(report: FlushReport, what: &str, timeout: Duration) -> OTelSdkResult {
    if report.completed {
        Ok(())
    } else {
        tracing::warn!(
            undelivered = report.undelivered,
            "{what} did not finish in {timeout:?}"
        );
        Err(OTelSdkError::Timeout(timeout))
    }
}

/// A batch span processor for `SdkTracerProvider::builder().with_span_processor(..)`.
///
/// `on_end` queues sampled spans and returns; export happens on the pipeline runtime.
#[derive(Debug, Clone)]
pub struct BatchSpanProcessor {
    inner: BatchProcessor<SpanData>,
    flush_timeout: Duration,
}

impl BatchSpanProcessor {
    /// Wraps a processor; `flush_timeout` bounds `force_flush`.
    pub fn new(inner: BatchProcessor<SpanData>, flush_timeout: Duration) -> Self {
        BatchSpanProcessor {
            inner,
            flush_timeout,
        }
    }

    /// The underlying processor, for stats and deadline-aware flush and shutdown.
    pub fn processor(&self) -> &BatchProcessor<SpanData> {
        &self.inner
    }
}

impl SpanProcessor for BatchSpanProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.inner.push(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        sdk_result(
            self.inner.force_flush(self.flush_timeout),
            "span flush",
            self.flush_timeout,
        )
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        if self.inner.is_shut_down() {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        sdk_result(self.inner.shutdown(timeout), "span shutdown", timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource.clone());
    }
}

/// A batch log processor for `SdkLoggerProvider::builder().with_log_processor(..)`.
#[derive(Debug, Clone)]
pub struct BatchLogProcessor {
    inner: BatchProcessor<LogItem>,
    flush_timeout: Duration,
}

impl BatchLogProcessor {
    /// Wraps a processor; `flush_timeout` bounds `force_flush`.
    pub fn new(inner: BatchProcessor<LogItem>, flush_timeout: Duration) -> Self {
        BatchLogProcessor {
            inner,
            flush_timeout,
        }
    }

    /// The underlying processor.
    pub fn processor(&self) -> &BatchProcessor<LogItem> {
        &self.inner
    }
}

impl LogProcessor for BatchLogProcessor {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        self.inner.push(LogItem {
            record: record.clone(),
            scope: scope.clone(),
        });
    }

    fn force_flush(&self) -> OTelSdkResult {
        sdk_result(
            self.inner.force_flush(self.flush_timeout),
            "log flush",
            self.flush_timeout,
        )
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        if self.inner.is_shut_down() {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        sdk_result(self.inner.shutdown(timeout), "log shutdown", timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource.clone());
    }
}
