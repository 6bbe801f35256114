//! A span as the page shows it: ids in hex, kind and status as names, its events and links.

use otlp_core::proto::trace::v1::{span, status, Span};
use serde::Serialize;

use super::{attributes, hex, Attribute};

/// A span's status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCode {
    /// No status set.
    Unset,
    /// Marked successful.
    Ok,
    /// Failed.
    Error,
}

/// A span event.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    /// When, Unix nanoseconds.
    pub time_unix_nano: u64,
    /// The event's name.
    pub name: String,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
}

/// A span link.
#[derive(Debug, Clone, Serialize)]
pub struct LinkRow {
    /// The linked trace, hex.
    pub trace_id: String,
    /// The linked span, hex.
    pub span_id: String,
    /// The link's attributes.
    pub attributes: Vec<Attribute>,
}

/// One span, with what the page shows of it.
#[derive(Debug, Clone, Serialize)]
pub struct SpanRow {
    /// The trace id, hex.
    pub trace_id: String,
    /// The span id, hex.
    pub span_id: String,
    /// The parent span id, hex; none for a root.
    pub parent_span_id: Option<String>,
    /// The operation's name.
    pub name: String,
    /// `service.name` of the span's resource.
    pub service: String,
    /// `internal`, `server`, `client`, `producer`, `consumer` or `unspecified`.
    pub kind: &'static str,
    /// Start, Unix nanoseconds.
    pub start_unix_nano: u64,
    /// End, Unix nanoseconds.
    pub end_unix_nano: u64,
    /// The status code.
    pub status_code: StatusCode,
    /// The status message.
    pub status_message: String,
    /// The span's attributes.
    pub attributes: Vec<Attribute>,
    /// Its events.
    pub events: Vec<EventRow>,
    /// Its links.
    pub links: Vec<LinkRow>,
    /// The resource's attributes.
    pub resource: Vec<Attribute>,
    /// The instrumentation scope's name.
    pub scope: String,
}

impl SpanRow {
    pub(crate) fn new(span: &Span, service: &str, resource: &[Attribute], scope: &str) -> Self {
        let kind = match span::SpanKind::try_from(span.kind) {
            Ok(span::SpanKind::Internal) => "internal",
            Ok(span::SpanKind::Server) => "server",
            Ok(span::SpanKind::Client) => "client",
            Ok(span::SpanKind::Producer) => "producer",
            Ok(span::SpanKind::Consumer) => "consumer",
            _ => "unspecified",
        };
        let (status_code, status_message) = match &span.status {
            Some(s) => (
                match status::StatusCode::try_from(s.code) {
                    Ok(status::StatusCode::Ok) => StatusCode::Ok,
                    Ok(status::StatusCode::Error) => StatusCode::Error,
                    _ => StatusCode::Unset,
                },
                s.message.clone(),
            ),
            None => (StatusCode::Unset, String::new()),
        };
        SpanRow {
            trace_id: hex(&span.trace_id),
            span_id: hex(&span.span_id),
            parent_span_id: (!span.parent_span_id.is_empty()).then(|| hex(&span.parent_span_id)),
            name: span.name.clone(),
            service: service.to_owned(),
            kind,
            start_unix_nano: span.start_time_unix_nano,
            end_unix_nano: span.end_time_unix_nano.max(span.start_time_unix_nano),
            status_code,
            status_message,
            attributes: attributes(&span.attributes),
            events: span
                .events
                .iter()
                .map(|e| EventRow {
                    time_unix_nano: e.time_unix_nano,
                    name: e.name.clone(),
                    attributes: attributes(&e.attributes),
                })
                .collect(),
            links: span
                .links
                .iter()
                .map(|l| LinkRow {
                    trace_id: hex(&l.trace_id),
                    span_id: hex(&l.span_id),
                    attributes: attributes(&l.attributes),
                })
                .collect(),
            resource: resource.to_vec(),
            scope: scope.to_owned(),
        }
    }
}
