//! Trace assembly: spans gathered by trace id across requests and services, and a trace handed
//! out once it has been quiet (no new span) for a while, so that it is printed whole.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use otlp_examples::waterfall::{self, ServiceSpan};
use otlp_transport::receiver::Received;

/// A trace put together from one or more requests.
#[derive(Debug)]
pub struct Assembled {
    /// Its spans, in order of arrival.
    pub spans: Vec<ServiceSpan>,
    /// How many requests brought them.
    pub requests: usize,
    /// Whether part of this trace was already handed out (spans arrived after it went quiet).
    pub late: bool,
}

struct Pending {
    trace: Assembled,
    last_span_at: Instant,
    started: u64,
}

/// Spans waiting for their trace to go quiet.
pub struct Assembler {
    quiet: Duration,
    pending: HashMap<Vec<u8>, Pending>,
    /// Traces already handed out, to mark their late spans; forgotten past a bound.
    done: HashSet<Vec<u8>>,
}

/// How many handed-out trace ids are remembered for marking late spans.
const REMEMBERED: usize = 100_000;

impl Assembler {
    /// Hands out a trace once no span of it arrived for `quiet`.
    pub fn new(quiet: Duration) -> Self {
        Assembler {
            quiet,
            pending: HashMap::new(),
            done: HashSet::new(),
        }
    }

    /// Adds the spans of `received` (a request of any signal; only traces count).
    pub fn add(&mut self, received: &Received, now: Instant) {
        let spans = waterfall::spans(std::slice::from_ref(received));
        let mut touched = HashSet::new();
        for span in spans {
            let id = span.span.trace_id.clone();
            let late = self.done.contains(&id);
            let pending = self.pending.entry(id.clone()).or_insert_with(|| Pending {
                trace: Assembled {
                    spans: Vec::new(),
                    requests: 0,
                    late,
                },
                last_span_at: now,
                started: u64::MAX,
            });
            pending.started = pending.started.min(span.span.start_time_unix_nano);
            pending.last_span_at = now;
            if touched.insert(id) {
                pending.trace.requests += 1;
            }
            pending.trace.spans.push(span);
        }
    }

    /// The traces quiet since `now - quiet`, oldest start first.
    pub fn take_quiet(&mut self, now: Instant) -> Vec<Assembled> {
        let quiet = self.quiet;
        self.take(|pending| now.saturating_duration_since(pending.last_span_at) >= quiet)
    }

    /// Every trace still waiting (at shutdown), oldest start first.
    pub fn take_all(&mut self) -> Vec<Assembled> {
        self.take(|_| true)
    }

    fn take(&mut self, ready: impl Fn(&Pending) -> bool) -> Vec<Assembled> {
        let ids: Vec<Vec<u8>> = self
            .pending
            .iter()
            .filter(|(_, p)| ready(p))
            .map(|(id, _)| id.clone())
            .collect();
        if self.done.len() + ids.len() > REMEMBERED {
            self.done.clear();
        }
        let mut out: Vec<Pending> = ids
            .into_iter()
            .filter_map(|id| {
                let pending = self.pending.remove(&id)?;
                self.done.insert(id);
                Some(pending)
            })
            .collect();
        out.sort_by_key(|p| p.started);
        out.into_iter().map(|p| p.trace).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp_core::proto::collector::trace::v1::ExportTraceServiceRequest;
    use otlp_core::proto::common::v1::{any_value, AnyValue, KeyValue};
    use otlp_core::proto::resource::v1::Resource;
    use otlp_core::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use otlp_core::{Encoding, Telemetry};
    use otlp_transport::receiver::ReceivedOver;

    fn request(service: &str, spans: &[(u8, u8)]) -> Received {
        let spans = spans
            .iter()
            .map(|&(trace, span)| Span {
                trace_id: vec![trace; 16],
                span_id: vec![span; 8],
                name: format!("span {span}"),
                start_time_unix_nano: u64::from(span),
                end_time_unix_nano: u64::from(span) + 10,
                ..Span::default()
            })
            .collect();
        Received {
            protocol: ReceivedOver::Http,
            encoding: Encoding::Protobuf,
            compression: None,
            headers: Default::default(),
            payload: Telemetry::Traces(ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![KeyValue {
                            key: "service.name".into(),
                            value: Some(AnyValue {
                                value: Some(any_value::Value::StringValue(service.into())),
                            }),
                            ..KeyValue::default()
                        }],
                        ..Resource::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans,
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                }],
            }),
        }
    }

    #[test]
    fn spans_of_one_trace_from_two_services_come_out_together_once_quiet() {
        let quiet = Duration::from_millis(500);
        let mut assembler = Assembler::new(quiet);
        let t0 = Instant::now();
        assembler.add(&request("frontend", &[(1, 1), (2, 5)]), t0);
        assembler.add(
            &request("checkout", &[(1, 2), (1, 3)]),
            t0 + Duration::from_millis(300),
        );
        // Trace 2 has been quiet for 600 ms, trace 1 only for 300 ms.
        let first = assembler.take_quiet(t0 + Duration::from_millis(600));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].spans.len(), 1);
        assert_eq!(assembler.pending.len(), 1);

        let second = assembler.take_quiet(t0 + Duration::from_millis(800));
        assert_eq!(second.len(), 1);
        let trace = &second[0];
        assert_eq!(trace.spans.len(), 3);
        assert_eq!(trace.requests, 2);
        let services: HashSet<&str> = trace.spans.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(services, HashSet::from(["frontend", "checkout"]));
        assert!(!trace.late);
        assert!(assembler.pending.is_empty());
    }

    #[test]
    fn spans_after_the_trace_was_handed_out_are_marked_late() {
        let mut assembler = Assembler::new(Duration::ZERO);
        let t0 = Instant::now();
        assembler.add(&request("a", &[(7, 1)]), t0);
        assert_eq!(assembler.take_quiet(t0).len(), 1);
        assembler.add(&request("b", &[(7, 2)]), t0);
        let late = assembler.take_all();
        assert_eq!(late.len(), 1);
        assert!(late[0].late);
    }
}
