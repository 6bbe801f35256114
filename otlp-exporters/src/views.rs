//! Metrics views from the configuration ([`ViewConfig`]) and the default histogram
//! aggregation, as SDK views.

use std::sync::Arc;

use opentelemetry_sdk::metrics::{Aggregation, Instrument, InstrumentKind, Stream};

use crate::config::{HistogramAggregation, ViewConfig};

/// A metrics view: how an instrument's stream is named and aggregated.
pub(crate) type View = Arc<dyn Fn(&Instrument) -> Option<Stream> + Send + Sync>;

/// `pattern` with `*` for any run of characters and `?` for one.
fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn kind_name(kind: InstrumentKind) -> &'static str {
    match kind {
        InstrumentKind::Counter => "counter",
        InstrumentKind::UpDownCounter => "up_down_counter",
        InstrumentKind::Histogram => "histogram",
        InstrumentKind::ObservableCounter => "observable_counter",
        InstrumentKind::ObservableUpDownCounter => "observable_up_down_counter",
        InstrumentKind::Gauge => "gauge",
        InstrumentKind::ObservableGauge => "observable_gauge",
    }
}

fn matches(view: &ViewConfig, instrument: &Instrument) -> bool {
    let scope = instrument.scope();
    view.instrument_name
        .as_deref()
        .is_none_or(|p| wildcard(p, instrument.name()))
        && view
            .instrument_type
            .as_deref()
            .is_none_or(|t| t == kind_name(instrument.kind()))
        && view.unit.as_deref().is_none_or(|u| u == instrument.unit())
        && view.meter_name.as_deref().is_none_or(|n| n == scope.name())
        && view
            .meter_version
            .as_deref()
            .is_none_or(|v| Some(v) == scope.version())
        && view
            .meter_schema_url
            .as_deref()
            .is_none_or(|u| Some(u) == scope.schema_url())
}

/// The SDK view of a configured one.
pub(crate) fn from_config(view: ViewConfig) -> View {
    Arc::new(move |instrument: &Instrument| {
        if !matches(&view, instrument) {
            return None;
        }
        let mut stream = Stream::builder();
        if let Some(name) = &view.name {
            stream = stream.with_name(name.clone());
        }
        if let Some(description) = &view.description {
            stream = stream.with_description(description.clone());
        }
        if let Some(aggregation) = &view.aggregation {
            stream = stream.with_aggregation(aggregation.clone());
        }
        if let Some(limit) = view.cardinality_limit {
            stream = stream.with_cardinality_limit(limit);
        }
        match stream.build() {
            Ok(stream) => Some(stream),
            Err(error) => {
                tracing::warn!(instrument = instrument.name(), %error, "metrics view not applied");
                None
            }
        }
    })
}

/// Base-2 exponential buckets for histograms that no other view matched, when that is the
/// configured default aggregation.
pub(crate) fn default_histogram(
    aggregation: HistogramAggregation,
    others: Vec<View>,
) -> Option<View> {
    if aggregation != HistogramAggregation::Base2Exponential {
        return None;
    }
    Some(Arc::new(move |instrument: &Instrument| {
        if instrument.kind() != InstrumentKind::Histogram
            || others.iter().any(|view| view(instrument).is_some())
        {
            return None;
        }
        Stream::builder()
            .with_aggregation(Aggregation::Base2ExponentialHistogram {
                max_size: 160,
                max_scale: 20,
                record_min_max: true,
            })
            .build()
            .ok()
    }))
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards() {
        assert!(wildcard("http.*", "http.server.duration"));
        assert!(wildcard("*", "anything"));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("http.*", "rpc.duration"));
        assert!(wildcard("exact", "exact"));
        assert!(!wildcard("exact", "exactly"));
    }
}
