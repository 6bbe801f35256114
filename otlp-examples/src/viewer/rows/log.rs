//! A log record as the page shows it, and the severity names of the log data model.

use otlp_core::proto::logs::v1::LogRecord;
use serde::Serialize;

use super::{attributes, hex, json, Attribute};

/// One log record.
#[derive(Debug, Clone, Serialize)]
pub struct LogRow {
    /// When it happened (or was observed, when the time is not set), Unix nanoseconds.
    pub time_unix_nano: u64,
    /// The severity number (1-24; 0 when unset).
    pub severity_number: i32,
    /// The severity text, or the name of the number's range when the text is empty.
    pub severity: String,
    /// The body, as text.
    pub body: String,
    /// The record's attributes.
    pub attributes: Vec<Attribute>,
    /// The trace it belongs to, hex; none when it has none.
    pub trace_id: Option<String>,
    /// The span it belongs to, hex.
    pub span_id: Option<String>,
    /// `service.name` of its resource.
    pub service: String,
}

impl LogRow {
    pub(crate) fn new(record: &LogRecord, service: &str) -> Self {
        let time = if record.time_unix_nano != 0 {
            record.time_unix_nano
        } else {
            record.observed_time_unix_nano
        };
        let severity = if record.severity_text.is_empty() {
            severity_name(record.severity_number).to_owned()
        } else {
            record.severity_text.clone()
        };
        let body = match record.body.as_ref().map(json) {
            Some(serde_json::Value::String(text)) => text,
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let id =
            |bytes: &[u8]| (!bytes.is_empty() && bytes.iter().any(|b| *b != 0)).then(|| hex(bytes));
        LogRow {
            time_unix_nano: time,
            severity_number: record.severity_number,
            severity,
            body,
            attributes: attributes(&record.attributes),
            trace_id: id(&record.trace_id),
            span_id: id(&record.span_id),
            service: service.to_owned(),
        }
    }
}

/// The name of a severity number's range, per the log data model.
pub fn severity_name(number: i32) -> &'static str {
    match number {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => "UNSPECIFIED",
    }
}

/// The lowest severity number of a range named `name` (case-insensitive), for filters.
pub fn severity_floor(name: &str) -> Option<i32> {
    Some(match name.to_ascii_uppercase().as_str() {
        "TRACE" => 1,
        "DEBUG" => 5,
        "INFO" => 9,
        "WARN" | "WARNING" => 13,
        "ERROR" => 17,
        "FATAL" => 21,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_names_follow_the_log_data_model() {
        assert_eq!(severity_name(9), "INFO");
        assert_eq!(severity_name(17), "ERROR");
        assert_eq!(severity_floor("warn"), Some(13));
        assert_eq!(severity_floor("nope"), None);
    }
}
