//! Preparing a batch once, on the way in: encoded OTLP requests (grouped by collector under
//! trace-id balancing), or one message for a custom exporter.

use std::sync::Arc;

use opentelemetry_sdk::logs::LogBatch;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;
use otlp_batch::LogItem;
use otlp_core::encode::{
    encode_logs, encode_message, encode_metrics, encode_spans, logs_message, metrics_message,
    spans_message, OtlpMessage,
};
use otlp_core::{BoxError, ExportRequest, Telemetry};
use otlp_transport::balance::trace_key;

use super::{Route, SignalSender};

/// A batch made ready to send: encoded requests, or one message for a custom exporter.
pub(super) enum Prepared {
    Requests {
        requests: Vec<ExportRequest>,
        too_large: usize,
    },
    Message(Arc<Telemetry>),
}

impl Prepared {
    pub(super) fn items(&self) -> usize {
        match self {
            Prepared::Requests {
                requests,
                too_large,
            } => requests.iter().map(|r| r.items).sum::<usize>() + too_large,
            Prepared::Message(message) => message.items(),
        }
    }
}

impl SignalSender {
    fn prepare<M: OtlpMessage>(
        &self,
        message: M,
        wrap: fn(M) -> Telemetry,
    ) -> Result<Prepared, BoxError> {
        Ok(match &self.route {
            Route::Otlp { options, .. } => {
                let encoded = encode_message(message, options)?;
                Prepared::Requests {
                    requests: encoded.requests,
                    too_large: encoded.too_large,
                }
            }
            Route::Custom { .. } => Prepared::Message(Arc::new(wrap(message))),
        })
    }

    pub(super) fn spans(
        &self,
        spans: Vec<SpanData>,
        resource: &Resource,
    ) -> Result<Prepared, BoxError> {
        let options = match &self.route {
            Route::Otlp { options, .. } => *options,
            Route::Custom { .. } => {
                return self.prepare(spans_message(spans, resource), Telemetry::Traces)
            }
        };
        let Some(balancer) = &self.affinity else {
            let encoded = encode_spans(spans, resource, &options)?;
            return Ok(Prepared::Requests {
                requests: encoded.requests,
                too_large: encoded.too_large,
            });
        };
        // Trace-id affinity: one request per collector that owns some of the batch's traces,
        // keyed so the balancer sends it to that owner; a trace is never split.
        let mut groups: Vec<(Option<usize>, u64, Vec<SpanData>)> = Vec::new();
        for span in spans {
            let key = trace_key(&span.span_context.trace_id().to_bytes());
            let owner = balancer.owner(key);
            match groups.iter_mut().find(|(o, _, _)| *o == owner) {
                Some((_, _, group)) => group.push(span),
                None => groups.push((owner, key, vec![span])),
            }
        }
        let mut requests = Vec::new();
        let mut too_large = 0;
        for (_, key, group) in groups {
            let encoded = encode_spans(group, resource, &options)?;
            requests.extend(
                encoded
                    .requests
                    .into_iter()
                    .map(|r| r.with_routing_key(key)),
            );
            too_large += encoded.too_large;
        }
        Ok(Prepared::Requests {
            requests,
            too_large,
        })
    }

    pub(super) fn logs(
        &self,
        items: &[LogItem],
        resource: &Resource,
    ) -> Result<Prepared, BoxError> {
        let pairs: Vec<_> = items
            .iter()
            .map(|item| (&item.record, &item.scope))
            .collect();
        let batch = LogBatch::new(&pairs);
        match &self.route {
            Route::Otlp { options, .. } => {
                let encoded = encode_logs(&batch, resource, options)?;
                Ok(Prepared::Requests {
                    requests: encoded.requests,
                    too_large: encoded.too_large,
                })
            }
            Route::Custom { .. } => self.prepare(logs_message(&batch, resource), Telemetry::Logs),
        }
    }

    pub(super) fn metrics(&self, metrics: &ResourceMetrics) -> Result<Prepared, BoxError> {
        match &self.route {
            Route::Otlp { options, .. } => {
                let encoded = encode_metrics(metrics, options)?;
                Ok(Prepared::Requests {
                    requests: encoded.requests,
                    too_large: encoded.too_large,
                })
            }
            Route::Custom { .. } => self.prepare(metrics_message(metrics), Telemetry::Metrics),
        }
    }
}
